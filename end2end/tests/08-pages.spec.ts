import { spawnSync } from 'node:child_process';
import { test, expect, hydrated, shot, signIn, createUser, ADMIN, ADMIN_PASSWORD } from './fixtures';

/** Every signed-in page. */
const PAGES = ['/', '/sessions', '/security', '/vault', '/account', '/admin', '/admin/sessions', '/admin/api-keys', '/admin/sign-in', '/admin/access', '/admin/settings', '/admin/audit'];

// Every signed-in page, opened directly (server-rendered, then hydrated), hydrates without an
// error, repeatedly: a page that only sometimes hydrates would lose its buttons' behaviour.
test('each page opened directly hydrates every time, at desktop and phone width', async ({ page }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  expect((await page.request.post('/api/users/login', { data: { username: 'admin', password: 'grumpy-lantern-orbit-41' } })).status()).toBe(200);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (let round = 0; round < 3; round++) {
      for (const path of PAGES) {
        await page.goto(path);
        await page.waitForSelector('body[data-hydrated="1"]', { state: 'attached', timeout: 15_000 });
        expect(errors, `${path} at ${width}px`).toEqual([]);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${path} fits ${width}px`).toBeLessThanOrEqual(0);
      }
    }
  }
});

// The front end's files are named by their content and cached for a year; the page itself is
// never cached. A new build has new names, so a browser never runs stale code.
test('the WASM, JS and CSS have content-hashed names and are cached immutably; pages are not', async ({ page }) => {
  const assets: { url: string; cache: string }[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/pkg/')) assets.push({ url: r.url(), cache: r.headers()['cache-control'] ?? '' });
  });
  expect((await page.request.post('/api/users/login', { data: { username: ADMIN, password: ADMIN_PASSWORD } })).status()).toBe(200);
  const res = await page.goto('/sessions');
  await hydrated(page);
  expect(res?.headers()['cache-control']).toBe('no-store');
  const kinds = assets.map((a) => new URL(a.url).pathname.split('.').pop());
  for (const kind of ['js', 'wasm', 'css']) expect(kinds, `a .${kind} was loaded`).toContain(kind);
  for (const a of assets) {
    // The main files, and the loader of the split-off WASM (`cargo leptos build --split`).
    expect(new URL(a.url).pathname, 'hashed name').toMatch(/^\/pkg\/(portcullis|__wasm_split)\.[A-Za-z0-9_-]{8,}\.(js|wasm|css)$/);
    expect(a.cache, a.url).toBe('public, max-age=31536000, immutable');
  }
});

// The administration pages are split from the main WASM: a signed-in page does not download
// them, and opening one (by a click, or directly) fetches its own file, named by its content.
test('the admin pages load their own WASM only when opened', async ({ page }) => {
  const wasm: string[] = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.endsWith('.wasm')) wasm.push(`${path} ${r.headers()['cache-control']}`);
  });
  expect((await page.request.post('/api/users/login', { data: { username: ADMIN, password: ADMIN_PASSWORD } })).status()).toBe(200);
  for (const path of ['/', '/sessions', '/security', '/vault', '/account']) {
    await page.goto(path);
    await hydrated(page);
  }
  await page.waitForLoadState('networkidle');
  expect(wasm.filter((w) => w.includes('admin') || w.includes('audit')), 'no admin code on the other pages').toEqual([]);
  // Client-side navigation to the admin page fetches its part and shows the page.
  await page.getByRole('link', { name: 'Admin', exact: true }).first().click();
  await expect(page).toHaveURL(/\/admin$/);
  await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
  const admin = wasm.filter((w) => w.includes('admin_route'));
  expect(admin.length, 'the admin part was fetched').toBeGreaterThan(0);
  for (const w of admin) expect(w).toMatch(/\.[A-Za-z0-9_-]{8,}\.wasm public, max-age=31536000, immutable$/);
  // Opened directly, the audit page hydrates with its own part.
  await page.goto('/admin/audit');
  await hydrated(page);
  expect(wasm.some((w) => w.includes('audit_route')), 'the audit part was fetched').toBe(true);
});

// The sign-in page is sent without the WASM: its form posts natively, so it acts as soon as the
// HTML is in, on a slow phone too. The budget is what a cold visit transfers, headers included.
test('the sign-in page transfers under 200 KB cold and loads no WASM', async ({ page, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map<string, string>();
  let bytes = 0;
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  await page.goto('/login');
  await hydrated(page);
  await page.waitForLoadState('networkidle');
  const loaded = [...urls.values()].map((u) => new URL(u).pathname);
  console.log(`sign-in page, cold: ${(bytes / 1024).toFixed(1)} KB in ${loaded.length} responses (${loaded.join(', ')})`);
  expect(loaded.filter((p) => p.endsWith('.wasm') || p.endsWith('.js')), 'no WASM or JS files').toEqual([]);
  expect(bytes, 'bytes transferred').toBeLessThanOrEqual(200 * 1024);
});

// Before (or without) the WASM a form says it is sending and a second click does not send it
// again; a refused sign-in comes back with the username still typed and a clean address.
test('the sign-in form shows it is sending, and a refusal keeps the username', async ({ page }) => {
  let posts = 0;
  await page.route((url) => url.pathname.startsWith('/rpc/'), async (route) => {
    posts += 1;
    await new Promise((r) => setTimeout(r, 2000));
    await route.continue();
  });
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Username').fill(ADMIN);
  await page.getByLabel('Password').fill('not-the-password-at-all');
  // Two quick clicks, and the button read back 100 ms later, from the page itself: while a
  // navigation is pending Playwright's own clicks and locators wait for it to finish.
  const during = await page.evaluate(() => new Promise<{ text: string; disabled: boolean; busy: string | null }>((done) => {
    const button = document.querySelector<HTMLButtonElement>('button[type=submit]')!;
    button.click();
    button.click();
    setTimeout(() => done({ text: button.textContent ?? '', disabled: button.disabled, busy: button.getAttribute('aria-busy') }), 100);
  }));
  expect(during).toEqual({ text: 'Signing in…', disabled: true, busy: 'true' });
  await expect(page.getByRole('alert').filter({ hasText: /incorrect|invalid|not right/i })).toBeVisible();
  expect(posts, 'one post for two clicks').toBe(1);
  await expect(page.getByLabel('Username')).toHaveValue(ADMIN);
  await expect(page.getByLabel('Password')).toHaveValue('');
  await expect(page.getByLabel('Password'), 'the next thing to type').toBeFocused();
  await expect(page).toHaveURL(/\/login$/);
  await shot(page, '48-login-refused');
  // The right password from here signs in.
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('home-identity')).toContainText(`Signed in as ${ADMIN}`);
});

// A signed-in page whose WASM has not arrived yet: forms still post, and a button that needs the
// WASM says the page is still loading instead of doing nothing.
test('a page still loading its WASM says so when a button needs it', async ({ page }) => {
  const user = `lock${Date.now().toString(36)}`;
  await createUser(page, user, ADMIN_PASSWORD);
  expect((await page.request.post('/api/users/login', { data: { username: user, password: ADMIN_PASSWORD } })).status()).toBe(200);
  expect((await page.request.post('/api/security/passcode', { data: { new_passcode: '480913' } })).status()).toBe(200);
  let release = () => {};
  const held = new Promise<void>((r) => { release = r; });
  await page.route('**/*.wasm', async (route) => { await held; await route.continue(); });
  await page.goto('/security');
  await expect(page.locator('html')).not.toHaveAttribute('data-ready', '1');
  await page.getByTestId('lock-now').click();
  await expect(page.getByRole('status').filter({ hasText: 'Still loading' })).toBeVisible();
  await expect(page.getByTestId('lock-screen')).toBeHidden();
  await shot(page, '49-still-loading');
  release();
  await hydrated(page);
  await expect(page.getByRole('status').filter({ hasText: 'Still loading' })).toHaveCount(0);
  await page.getByTestId('lock-now').click();
  await expect(page.getByTestId('lock-screen')).toBeVisible();
});

// A locked session's page is only the lock screen: it comes without the WASM, its passcode form
// posts natively, and unlocking brings the whole page back (then hydrated).
test('a locked page shows the lock screen without the WASM and unlocks by posting', async ({ page }) => {
  const user = `lock${Date.now().toString(36)}`;
  await createUser(page, user, ADMIN_PASSWORD);
  expect((await page.request.post('/api/users/login', { data: { username: user, password: ADMIN_PASSWORD } })).status()).toBe(200);
  expect((await page.request.post('/api/security/passcode', { data: { new_passcode: '480913' } })).status()).toBe(200);
  expect((await page.request.post('/api/security/lock')).status()).toBe(200);
  const wasm: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasm.push(r.url()); });
  await page.goto('/sessions');
  await hydrated(page);
  const dialog = page.getByTestId('lock-screen');
  await expect(dialog).toBeVisible();
  expect(wasm, 'no WASM while locked').toEqual([]);
  await dialog.getByLabel('Passcode').fill('000000');
  await dialog.getByRole('button', { name: 'Unlock' }).click();
  await expect(dialog.getByRole('alert')).toHaveText('Incorrect passcode. Try again.');
  await expect(dialog.getByLabel('Passcode')).toBeFocused();
  await shot(page, '50-locked-light');
  await dialog.getByLabel('Passcode').fill('480913');
  await dialog.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('lock-screen')).toBeHidden();
  await expect(page).toHaveURL(/\/sessions$/);
  await page.waitForSelector('body[data-hydrated="1"]', { state: 'attached' });
  expect(wasm.length, 'the unlocked page loads the WASM').toBeGreaterThan(0);
});

// The API reference at /api/docs: Swagger UI served by this server from its own files, on this
// instance's OpenAPI document, with nothing refused by the page's policy.
test('the API reference lists every operation from files of this server', async ({ page }) => {
  const refused: string[] = [];
  const requested: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()); });
  page.on('request', (r) => requested.push(r.url()));
  await page.goto('/api/docs');
  await page.waitForSelector('.opblock', { timeout: 15_000 });
  const origin = new URL(page.url()).origin;
  const elsewhere = requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'));
  const operations = await page.locator('.opblock').count();
  expect(operations).toBeGreaterThanOrEqual(85);
  await expect(page.locator('.title')).toContainText('Portcullis');
  await shot(page, '08-api-docs');
  expect(refused).toEqual([]);
  expect(elsewhere).toEqual([]);
});

// A long session list is paged, 50 at a time, newest first, with Previous and Next: walking
// the pages shows every session once.
test('the sessions page pages a long list', async ({ page, instance }) => {
  await signIn(page, ADMIN, ADMIN_PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  const now = Math.floor(Date.now() / 1000);
  const rows = Array.from({ length: 120 }, (_, i) =>
    `('seeded-${String(i).padStart(3, '0')}', (SELECT id FROM users WHERE username = '${ADMIN}'), 'desktop', 'Seeded browser ${i}', '10.0.0.${i + 1}', ${now - 7200 - i}, ${now + 86400}, ${now - 3600 - i * 10})`,
  ).join(',');
  const inserted = spawnSync('sqlite3', ['-cmd', '.timeout 5000', instance.db, `INSERT INTO sessions (id, user_id, device_type, device_info, ip_address, created_at, expires_at, last_active_at) VALUES ${rows}`]);
  expect(inserted.status, inserted.stderr?.toString()).toBe(0);
  await page.goto('/sessions');
  await hydrated(page);
  const items = page.getByTestId('session');
  const pager = page.getByRole('navigation', { name: 'Session pages' });
  const next = pager.getByRole('button', { name: 'Next' });
  await expect(items.first().getByTestId('this-device')).toBeVisible();
  await expect(pager.getByRole('button', { name: 'Previous' })).toBeDisabled();
  const pages: string[][] = [];
  for (let p = 0; p < 10; p++) {
    const texts = await items.locator('.session-title').allInnerTexts();
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.length).toBeLessThanOrEqual(50);
    pages.push(texts);
    if (await next.isDisabled()) break;
    await next.click();
    await expect(items.locator('.session-title').first()).not.toHaveText(texts[0]);
    if (p === 1) await shot(page, '08-sessions-page-2');
  }
  expect(pages.length).toBeGreaterThanOrEqual(3);
  const seeded = pages.flat().filter((t) => t.startsWith('Seeded browser '));
  expect(new Set(seeded).size, 'no session shown twice').toBe(seeded.length);
  for (let i = 0; i < 120; i++) expect(seeded, `seeded browser ${i}`).toContain(`Seeded browser ${i}`);
  // Previous shows the page before again.
  await pager.getByRole('button', { name: 'Previous' }).click();
  await expect(items.locator('.session-title').first()).toHaveText(pages[pages.length - 2][0]);
});
