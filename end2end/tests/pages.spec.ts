import { test, expect, screenshot } from './fixtures';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';

/**
 * Every page, signed in as an admin (who sees them all), on a desktop and a phone
 * viewport: it renders without browser errors (the fixture), axe-core finds no serious or
 * critical WCAG 2 A/AA violation, nothing overflows the phone's width, and a screenshot
 * of each goes to end2end/screenshots/ (the README shows them).
 */
const PASSWORD = 'escalator-demo';
const ADMIN = 'admin@acme.example';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

async function signIn(page: Page) {
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
}

async function check(page: Page, name: string, viewport: string) {
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByText('Loading…')).toHaveCount(0);
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const serious = axe.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(serious, `${name} on a ${viewport}`).toEqual([]);
  if (viewport === 'phone') {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    // The elements that stick out, innermost first, to say what to fix.
    const wide = await page.evaluate(() =>
      Array.from(document.querySelectorAll('main *'))
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .filter((e) => !Array.from(e.children).some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
        .slice(0, 5)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${e.getAttribute('data-testid') ?? ''}`),
    );
    expect(overflow, `${name} is wider than the phone: ${wide.join('; ')}`).toBeLessThanOrEqual(1);
  }
  await screenshot(page, `page-${name}-${viewport}`);
}

for (const viewport of VIEWPORTS) {
  test(`every page reads well on a ${viewport.name}`, async ({ page }) => {
    await page.setViewportSize({ width: viewport.width, height: viewport.height });
    await page.goto('/login');
    await check(page, 'login', viewport.name);
    await signIn(page);
    await check(page, 'pending', viewport.name);
    const first = page.getByTestId('workflow-row').first().getByRole('link').first();
    const href = await first.getAttribute('href');
    for (const path of [
      href ?? '/',
      '/reminders',
      '/notifications',
      '/chains',
      '/groups',
      '/policies',
      '/directory',
      '/audit',
      '/reports',
      '/settings',
      '/integrations',
    ]) {
      await page.goto(path);
      const name = path.startsWith('/workflows/') ? 'workflow' : path.slice(1);
      await check(page, name, viewport.name);
    }
  });
}
