-- One-click links in messages: each signed link acts once. A row is written when a link
-- is first followed (before it acts), so a second click, or a concurrent one, finds it
-- and says what happened instead of acting again.
CREATE TABLE link_uses (
    token_hash   TEXT PRIMARY KEY,
    workflow_id  BIGINT NOT NULL REFERENCES workflows (id),
    recipient    TEXT NOT NULL,
    action       TEXT NOT NULL,
    used_at      TEXT NOT NULL,
    -- What happened, in words; NULL while the action is running.
    outcome      TEXT
);
CREATE INDEX link_uses_workflow ON link_uses (workflow_id);

-- Secrets the servers share (the link signing key when none is configured): created once
-- by whichever replica needs it first.
CREATE TABLE server_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
