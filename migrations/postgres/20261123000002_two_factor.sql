-- Two-factor sign-in: TOTP seeds (encrypted with the instance key), backup codes,
-- trusted devices and pending second-step challenges.
ALTER TABLE users ADD COLUMN totp_secret_enc TEXT;
ALTER TABLE users ADD COLUMN totp_pending_enc TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
-- The last accepted TOTP time step: a code is accepted once.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

CREATE TABLE backup_codes (
    id        TEXT PRIMARY KEY NOT NULL,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT
);
CREATE INDEX backup_codes_user ON backup_codes(user_id);

CREATE TABLE trusted_devices (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    device_info TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX trusted_devices_user ON trusted_devices(user_id);

-- A password accepted, a second factor owed. The MFA-pending token names one row; it works once.
CREATE TABLE mfa_challenges (
    id         TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    remember   BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
