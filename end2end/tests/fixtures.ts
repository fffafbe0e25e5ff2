import { test as base, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Where the specs' screenshots go (end2end/screenshots/), for people to look at. */
export const screenshotDir = path.resolve(__dirname, '..', 'screenshots');

/** Saves a full-page screenshot as end2end/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

type Fixtures = {
  /**
   * What went wrong in the browser during the test: console errors, uncaught exceptions
   * (a WASM panic lands here through console_error_panic_hook), failed requests and HTTP
   * error responses. Each test that uses `page` fails if this is not empty at its end.
   */
  browserErrors: string[];
};

export const test = base.extend<Fixtures>({
  browserErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
      });
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) =>
        errors.push(`request failed: ${req.method()} ${req.url()} (${req.failure()?.errorText})`),
      );
      page.on('response', (res) => {
        if (res.status() >= 400) errors.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
      });
      await use(errors);
      expect(errors, 'errors in the browser').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
