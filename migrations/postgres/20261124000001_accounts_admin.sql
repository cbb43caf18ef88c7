-- API keys (admin-managed, each acting as one user) and password-reset codes.

-- The key itself is shown once; only its SHA-256 digest is kept.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_keys_user ON api_keys(user_id);

-- One open reset per user: a 6-digit code (argon2id-hashed) written to the server log,
-- then, once verified, the id the short-lived reset token names. Each step works once.
CREATE TABLE password_resets (
    user_id     TEXT PRIMARY KEY NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    token_id    TEXT,
    verified_at BIGINT
);
