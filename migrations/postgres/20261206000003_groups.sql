-- Groups a chain level can target: members, how one is picked, a rotation's overrides;
-- kept as one JSON definition (the domain's Group), validated by the application.
CREATE TABLE groups (
    key         TEXT PRIMARY KEY,
    definition  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
