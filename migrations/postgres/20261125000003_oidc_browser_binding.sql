-- A sign-in in flight is bound to the browser that started it: the digest of a random value
-- kept in that browser's HttpOnly cookie, compared at the callback.
ALTER TABLE oidc_flows ADD COLUMN browser_hash TEXT;
