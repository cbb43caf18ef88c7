import { Page } from '@playwright/test';
import { test, expect, hydrated, signIn, createUser, expectAccessible, ADMIN, ADMIN_PASSWORD } from './fixtures';
import { totp, nextStep } from './totp';

// Every page checked by axe, as it first shows, in both themes, at desktop and phone width: no
// serious or critical violation anywhere. (The set-up page is checked in 01-foundation, the only
// file that meets an instance before set-up.)

const SIGNED_OUT = ['/login', '/register', '/reset'];
const SIGNED_IN = [
  '/', '/sessions', '/security', '/vault', '/account', '/step-up?terminal=9',
  '/admin', '/admin/sessions', '/admin/api-keys', '/admin/sign-in', '/admin/access', '/admin/settings', '/admin/audit',
];
const WIDTHS = [1280, 390];

async function check(page: Page, path: string, where = path) {
  await page.goto(path);
  await hydrated(page);
  await page.waitForLoadState('networkidle');
  await expectAccessible(page, where);
}

test('the signed-out pages have no serious accessibility violation', async ({ page }) => {
  test.setTimeout(120_000);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const path of SIGNED_OUT) await check(page, path);
  }
});

test('every signed-in page has no serious accessibility violation', async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    for (const path of SIGNED_IN) await check(page, path);
  }
});

test('the second-step page and the lock screen have no serious accessibility violation', async ({ page }) => {
  test.setTimeout(120_000);
  const password = 'amber-willow-harbor-83';
  await createUser(page, 'tess', password);
  expect((await page.request.post('/api/users/login', { data: { username: 'tess', password } })).status()).toBe(200);
  const secret = (await (await page.request.post('/api/users/totp/setup', { data: {} })).json()).secret as string;
  expect((await page.request.post('/api/users/totp/enable', { data: { totp_code: totp(secret) } })).status()).toBe(200);
  await page.context().clearCookies();

  await signIn(page, 'tess', password);
  await expect(page).toHaveURL(/\/login\/mfa$/);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.reload();
    await hydrated(page);
    await expectAccessible(page, '/login/mfa');
  }
  await nextStep();
  await page.getByLabel('Authentication code').fill(totp(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/$/);

  expect((await page.request.post('/api/security/passcode', { data: { new_passcode: '604187' } })).status()).toBe(200);
  expect((await page.request.post('/api/security/lock')).status()).toBe(200);
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await check(page, '/sessions', 'lock-screen');
    await expect(page.getByTestId('lock-screen')).toBeVisible();
  }
});
