-- Escalator schema, SQLite dialect. Timestamps are RFC 3339 UTC text written by the
-- application (never by SQL), so they compare correctly as strings.

CREATE TABLE departments (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    head_email  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE users (
    email           TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'department_head', 'approver', 'viewer')),
    department_key  TEXT REFERENCES departments (key),
    manager_email   TEXT,
    password_hash   TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX users_department ON users (department_key);

CREATE TABLE sla_policies (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    target_seconds  INTEGER NOT NULL CHECK (target_seconds > 0),
    warning_kind    TEXT NOT NULL CHECK (warning_kind IN ('before_deadline', 'elapsed_percent')),
    warning_value   INTEGER NOT NULL CHECK (warning_value >= 0),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE escalation_chains (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    levels      TEXT NOT NULL, -- JSON array of {target, time_limit_seconds}
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE workflows (
    id                INTEGER PRIMARY KEY,
    external_id       TEXT NOT NULL UNIQUE,
    workflow_type     TEXT NOT NULL,
    title             TEXT NOT NULL,
    stage             TEXT NOT NULL,
    stage_seq         INTEGER NOT NULL,
    department_key    TEXT NOT NULL REFERENCES departments (key),
    initiator_email   TEXT NOT NULL,
    assignee_email    TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'escalated', 'on_hold', 'completed', 'cancelled')),
    level             INTEGER NOT NULL,
    policy_id         INTEGER NOT NULL REFERENCES sla_policies (id),
    chain_id          INTEGER NOT NULL REFERENCES escalation_chains (id),
    stage_started_at  TEXT NOT NULL,
    level_started_at  TEXT NOT NULL,
    warn_at           TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    -- The earliest instant the engine must look at this workflow; NULL = never (closed,
    -- on hold, chain exhausted). The tick reads only rows whose next_check_at has passed.
    next_check_at     TEXT,
    version           INTEGER NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    closed_at         TEXT
);
CREATE INDEX workflows_next_check ON workflows (next_check_at, id) WHERE next_check_at IS NOT NULL;
CREATE INDEX workflows_open_due ON workflows (due_at) WHERE status IN ('pending', 'escalated', 'on_hold');
CREATE INDEX workflows_department ON workflows (department_key, status);
CREATE INDEX workflows_assignee ON workflows (assignee_email, status);

-- One row per (workflow, stage, level, kind): the key that makes every engine
-- transition happen at most once, whatever number of replicas tick at once.
CREATE TABLE sla_transitions (
    workflow_id  INTEGER NOT NULL REFERENCES workflows (id),
    stage_seq    INTEGER NOT NULL,
    level        INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('remind', 'escalate', 'exhaust')),
    at           TEXT NOT NULL,
    PRIMARY KEY (workflow_id, stage_seq, level, kind)
);

CREATE TABLE reminders (
    id               INTEGER PRIMARY KEY,
    workflow_id      INTEGER NOT NULL REFERENCES workflows (id),
    stage_seq        INTEGER NOT NULL,
    level            INTEGER NOT NULL,
    assignee_email   TEXT NOT NULL,
    due_at           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    acknowledged_at  TEXT,
    acknowledged_by  TEXT,
    UNIQUE (workflow_id, stage_seq, level)
);
CREATE INDEX reminders_assignee ON reminders (assignee_email, id);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    workflow_id  INTEGER REFERENCES workflows (id),
    details      TEXT NOT NULL -- JSON object
);
CREATE INDEX audit_log_workflow ON audit_log (workflow_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Transactional outbox: notifications and events written in the same transaction as
-- the state change that caused them, delivered afterwards at least once.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    created_at       TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('notification', 'event')),
    topic            TEXT NOT NULL,
    workflow_id      INTEGER REFERENCES workflows (id),
    payload          TEXT NOT NULL, -- JSON object
    dedupe_key       TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL,
    -- Pending rows are claimed by pushing this forward (a visibility timeout), so a
    -- crashed worker's rows come back by themselves.
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    delivered_at     TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
