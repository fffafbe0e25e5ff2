-- Outbox routing: a notification or event row is expanded into one delivery row per
-- channel (and recipient, for in-app), each retried on its own.
ALTER TABLE outbox ADD COLUMN channel TEXT;

-- In-app notifications, one per recipient; unique per outbox delivery so a re-send
-- after a crash does not duplicate it.
CREATE TABLE notifications (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_email  TEXT NOT NULL,
    outbox_id   BIGINT NOT NULL UNIQUE REFERENCES outbox (id),
    workflow_id BIGINT REFERENCES workflows (id),
    topic       TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at  TIMESTAMPTZ
);
CREATE INDEX notifications_user ON notifications (user_email, id);
