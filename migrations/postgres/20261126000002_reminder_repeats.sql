-- Reminders repeat at a per-policy interval until acknowledged.
ALTER TABLE sla_policies ADD COLUMN reminder_repeat_seconds BIGINT CHECK (reminder_repeat_seconds > 0);
ALTER TABLE policy_versions ADD COLUMN reminder_repeat_seconds BIGINT;

-- How many times a reminder was sent, and when last.
ALTER TABLE reminders ADD COLUMN sent_count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE reminders ADD COLUMN last_sent_at TIMESTAMPTZ;
UPDATE reminders SET last_sent_at = created_at;

-- The once-only claim of a repeat needs its own key: a sequence number (0 for the first
-- reminder and for every other kind).
ALTER TABLE sla_transitions ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sla_transitions DROP CONSTRAINT sla_transitions_pkey;
ALTER TABLE sla_transitions ADD PRIMARY KEY (workflow_id, stage_seq, level, kind, seq);
