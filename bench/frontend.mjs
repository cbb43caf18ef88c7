// The sign-in page, then the first signed-in page, on a throttled phone (not a test): bytes
// transferred cold and the time until each is interactive (`html[data-ready]`: at once for the
// sign-in page, sent without the WASM; after hydration for home), in Debian's Chromium through
// Playwright, against the release build. Run after `cargo leptos build --release --split --precompress`:
//
//   node bench/frontend.mjs
//
// Throttling: 1.6 Mbps down, 750 kbps up, 150 ms round trip, CPU 4× slower (DevTools protocol).
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'end2end', 'package.json'));
const { chromium } = require('@playwright/test');

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const port = await freePort();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-frontend-'));
const server = spawn(path.join(root, 'target/release/portcullis'), [], {
  cwd: root,
  stdio: 'ignore',
  env: { ...process.env, PORTCULLIS_ADDR: `127.0.0.1:${port}`, PORTCULLIS_DATA_DIR: dataDir, LEPTOS_SITE_ROOT: path.join(root, 'target/site'), PORTCULLIS_LOG: 'warn' },
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try {
    await fetch(`${base}/api/auth/status`);
    break;
  } catch {
    if (i > 200) throw new Error('portcullis did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}
const setup = await fetch(`${base}/api/auth/setup`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'admin', password: 'grumpy-lantern-orbit-41' }),
});
if (setup.status !== 200) throw new Error(`setup: ${setup.status}`);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (const [label, throttle] of [['unthrottled', false], ['phone (1.6 Mbps, 150 ms, CPU 4×)', true]]) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    if (throttle) {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 150,
        downloadThroughput: (1.6 * 1024 * 1024) / 8,
        uploadThroughput: (750 * 1024) / 8,
      });
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    }
    const urls = new Map();
    const bytes = new Map();
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
    cdp.on('Network.loadingFinished', (e) => {
      const url = urls.get(e.requestId) ?? '?';
      const kind = url.includes('/pkg/') ? url.split('.').pop() : 'html and other';
      bytes.set(kind, (bytes.get(kind) ?? 0) + e.encodedDataLength);
    });
    const measure = async (what, go) => {
      bytes.clear();
      const started = Date.now();
      await go();
      const shown = Date.now() - started;
      await page.waitForSelector('html[data-ready="1"]', { state: 'attached', timeout: 120_000 });
      const interactive = Date.now() - started;
      await page.waitForLoadState('networkidle');
      const total = [...bytes.values()].reduce((a, b) => a + b, 0);
      const parts = [...bytes.entries()].map(([k, v]) => `${k} ${(v / 1024).toFixed(0)} KB`).join(', ');
      console.log(`${label}, ${what}: ${(total / 1024).toFixed(0)} KB transferred (${parts}); shown in ${shown} ms, interactive in ${interactive} ms`);
    };
    await measure('sign-in page', () => page.goto(`${base}/login`));
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('grumpy-lantern-orbit-41');
    await measure('home after signing in', async () => {
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/`);
    });
    await context.close();
  }
} finally {
  await browser.close();
  server.kill('SIGINT');
  fs.rmSync(dataDir, { recursive: true, force: true });
}
