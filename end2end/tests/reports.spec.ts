import { test, expect, screenshot } from './fixtures';
import type { Page } from '@playwright/test';

/**
 * The SLA reports page: a department head sees their own department only, and its
 * numbers are the REST API's; the chart tells a bar's numbers on hover; each table has
 * its CSV. The stages it counts are decided here through the API, on workflows of
 * their own.
 */
const PASSWORD = 'escalator-demo';
const ADMIN = 'admin@acme.example';
const HEAD = 'dana.head@acme.example';

async function signIn(page: Page, email: string, next = '/') {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === next);
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
}

async function apiToken(page: Page, name: string): Promise<string> {
  await page.goto('/integrations');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('token-name').fill(name);
  await page.getByTestId('create-token').click();
  const token = (await page.getByTestId('new-token').textContent()) ?? '';
  expect(token).toMatch(/^esc_/);
  return token;
}

test('a head reads their department’s SLA report, the same numbers as the API', async ({ page, browser }) => {
  // Two finance stages and one HR stage decided now, through the API.
  await signIn(page, ADMIN);
  const admin = { Authorization: `Bearer ${await apiToken(page, 'e2e reports')}` };
  const chains = await (await page.request.get('/api/v1/escalation-chains', { headers: admin })).json();
  const policies = await (await page.request.get('/api/v1/sla-policies', { headers: admin })).json();
  for (const [n, department, assignee] of [
    [1, 'finance', 'alice@acme.example'],
    [2, 'finance', 'alice@acme.example'],
    [3, 'hr', 'hank@acme.example'],
  ]) {
    const created = await page.request.post('/api/v1/workflows', {
      headers: admin,
      data: {
        external_id: `E2E-R-${n}-${Date.now()}`,
        workflow_type: 'expense',
        title: `E2E report ${n}`,
        stage: 'Approval',
        department,
        initiator: assignee,
        assignee,
        policy_id: policies[0].id,
        chain_id: chains[0].id,
      },
    });
    expect(created.status(), await created.text()).toBe(201);
    const { id } = await created.json();
    const done = await page.request.post(`/api/v1/workflows/${id}/complete`, { headers: admin, data: {} });
    expect(done.status(), await done.text()).toBe(200);
  }
  await page.getByRole('button', { name: 'Sign out' }).click();

  const context = await browser.newContext();
  const head = await context.newPage();
  await signIn(head, HEAD, '/reports');
  await expect(head.getByRole('heading', { level: 1 })).toHaveText('SLA reports');
  // Their department only: nothing else to choose.
  const departments = await head.getByTestId('report-department').locator('option').allTextContents();
  expect(departments).toEqual(['Finance']);
  const headToken = { Authorization: `Bearer ${await apiToken(head, 'e2e head reports')}` };
  await head.goto('/reports');
  await expect(head.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  const api = await (await head.request.get('/api/v1/reports/sla', { headers: headToken })).json();
  expect(api.department).toBe('finance');
  expect(api.totals.met + api.totals.breached).toBeGreaterThanOrEqual(2);
  await expect(head.getByTestId('report-decided')).toHaveText(String(api.totals.met + api.totals.breached));
  await expect(head.getByTestId('report-breached')).toHaveText(String(api.totals.breached));
  await expect(head.getByTestId('report-compliance')).toHaveText(`${(api.compliance * 100).toFixed(1)} %`);
  const byType = head.getByTestId('report-workflow_type');
  await expect(byType).toContainText('expense');

  // Pointing at today's bar tells its numbers.
  const bars = head.getByTestId('compliance-chart').locator('rect');
  await expect(bars).toHaveCount(api.series.length);
  await bars.last().hover();
  await expect(head.getByTestId('chart-detail').first()).toContainText(api.series[api.series.length - 1].start);
  await expect(head.getByTestId('csv-compliance')).toHaveAttribute('href', /table=compliance/);
  const csv = await head.request.get((await head.getByTestId('csv-department').getAttribute('href')) ?? '');
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain('finance,Finance,');
  await screenshot(head, 'reports');

  // Another department's report is refused, and says why.
  await head.goto('/reports?department=hr');
  await expect(head.getByText(/their own department/)).toBeVisible();
  await context.close();
});
