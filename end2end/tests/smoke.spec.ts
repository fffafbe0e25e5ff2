import { test, expect } from './fixtures';

test.describe('the site', () => {
  test('sends a signed-out visitor to the sign-in form, rendered on the server', async ({ request }) => {
    // Fetched without a browser, so no JavaScript or WASM has run.
    const res = await request.get('/', { maxRedirects: 0 });
    expect(res.status()).toBe(303);
    expect(res.headers()['location']).toBe('/login?next=/');
    const login = await request.get('/login');
    expect(login.status()).toBe(200);
    expect(login.headers()['content-type']).toContain('text/html');
    const html = (await login.text()).replace(/<!--[\s\S]*?-->|<!>/g, '');
    expect(html).toContain('<title>Escalator</title>');
    expect(html).toContain('action="/ui/fn/login"');
    // Where to go after signing in is in the server's HTML, so a form sent before
    // hydration (or without JavaScript) keeps it.
    const chains = (await (await request.get('/login?next=/chains')).text()).replace(/<!--[\s\S]*?-->|<!>/g, '');
    expect(chains).toMatch(/name="next"[^>]*value="\/chains"/);
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
});
