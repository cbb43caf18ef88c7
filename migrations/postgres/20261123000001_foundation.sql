-- Accounts, revocable sessions, instance settings and rate-limit hits.
-- Times are Unix seconds (UTC). PostgreSQL twin of migrations/sqlite: same versions, same schema.
CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    username           TEXT NOT NULL,
    username_key       TEXT NOT NULL UNIQUE,
    display_name       TEXT NOT NULL,
    password_hash      TEXT,
    is_admin           BOOLEAN NOT NULL DEFAULT FALSE,
    is_oidc            BOOLEAN NOT NULL DEFAULT FALSE,
    tokens_valid_after BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_type    TEXT NOT NULL,
    device_info    TEXT NOT NULL,
    ip_address     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- One row per counted attempt; a limit is the number of rows in its window.
CREATE TABLE rate_limit_hits (
    bucket TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX rate_limit_hits_bucket_at ON rate_limit_hits(bucket, at);
