-- When the session's owner last proved who they are (sign-in, or the password typed again):
-- factor changes need it within 10 minutes. NULL means the session's creation.
ALTER TABLE sessions ADD COLUMN authenticated_at INTEGER;
