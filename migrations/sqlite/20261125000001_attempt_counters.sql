-- One-use secrets carry their own attempt counters: an MFA-pending token and a reset code
-- die after 5 wrong tries, whatever the per-user limits' windows say.
ALTER TABLE mfa_challenges ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE password_resets ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
