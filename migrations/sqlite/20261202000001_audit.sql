-- The audit log (issue 14): one row per security event, written in the same transaction as the
-- change it records. Rows name users by id and name as they were, with no foreign keys, so an
-- event outlives the account, session or key it concerns. `user_id`/`username` are the account
-- the event is about (for the user filter and each user's own activity); the actor is who did it.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    code TEXT,
    actor_id TEXT,
    actor_name TEXT,
    via TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    target_kind TEXT,
    target_id TEXT,
    user_id TEXT,
    username TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events(at, id);
CREATE INDEX audit_events_user ON audit_events(user_id, at, id);
CREATE INDEX audit_events_actor ON audit_events(actor_id, at, id);
CREATE INDEX audit_events_target ON audit_events(target_id, at);
