import { Browser, Page } from '@playwright/test';
import { test, expect, hydrated, shot, ADMIN_PASSWORD } from './fixtures';
import { spawn, ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './net';
import * as path from 'node:path';

// Real OpenID providers (npm oidc-provider) on free loopback ports for this file. The tests
// run in order on one Portcullis instance.
const providers: ChildProcess[] = [];
let issuer = '';

/** Starts a provider knowing this instance's callback URLs; answers its issuer. */
async function startProvider(baseURL: string): Promise<string> {
  const port = await freePort();
  const redirects = [`${baseURL}/api/users/oidc/callback`, `${baseURL}/api/auth/oidc/callback`].join(',');
  providers.push(spawn('node', [path.resolve(__dirname, '../oidc/provider.mjs'), String(port), redirects], { stdio: 'ignore' }));
  await waitForPort(port);
  return `http://127.0.0.1:${port}`;
}

/** Points the instance at a provider (as the admin). */
async function configure(page: Page, at: string) {
  const login = await page.request.post('/api/users/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
  expect(login.status()).toBe(200);
  const saved = await page.request.post('/api/users/oidc-config', {
    data: {
      client_id: 'portcullis',
      client_secret: 'portcullis-client-secret-0123456789',
      issuer_url: at,
      authorization_url: `${at}/auth`,
      token_url: `${at}/token`,
      identifier_path: 'sub',
      name_path: 'name',
      scopes: 'openid email profile',
      allowed_users: '@example.org',
    },
  });
  expect(saved.status()).toBe(200);
  issuer = at;
}

test.afterAll(() => { for (const p of providers) p.kill(); });

/** Goes from Portcullis's sign-in page to the provider's consent as `login`. */
async function toConsent(browser: Browser, baseURL: string, login: string, from = '/login'): Promise<Page> {
  const page = await (await browser.newContext({ baseURL })).newPage();
  await page.goto(from);
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  return page;
}

/** Signs in at the provider's own pages as `login`, from Portcullis's sign-in page. */
async function ssoAs(browser: Browser, baseURL: string, login: string, from = '/login'): Promise<Page> {
  const page = await toConsent(browser, baseURL, login, from);
  await page.getByRole('button', { name: 'Continue' }).click();
  return page;
}

test('single sign-on with a real OpenID provider: first sign-in makes the account, others are refused', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  await configure(page, await startProvider(baseURL!));

  const olivia = await ssoAs(browser, baseURL!, 'olivia');
  await expect(olivia).toHaveURL(/\/$/);
  await expect(olivia.getByRole('heading', { name: 'Welcome, Olivia Oidc' })).toBeVisible();
  const me = await (await olivia.request.get('/api/users/me')).json();
  expect(me).toMatchObject({ username: 'olivia', is_oidc: true, is_dual_auth: false, is_admin: false });
  await olivia.screenshot({ path: 'screenshots/70-sso-home.png', fullPage: true });

  // Sent to sign in by forward-auth (`rd`): the provider's round trip comes back there.
  const back = `${baseURL}/sessions`;
  const returning = await ssoAs(browser, baseURL!, 'olivia', `/login?rd=${encodeURIComponent(back)}`);
  await expect(returning).toHaveURL(back);

  // A provider account named like the local admin gets its own account, never the admin's.
  const impostor = await ssoAs(browser, baseURL!, 'admin');
  await expect(impostor).toHaveURL(/\/$/);
  const them = await (await impostor.request.get('/api/users/me')).json();
  expect(them).toMatchObject({ username: 'admin-2', is_admin: false });

  // Not on the allowed list: back to the sign-in page with the reason.
  const mallory = await ssoAs(browser, baseURL!, 'mallory');
  await expect(mallory).toHaveURL(/\/login\?error=/);
  await expect(mallory.getByTestId('sso-error')).toContainText('not allowed');
  await mallory.screenshot({ path: 'screenshots/71-sso-refused.png', fullPage: true });

  // The audit log holds each of these: the settings saved, olivia's account made and her
  // sign-in, and the refusal.
  const audit = async (q: string) => (await (await page.request.get(`/api/admin/audit?${q}`)).json()).events;
  expect(await audit('type=oidc_config_changed')).toHaveLength(1);
  const [made] = await audit('type=registered&user=olivia');
  expect(made.details).toMatchObject({ method: 'sso', admin: false });
  const [signedIn] = await audit('type=sign_in&outcome=success&user=olivia');
  expect(signedIn).toMatchObject({ actor: { username: 'olivia', via: 'none' }, ip: '127.0.0.1', details: { method: 'sso' } });
  const refused = await audit('type=sign_in&outcome=failure');
  expect(refused.some((e: { code: string; details: { method: string } }) => e.code === 'sso_not_allowed' && e.details.method === 'sso')).toBe(true);
});

test('two first sign-ins of one person at once make one account', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  const one = await toConsent(browser, baseURL!, 'twin');
  const two = await toConsent(browser, baseURL!, 'twin');
  await Promise.all([
    one.getByRole('button', { name: 'Continue' }).click(),
    two.getByRole('button', { name: 'Continue' }).click(),
  ]);
  await expect(one).toHaveURL(/\/$/);
  await expect(two).toHaveURL(/\/$/);
  const a = await (await one.request.get('/api/users/me')).json();
  const b = await (await two.request.get('/api/users/me')).json();
  expect(a).toMatchObject({ username: 'twin', is_oidc: true });
  expect(b.userId).toBe(a.userId);
});

test('an allow-listed domain counts only when the provider says it verified the address', async ({ browser, baseURL }) => {
  test.setTimeout(120_000);
  // No email_verified at all.
  const una = await ssoAs(browser, baseURL!, 'unverified');
  await expect(una).toHaveURL(/\/login\?error=/);
  await expect(una.getByTestId('sso-error')).toContainText('not allowed');
  expect((await una.request.get('/api/users/me')).status()).toBe(401);
  // email_verified as the string "true" is not a verified address either.
  const stringy = await ssoAs(browser, baseURL!, 'stringy');
  await expect(stringy).toHaveURL(/\/login\?error=/);
  expect((await stringy.request.get('/api/users/me')).status()).toBe(401);
});

test('the same subject from another provider is another person', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  const first = await (await (await ssoAs(browser, baseURL!, 'olivia')).request.get('/api/users/me')).json();
  expect(first.username).toBe('olivia');
  // The admin switches to a second provider that also has a person with subject sub-olivia-1.
  await configure(page, await startProvider(baseURL!));
  const other = await ssoAs(browser, baseURL!, 'olivia');
  await expect(other).toHaveURL(/\/$/);
  const them = await (await other.request.get('/api/users/me')).json();
  expect(them.userId).not.toBe(first.userId);
  expect(them).toMatchObject({ username: 'olivia-2', is_oidc: true, is_admin: false });
});
