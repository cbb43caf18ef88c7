import { defineConfig } from '@playwright/test';

// Each spec file starts its own Portcullis on a free port with a fresh data directory
// (tests/fixtures.ts), so specs run alone and in any order.

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [['list']],
  use: {
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
});
