-- Absences, delegates and deactivation: who can take work, and whom it goes to meanwhile.
ALTER TABLE users ADD COLUMN delegate_email TEXT REFERENCES users (email);
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;

CREATE TABLE absences (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_email      TEXT NOT NULL REFERENCES users (email),
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    reason          TEXT,
    delegate_email  TEXT REFERENCES users (email),
    created_at      TIMESTAMPTZ NOT NULL,
    -- When the open work of the absent person was handed on (once, when it starts).
    handed_over_at  TIMESTAMPTZ,
    CHECK (ends_at > starts_at)
);
CREATE INDEX absences_user ON absences (user_email, ends_at);
CREATE INDEX absences_to_hand_over ON absences (starts_at) WHERE handed_over_at IS NULL;
