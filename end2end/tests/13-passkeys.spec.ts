import { test, expect, ADMIN, ADMIN_PASSWORD, hydrated, shot, createUser, signIn } from './fixtures';
import { totp } from './totp';
import type { BrowserContext, Page } from '@playwright/test';

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
  await authenticator(page, context, true);
  await passwordSignIn(page);
  await addPasskey(page, 'Button');
  await context.clearCookies();
  // Which ceremonies the page asks for. The autofill one is refused here (as a busy network
  // would be: the page stays quiet), so only the button's dialog can sign in.
  const asked: boolean[] = [];
  await page.route('**/api/users/login/passkey/options', async (route) => {
    const autofill = JSON.parse(route.request().postData() || '{}').autofill;
    asked.push(autofill);
    if (autofill) await route.fulfill({ status: 429, json: { error: 'Too many requests.', code: 'rate_limited' } });
    else await route.continue();
  });
  // The answer waits until the pending state has been seen.
  const release = await hold(page, '**/api/users/login/passkey');
  await page.goto('/login');
  await hydrated(page);
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await expect(button).toBeVisible();
  await expect(page.getByLabel('Username')).toHaveAttribute('autocomplete', 'username webauthn');
  await expect.poll(() => asked).toEqual([true]);
  await expect(page.locator('[data-passkey-error]')).toBeHidden();
  await shot(page, '76-login-passkey');
  await button.click();
  const pending = page.locator('[data-passkey-start]');
  await expect(pending).toBeDisabled();
  await expect(pending).toHaveText('Signing in…');
  release();
  await expect(page).toHaveURL(/\/$/);
  expect(await signedInAs(page)).toBe(ADMIN);
  expect(asked).toEqual([true, false]);
});

test('without a passkey the browser says none was chosen, and the password still works', async ({ page, context }) => {
  await authenticator(page, context, true);
  await page.goto('/login');
  await hydrated(page);
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await button.click();
  await expect(page.getByRole('alert').filter({ hasText: 'No passkey was used (cancelled or timed out).' })).toBeVisible();
  // The button is back, with the focus, for another try.
  await expect(button).toBeEnabled();
  await expect(button).toBeFocused();
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
  // Ready for the next one: the field is empty (and an empty name is refused again).
  await expect(section.getByLabel('Name of the new passkey')).toHaveValue('');
  const list = section.getByTestId('passkey-list');
  await expect(list.getByText('Work laptop')).toBeVisible();
  await expect(list.getByText(/never used/).first()).toBeVisible();
  await shot(page, '78-security-passkeys');
  await list.getByRole('button', { name: 'Remove Work laptop' }).click();
  await expect(section.getByRole('status').filter({ hasText: 'Passkey removed.' })).toBeVisible();
  await expect(list.getByText('Work laptop')).toHaveCount(0);
});

