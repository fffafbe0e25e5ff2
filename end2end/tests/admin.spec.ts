import { test, expect, expectedErrors, screenshot } from './fixtures';
import type { APIRequestContext, Page } from '@playwright/test';

/**
 * The forms admins and heads fill in, submitted in the browser: the directory (a
 * department, its people, a password), a calendar and an SLA policy (created, edited with a
 * preview of its impact, applied), and every workflow action. The workflows these tests
 * act on are created through the REST API, so the demo's belong to the other specs.
 */
const PASSWORD = 'escalator-demo';
const ADMIN = 'admin@acme.example';
const HEAD = 'dana.head@acme.example';
const ALICE = 'alice@acme.example';
const MIKE = 'mike.manager@acme.example';

async function signIn(page: Page, email: string, password = PASSWORD, next = '/') {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === next);
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
}

/** An API token of the signed-in user, made on the Integrations page. */
async function apiToken(page: Page, name: string): Promise<string> {
  await page.goto('/integrations');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('token-name').fill(name);
  await page.getByTestId('create-token').click();
  const token = (await page.getByTestId('new-token').textContent()) ?? '';
  expect(token).toMatch(/^esc_/);
  return token;
}

/** Creates a workflow through the REST API; its id. */
async function createWorkflow(
  request: APIRequestContext,
  token: string,
  fields: { title: string; policy_id?: number },
): Promise<number> {
  const auth = { Authorization: `Bearer ${token}` };
  const chains = await (await request.get('/api/v1/escalation-chains', { headers: auth })).json();
  const policies = await (await request.get('/api/v1/sla-policies', { headers: auth })).json();
  const response = await request.post('/api/v1/workflows', {
    headers: auth,
    data: {
      external_id: `E2E-${fields.title.replace(/\W+/g, '-')}-${Date.now()}`,
      workflow_type: 'purchase',
      title: fields.title,
      stage: 'Approval',
      department: 'finance',
      initiator: 'ivan@acme.example',
      assignee: ALICE,
      policy_id: fields.policy_id ?? policies[0].id,
      chain_id: chains[0].id,
    },
  });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()).id;
}

test('an admin builds a department and its people in the directory', async ({ page, browserErrors }) => {
  await signIn(page, ADMIN, PASSWORD, '/directory');

  await page.getByTestId('new-department').click();
  await page.getByTestId('department-key').fill('e2e-ops');
  await page.getByTestId('department-name').fill('E2E Operations');
  // A head who is not in the directory is refused, with the field named.
  await page.getByTestId('department-head').fill('nobody@acme.example');
  await page.getByTestId('save-department').click();
  const editor = page.getByTestId('department-editor');
  await expect(editor.locator('.field-error')).toContainText(['is not a user in the directory']);
  expect(expectedErrors(browserErrors, /422/)).toBeGreaterThan(0);
  await page.getByTestId('department-head').fill('');
  await page.getByTestId('save-department').click();
  await expect(page.getByTestId('directory-saved')).toHaveText('Saved department E2E Operations (e2e-ops).');
  await expect(page.getByTestId('department-e2e-ops')).toContainText('E2E Operations');

  for (const [email, name, role, manager] of [
    ['quinn@acme.example', 'Quinn Ops-Head', 'department_head', ''],
    ['rory@acme.example', 'Rory Approver', 'approver', 'quinn@acme.example'],
  ]) {
    await page.getByTestId('new-user').click();
    await page.getByTestId('user-email').fill(email);
    await page.getByTestId('user-name').fill(name);
    await page.getByTestId('user-role').selectOption(role);
    await page.getByTestId('user-department').selectOption('e2e-ops');
    await page.getByTestId('user-manager').fill(manager);
    await page.getByTestId('save-user').click();
    await expect(page.getByTestId('directory-saved')).toHaveText(`Saved user ${email}.`);
  }
  // People by name: the manager in the users' table, the department's new head.
  await expect(page.getByTestId('user-rory@acme.example')).toContainText('Quinn Ops-Head');
  await expect(page.getByTestId('user-rory@acme.example')).toContainText('E2E Operations');
  await page.getByTestId('department-e2e-ops').getByTestId('edit-department').click();
  await page.getByTestId('department-head').fill('quinn@acme.example');
  await page.getByTestId('save-department').click();
  await expect(page.getByTestId('department-e2e-ops')).toContainText('Quinn Ops-Head');

  await page.getByTestId('user-rory@acme.example').getByTestId('edit-user').click();
  await expect(page.getByTestId('user-email')).toHaveValue('rory@acme.example');
  await page.getByTestId('user-password').fill('rory-first-password');
  await page.getByTestId('set-password').click();
  await expect(page.getByTestId('password-set')).toBeVisible();
  await screenshot(page, 'directory-editing');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'rory@acme.example', 'rory-first-password');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pending workflows');
});

