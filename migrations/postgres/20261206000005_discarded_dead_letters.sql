-- An admin can discard a dead letter they have read and will not send again: it stays
-- (the audit trail and the workflow's story point at it) but leaves the dead-letter list,
-- the dead-letter gauge and its alert. A column, not a status, because SQLite cannot
-- change the status CHECK without rebuilding a table other tables reference.
ALTER TABLE outbox ADD COLUMN discarded_at TIMESTAMPTZ;
ALTER TABLE outbox ADD COLUMN discarded_by TEXT;
