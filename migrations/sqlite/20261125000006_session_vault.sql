-- The vault opens on any node and after a restart: a session's unwrapped data key, sealed
-- under a secret only that session's token carries (never stored here). The same for a
-- sign-in waiting for its second step, until the session takes it over.
ALTER TABLE sessions ADD COLUMN vault_key_sealed TEXT;
ALTER TABLE mfa_challenges ADD COLUMN vault_key_sealed TEXT;
