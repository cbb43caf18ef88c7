import { test, expect } from './fixtures';

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
