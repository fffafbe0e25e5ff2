-- The pending page pages open workflows by (due_at, id). One tick's escalations share a
-- deadline, and with `due_at` alone PostgreSQL read that whole tie (10k rows) to order
-- it by id for every page of 50; with `id` in the key the index is already in order.
DROP INDEX workflows_open_due;
CREATE INDEX workflows_open_due ON workflows (due_at, id) WHERE status IN ('pending', 'escalated', 'on_hold');