/** A new account signed in with its password (each test its own, so the admin's stay apart). */
async function freshUser(page: Page, name: string) {
  await createUser(page, name, ADMIN_PASSWORD);
  await signIn(page, name, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
}

/** Turns two-factor sign-in on over REST for the signed-in user; answers the TOTP secret. */
async function enableTotp(page: Page) {
  const set = await page.request.post('/api/users/totp/setup');
  expect(set.status()).toBe(200);
  const { secret } = await set.json();
  const on = await page.request.post('/api/users/totp/enable', { data: { totp_code: totp(secret) } });
  expect(on.status(), await on.text()).toBe(200);
  return secret as string;
}

/** Requests to `pattern` wait until the answer's `release` is called. */
async function hold(page: Page, pattern: string) {
  let release = () => {};
  const held = new Promise<void>((r) => { release = r; });
  await page.route(pattern, async (route) => { await held; await route.continue(); });
  return release;
}

test('after the password, "Use a passkey" on the second-step page finishes the sign-in', async ({ page, context }) => {
  await authenticator(page, context, true);
  await freshUser(page, 'pk-second');
  await addPasskey(page, 'Phone');
  await enableTotp(page);
  await context.clearCookies();
  // The sign-in page's autofill would take the passkey at once: this person types a password.
  await page.route('**/api/users/login/passkey/options', (route) => route.fulfill({ status: 429, json: {} }));
  const release = await hold(page, '**/rpc/passkey/second-step');
  await signIn(page, 'pk-second', ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/login\/mfa/);
  await hydrated(page);
  const use = page.getByRole('button', { name: 'Use a passkey' });
  await expect(use).toBeVisible();
  await page.getByLabel('Trust this device for 30 days').check();
  await shot(page, '79-mfa-passkey');
  await use.click();
  await expect(page.locator('[data-passkey-start]')).toHaveText('Verifying…');
  release();
  await expect(page).toHaveURL(/\/$/);
  expect(await signedInAs(page)).toBe('pk-second');
  // "Trust this device" went along: the next password sign-in skips the second step.
  const cookies = await context.cookies();
  expect(cookies.some((c) => c.name === 'pc_trusted' && c.value)).toBe(true);
});

test('the lock screen unlocks with a passkey, on a live page and on one sent locked', async ({ page, context }) => {
  await authenticator(page, context, true);
  await freshUser(page, 'pk-lock');
  await addPasskey(page, 'Laptop');
  const set = await page.request.post('/api/security/passcode', { data: { new_passcode: '482913' } });
  expect(set.status()).toBe(200);

  // Locked while the page is open (hydrated): it comes back without loading again.
  await page.goto('/security');
  await hydrated(page);
  await page.getByTestId('lock-now').click();
  const screen = page.getByTestId('lock-screen');
  await expect(screen).toBeVisible();
  await page.evaluate(() => { (window as any).samePage = true; });
  await shot(page, '80-lock-screen-passkey');
  await screen.getByRole('button', { name: 'Unlock with a passkey' }).click();
  await expect(screen).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).samePage)).toBe(true);
  await expect(page.locator('.app')).not.toHaveAttribute('inert', /.*/);

  // Locked, then loaded: the server sends the lock screen without the WASM; the passkey
  // unlocks it and the page loads again, unlocked.
  expect((await page.request.post('/api/security/lock')).status()).toBe(200);
  await page.goto('/sessions');
  await hydrated(page);
  await expect(screen).toBeVisible();
  await screen.getByRole('button', { name: 'Unlock with a passkey' }).click();
  await expect(screen).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Sessions' })).toBeVisible();
  expect(await signedInAs(page)).toBe('pk-lock');
});

test('a locked terminal opens with a passkey, on the security page and on the step-up page', async ({ page, context }) => {
  await authenticator(page, context, true);
  await freshUser(page, 'pk-term');
  await addPasskey(page, 'Key');
  await enableTotp(page);
  for (const t of ['cont_7', 'cont_8']) {
    expect((await page.request.post(`/api/security/terminal/${t}/mfa-lock`)).status()).toBe(200);
  }
  const ticket = async (t: string) => (await page.request.post('/api/auth/ws-ticket', { data: { terminalId: t } })).status();
  expect(await ticket('cont_7')).toBe(403);

  // The security page: a row's "Use a passkey" opens that terminal for this session.
  await page.goto('/security');
  await hydrated(page);
  await page.getByRole('button', { name: 'Use a passkey for cont_7' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Terminal cont_7 is open to this session until' })).toBeVisible();
  await shot(page, '81-terminal-passkey');
  expect(await ticket('cont_7')).toBe(200);
  expect(await ticket('cont_8')).toBe(403);

  // The step-up page (where forward-auth sends a browser): the passkey opens cont_8.
  await page.goto('/step-up?terminal=cont_8');
  await hydrated(page);
  await expect(page.getByLabel('Authentication code')).toBeVisible();
  await shot(page, '82-step-up-passkey');
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await expect(page).toHaveURL(/\/$/);
  expect(await ticket('cont_8')).toBe(200);
});
