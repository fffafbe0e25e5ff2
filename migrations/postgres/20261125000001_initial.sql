-- Escalator schema, PostgreSQL dialect. Timestamps are written by the application,
-- never by SQL, so that both backends share one notion of now.

CREATE TABLE departments (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    head_email  TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    email           TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'department_head', 'approver', 'viewer')),
    department_key  TEXT REFERENCES departments (key),
    manager_email   TEXT,
    password_hash   TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_department ON users (department_key);

CREATE TABLE sla_policies (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            TEXT NOT NULL,
    target_seconds  BIGINT NOT NULL CHECK (target_seconds > 0),
    warning_kind    TEXT NOT NULL CHECK (warning_kind IN ('before_deadline', 'elapsed_percent')),
    warning_value   BIGINT NOT NULL CHECK (warning_value >= 0),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE escalation_chains (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    levels      TEXT NOT NULL, -- JSON array of {target, time_limit_seconds}
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE workflows (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id       TEXT NOT NULL UNIQUE,
    workflow_type     TEXT NOT NULL,
    title             TEXT NOT NULL,
    stage             TEXT NOT NULL,
    stage_seq         BIGINT NOT NULL,
    department_key    TEXT NOT NULL REFERENCES departments (key),
    initiator_email   TEXT NOT NULL,
    assignee_email    TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'escalated', 'on_hold', 'completed', 'cancelled')),
    level             BIGINT NOT NULL,
    policy_id         BIGINT NOT NULL REFERENCES sla_policies (id),
    chain_id          BIGINT NOT NULL REFERENCES escalation_chains (id),
    stage_started_at  TIMESTAMPTZ NOT NULL,
    level_started_at  TIMESTAMPTZ NOT NULL,
    warn_at           TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ NOT NULL,
    -- The earliest instant the engine must look at this workflow; NULL = never (closed,
    -- on hold, chain exhausted). The tick reads only rows whose next_check_at has passed.
    next_check_at     TIMESTAMPTZ,
    version           BIGINT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    closed_at         TIMESTAMPTZ
);
CREATE INDEX workflows_next_check ON workflows (next_check_at, id) WHERE next_check_at IS NOT NULL;
CREATE INDEX workflows_open_due ON workflows (due_at) WHERE status IN ('pending', 'escalated', 'on_hold');
CREATE INDEX workflows_department ON workflows (department_key, status);
CREATE INDEX workflows_assignee ON workflows (assignee_email, status);

-- One row per (workflow, stage, level, kind): the key that makes every engine
-- transition happen at most once, whatever number of replicas tick at once.
CREATE TABLE sla_transitions (
    workflow_id  BIGINT NOT NULL REFERENCES workflows (id),
    stage_seq    BIGINT NOT NULL,
    level        BIGINT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('remind', 'escalate', 'exhaust')),
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workflow_id, stage_seq, level, kind)
);

CREATE TABLE reminders (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_id      BIGINT NOT NULL REFERENCES workflows (id),
    stage_seq        BIGINT NOT NULL,
    level            BIGINT NOT NULL,
    assignee_email   TEXT NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    acknowledged_at  TIMESTAMPTZ,
    acknowledged_by  TEXT,
    UNIQUE (workflow_id, stage_seq, level)
);
CREATE INDEX reminders_assignee ON reminders (assignee_email, id);

CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    workflow_id  BIGINT REFERENCES workflows (id),
    details      TEXT NOT NULL -- JSON object
);
CREATE INDEX audit_log_workflow ON audit_log (workflow_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- Transactional outbox: notifications and events written in the same transaction as
-- the state change that caused them, delivered afterwards at least once.
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at       TIMESTAMPTZ NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('notification', 'event')),
    topic            TEXT NOT NULL,
    workflow_id      BIGINT REFERENCES workflows (id),
    payload          TEXT NOT NULL, -- JSON object
    dedupe_key       TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL,
    -- Pending rows are claimed by pushing this forward (a visibility timeout), so a
    -- crashed worker's rows come back by themselves.
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT,
    delivered_at     TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
