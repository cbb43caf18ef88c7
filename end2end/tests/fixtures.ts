import { test as base, expect, Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from './net';

// Every spec file gets its own Portcullis: a fresh data directory on a free loopback port,
// started at the file's first test and stopped when the worker ends. So each spec runs alone
// and in any order, and none depends on what another left behind.

export const ADMIN = 'admin';
export const ADMIN_PASSWORD = 'grumpy-lantern-orbit-41';

const root = path.resolve(__dirname, '../..');
// The release build with the split WASM, as `.ci/serve` runs it (`cargo leptos build --release
// --split --precompress`): the browser tests check what users get, admin split included.
export const binary = process.env.PORTCULLIS_BIN ?? path.join(root, 'target/release/portcullis');

export interface Instance {
  url: string;
  /** The server's log (the password-reset code is written there). */
  log: string;
  /** The instance's SQLite file, for tests that must age a session. */
  db: string;
}

interface Running extends Instance {
  proc: ChildProcess;
  /** The same instance by address, for this process's own requests. */
  direct: string;
}

async function start(host: string): Promise<Running> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-'));
  const port = await freePort();
  const log = path.join(dataDir, 'server.log');
  const out = fs.openSync(log, 'a');
  const proc = spawn(binary, [], {
    cwd: root,
    stdio: ['ignore', out, out],
    env: {
      ...process.env,
      PORTCULLIS_ADDR: `127.0.0.1:${port}`,
      PORTCULLIS_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      PORTCULLIS_LOG: 'warn',
      // Reached by name (`localhost`) where a spec needs it: passkeys are refused on an IP.
      ...(host === '127.0.0.1' ? {} : { PORTCULLIS_PUBLIC_URL: `http://${host}:${port}` }),
    },
  });
  await waitForPort(port);
  const direct = `http://127.0.0.1:${port}`;
  return { url: `http://${host}:${port}`, direct, log, db: path.join(dataDir, 'portcullis.db'), proc };
}

/** Makes the instance's first administrator over the API unless one exists. */
async function ensureAdmin(url: string): Promise<void> {
  const status = await (await fetch(`${url}/api/auth/status`)).json();
  if (!status.needsSetup) return;
  const res = await fetch(`${url}/api/auth/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN, password: ADMIN_PASSWORD, displayName: 'Ada Admin' }),
  });
  expect(res.status).toBe(200);
}

type TestFixtures = {
  /** Whether the instance gets its first administrator before the test (default yes). */
  setUp: boolean;
  /** The name the browser reaches the instance by (default `127.0.0.1`). */
  host: string;
  instance: Instance;
};

export const test = base.extend<TestFixtures, { servers: Map<string, Running> }>({
  servers: [async ({}, use) => {
    const servers = new Map<string, Running>();
    await use(servers);
    for (const s of servers.values()) s.proc.kill();
  }, { scope: 'worker' }],
  setUp: [true, { option: true }],
  host: ['127.0.0.1', { option: true }],
  instance: async ({ servers, setUp, host }, use, testInfo) => {
    let s = servers.get(testInfo.file);
    if (!s) {
      s = await start(host);
      servers.set(testInfo.file, s);
    }
    if (setUp) await ensureAdmin(s.direct);
    await use({ url: s.url, log: s.log, db: s.db });
  },
  baseURL: async ({ instance }, use) => use(instance.url),
  // Every page runs under the page Content-Security-Policy: anything it blocks (a script
  // without the nonce, an inline style) fails the test that loaded it.
  context: async ({ context }, use) => {
    const violations: string[] = [];
    context.on('console', (msg) => {
      if (msg.text().includes('Content Security Policy')) violations.push(msg.text());
    });
    await use(context);
    expect(violations, 'no Content-Security-Policy violations').toEqual([]);
  },
});

export { expect };

/**
 * Waits until the page's buttons act: hydrated by the WASM, or (sign-in, set-up and locked pages,
 * sent without it) as soon as the HTML is in, their forms posting natively.
 */
export async function hydrated(page: Page) {
  await page.waitForSelector('html[data-ready="1"]', { state: 'attached' });
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

/** Signs in from the sign-in page and waits for home. */
export async function signIn(page: Page, username: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Creates an account over the API (registration is open on a fresh instance). */
export async function createUser(page: Page, username: string, password: string) {
  const created = await page.request.post('/api/users/create', { data: { username, password } });
  expect(created.status()).toBe(200);
}

/**
 * Checks the page as it stands with axe (WCAG 2.2 A and AA rules and axe's best practices) in
 * the light and the dark theme, and fails on any serious or critical violation, naming each
 * with the elements it found. The page is left in the light theme.
 */
export async function expectAccessible(page: Page, where: string) {
  const found: string[] = [];
  // Each page as it was checked, in both themes, for a person to look at (`screenshots/pages/`).
  const name = `${page.viewportSize()?.width}-${where.replace(/^\/$/, 'home').replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}`;
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await shot(page, `pages/${name}-${colorScheme}`);
    const { violations } = await new AxeBuilder({ page }).analyze();
    for (const v of violations) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue;
      const nodes = v.nodes.slice(0, 4).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1, 2).join('').trim()}`);
      found.push(`${where} (${colorScheme}, ${page.viewportSize()?.width}px) ${v.impact} ${v.id}: ${v.help}\n    ${nodes.join('\n    ')}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  expect(found, found.join('\n')).toEqual([]);
}
