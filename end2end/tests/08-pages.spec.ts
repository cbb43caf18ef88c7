import { test, expect, hydrated } from './fixtures';

// Every signed-in page, opened directly (server-rendered, then hydrated), hydrates without an
// error, repeatedly: a page that only sometimes hydrates would lose its buttons' behaviour.
test('each page opened directly hydrates every time, at desktop and phone width', async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  expect((await page.request.post('/api/users/login', { data: { username: 'admin', password: 'grumpy-lantern-orbit-41' } })).status()).toBe(200);
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    for (let round = 0; round < 3; round++) {
      for (const path of ['/', '/sessions', '/security', '/vault', '/account', '/admin']) {
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
  const res = await page.goto('/login');
  await hydrated(page);
  expect(res?.headers()['cache-control']).toBe('no-store');
  const kinds = assets.map((a) => new URL(a.url).pathname.split('.').pop());
  for (const kind of ['js', 'wasm', 'css']) expect(kinds, `a .${kind} was loaded`).toContain(kind);
  for (const a of assets) {
    expect(new URL(a.url).pathname, 'hashed name').toMatch(/^\/pkg\/portcullis\.[A-Za-z0-9_-]{8,}\.(js|wasm|css)$/);
    expect(a.cache, a.url).toBe('public, max-age=31536000, immutable');
  }
});
