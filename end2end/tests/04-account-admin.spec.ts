import { Page } from '@playwright/test';
import { test, expect, hydrated, shot, ADMIN, ADMIN_PASSWORD } from './fixtures';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

async function signIn(page: Page, username: string, password: string) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** The last reset code the server logged for this user. */
function loggedResetCode(serverLog: string, username: string): string {
  const log = fs.readFileSync(serverLog, 'utf8');
  const matches = [...log.matchAll(new RegExp(`username=${username} code=(\\d{6})`, 'g'))];
  expect(matches.length).toBeGreaterThan(0);
  return matches[matches.length - 1][1];
}

test('admins add people, change sign-in settings, roles, sessions and API keys, one admin route per task', async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
  const tabs = page.getByRole('navigation', { name: 'Administration' });
  await expect(tabs.getByRole('link', { name: 'Users' })).toHaveAttribute('aria-current', 'page');
  await hydrated(page);

  // Users first: add a person; a taken name is refused on its field.
  await page.getByLabel('Username').fill('mira');
  await page.getByLabel('First password').fill('copper-kettle-season-19');
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByText('mira can sign in now.')).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue('');
  await expect(page.locator('[data-testid="user-row"][data-username="mira"]')).toHaveCount(1);
  await page.getByLabel('Username').fill('MIRA');
  await page.getByLabel('First password').fill('copper-kettle-season-19');
  await page.getByRole('button', { name: 'Add person' }).click();
  await expect(page.getByLabel('Username')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('That username is taken.')).toBeVisible();
  await shot(page, '39-admin-users');

  // Sign-in methods: registration off and on again.
  await tabs.getByRole('link', { name: 'Sign-in methods' }).click();
  await expect(page).toHaveURL(/\/admin\/sign-in$/);
  await expect(tabs.getByRole('link', { name: 'Sign-in methods' })).toHaveAttribute('aria-current', 'page');
  await page.getByLabel('Anyone can create an account').uncheck();
  await page.getByRole('button', { name: 'Save sign-in settings' }).click();
  await expect(page.getByText('Sign-in settings saved.')).toBeVisible();
  expect(await (await page.request.get('/api/users/registration-allowed')).json()).toEqual({ allowed: false });
  await page.getByLabel('Anyone can create an account').check();
  await page.getByRole('button', { name: 'Save sign-in settings' }).click();
  await expect(page.getByText('Sign-in settings saved.')).toBeVisible();
  expect(await (await page.request.get('/api/users/registration-allowed')).json()).toEqual({ allowed: true });

  // Sessions: a bad length is refused on its field, a good one saved; everyone's sessions listed.
  await tabs.getByRole('link', { name: 'Sessions' }).click();
  await expect(page).toHaveURL(/\/admin\/sessions$/);
  const timeout = page.getByLabel('Sessions last (hours)');
  await timeout.fill('0');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(timeout).toHaveAttribute('aria-invalid', 'true');
  await timeout.fill('12');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByText('Session length saved.')).toBeVisible();
  expect(await (await page.request.get('/api/users/session-timeout')).json()).toEqual({ timeoutHours: 12 });
  await expect(page.getByTestId('all-sessions').getByTestId('session').first()).toContainText('admin');
  await shot(page, '39-admin-sessions');

  await tabs.getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  // Roles.
  const mira = page.locator('[data-testid="user-row"][data-username="mira"]');
  await mira.getByRole('button', { name: 'Make admin: mira' }).click();
  await expect(page.getByText('Role changed.')).toBeVisible();
  await expect(mira.getByText('Admin', { exact: true })).toBeVisible();
  await mira.getByRole('button', { name: 'Remove admin: mira' }).click();
  await expect(mira.getByRole('button', { name: 'Make admin: mira' })).toBeVisible();

  // An API key for mira: shown once, works as mira, stops working when deleted.
  await tabs.getByRole('link', { name: 'API keys' }).click();
  await expect(page).toHaveURL(/\/admin\/api-keys$/);
  // A link followed in the page moves the focus to the new page's heading.
  await expect(page.getByRole('heading', { level: 1, name: 'Administration' })).toBeFocused();
  await page.getByText('New API key…').click();
  await page.getByLabel('Name', { exact: true }).fill('backup script');
  // The owner is typed, with names suggested as it is; a name nobody has is refused on the field.
  const owner = page.getByLabel('Acts as (optional)');
  await owner.fill('mi');
  await expect(page.locator('#key-user-names option[value="mira"]')).toHaveCount(1);
  await expect(page.locator('#key-user-names option[value="admin"]')).toHaveCount(0);
  await owner.fill('nobody-by-that-name');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(owner).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('No user has that name.')).toBeVisible();
  await owner.fill('mira');
  await page.getByRole('button', { name: 'Create key' }).click();
  const token = (await page.getByTestId('new-key-token').textContent())!.trim();
  expect(token).toMatch(/^pcs_[0-9a-f]{64}$/);
  const asMira = await page.request.get('/api/users/me', { headers: { Authorization: `Bearer ${token}` } });
  expect((await asMira.json()).username).toBe('mira');
  await expect(page.getByTestId('key-row')).toHaveCount(1);
  await shot(page, '40-admin');
  // The form is empty again for the next key.
  await page.getByText('New API key…').click();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(owner).toHaveValue('');
  await page.getByRole('button', { name: 'Delete key backup script' }).click();
  await expect(page.getByText('API key deleted. It stopped working at once.')).toBeVisible();
  await expect(page.getByTestId('no-keys')).toBeVisible();
  expect((await page.request.get('/api/users/me', { headers: { Authorization: `Bearer ${token}` } })).status()).toBe(401);

  // Delete mira, with a confirmation step.
  await tabs.getByRole('link', { name: 'Users' }).click();
  await mira.getByText('Delete…').click();
  await mira.getByRole('button', { name: 'Delete mira' }).click();
  await expect(page.getByText('User deleted.')).toBeVisible();
  await expect(mira).toHaveCount(0);

  // The only administrator is told why their account cannot be deleted, not offered it.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(page.getByTestId('last-admin')).toBeVisible();
  await expect(page.getByText('Delete my account…')).toHaveCount(0);
});

