-- Per-user encrypted data. Each user's random data key is wrapped (AES-256-GCM) by a key
-- derived from their password with argon2id and this salt; the server never stores the
-- data key or the password-derived key. Items are sealed with the data key.
ALTER TABLE users ADD COLUMN vault_salt TEXT;
ALTER TABLE users ADD COLUMN vault_key_wrapped TEXT;

CREATE TABLE vault_items (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value_enc  TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, name)
);
