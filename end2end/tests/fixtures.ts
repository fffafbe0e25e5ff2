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

/**
 * Takes the errors a test provoked on purpose (a form the server refuses answers 422, and
 * Chromium logs the failed request as well) out of `browserErrors`; how many it took.
 */
export function expectedErrors(errors: string[], pattern: RegExp): number {
  const kept = errors.filter((e) => !pattern.test(e));
  const taken = errors.length - kept.length;
  errors.splice(0, errors.length, ...kept);
  return taken;
}

/** The plain-text parts of every mail the SMTP server received (.ci/e2e.sh's maildir). */
export function receivedMails(): string[] {
  const dir = path.join(process.env.ESCALATOR_E2E_MAILDIR ?? '', 'new');
  if (!process.env.ESCALATOR_E2E_MAILDIR || !fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => textPart(fs.readFileSync(path.join(dir, f), 'utf8')));
}

/** The decoded text/plain part of a MIME message (quoted-printable or base64). */
function textPart(message: string): string {
  const mail = message.replace(/\r\n/g, '\n');
  const start = mail.indexOf('Content-Type: text/plain');
  if (start < 0) return '';
  const part = mail.slice(start);
  const split = part.indexOf('\n\n');
  const head = part.slice(0, split).toLowerCase();
  const body = part.slice(split + 2).split('\n--')[0];
  if (head.includes('content-transfer-encoding: base64')) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (head.includes('content-transfer-encoding: quoted-printable')) {
    const bytes = body
      .replace(/=\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/**
 * The action links offering `words` in the received mails, oldest first, leaving out the
 * mails about workflows that other specs work with (`except`, titles).
 */
export function actionLinks(words: string, except: string[] = []): string[] {
  return receivedMails()
    .filter((text) => !except.some((title) => text.includes(title)))
    .flatMap((text) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(`- ${words}: http`))
      .map((line) => line.slice(`- ${words}: `.length).trim()),
  );
}