test('a user changes their password, and resets a forgotten one with the code from the server log', async ({ page, instance }) => {
  test.setTimeout(120_000);
  const first = 'linen-orchard-falcon-27';
  const second = 'pebble-summit-violin-64';
  const third = 'quartz-harbor-mosaic-35';
  expect((await page.request.post('/api/users/create', { data: { username: 'nils', password: first } })).status()).toBe(200);
  await signIn(page, 'nils', first);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await expect(page.getByText('Delete my account…')).toBeVisible();

  await page.getByLabel('Current password').fill('not-the-password');
  await page.getByLabel('New password', { exact: true }).fill(second);
  await page.getByLabel('New password again').fill(second);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('That is not your current password.')).toBeVisible();
  await expect(page.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Current password')).toBeFocused();
  await shot(page, '41-account-wrong-password');
  await page.getByLabel('Current password').fill(first);
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page).toHaveURL(/\/login\?password_changed=1$/);
  await expect(page.getByText('Password changed and every session signed out.')).toBeVisible();
  await signIn(page, 'nils', second);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);

  // Forgotten: ask for a code, read it from the server log as the admin would, set a new password.
  await hydrated(page);
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await expect(page).toHaveURL(/\/reset$/);
  await page.getByLabel('Username').fill('nils');
  await page.getByRole('button', { name: 'Request a reset code' }).click();
  await expect(page).toHaveURL(/\/reset\?step=code&username=nils$/);
  const code = loggedResetCode(instance.log, 'nils');
  await page.getByLabel('Reset code').fill(code === '000000' ? '111111' : '000000');
  await page.getByRole('button', { name: 'Check code' }).click();
  await expect(page.getByLabel('Reset code')).toHaveAttribute('aria-invalid', 'true');
  await shot(page, '42-reset-wrong-code');
  await page.getByLabel('Reset code').fill(code);
  await page.getByRole('button', { name: 'Check code' }).click();
  await expect(page).toHaveURL(/\/reset\?step=password&username=nils$/);
  await page.getByLabel('New password', { exact: true }).fill(third);
  await page.getByLabel('New password again').fill(third);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect(page).toHaveURL(/\/login\?password_reset=1$/);
  await expect(page.getByText('Password reset. Sign in with your new password.')).toBeVisible();
  await signIn(page, 'nils', third);
});

// A large instance: the admin page shows the users 25 at a time, pages forward and back, and
// finds users by the start of their name as the admin types.
test('the admin user list pages and finds users by name', async ({ page, instance }) => {
  test.setTimeout(120_000);
  // Thirty accounts straight into the database (sign-ups are limited per network).
  const values = Array.from({ length: 30 }, (_, i) => {
    const n = `crew${String(i).padStart(2, '0')}`;
    return `('id-${n}', '${n}', '${n}', '${n}', 0, 1)`;
  });
  const made = spawnSync('sqlite3', [instance.db, `INSERT INTO users (id, username, username_key, display_name, tokens_valid_after, created_at) VALUES ${values.join(', ')}`]);
  expect(made.status, made.stderr.toString()).toBe(0);
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await page.goto('/admin');
  await hydrated(page);
  const list = page.getByTestId('user-list');
  const rows = list.locator(':scope > li');
  await expect(rows).toHaveCount(25);
  await expect(list).toContainText('admin');
  const pages = page.getByRole('navigation', { name: 'User list pages' });
  await expect(pages.getByRole('button', { name: 'Previous' })).toBeDisabled();
  const total = (await (await page.request.get('/api/users/list')).json()).users.length;
  expect(total).toBeGreaterThan(25);
  await pages.getByRole('button', { name: 'Next' }).click();
  await expect(rows).toHaveCount(total - 25);
  await expect(list).toContainText('crew29');
  await expect(pages.getByRole('button', { name: 'Next' })).toBeDisabled();
  await pages.getByRole('button', { name: 'Previous' }).click();
  await expect(rows).toHaveCount(25);

  const search = page.getByLabel('Find users');
  await search.fill('CREW1');
  await expect(rows).toHaveCount(10);
  await expect(list).toContainText('crew10');
  await expect(list).not.toContainText('crew20');
  await expect(search).toBeFocused();
  await shot(page, '40-admin-user-search');
  await search.fill('nobody-here');
  await expect(rows).toHaveCount(0);
  await expect(page.getByText('No user name starts with that.')).toBeVisible();
});
