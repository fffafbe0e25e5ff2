import { defineConfig, devices } from '@playwright/test';

/**
 * Escalator's end-to-end tests drive Debian's Chromium (`apt-get install chromium`), never a
 * browser downloaded by `npx playwright install`, against a server that is already running:
 * `.ci/e2e.sh` builds the site, starts `escalator serve` on a free port and sets
 * ESCALATOR_E2E_URL. Screenshots go to end2end/screenshots/.
 */
const baseURL = process.env.ESCALATOR_E2E_URL ?? 'http://127.0.0.1:3000';
const chromium = process.env.ESCALATOR_E2E_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        viewport: { width: 1280, height: 800 },
        launchOptions: {
          executablePath: chromium,
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
