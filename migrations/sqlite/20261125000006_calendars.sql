-- Business calendars (time zone, working windows, holidays) that policies measure in.
CREATE TABLE calendars (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    definition  TEXT NOT NULL, -- JSON: time_zone, windows, holidays
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

ALTER TABLE sla_policies ADD COLUMN calendar_id INTEGER REFERENCES calendars (id);