test('an admin makes a calendar and a policy, then previews, saves and applies an edit', async ({
  page,
  browserErrors,
}) => {
  await signIn(page, ADMIN, PASSWORD, '/policies');

  // A calendar, first with a zone that does not exist.
  const calendar = page.getByTestId('calendar-editor');
  await page.getByTestId('calendar-name').fill('E2E office hours');
  await page.getByTestId('calendar-time-zone').fill('Mars/Olympus_Mons');
  await page.getByTestId('calendar-windows').fill('mon-fri 09:00-17:00');
  await page.getByTestId('calendar-holidays').fill('12-25 Christmas Day');
  await page.getByTestId('save-calendar').click();
  await expect(calendar.locator('.field-error').filter({ hasText: /\S/ }).first()).toBeVisible();
  expect(expectedErrors(browserErrors, /422/)).toBeGreaterThan(0);
  await page.getByTestId('calendar-time-zone').fill('Europe/Berlin');
  await page.getByTestId('save-calendar').click();
  await expect(page.getByTestId('calendar-saved')).toHaveText('Saved calendar “E2E office hours”.');
  await expect(page.locator('article[data-testid^="calendar-"]').filter({ hasText: 'E2E office hours' }).first())
    .toContainText('Europe/Berlin');

  // A policy on that calendar: 4 working hours, warned 30 minutes before.
  await page.goto('/policies');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('policy-name').fill('E2E four working hours');
  await page.getByTestId('policy-target-hours').fill('4');
  await page.getByTestId('policy-target-minutes').fill('0');
  await page.getByTestId('policy-warning-kind').selectOption('before_deadline');
  await page.getByTestId('policy-warning-value').fill('30');
  await page.getByTestId('policy-calendar').selectOption({ label: 'E2E office hours' });
  await page.getByTestId('save-policy').click();
  await expect(page.getByTestId('policy-saved')).toContainText('Saved policy “E2E four working hours”, version 1.');

  const token = await apiToken(page, 'e2e policy');
  const policies = await (
    await page.request.get('/api/v1/sla-policies', { headers: { Authorization: `Bearer ${token}` } })
  ).json();
  const policy = policies.find((p: { name: string }) => p.name === 'E2E four working hours');
  expect(policy?.target_seconds).toBe(4 * 3600);
  const id = await createWorkflow(page.request, token, { title: 'E2E desk lamps', policy_id: policy.id });
  const before = await (
    await page.request.get(`/api/v1/workflows/${id}`, { headers: { Authorization: `Bearer ${token}` } })
  ).json();

  // Doubling the target: the preview names the one running workflow, saving makes
  // version 2, and only applying moves the workflow's deadline.
  await page.goto(`/policies?policy=${policy.id}`);
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  await page.getByTestId('policy-target-hours').fill('8');
  await page.getByTestId('preview-policy').click();
  await expect(page.getByTestId('policy-preview')).toBeVisible();
  await expect(page.getByTestId('preview-moved')).toHaveText('1');
  await expect(page.getByTestId('impact-row')).toContainText(before.external_id);
  await screenshot(page, 'policy-preview');
  await page.getByTestId('policy-preview').getByTestId('save-policy').click();
  await expect(page.getByTestId('policy-saved')).toContainText('version 2');
  const kept = await (
    await page.request.get(`/api/v1/workflows/${id}`, { headers: { Authorization: `Bearer ${token}` } })
  ).json();
  expect(kept.due_at).toBe(before.due_at);
  await page.getByTestId('apply-policy').click();
  await expect(page.getByTestId('policy-applied')).toHaveText('Moved 1 open workflow(s) to version 2.');
  const moved = await (
    await page.request.get(`/api/v1/workflows/${id}`, { headers: { Authorization: `Bearer ${token}` } })
  ).json();
  expect(Date.parse(moved.due_at)).toBeGreaterThan(Date.parse(before.due_at));
});

