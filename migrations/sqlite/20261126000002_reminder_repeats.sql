-- Reminders repeat at a per-policy interval until acknowledged.
ALTER TABLE sla_policies ADD COLUMN reminder_repeat_seconds INTEGER CHECK (reminder_repeat_seconds > 0);
ALTER TABLE policy_versions ADD COLUMN reminder_repeat_seconds INTEGER;

-- How many times a reminder was sent, and when last.
ALTER TABLE reminders ADD COLUMN sent_count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE reminders ADD COLUMN last_sent_at TEXT;
UPDATE reminders SET last_sent_at = created_at;

-- The once-only claim of a repeat needs its own key: a sequence number (0 for the first
-- reminder and for every other kind). SQLite cannot change a primary key in place.
CREATE TABLE sla_transitions_new (
    workflow_id  INTEGER NOT NULL REFERENCES workflows (id),
    stage_seq    INTEGER NOT NULL,
    level        INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('remind', 'escalate', 'exhaust')),
    seq          INTEGER NOT NULL DEFAULT 0,
    at           TEXT NOT NULL,
    PRIMARY KEY (workflow_id, stage_seq, level, kind, seq)
);
INSERT INTO sla_transitions_new (workflow_id, stage_seq, level, kind, seq, at)
SELECT workflow_id, stage_seq, level, kind, 0, at FROM sla_transitions;
DROP TABLE sla_transitions;
ALTER TABLE sla_transitions_new RENAME TO sla_transitions;
