import { Page } from '@playwright/test';
import { test, expect, hydrated, shot } from './fixtures';
import * as fs from 'node:fs';
import { totp, nextStep } from './totp';

const USER = 'tina';
const PASSWORD = 'velvet-cactus-harbor-77';

async function signIn(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1$/);
}

test('enroll with the QR page, download backup codes, then sign in with a code and with a backup code', async ({ page }) => {
  test.setTimeout(150_000);
  const created = await page.request.post('/api/users/create', { data: { username: USER, password: PASSWORD } });
  expect(created.status()).toBe(200);

  await signIn(page);
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security' }).click();
  await expect(page).toHaveURL(/\/security$/);
  await expect(page.getByTestId('tf-status')).toHaveText('Off');
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();

  const secretEl = page.getByTestId('totp-secret');
  await expect(secretEl).toBeVisible();
  await expect(page.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const secret = (await secretEl.textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await shot(page, '10-totp-qr');

  // A wrong code is refused with what is left.
  const wrong = totp(secret) === '000000' ? '111111' : '000000';
  const enrolCode = page.getByLabel('Enter the 6-digit code your app shows');
  await enrolCode.fill(wrong);
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'tries left' })).toBeVisible();
  // On its field, which has the focus back.
  await expect(enrolCode).toHaveAttribute('aria-invalid', 'true');
  await expect(enrolCode).toBeFocused();

  await page.getByLabel('Enter the 6-digit code your app shows').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on', exact: true }).click();
  const codesBox = page.getByTestId('backup-codes');
  await expect(codesBox).toBeVisible();
  const codes = (await codesBox.locator('code').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(8);
  await shot(page, '11-backup-codes');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as text' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('portcullis-backup-codes.txt');
  const text = fs.readFileSync((await download.path())!, 'utf8');
  for (const c of codes) expect(text).toContain(c);

  const done = page.getByRole('button', { name: 'Done' });
  await expect(done).toBeDisabled();
  await page.getByLabel('I saved my backup codes').check();
  await done.click();
  await expect(page.getByTestId('tf-status')).toHaveText('On');
  await signOut(page);

  // Second step with a code from the app (the next step's: the enrolment code is spent).
  await signIn(page);
  await expect(page).toHaveURL(/\/login\/mfa$/);
  await hydrated(page);
  const codeInput = page.getByLabel('Authentication code');
  // What to type is said beside the field, not as grey digits that look filled in.
  await expect(codeInput).not.toHaveAttribute('placeholder');
  await expect(codeInput).toHaveAccessibleDescription(/6 digits/);
  await expect(codeInput).toBeFocused();
  await expect(codeInput).toHaveAttribute('inputmode', 'numeric');
  await shot(page, '12-mfa-step');
  await nextStep();
  await codeInput.fill(totp(secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('home-identity')).toContainText(USER);
  await signOut(page);

  // Second step with a backup code.
  await signIn(page);
  await expect(page).toHaveURL(/\/login\/mfa$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'Use a backup code instead' }).click();
  await page.getByLabel('Backup code').fill(codes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/$/);
  await signOut(page);

  // The same backup code does not work twice.
  await signIn(page);
  await hydrated(page);
  await page.getByRole('link', { name: 'Use a backup code instead' }).click();
  await page.getByLabel('Backup code').fill(codes[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'not right' })).toBeVisible();
  await expect(page).toHaveURL(/\/login\/mfa\?backup=1$/);
  // The refusal is on the code's field, which has the focus again.
  await expect(page.getByLabel('Backup code')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Backup code')).toBeFocused();
});
