-- Lists page through an index in their own order (issue 12): live sessions by activity, for
-- everyone and for one user, and API keys newest first. The one-user index also serves every
-- lookup by user that `sessions_user` served. User names page and search by byte order
-- (`COLLATE "C"`, as SQLite compares), whatever the database's collation.
DROP INDEX sessions_user;
CREATE INDEX sessions_user_active ON sessions(user_id, last_active_at, id);
CREATE INDEX sessions_active ON sessions(last_active_at, id);
CREATE INDEX api_keys_created ON api_keys(created_at, id);
CREATE INDEX users_username_key_bytes ON users(username_key COLLATE "C");
