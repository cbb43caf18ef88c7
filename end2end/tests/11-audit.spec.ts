import { readFileSync } from 'node:fs';
import { test, expect, hydrated, shot, signIn, createUser, ADMIN, ADMIN_PASSWORD } from './fixtures';

const GRACE_PASSWORD = 'orchid-tundra-marble-62';

// An admin answers "who tried to get into grace's account, from where": the audit page filters
// by the address bar (a plain form), reads each event as a sentence, and exports what it shows.
test('the audit page filters, reads events as sentences and exports them', async ({ page }) => {
  await createUser(page, 'grace', GRACE_PASSWORD);
  for (let i = 0; i < 2; i++) {
    const r = await page.request.post('/api/users/login', { data: { username: 'grace', password: 'not-graces-password' } });
    expect(r.status()).toBe(401);
  }
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await hydrated(page);
  const events = page.getByTestId('audit-event');
  await expect(events.first()).toBeVisible();
  await expect(page.getByText('admin signed in with a password from 127.0.0.1')).toBeVisible();
  await shot(page, '11-audit-all');

  await page.getByLabel('User').fill('grace');
  await page.getByLabel('Outcome').selectOption('failure');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/outcome=failure/);
  await expect(page).toHaveURL(/user=grace/);
  await expect(events).toHaveCount(2);
  for (const e of await events.all()) {
    await expect(e).toHaveAttribute('data-outcome', 'failure');
    await expect(e).toContainText('grace failed to sign in with a password from 127.0.0.1');
    await expect(e).toContainText('Failed: invalid credentials');
  }
  await shot(page, '11-audit-filtered');

  // The export holds exactly what the filters show.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  expect(csv[0]).toMatch(/^id,at,type,outcome,code,/);
  expect(csv.slice(1)).toHaveLength(2);
  for (const row of csv.slice(1)) expect(row).toContain(',sign_in,failure,invalid_credentials,');

  // The same filtered view, opened directly (server-rendered, before any WASM).
  await page.goto('/admin/audit?user=grace&outcome=failure');
  await expect(events).toHaveCount(2);
  await expect(page.getByLabel('Outcome')).toHaveValue('failure');

  // A bad date names its field.
  await page.goto('/admin/audit?since=never');
  await hydrated(page);
  await expect(page.locator('#f-since-error')).toContainText('since must be');
});

// Each user sees their own recent security activity, a sign-in from a new address flagged.
test('a user sees their sign-ins on the security page, a new address flagged', async ({ page, instance }) => {
  await createUser(page, 'henry', GRACE_PASSWORD);
  const r = await page.request.post('/api/users/login', { data: { username: 'henry', password: GRACE_PASSWORD } });
  expect(r.status()).toBe(200);
  await page.context().clearCookies();
  // An earlier sign-in from another network, as the database would hold it.
  const { spawnSync } = await import('node:child_process');
  const moved = spawnSync('sqlite3', ['-cmd', '.timeout 5000', instance.db,
    "UPDATE audit_events SET ip = '203.0.113.9', at = at - 3600 WHERE type = 'sign_in' AND username = 'henry'"]);
  expect(moved.status, moved.stderr?.toString()).toBe(0);
  await signIn(page, 'henry', GRACE_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/security');
  await hydrated(page);
  const activity = page.getByTestId('recent-activity');
  await expect(activity.getByText('henry signed in with a password from 127.0.0.1')).toBeVisible();
  await expect(activity.getByText('henry signed in with a password from 203.0.113.9')).toBeVisible();
  await expect(activity.getByTestId('new-address')).toHaveCount(1);
  await activity.scrollIntoViewIfNeeded();
  await shot(page, '11-security-activity');
  // Not an admin: no audit page.
  await page.goto('/admin/audit');
  await expect(page.getByRole('alert')).toContainText('Only administrators');
});
