-- Accounts, revocable sessions, instance settings and rate-limit hits.
-- Times are Unix seconds (UTC).
CREATE TABLE users (
    id                 TEXT PRIMARY KEY NOT NULL,
    username           TEXT NOT NULL,
    username_key       TEXT NOT NULL UNIQUE,
    display_name       TEXT NOT NULL,
    password_hash      TEXT,
    is_admin           INTEGER NOT NULL DEFAULT 0,
    is_oidc            INTEGER NOT NULL DEFAULT 0,
    tokens_valid_after INTEGER NOT NULL,
    created_at         INTEGER NOT NULL
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_type    TEXT NOT NULL,
    device_info    TEXT NOT NULL,
    ip_address     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- One row per counted attempt; a limit is the number of rows in its window.
CREATE TABLE rate_limit_hits (
    bucket TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE INDEX rate_limit_hits_bucket_at ON rate_limit_hits(bucket, at);
