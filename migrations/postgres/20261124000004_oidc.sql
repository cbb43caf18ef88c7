-- Single sign-on with an OpenID provider: the identifier the provider knows a person by, and
-- the sign-ins in flight (state, nonce and PKCE verifier kept here so any node can finish one).
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users(oidc_subject) WHERE oidc_subject IS NOT NULL;

CREATE TABLE oidc_flows (
    state_hash      TEXT PRIMARY KEY NOT NULL,
    nonce           TEXT NOT NULL,
    verifier_sealed TEXT NOT NULL,
    remember        BOOLEAN NOT NULL,
    kind            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
