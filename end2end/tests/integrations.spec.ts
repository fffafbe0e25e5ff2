import { test, expect, screenshot } from './fixtures';

/** The admin forms of the integrations page, in the browser: token, webhook, new secret. */
const PASSWORD = 'escalator-demo';
const ADMIN = 'admin@acme.example';

test('an admin creates a token and registers a webhook, each secret shown once', async ({ page }) => {
  await page.goto('/login?next=%2Fintegrations');
  await page.getByLabel('E-mail').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/integrations');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');

  const before = await page.getByTestId('token').count();
  await page.getByLabel("New token's name").fill('Browser-made token');
  await page.getByTestId('create-token').click();
  await expect(page.getByTestId('new-token')).toHaveText(/^esc_[0-9a-f]{64}$/);
  await expect(page.getByTestId('token')).toHaveCount(before + 1);
  // The secret works on the API.
  const token = (await page.getByTestId('new-token').textContent()) ?? '';
  const api = await page.request.get('/api/v1/workflows', { headers: { Authorization: `Bearer ${token}` } });
  expect(api.status()).toBe(200);

  await page.getByLabel('Endpoint URL').fill('https://hooks.example.com/browser');
  await page.getByLabel(/Event types/).fill('workflow.escalated');
  await page.getByTestId('register-webhook').click();
  await expect(page.getByTestId('webhook-secret')).toHaveText(/^whsec_/);
  const hook = page.getByTestId('webhook').filter({ hasText: 'https://hooks.example.com/browser' });
  await expect(hook).toBeVisible();
  const first = (await page.getByTestId('webhook-secret').textContent()) ?? '';
  await hook.getByTestId('rotate-secret').click();
  await expect(page.getByTestId('rotated-secret')).toHaveText(/^whsec_/);
  expect(await page.getByTestId('rotated-secret').textContent()).not.toBe(first);
  await screenshot(page, 'integrations');
});
