-- How each stage's SLA ended (issue 20): written once, in the transaction that ends the
-- stage (complete, advance, cancel), never changed. The policy version pins the target
-- and the calendar (policy_versions keeps the calendar's definition of that version).
CREATE TABLE sla_outcomes (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id      BIGINT NOT NULL REFERENCES workflows (id),
    stage_seq        BIGINT NOT NULL,
    stage            TEXT NOT NULL,
    department_key   TEXT NOT NULL,
    workflow_type    TEXT NOT NULL,
    policy_id        BIGINT NOT NULL,
    policy_version   BIGINT NOT NULL,
    -- Who held the stage when it ended, and who ended it.
    assignee_email   TEXT NOT NULL,
    decided_by       TEXT NOT NULL,
    ended_by         TEXT NOT NULL CHECK (ended_by IN ('completed', 'advanced', 'cancelled')),
    outcome          TEXT NOT NULL CHECK (outcome IN ('met', 'breached')),
    -- The escalation level the stage ended at.
    level            BIGINT NOT NULL,
    target_seconds   BIGINT NOT NULL,
    used_seconds     BIGINT NOT NULL,
    over_seconds     BIGINT NOT NULL,
    held_seconds     BIGINT NOT NULL,
    -- Wall-clock time from the stage's start to its end: the time to decision.
    duration_seconds BIGINT NOT NULL,
    reminders        BIGINT NOT NULL,
    escalations      BIGINT NOT NULL,
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ NOT NULL,
    -- 'live' when written by the transition, 'backfill' when rebuilt from the audit log.
    source           TEXT NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'backfill')),
    UNIQUE (workflow_id, stage_seq)
);
CREATE INDEX sla_outcomes_ended ON sla_outcomes (ended_at);
CREATE INDEX sla_outcomes_department_ended ON sla_outcomes (department_key, ended_at);
