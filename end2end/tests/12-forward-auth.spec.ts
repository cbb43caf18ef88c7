import { test as base, expect } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from './net';
import { binary, hydrated, shot, ADMIN, ADMIN_PASSWORD } from './fixtures';
import { totp, nextStep } from './totp';

// Portcullis in front of an app that knows nothing about it, through Debian's nginx and its
// `auth_request` (the README's snippet): a browser is sent to sign in and comes back, and a
// locked screen is unlocked on Portcullis's lock screen before the app shows again.
const root = path.resolve(__dirname, '../..');
const PASSCODE = '480913';

let nginx: ChildProcess | undefined;
let portcullis: ChildProcess | undefined;
let app: http.Server | undefined;
let site = '';

base.beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-fa-'));
  const [proxyPort, appPort, echoPort] = [await freePort(), await freePort(), await freePort()];
  site = `http://127.0.0.1:${proxyPort}`;
  // The "terminal": a page that shows who the proxy says the visitor is.
  app = http.createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><title>Terminal</title><h1>Terminal</h1>
      <p data-testid="user">${String(req.headers['remote-user'] ?? '')}</p>
      <p data-testid="groups">${String(req.headers['remote-groups'] ?? '')}</p>`);
  }).listen(echoPort, '127.0.0.1');
  const out = fs.openSync(path.join(dir, 'server.log'), 'a');
  portcullis = spawn(binary, [], {
    cwd: root,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      PORTCULLIS_ADDR: `127.0.0.1:${appPort}`,
      PORTCULLIS_DATA_DIR: dir,
      PORTCULLIS_PUBLIC_URL: site,
      PORTCULLIS_TRUSTED_PROXIES: '127.0.0.1/32',
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      PORTCULLIS_LOG: 'warn',
    },
  });
  await waitForPort(appPort);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_cookie $pc_cookie_1 {
    default $http_cookie;
    "~^(?<pc_a>.*?)(?:^|; *)jwt=[^;]*(?<pc_b>.*)$" "$pc_a$pc_b";
  }
  map $pc_cookie_1 $pc_cookie {
    default $pc_cookie_1;
    "~^(?<pc_c>.*?)(?:^|; *)jwt=[^;]*(?<pc_d>.*)$" "$pc_c$pc_d";
  }
  server {
    listen 127.0.0.1:${proxyPort};
    location / {
      proxy_pass http://127.0.0.1:${appPort};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
    location /terminal/ {
      auth_request /internal/authz;
      auth_request_set $user $upstream_http_remote_user;
      auth_request_set $groups $upstream_http_remote_groups;
      auth_request_set $name $upstream_http_remote_name;
      auth_request_set $email $upstream_http_remote_email;
      auth_request_set $sign_in $upstream_http_location;
      proxy_set_header Remote-User $user;
      proxy_set_header Remote-Groups $groups;
      proxy_set_header Remote-Name $name;
      proxy_set_header Remote-Email $email;
      proxy_set_header Cookie $pc_cookie;
      error_page 401 = @sign_in;
      proxy_pass http://127.0.0.1:${echoPort};
    }
    location @sign_in {
      if ($sign_in = "") { return 401; }
      return 302 $sign_in;
    }
    location = /internal/authz {
      internal;
      proxy_pass http://127.0.0.1:${appPort}/api/authz/auth-request;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`);
  nginx = spawn('nginx', ['-p', dir, '-c', conf, '-e', path.join(dir, 'nginx-error.log')], { stdio: 'ignore' });
  await waitForPort(proxyPort);
  const setup = await fetch(`${site}/api/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN, password: ADMIN_PASSWORD, displayName: 'Ada Admin' }),
  });
  expect(setup.status).toBe(200);
});

base.afterAll(async () => {
  nginx?.kill();
  portcullis?.kill();
  app?.close();
});

base('behind nginx: sign in and back, lock screen and back, signed out at once', async ({ page }) => {
  const terminal = `${site}/terminal/7?cols=80`;
  // Not signed in: the sign-in page, with the way back.
  await page.goto(terminal);
  await expect(page).toHaveURL(`${site}/login?rd=${encodeURIComponent(terminal)}`);
  await hydrated(page);
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(terminal);
  await expect(page.getByTestId('user')).toHaveText(ADMIN);
  await expect(page.getByTestId('groups')).toHaveText('admins,users');
  await shot(page, '70-forward-auth-terminal');

  // Locked (here by hand; idle locks the same way): the lock screen, then back to the terminal.
  expect((await page.request.post(`${site}/api/security/passcode`, { data: { new_passcode: PASSCODE } })).status()).toBe(200);
  expect((await page.request.post(`${site}/api/security/lock`, { data: {} })).status()).toBe(200);
  await page.goto(terminal);
  await expect(page).toHaveURL(`${site}/unlock?rd=${encodeURIComponent(terminal)}`);
  const dialog = page.getByTestId('lock-screen');
  await expect(dialog).toBeVisible();
  await shot(page, '71-forward-auth-lock-screen');
  await dialog.getByLabel('Passcode').fill(PASSCODE);
  await dialog.getByRole('button', { name: 'Unlock' }).click();
  await expect(page).toHaveURL(terminal);
  await expect(page.getByTestId('user')).toHaveText(ADMIN);

  // Signed out: the next request to the terminal is refused.
  expect((await page.request.post(`${site}/api/auth/logout`, { data: {} })).status()).toBe(200);
  await page.goto(terminal);
  await expect(page).toHaveURL(/\/login\?rd=/);
  // An XHR from the page is told 401, not redirected.
  const status = await page.evaluate(async (url) => {
    const r = await fetch(url, { headers: { accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' }, redirect: 'manual' });
    return r.status;
  }, terminal);
  expect(status).toBe(401);
});

/** Replaces the access rules (as the admin, over the API, from a session of its own: the
 * first test locked the admin's other sessions). */
async function setRules(rules: object[]) {
  const login = await fetch(`${site}/api/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN, password: ADMIN_PASSWORD }),
  });
  expect(login.status).toBe(200);
  const adminToken = (await login.json()).token;
  const r = await fetch(`${site}/api/authz/rules`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ rules }),
  });
  expect(r.status).toBe(200);
}

