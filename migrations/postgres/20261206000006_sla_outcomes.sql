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

-- The outcomes summed per UTC day and group, kept in the same transaction as each outcome,
-- so reports over millions of outcomes read thousands of rows. d0–d15 count the decisions
-- by time to decision: up to 15 m, 30 m, 1 h, 2 h, 4 h, 8 h, 12 h, 1 d, 1.5 d, 2 d, 3 d,
-- 5 d, 7 d, 14 d, 30 d, and longer.
CREATE TABLE sla_outcome_days (
    day              TEXT NOT NULL,
    department_key   TEXT NOT NULL,
    policy_id        BIGINT NOT NULL,
    workflow_type    TEXT NOT NULL,
    stage            TEXT NOT NULL,
    assignee_email   TEXT NOT NULL,
    met              BIGINT NOT NULL DEFAULT 0,
    breached         BIGINT NOT NULL DEFAULT 0,
    cancelled        BIGINT NOT NULL DEFAULT 0,
    escalations      BIGINT NOT NULL DEFAULT 0,
    reminders        BIGINT NOT NULL DEFAULT 0,
    over_seconds     BIGINT NOT NULL DEFAULT 0,
    d0               BIGINT NOT NULL DEFAULT 0,
    d1               BIGINT NOT NULL DEFAULT 0,
    d2               BIGINT NOT NULL DEFAULT 0,
    d3               BIGINT NOT NULL DEFAULT 0,
    d4               BIGINT NOT NULL DEFAULT 0,
    d5               BIGINT NOT NULL DEFAULT 0,
    d6               BIGINT NOT NULL DEFAULT 0,
    d7               BIGINT NOT NULL DEFAULT 0,
    d8               BIGINT NOT NULL DEFAULT 0,
    d9               BIGINT NOT NULL DEFAULT 0,
    d10              BIGINT NOT NULL DEFAULT 0,
    d11              BIGINT NOT NULL DEFAULT 0,
    d12              BIGINT NOT NULL DEFAULT 0,
    d13              BIGINT NOT NULL DEFAULT 0,
    d14              BIGINT NOT NULL DEFAULT 0,
    d15              BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, department_key, policy_id, workflow_type, stage, assignee_email)
);
CREATE INDEX sla_outcome_days_department ON sla_outcome_days (department_key, day);
