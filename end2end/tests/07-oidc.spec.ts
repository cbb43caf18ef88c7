import { Browser, Page } from '@playwright/test';
import { test, expect, hydrated, shot, ADMIN_PASSWORD } from './fixtures';
import { spawn, ChildProcess } from 'node:child_process';
import { freePort, waitForPort } from './net';
import * as path from 'node:path';

// A real OpenID provider (npm oidc-provider) on a free loopback port for this file.
let provider: ChildProcess | undefined;
let issuer = '';

/** Starts the provider once for this file, knowing this instance's callback URLs. */
async function startProvider(baseURL: string) {
  if (provider) return;
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const redirects = [`${baseURL}/api/users/oidc/callback`, `${baseURL}/api/auth/oidc/callback`].join(',');
  provider = spawn('node', [path.resolve(__dirname, '../oidc/provider.mjs'), String(port), redirects], { stdio: 'ignore' });
  await waitForPort(port);
}

test.afterAll(() => { provider?.kill(); });

/** Signs in at the provider's own pages as `login`, from Portcullis's sign-in page. */
async function ssoAs(browser: Browser, baseURL: string, login: string): Promise<Page> {
  const page = await (await browser.newContext({ baseURL })).newPage();
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  return page;
}

test('single sign-on with a real OpenID provider: first sign-in makes the account, others are refused', async ({ page, browser, baseURL }) => {
  test.setTimeout(120_000);
  await startProvider(baseURL!);
  const login = await page.request.post('/api/users/login', { data: { username: 'admin', password: ADMIN_PASSWORD } });
  expect(login.status()).toBe(200);
  const saved = await page.request.post('/api/users/oidc-config', {
    data: {
      client_id: 'portcullis',
      client_secret: 'portcullis-client-secret-0123456789',
      issuer_url: issuer,
      authorization_url: `${issuer}/auth`,
      token_url: `${issuer}/token`,
      identifier_path: 'sub',
      name_path: 'name',
      scopes: 'openid email profile',
      allowed_users: '@example.org',
    },
  });
  expect(saved.status()).toBe(200);

  const olivia = await ssoAs(browser, baseURL!, 'olivia');
  await expect(olivia).toHaveURL(/\/$/);
  await expect(olivia.getByRole('heading', { name: 'Welcome, Olivia Oidc' })).toBeVisible();
  const me = await (await olivia.request.get('/api/users/me')).json();
  expect(me).toMatchObject({ username: 'olivia', is_oidc: true, is_dual_auth: false, is_admin: false });
  await olivia.screenshot({ path: 'screenshots/70-sso-home.png', fullPage: true });

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
});
