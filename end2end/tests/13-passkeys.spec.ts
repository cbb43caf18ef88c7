import { test, expect, ADMIN, ADMIN_PASSWORD, hydrated, shot } from './fixtures';
import type { BrowserContext, CDPSession, Page } from '@playwright/test';

// Passkeys in Chromium with its virtual authenticator (the DevTools WebAuthn domain): a
// platform authenticator that keeps discoverable passkeys and verifies its user. The instance
// is reached at http://localhost (browsers refuse passkeys on a bare IP address).
test.use({ host: 'localhost' });

/** A virtual platform authenticator; `present`: it answers without waiting for a touch. */
async function authenticator(page: Page, context: BrowserContext, present: boolean) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: present,
    },
  });
  return { cdp, authenticatorId };
}

async function touch(cdp: CDPSession, authenticatorId: string) {
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
}

async function passwordSignIn(page: Page) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page).toHaveURL(/\/$/);
}

/** Adds a passkey with the browser's WebAuthn over the REST routes. */
async function addPasskey(page: Page, name: string) {
  const added = await page.evaluate(async (name) => {
    const post = (url: string, body: unknown) => fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const { challengeId, options } = await (await post('/api/users/passkeys/options', {})).json();
    const publicKey = (PublicKeyCredential as any).parseCreationOptionsFromJSON(options.publicKey);
    const credential = (await navigator.credentials.create({ publicKey })) as any;
    const res = await post('/api/users/passkeys', { challengeId, name, credential: credential.toJSON() });
    return { status: res.status, body: await res.json() };
  }, name);
  expect(added.status, JSON.stringify(added.body)).toBe(201);
}

async function signedInAs(page: Page) {
  return (await page.evaluate(async () => (await fetch('/api/users/me')).json())).username;
}

test('the browser offers the passkey in the username field and signs in with it', async ({ page, context }) => {
  await authenticator(page, context, true);
  await passwordSignIn(page);
  await addPasskey(page, 'Autofill');
  await context.clearCookies();
  // The virtual authenticator answers the page's autofill request at once, as a person
  // picking the passkey from the username field's suggestions would.
  await page.goto('/login');
  await expect(page).toHaveURL(/\/$/);
  expect(await signedInAs(page)).toBe(ADMIN);
});

test('"Sign in with a passkey" opens the browser dialog and signs in without a password', async ({ page, context }) => {
  const { cdp, authenticatorId } = await authenticator(page, context, true);
  await passwordSignIn(page);
  await addPasskey(page, 'Button');
  await context.clearCookies();
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await page.goto('/login');
  await hydrated(page);
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await expect(button).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveAttribute('autocomplete', 'username webauthn');
  await shot(page, '76-login-passkey');
  await button.click();
  await touch(cdp, authenticatorId);
  await expect(page).toHaveURL(/\/$/);
  expect(await signedInAs(page)).toBe(ADMIN);
});

test('without a passkey the browser says none was chosen, and the password still works', async ({ page, context }) => {
  await authenticator(page, context, true);
  await page.goto('/login');
  await hydrated(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /passkey/ })).toBeVisible();
  await shot(page, '77-login-passkey-none');
  await passwordSignIn(page);
});

test('the security page adds, lists and removes passkeys', async ({ page, context }) => {
  await authenticator(page, context, true);
  await passwordSignIn(page);
  await page.goto('/security');
  await hydrated(page);
  const section = page.getByTestId('passkeys');
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(section.getByLabel('Name of the new passkey')).toHaveAttribute('aria-invalid', 'true');
  await section.getByLabel('Name of the new passkey').fill('Work laptop');
  await section.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(section.getByRole('status').filter({ hasText: 'Passkey added.' })).toBeVisible();
  const list = section.getByTestId('passkey-list');
  await expect(list.getByText('Work laptop')).toBeVisible();
  await expect(list.getByText(/never used/).first()).toBeVisible();
  await shot(page, '78-security-passkeys');
  await list.getByRole('button', { name: 'Remove Work laptop' }).click();
  await expect(section.getByRole('status').filter({ hasText: 'Passkey removed.' })).toBeVisible();
  await expect(list.getByText('Work laptop')).toHaveCount(0);
});
