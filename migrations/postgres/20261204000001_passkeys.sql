-- Passkeys (WebAuthn). `passkey` is webauthn-rs' record of the credential (public key, sign
-- counter, backup flags) as JSON; `credential_id` (base64url) finds it from an assertion and is
-- unique across users.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Ceremonies in progress (webauthn-rs' state as JSON), on the server so any node can finish
-- one; each row is deleted as it is used, and pruned 5 minutes after it was started.
CREATE TABLE webauthn_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    session_id TEXT,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (expires_at);
