-- An SSO account is known by (issuer, identifier), not the identifier alone: the same
-- subject from another provider is another person.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;

-- Accounts made before this came from the provider configured now (there is one at a time).
-- With no provider configured, their issuer stays unknown and no provider can claim them.
UPDATE users
   SET oidc_issuer = (SELECT value::jsonb ->> 'issuer_url' FROM settings WHERE key = 'oidc_config')
 WHERE oidc_subject IS NOT NULL;

DROP INDEX users_oidc_subject;
CREATE UNIQUE INDEX users_oidc_identity ON users(oidc_issuer, oidc_subject) WHERE oidc_subject IS NOT NULL;
