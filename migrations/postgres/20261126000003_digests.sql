-- Quiet hours and digests. Delivery rows to a person name them (the primary recipient of
-- an e-mail), so "how many mails did this person get lately" is an index range; a row
-- combined into a digest points at the digest's row and is delivered with it.
ALTER TABLE outbox ADD COLUMN recipient TEXT;
ALTER TABLE outbox ADD COLUMN digest_id BIGINT REFERENCES outbox (id);
CREATE INDEX outbox_recipient ON outbox (recipient, channel, delivered_at) WHERE recipient IS NOT NULL;
CREATE INDEX outbox_digest ON outbox (digest_id) WHERE digest_id IS NOT NULL;
