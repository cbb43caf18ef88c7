import { Page } from '@playwright/test';
import { test, expect, hydrated, shot } from './fixtures';

const USER = 'lena';
const PASSWORD = 'amber-lantern-orchard-42';
const PASSCODE = '482916';

async function signIn(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
}

async function openSecurity(page: Page) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).click();
  await expect(page).toHaveURL(/\/security$/);
}

async function unlockWith(page: Page, passcode: string) {
  await page.getByTestId('lock-screen').getByLabel('Passcode').fill(passcode);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

test('idle lock appears on inactivity, refuses a wrong passcode and gives the page back', async ({ page }) => {
  test.setTimeout(120_000);
  const created = await page.request.post('/api/users/create', { data: { username: USER, password: PASSWORD } });
  expect(created.status()).toBe(200);

  // The page clock drives the inactivity timer; the server's clock is untouched.
  await page.clock.install();
  await signIn(page);
  await openSecurity(page);
  await hydrated(page);
  await expect(page.getByTestId('sl-status')).toHaveText('Off');

  await page.getByLabel('New passcode (6 digits)').fill(PASSCODE);
  await page.getByLabel('Lock after').selectOption('5');
  // A passcode anyone would try first is refused on its field.
  await page.getByLabel('New passcode (6 digits)').fill('123456');
  await page.getByRole('button', { name: 'Turn on screen lock' }).click();
  await expect(page.getByLabel('New passcode (6 digits)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('among the first anyone would try')).toBeVisible();
  await page.getByLabel('New passcode (6 digits)').fill(PASSCODE);
  await page.getByRole('button', { name: 'Turn on screen lock' }).click();
  await expect(page.getByText('Passcode saved. The screen lock is on.')).toBeVisible();
  // Masked text, not a password field: password managers leave it alone.
  await expect(page.getByRole('button', { name: 'Lock now' })).toBeVisible();
  await expect(page.getByTestId('sl-status')).toHaveText('On');
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);

  // Four idle minutes: still open. Past five: the lock screen covers the page.
  await page.clock.fastForward('04:00');
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await page.clock.fastForward('01:05');
  const dialog = page.getByRole('dialog', { name: 'Portcullis is locked' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Passcode')).toBeFocused();
  // What is behind the dialog is out of reach: inert, hidden from assistive tech and from view.
  await expect(page.locator('.app')).toHaveAttribute('inert', /.*/);
  await expect(page.getByRole('heading', { name: 'Screen lock' })).toBeHidden();
  await shot(page, '20-lock-screen');

  // The server holds the lock too: this session's token is refused elsewhere.
  const me = await page.request.get('/api/users/me');
  expect(me.status()).toBe(403);
  expect((await me.json()).code).toBe('account_locked');

  await unlockWith(page, '000000');
  await expect(dialog.getByRole('alert')).toHaveText('Incorrect passcode. Try again.');
  await expect(dialog.getByLabel('Passcode')).toHaveAttribute('aria-invalid', 'true');
  await expect(dialog.getByLabel('Passcode')).toHaveValue('');
  await expect(dialog.getByLabel('Passcode')).toBeFocused();
  await shot(page, '21-lock-screen-wrong');

  await unlockWith(page, PASSCODE);
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await expect(page).toHaveURL(/\/security$/);
  await expect(page.getByRole('heading', { name: 'Screen lock' })).toBeVisible();
  await expect(page.locator('.app')).not.toHaveAttribute('inert', /.*/);
  // The new token is in place: the API answers again.
  expect((await page.request.get('/api/users/me')).status()).toBe(200);
});

test('a second tab locks when the first locks, and a reload keeps the lock', async ({ page, context }) => {
  test.setTimeout(120_000);
  await signIn(page);
  await openSecurity(page);
  await hydrated(page);
  await expect(page.getByTestId('sl-status')).toHaveText('On');

  const other = await context.newPage();
  await other.goto('/sessions');
  await hydrated(other);
  await expect(other.getByTestId('lock-screen')).toHaveCount(0);

  await page.getByTestId('lock-now').click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await expect(other.getByTestId('lock-screen')).toBeVisible();

  // A reload does not escape the lock: the server renders the page locked.
  await other.reload();
  await expect(other.getByTestId('lock-screen')).toBeVisible();
  await expect(other.locator('.app')).toHaveAttribute('inert', /.*/);

  await unlockWith(page, PASSCODE);
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await expect(other.getByTestId('lock-screen')).toHaveCount(0);
  await expect(other).toHaveURL(/\/sessions$/);
  // The page that was rendered while locked fills in after the unlock, on the new token.
  await expect(other.getByTestId('this-device')).toBeVisible();
  await other.close();
});

test('a lock set elsewhere shows the lock screen on the next request the page makes', async ({ page }) => {
  await signIn(page);
  await page.goto('/sessions');
  await hydrated(page);
  await expect(page.getByTestId('this-device')).toBeVisible();
  // Locked out of band (another device, a script): the page has not been told.
  expect((await page.request.post('/api/security/lock')).status()).toBe(200);
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await unlockWith(page, PASSCODE);
  await expect(page.getByTestId('lock-screen')).toHaveCount(0);
  await expect(page.getByTestId('this-device')).toBeVisible();
});

test('sign out instead leaves the lock screen for the sign-in page', async ({ page }) => {
  await signIn(page);
  await hydrated(page);
  await page.goto('/security');
  await hydrated(page);
  await page.getByTestId('lock-now').click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out instead' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
});