base('behind nginx: a step_up terminal asks for a code on the step-up page, for that terminal only', async ({ page }) => {
  base.setTimeout(100_000); // waits once for the next 30-second code
  await setRules([
    { path: '/terminal/{id}/*', policy: 'step_up', subjects: ['user:bob'] },
    { path: '*', policy: 'one_factor' },
  ]);
  try {
    const made = await fetch(`${site}/api/users/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: ADMIN_PASSWORD }),
    });
    expect(made.status).toBe(200);
    const terminal = `${site}/terminal/9/`;
    await page.goto(terminal);
    await hydrated(page);
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Signed in, but this terminal wants a fresh code: the step-up page, with the way back.
    await expect(page).toHaveURL(`${site}/step-up?terminal=9&rd=${encodeURIComponent(terminal)}`);
    await expect(page.getByRole('heading', { name: 'Open terminal 9' })).toBeVisible();
    // No authenticator yet: the page says where to turn it on, and offers no code field.
    await expect(page.getByRole('link', { name: 'Set one up in Security' })).toBeVisible();
    await expect(page.getByLabel('Authentication code')).toHaveCount(0);

    const setup = await page.request.post(`${site}/api/users/totp/setup`, { data: {} });
    const secret = (await setup.json()).secret as string;
    expect((await page.request.post(`${site}/api/users/totp/enable`, { data: { totp_code: totp(secret) } })).status()).toBe(200);
    await nextStep();
    await page.reload();
    const code = page.getByLabel('Authentication code');
    await expect(code).toBeFocused();
    // A wrong code: told on the field, still here.
    await code.fill(totp(secret) === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(code).toHaveAttribute('aria-invalid', 'true');
    await expect(page).toHaveURL(/\/step-up\?terminal=9/);
    await shot(page, '72-step-up-wrong-code');
    await code.fill(totp(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page).toHaveURL(terminal);
    await expect(page.getByTestId('user')).toHaveText('bob');
    await shot(page, '73-step-up-terminal-open');

    // Another terminal asks again; the first one stays open.
    await page.goto(`${site}/terminal/10/`);
    await expect(page).toHaveURL(/\/step-up\?terminal=10&rd=/);
    await shot(page, '74-step-up-page');
    await page.goto(terminal);
    await expect(page.getByTestId('user')).toHaveText('bob');
  } finally {
    await setRules([]);
  }
});

base('the admin page adds, orders and removes access rules, each error on its field', async ({ page }) => {
  page.setDefaultTimeout(15_000);
  await page.goto(`${site}/login`);
  await hydrated(page);
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${site}/`);
  await page.goto(`${site}/admin/access`);
  await hydrated(page);
  const rules = page.getByTestId('access-rules');
  await expect(rules.getByTestId('no-rules')).toBeVisible();

  await rules.getByText('Add a rule…').click();
  // A terminal pattern with a policy that does not use it: said on the path field.
  await rules.getByLabel('Path').fill('/terminal/{id}/*');
  await rules.getByLabel('Needs').selectOption('one_factor');
  await rules.getByRole('button', { name: 'Add rule' }).click();
  await expect(rules.getByLabel('Path')).toHaveAttribute('aria-invalid', 'true');
  await expect(rules.getByTestId('rule-row')).toHaveCount(0);
  await rules.getByLabel('Needs').selectOption('step_up');
  await rules.getByRole('button', { name: 'Add rule' }).click();
  await expect(rules.getByTestId('rule-row')).toHaveCount(1);
  await expect(rules.getByText('Rule added. It applies from the next request.')).toBeVisible();
  await rules.getByText('Add a rule…').click();
  // The form starts empty for the next rule.
  await expect(rules.getByLabel('Path')).toHaveValue('');
  await rules.getByLabel('Path').fill('/terminal/public/*');
  await rules.getByLabel('Needs').selectOption('bypass');
  await rules.getByRole('button', { name: 'Add rule' }).click();
  await expect(rules.getByTestId('rule-row')).toHaveCount(2);
  // The bypass must come first to count: moved up, and the proxy lets anyone through there.
  await rules.getByRole('button', { name: 'Move rule 2 (any host /terminal/public/*) up' }).click();
  await expect(rules.getByTestId('rule-row').first()).toContainText('/terminal/public/*');
  // One notice at a time: the move's, not the add's as well.
  await expect(rules.getByText('Order saved.')).toBeVisible();
  await expect(rules.getByText('Rule added. It applies from the next request.')).toHaveCount(0);
  await rules.scrollIntoViewIfNeeded();
  await shot(page, '75-access-rules');
  const anonymous = await fetch(`${site}/terminal/public/app.css`, { redirect: 'manual' });
  expect(anonymous.status).toBe(200);
  const stepUp = await fetch(`${site}/terminal/7/`, { redirect: 'manual', headers: { accept: 'text/html' } });
  expect(stepUp.status).toBe(302);

  for (let i = 0; i < 2; i++) {
    await rules.getByRole('button', { name: /^Remove rule 1 / }).click();
    await expect(rules.getByTestId('rule-row')).toHaveCount(1 - i);
  }
  await expect(rules.getByTestId('no-rules')).toBeVisible();
});
