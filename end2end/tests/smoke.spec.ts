import { test, expect, screenshot } from './fixtures';

test.describe('home page', () => {
  test('is rendered on the server', async ({ request }) => {
    // Fetched without a browser, so no JavaScript or WASM has run.
    const res = await request.get('/');
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/html');
    // Leptos leaves hydration markers (`<!>`, `<!--…-->`) in the HTML; drop them to read it.
    const html = (await res.text()).replace(/<!--[\s\S]*?-->|<!>/g, '');
    expect(html).toContain('<h1>Escalator</h1>');
    expect(html).toMatch(/<p data-testid="hydration"[^>]*>server-rendered<\/p>/);
    expect(html).toContain('<title>Escalator</title>');
    // The hydration scripts and the stylesheet built by cargo-leptos.
    expect(html).toContain('/pkg/escalator.js');
    expect(html).toContain('/pkg/escalator.css');
  });

  test('serves the built site', async ({ request }) => {
    for (const [file, type] of [
      ['/pkg/escalator.js', 'javascript'],
      ['/pkg/escalator.wasm', 'application/wasm'],
      ['/pkg/escalator.css', 'text/css'],
      ['/favicon.ico', 'image/'],
    ]) {
      const res = await request.get(file);
      expect(res.status(), file).toBe(200);
      expect(res.headers()['content-type'], file).toContain(type);
    }
  });

  test('shows the server-rendered page without JavaScript', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Escalator');
    await expect(page.getByTestId('hydration')).toHaveText('server-rendered');
    await context.close();
  });

  test('hydrates in the browser without errors', async ({ page }) => {
    await page.goto('/');
    await expect(page).toHaveTitle('Escalator');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Escalator');
    // The WASM bundle has loaded and taken over the server-rendered DOM.
    await expect(page.getByTestId('hydration')).toHaveText('hydrated');
    // The stylesheet applied (the heading takes the brand colour).
    await expect(page.getByRole('heading', { level: 1 })).toHaveCSS('color', 'rgb(154, 52, 18)');
    await page.waitForLoadState('networkidle');
    await screenshot(page, 'home');
  });
});
