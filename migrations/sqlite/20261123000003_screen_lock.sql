-- Screen lock, single-session mode, terminal MFA locks and WebSocket tickets.
ALTER TABLE users ADD COLUMN passcode_hash TEXT;
ALTER TABLE users ADD COLUMN lock_after_minutes INTEGER NOT NULL DEFAULT 15;
ALTER TABLE users ADD COLUMN single_session_mode INTEGER NOT NULL DEFAULT 0;

-- A locked session answers 403 account_locked until it is unlocked (which replaces it).
ALTER TABLE sessions ADD COLUMN locked_at INTEGER;

CREATE TABLE terminal_locks (
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    container_id TEXT NOT NULL,
    locked_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, container_id)
);

-- Temporary access to an MFA-locked terminal, bound to one session.
CREATE TABLE terminal_grants (
    session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    container_id TEXT NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (session_id, container_id)
);

CREATE TABLE ws_tickets (
    ticket_hash TEXT PRIMARY KEY NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    terminal_id TEXT,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
