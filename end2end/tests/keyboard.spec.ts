import { test, expect } from './fixtures';
import type { Page } from '@playwright/test';

/**
 * The main flow by keyboard alone: sign in, open a workflow from the pending list, put it
 * on hold for a chosen time. Tab moves focus, Enter and the arrow keys act; no mouse.
 */
const PASSWORD = 'escalator-demo';
const HEAD = 'dana.head@acme.example';

/**
 * Presses Tab until the focused element matches `selector` (and contains `text`, if
 * given); at most 80 times.
 */
async function tabTo(page: Page, selector: string, text?: string) {
  for (let i = 0; i < 80; i++) {
    const there = await page.evaluate(
      ([s, t]) => {
        const e = document.activeElement;
        return !!e && e.matches(s) && (!t || (e.textContent ?? '').includes(t));
      },
      [selector, text ?? ''] as const,
    );
    if (there) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector} ${text ?? ''}`);
}

test('the main flow works with the keyboard alone', async ({ page }) => {
  await page.goto('/login');
  await tabTo(page, 'input[name="email"]');
  await page.keyboard.type(HEAD);
  await tabTo(page, 'input[name="password"]');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');

  // A workflow no other spec works with.
  await tabTo(page, 'a[href^="/workflows/"]', 'Laptop for new hire');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Laptop for new hire');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');

  await tabTo(page, 'input[name="reason"]');
  await page.keyboard.type('waiting for the supplier');
  await tabTo(page, 'select[name="hold_hours"]');
  await page.keyboard.press('ArrowDown'); // "1 hour"
  await tabTo(page, 'form:has(input[name="hold_hours"], select[name="hold_hours"]) button[type="submit"]');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('status')).toHaveText('on_hold');
  await expect(page.getByText(/Snoozed until/).first()).toBeVisible();
});
