import { test, expect, screenshot, actionLinks } from './fixtures';
import AxeBuilder from '@axe-core/playwright';

/**
 * One-click actions from e-mail, in a browser without JavaScript: the demo's escalation
 * mails reached the real SMTP server (.ci/e2e.sh); the link's page shows what it would do
 * and changes nothing, its button acts once, and the link then only says what happened.
 */
test.describe('a one-click link from an e-mail', () => {
  test('shows, acts once, then tells what happened', async ({ browser, page: checked }) => {
    let links: string[] = [];
    await expect(async () => {
      // Not a workflow the other specs open.
      links = actionLinks('Approve (complete)', ['Office furniture', 'Support contract renewal', 'Conference travel', 'Laptop for new hire']);
      expect(links.length).toBeGreaterThan(0);
    }).toPass({ timeout: 30_000 });
    const link = links[0];

    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Approve (complete)');
    const status = await page.getByTestId('link-status').textContent();
    expect(status).not.toBe('completed');
    // Looking again changes nothing (mail scanners prefetch links) — also in a browser
    // with JavaScript, where axe-core checks the page (it runs as a script).
    await page.reload();
    await expect(page.getByTestId('link-status')).toHaveText(status ?? '');
    await checked.goto(link);
    await expect(checked.getByTestId('link-status')).toHaveText(status ?? '');
    const axe = await new AxeBuilder({ page: checked }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await screenshot(page, 'message-link');

    await page.getByTestId('confirm').click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Done');
    await expect(page.getByTestId('link-outcome')).toHaveText('Approved: the workflow is completed.');
    await expect(page.getByTestId('link-status')).toHaveText('completed');
    await screenshot(page, 'message-link-done');

    // A second click (the form posted again) acts no more.
    const again = await page.request.post(link, { form: {} });
    expect(again.status()).toBe(200);
    expect(await again.text()).toContain('Already done');
    await page.goto(link);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Already done');
    await context.close();
  });
});