test('an admin checks the open workflows against the zone rules in use', async ({ page }) => {
  await signIn(page, ADMIN, PASSWORD, '/policies');
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
  const section = page.getByTestId('zone-rules');
  // The version comes from the zone database's tzdata.zi (Debian's here), the bundled copy's too.
  await expect(page.getByTestId('zone-rules-in-use')).toContainText(/\d{4}[a-z]+, from the system's tz database \(bundled copy: \d{4}[a-z]+\)/);
  await section.getByTestId('preview-zone-rules').click();
  // The rules have not changed since the deadlines were computed: nothing would move.
  await expect(page.getByTestId('zone-rules-preview')).toBeVisible();
  await expect(page.getByTestId('zone-rules-moved')).toHaveText('0');
  await expect(section.getByTestId('impact-row')).toHaveCount(0);
  await expect(section.getByTestId('apply-zone-rules')).toHaveCount(0);
});

test('every workflow action, from the workflow page', async ({ page, browser }) => {
  await signIn(page, ADMIN);
  const token = await apiToken(page, 'e2e actions');
  const paper = await createWorkflow(page.request, token, { title: 'E2E printer paper' });
  const offsite = await createWorkflow(page.request, token, { title: 'E2E team offsite' });
  await page.getByRole('button', { name: 'Sign out' }).click();

  // The assignee may complete or advance, nothing else.
  const context = await browser.newContext();
  const alice = await context.newPage();
  await signIn(alice, ALICE, PASSWORD, `/workflows/${paper}`);
  await expect(alice.getByRole('heading', { level: 1 })).toHaveText('E2E printer paper');
  await expect(alice.getByRole('button', { name: 'Cancel workflow' })).toHaveCount(0);
  await expect(alice.getByRole('button', { name: 'Put on hold' })).toHaveCount(0);
  await alice.getByRole('button', { name: 'Complete' }).click();
  await expect(alice.getByTestId('status')).toHaveText('completed');
  await expect(alice.getByTestId('timeline-entry').filter({ hasText: 'Completed' }).first()).toBeVisible();
  await context.close();

  // The head advances, holds, resumes and finally cancels the other.
  await signIn(page, HEAD, PASSWORD, `/workflows/${offsite}`);
  const advance = page.locator('form:has(input[name="stage"])');
  await advance.locator('input[name="stage"]').fill('Budget check');
  await advance.locator('input[name="assignee"]').fill(MIKE);
  await page.getByRole('button', { name: 'Advance' }).click();
  await expect(page.getByTestId('assignee')).toHaveAttribute('data-email', MIKE);
  await expect(page.getByText('Budget check').first()).toBeVisible();

  await page.locator('input[name="reason"]').fill('waiting for the venue');
  await page.locator('select[name="hold_hours"]').selectOption('');
  await page.getByRole('button', { name: 'Put on hold' }).click();
  await expect(page.getByTestId('status')).toHaveText('on_hold');
  await expect(page.getByText(/waiting for the venue/).first()).toBeVisible();

  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('status')).toHaveText('pending');

  await page.getByRole('button', { name: 'Cancel workflow' }).click();
  await expect(page.getByTestId('status')).toHaveText('cancelled');
  await expect(page.getByRole('button', { name: 'Complete' })).toHaveCount(0);
  await screenshot(page, 'workflow-cancelled');
});
