-- Business calendars (time zone, working windows, holidays) that policies measure in.
CREATE TABLE calendars (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL, -- JSON: time_zone, windows, holidays
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

ALTER TABLE sla_policies ADD COLUMN calendar_id BIGINT REFERENCES calendars (id);
