import { test, expect, screenshot } from './fixtures';

/** The admin forms of the integrations page, in the browser: token, webhook, new secret, dead letters. */
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

test('a message that could not be delivered is sent again or discarded from the page', async ({ page }) => {
  await page.goto('/login?next=%2Fintegrations');
  await page.getByLabel('E-mail').fill(ADMIN);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/integrations');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');

  // An endpoint nobody listens on (.ci/e2e.sh gives each message one attempt).
  const url = 'http://127.0.0.1:9/e2e-dead';
  await page.getByLabel('Endpoint URL').fill(url);
  await page.getByLabel(/Event types/).fill('workflow.completed');
  await page.getByTestId('register-webhook').click();
  await expect(page.getByTestId('webhook-secret')).toHaveText(/^whsec_/);
  await page.getByLabel("New token's name").fill('dead letters');
  await page.getByTestId('create-token').click();
  const token = (await page.getByTestId('new-token').textContent()) ?? '';
  const auth = { Authorization: `Bearer ${token}` };

  // A completed workflow's event goes to that endpoint, fails, and is dead-lettered.
  const chains = await (await page.request.get('/api/v1/escalation-chains', { headers: auth })).json();
  const policies = await (await page.request.get('/api/v1/sla-policies', { headers: auth })).json();
  const created = await page.request.post('/api/v1/workflows', {
    headers: auth,
    data: {
      external_id: `E2E-DEAD-${Date.now()}`,
      workflow_type: 'purchase',
      title: 'E2E dead letter',
      stage: 'Approval',
      department: 'finance',
      initiator: 'ivan@acme.example',
      assignee: 'alice@acme.example',
      policy_id: policies[0].id,
      chain_id: chains[0].id,
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const { id } = await created.json();
  const done = await page.request.post(`/api/v1/workflows/${id}/complete`, { headers: auth, data: {} });
  expect(done.status()).toBe(200);
  const dead = page.getByTestId('dead-letter').filter({ hasText: 'workflow.completed' });
  await expect(async () => {
    await page.reload();
    await expect(dead.first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  const count = await dead.count();

  // Sent again: it fails again (nobody listens), so it is back as a dead letter.
  await dead.first().getByRole('button', { name: 'Send again' }).click();
  await expect(page.getByText('1 message(s) queued again.')).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(dead).toHaveCount(count, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });

  // Discarded: off the list, kept on record.
  await dead.first().getByTestId('discard').click();
  await expect(dead).toHaveCount(count - 1);
  const discarded = await (await page.request.get('/api/v1/outbox?status=discarded', { headers: auth })).json();
  expect(discarded.some((m: { topic: string }) => m.topic === 'workflow.completed')).toBe(true);
  await screenshot(page, 'dead-letters');

  // The endpoint off, so later specs' completions do not fail on it.
  const hook = page.getByTestId('webhook').filter({ hasText: url });
  await hook.getByRole('button', { name: 'Turn off' }).click();
  await expect(hook).toContainText(' · off');
});
