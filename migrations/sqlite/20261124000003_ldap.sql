-- Accounts that sign in through an LDAP directory: the entry they were found as. Such an
-- account has no local password; the directory checks it at every sign-in.
ALTER TABLE users ADD COLUMN ldap_dn TEXT;
CREATE UNIQUE INDEX users_ldap_dn ON users(ldap_dn) WHERE ldap_dn IS NOT NULL;
