-- Holds (pauses) of a workflow's SLA clock: closed intervals, and at most one open one.
CREATE TABLE workflow_holds (
    id             INTEGER PRIMARY KEY,
    workflow_id    INTEGER NOT NULL REFERENCES workflows (id),
    held_at        TEXT NOT NULL,
    resumed_at     TEXT,
    reason         TEXT NOT NULL,
    held_by        TEXT NOT NULL,
    resume_status  TEXT NOT NULL -- the status to return to on resume
);
CREATE INDEX workflow_holds_workflow ON workflow_holds (workflow_id, held_at);
CREATE UNIQUE INDEX workflow_holds_open ON workflow_holds (workflow_id) WHERE resumed_at IS NULL;
