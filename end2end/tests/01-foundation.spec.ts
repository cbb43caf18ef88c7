import { test, expect, hydrated, shot, expectAccessible, ADMIN, ADMIN_PASSWORD as PASSWORD } from './fixtures';

// This file meets its instance before anyone set it up.
test.use({ setUp: false });

test('fresh instance: setup, sign out, sign in, see this device, revoke it', async ({ page, baseURL }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await hydrated(page);
  await expect(page.getByRole('heading', { name: 'Set up Portcullis' })).toBeVisible();
  await shot(page, '01-setup');
  for (const width of [390, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    await expectAccessible(page, '/setup');
  }

  // An empty form: both required fields marked at once, the first focused.
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page.getByLabel('Username')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Username')).toBeFocused();

  // A weak password is refused inline, tied to its input, and what was typed stays.
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Display name (optional)').fill('Ada Admin');
  await expect(page.getByLabel('Only administrators')).toBeChecked();
  await expect(page.getByLabel('Allow self-service reset')).not.toBeChecked();
  await page.getByLabel('Password').fill('password123');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  const password = page.getByLabel('Password');
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#f-password-error')).toContainText('stronger password');
  await expect(page.getByLabel('Username')).toHaveValue(ADMIN);
  await shot(page, '02-setup-weak-password');

  await password.fill(PASSWORD);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('home-identity')).toContainText('Signed in as admin');
  await expect(page.getByTestId('home-identity')).toContainText('administrator');
  await shot(page, '03-home');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await expect(page.getByRole('status').filter({ hasText: 'You have signed out.' })).toBeVisible();
  await hydrated(page);
  // Set up from the page, the safe defaults: nobody signs up, no reset by the server log.
  await expect(page.getByRole('link', { name: 'Create an account' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Forgot your password?' })).toHaveCount(0);
  await shot(page, '04-login');

  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Invalid username or password.' })).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveValue(ADMIN);
  await shot(page, '05-login-failed');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('home-identity')).toContainText('admin');

  // A script signed in as well: its session says what it is.
  const script = await fetch(`${baseURL}/api/users/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' },
    body: JSON.stringify({ username: ADMIN, password: PASSWORD }),
  });
  expect(script.status).toBe(200);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sessions' }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.getByTestId('session').filter({ hasText: 'API client · curl/8.5.0' })).toHaveCount(1);
  const current = page.getByTestId('session').filter({ has: page.getByTestId('this-device') });
  await expect(current).toHaveCount(1);
  await expect(current).toContainText('Chrom');
  await shot(page, '06-sessions');

  await current.getByRole('button', { name: 'Sign out this device' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
  await page.goto('/sessions');
  await expect(page).toHaveURL(/\/login$/);
});

test('the sign-in page works at phone width and without JavaScript', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, javaScriptEnabled: false, viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await shot(page, '07-login-phone-nojs');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('home-identity')).toContainText('Signed in as admin');
  await context.close();
});
