// A real OpenID provider for the tests (npm oidc-provider) on loopback.
// Usage: node oidc/provider.mjs <port> <redirect-uri>[,<redirect-uri>...]
// Any login name signs in at its development login page; these people have claims. Two
// providers started from this file know the same people by the same subjects.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const redirectUris = (process.argv[3] ?? '').split(',').filter(Boolean);
const issuer = `http://127.0.0.1:${port}`;

const people = {
  olivia: { sub: 'sub-olivia-1', name: 'Olivia Oidc', preferred_username: 'olivia', email: 'olivia@example.org', email_verified: true },
  mallory: { sub: 'sub-mallory-9', name: 'Mallory', preferred_username: 'mallory', email: 'mallory@evil.test', email_verified: true },
  admin: { sub: 'sub-admin-7', name: 'Not The Admin', preferred_username: 'admin', email: 'admin@example.org', email_verified: true },
  twin: { sub: 'sub-twin-5', name: 'Twin', preferred_username: 'twin', email: 'twin@example.org', email_verified: true },
  // An allow-listed domain, but the provider does not say it checked the address.
  unverified: { sub: 'sub-unverified-3', name: 'Una Verified', preferred_username: 'una', email: 'una@example.org' },
  stringy: { sub: 'sub-stringy-4', name: 'Stringy', preferred_username: 'stringy', email: 'stringy@example.org', email_verified: 'true' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'portcullis',
    client_secret: 'portcullis-client-secret-0123456789',
    redirect_uris: redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
  findAccount: async (_ctx, id) => {
    const person = people[id];
    if (!person) return undefined;
    return { accountId: id, claims: async () => ({ ...person }) };
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['portcullis-test-cookie-key'] },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
