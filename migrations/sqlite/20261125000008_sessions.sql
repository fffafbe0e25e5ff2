-- Browser sessions of the UI: tower-sessions records (JSON), looked up by id, swept
-- when expired.

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The pending page lists open workflows by deadline, per department or assignee.
CREATE INDEX workflows_department_due ON workflows (department_key, due_at, id) WHERE status IN ('pending', 'escalated', 'on_hold');
