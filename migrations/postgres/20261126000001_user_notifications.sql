-- Per-user notification settings: a phone number for SMS (E.164, validated by the
-- application) and preferences (channels per kind, time zone, quiet hours) as JSON.
ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN notification_preferences TEXT;
