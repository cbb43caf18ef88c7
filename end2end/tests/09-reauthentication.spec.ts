import { spawnSync } from 'node:child_process';
import { test, expect, hydrated, shot, signIn, createUser } from './fixtures';

const USER = 'rita';
const PASSWORD = 'saffron-meadow-kettle-58';

test('an old session is asked for the password inline before setting up two-factor, then carries on', async ({ page, instance }) => {
  await createUser(page, USER, PASSWORD);
  await signIn(page, USER, PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  // Age this session past the 10 minutes in which a sign-in counts as recent.
  const aged = spawnSync('sqlite3', [instance.db, 'UPDATE sessions SET authenticated_at = 0']);
  expect(aged.status, aged.stderr?.toString()).toBe(0);

  await page.goto('/security');
  await hydrated(page);
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const prompt = page.getByTestId('reauth');
  await expect(prompt).toBeVisible();
  const password = prompt.getByLabel('Your password');
  await expect(password).toBeFocused();
  await shot(page, '90-reauth-prompt');

  await password.fill('not-my-password');
  await prompt.getByRole('button', { name: 'Confirm' }).click();
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(prompt).toContainText('That is not your password.');

  await password.fill(PASSWORD);
  await prompt.getByRole('button', { name: 'Confirm' }).click();
  await expect(prompt).toBeHidden();
  await expect(page.getByRole('img', { name: /QR code/i })).toBeVisible();
  await shot(page, '91-reauth-then-enroll');
});
