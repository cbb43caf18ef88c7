import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';

// One fresh instance per run: a new data directory, so the first test meets the setup page.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-e2e-'));
const port = Number(process.env.E2E_PORT ?? 3210);
const root = path.resolve(__dirname, '..');
const binary = process.env.PORTCULLIS_BIN ?? path.join(root, 'target/debug/portcullis');
// The server log goes to a file the tests read (the password-reset code is written there).
export const serverLog = path.join(root, 'target/e2e-server.log');

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `exec "${binary}" 2> "${serverLog}"`,
    cwd: root,
    url: `http://127.0.0.1:${port}/api/auth/status`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      PORTCULLIS_ADDR: `127.0.0.1:${port}`,
      PORTCULLIS_DATA_DIR: dataDir,
      LEPTOS_SITE_ROOT: path.join(root, 'target/site'),
      PORTCULLIS_LOG: 'warn',
    },
  },
});
