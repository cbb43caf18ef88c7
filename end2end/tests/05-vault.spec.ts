import { Page } from '@playwright/test';
import { test, expect, hydrated, shot } from './fixtures';

const USER = 'vera';
const PASSWORD = 'harbor-willow-crayon-83';

test('the vault opens with the password, keeps an item masked until shown, and deletes it', async ({ page }) => {
  expect((await page.request.post('/api/users/create', { data: { username: USER, password: PASSWORD } })).status()).toBe(200);
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(USER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Vault' }).click();
  await expect(page.getByTestId('vault-status')).toHaveText('Locked');

  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Unlock vault' }).click();
  await expect(page.getByText('That is not your current password.')).toBeVisible();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Unlock vault' }).click();
  await expect(page.getByTestId('vault-status')).toHaveText('Unlocked');

  await page.getByLabel('Name').fill('db-root');
  await page.getByLabel('Secret').fill('correct-horse-battery');
  await page.getByRole('button', { name: 'Save item' }).click();
  const item = page.getByTestId('vault-item');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText('db-root');
  await expect(item).not.toContainText('correct-horse-battery');
  await expect(page.getByLabel('Secret')).toHaveValue('');
  // The value is not in the page until asked for: neither in the HTML nor in the hydration data.
  const html = await (await page.request.get('/vault')).text();
  expect(html).toContain('db-root');
  expect(html).not.toContain('correct-horse-battery');
  await item.getByRole('button', { name: 'Show db-root' }).click();
  await expect(item).toContainText('correct-horse-battery');
  await page.screenshot({ path: 'screenshots/50-vault.png', fullPage: true });
  await item.getByRole('button', { name: 'Hide db-root' }).click();
  await expect(item).not.toContainText('correct-horse-battery');
  // Copy puts the value on the clipboard without showing it.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await item.getByRole('button', { name: 'Copy db-root' }).click();
  await expect(item.getByText('Copied to the clipboard.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('correct-horse-battery');
  await expect(item).not.toContainText('correct-horse-battery');

  // The item is really stored: the REST route with this browser's session reads it.
  const listed = await (await page.request.get('/api/users/vault')).json();
  expect(listed.items[0]).toMatchObject({ name: 'db-root', value: 'correct-horse-battery' });

  // Deleting asks first; the "Saved" notice gives way to "Item deleted."
  await expect(page.getByText('Saved, encrypted.')).toBeVisible();
  await item.getByText('Delete…').click();
  await item.getByRole('button', { name: 'Delete db-root for good' }).click();
  await expect(page.getByText('Item deleted.')).toBeVisible();
  await expect(page.getByText('Saved, encrypted.')).toHaveCount(0);
  await expect(page.getByTestId('vault-item')).toHaveCount(0);
});
