import { test as base, expect, Page } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort, waitForPort } from './net';
import { startPostgres, Postgres } from './postgres';
import { hydrated, binary, ADMIN, ADMIN_PASSWORD } from './fixtures';

// Two Portcullis nodes on one real PostgreSQL, in one browser: a browser's cookies do not
// depend on the port, so a session made on node A is presented to node B as it would be
// behind a load balancer.
const root = path.resolve(__dirname, '../..');
const SECRET_KEY = 'one-instance-key-for-both-nodes-0123456789';

let pg: Postgres | undefined;
const nodes: ChildProcess[] = [];

async function startNode(url: string): Promise<string> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-node-'));
  nodes.push(spawn(binary, [], {
    cwd: root,
    stdio: 'ignore',
    env: {
      ...process.env,
      PORTCULLIS_ADDR: `127.0.0.1:${port}`,
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_DATABASE_URL: url,
      PORTCULLIS_SECRET_KEY: SECRET_KEY,
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      PORTCULLIS_LOG: 'warn',
    },
  }));
  await waitForPort(port);
  return `http://127.0.0.1:${port}`;
}

base.afterAll(() => {
  for (const n of nodes) n.kill();
  pg?.stop();
});

async function shot(page: Page, name: string) {
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}

base('two nodes on PostgreSQL: set up on one, the vault opened on the other, signed out everywhere', async ({ page }) => {
  base.setTimeout(120_000);
  pg = await startPostgres(['portcullis']);
  const a = await startNode(pg.url('portcullis'));
  const b = await startNode(pg.url('portcullis'));

  // Set-up on node A.
  await page.goto(`${a}/`);
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByTestId('home-identity')).toContainText('Signed in as admin');

  // Node B knows the session: its vault page opens, locked until the password is typed.
  await page.goto(`${b}/vault`);
  await hydrated(page);
  await expect(page.getByTestId('vault-status')).toHaveText('Locked');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Unlock vault' }).click();
  await expect(page.getByTestId('vault-status')).toHaveText('Unlocked');
  await page.getByLabel('Name').fill('db-root');
  await page.getByLabel('Secret').fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Save item' }).click();
  await expect(page.getByTestId('vault-item')).toHaveCount(1);
  await shot(page, '100-postgres-node-b-vault');

  // Node A reads it with the same session, without the password again.
  await page.goto(`${a}/vault`);
  await hydrated(page);
  await expect(page.getByTestId('vault-status')).toHaveText('Unlocked');
  const item = page.getByTestId('vault-item');
  await item.getByRole('button', { name: 'Show db-root' }).click();
  await expect(item).toContainText('correct-horse-battery');
  await shot(page, '101-postgres-node-a-vault');

  // Signing out on A ends the session on B at its next request, even for a browser that
  // kept the cookie.
  const kept = (await page.context().cookies()).filter((c) => c.name === 'jwt');
  expect(kept).toHaveLength(1);
  await page.goto(`${a}/`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await page.context().addCookies(kept);
  expect((await page.request.get(`${b}/api/auth/me`)).status()).toBe(401);
  await page.goto(`${b}/vault`);
  await expect(page).toHaveURL(/\/login$/);
});
