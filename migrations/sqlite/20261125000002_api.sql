-- API tokens (stored as SHA-256 of the secret) and idempotent workflow creation.

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_email    TEXT NOT NULL REFERENCES users (email),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_email);

ALTER TABLE workflows ADD COLUMN idempotency_key TEXT;
