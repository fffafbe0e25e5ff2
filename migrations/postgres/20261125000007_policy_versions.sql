-- Policy versions: editing a policy (or its calendar) makes a new version; workflows keep
-- the version they started with until an admin applies the new one to them.
CREATE TABLE policy_versions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    policy_id       BIGINT NOT NULL REFERENCES sla_policies (id),
    version         BIGINT NOT NULL,
    name            TEXT NOT NULL,
    target_seconds  BIGINT NOT NULL,
    warning_kind    TEXT NOT NULL,
    warning_value   BIGINT NOT NULL,
    calendar_id     BIGINT REFERENCES calendars (id),
    calendar        TEXT, -- the calendar's definition when this version was made
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (policy_id, version)
);

ALTER TABLE sla_policies ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE workflows ADD COLUMN policy_version BIGINT NOT NULL DEFAULT 1;

INSERT INTO policy_versions (policy_id, version, name, target_seconds, warning_kind, warning_value, calendar_id, calendar, created_at)
SELECT p.id, 1, p.name, p.target_seconds, p.warning_kind, p.warning_value, p.calendar_id, c.definition, p.updated_at
FROM sla_policies p LEFT JOIN calendars c ON c.id = p.calendar_id;
