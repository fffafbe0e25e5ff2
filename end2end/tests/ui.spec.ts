import { test, expect, screenshot } from './fixtures';
import type { Page } from '@playwright/test';

/** Every demo user's password (engine/src/demo.rs). */
const PASSWORD = 'escalator-demo';
const HEAD = 'dana.head@acme.example';
const ADMIN = 'admin@acme.example';

async function signIn(page: Page, email: string, next = '/') {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === next);
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
}

test.describe('a department head', () => {
  test('sees only their department, with live countdowns', async ({ page }) => {
    await signIn(page, HEAD);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pending workflows');
    const rows = page.getByTestId('workflow-row');
    await expect(rows.first()).toBeVisible();
    const departments = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-department')));
    expect(departments.length).toBeGreaterThan(0);
    expect(new Set(departments)).toEqual(new Set(['finance']));
    await expect(page.getByText('Parental leave request')).toHaveCount(0);
    // The SLA status counts cover the same rows.
    await expect(page.getByTestId('count-total')).toContainText(String(departments.length));

    // The countdown ticks in the browser after hydration.
    // (A workflow on hold has a paused clock: the keyboard spec snoozes one.)
    const countdown = page.getByTestId('countdown').filter({ hasNotText: 'on hold' }).first();
    const before = await countdown.textContent();
    await expect(countdown).not.toHaveText(before ?? '', { timeout: 5_000 });
    await screenshot(page, 'pending');

    // Filters are part of the URL and keep to the department.
    await page.getByLabel('SLA status', { exact: true }).selectOption('breached');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/sla=breached/);
    // The list shown while the filtered one loads is the old one: wait for the new one
    // rather than read the old one's badges.
    await expect(page.getByTestId('workflow-row').locator('.badge').filter({ hasNotText: /^Breached$/ })).toHaveCount(0);
  });

  test('opens a workflow with the explanation of its deadline', async ({ page }) => {
    await signIn(page, HEAD);
    await page.getByRole('link', { name: 'Office furniture' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Office furniture');
    await page.getByText('Why the deadline is then').click();
    await expect(page.locator('table.segments tbody tr').first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Reassign' })).toBeVisible();
    await screenshot(page, 'workflow');
  });

  test('acknowledges a reminder', async ({ page }) => {
    await signIn(page, HEAD, '/reminders');
    const open = page.getByTestId('reminder').filter({ has: page.getByRole('button', { name: 'Acknowledge' }) });
    await expect(open.first()).toBeVisible();
    const count = await open.count();
    const reminder = open.first();
    const title = await reminder.locator('a').first().textContent();
    await reminder.getByRole('button', { name: 'Acknowledge' }).click();
    const done = page.getByTestId('reminder').filter({ hasText: title ?? '' }).filter({ hasText: 'Acknowledged by' });
    await expect(done.first()).toContainText(`Acknowledged by ${HEAD}`);
    await expect(done.first()).toHaveClass(/acknowledged/);
    await expect(open).toHaveCount(count - 1);
    await screenshot(page, 'reminders');
  });
});

test.describe('an admin', () => {
  test('filters the audit log', async ({ page }) => {
    await signIn(page, ADMIN, '/audit');
    await expect(page.getByTestId('audit-row').first()).toBeVisible();
    await page.getByLabel('Action', { exact: true }).fill('escalate');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/action=escalate/);
    const actions = page.getByTestId('audit-action');
    await expect(actions.first()).toHaveText('escalate');
    expect(new Set(await actions.allTextContents())).toEqual(new Set(['escalate']));
    const csv = page.getByRole('link', { name: 'Export CSV' });
    await expect(csv).toHaveAttribute('href', /action=escalate/);
    await screenshot(page, 'audit');
  });

  test('adds a level to an escalation chain and sees it saved', async ({ page }) => {
    await signIn(page, ADMIN, '/chains');
    const card = page.locator('[data-testid^="chain-"]').filter({ has: page.getByTestId('edit-chain') }).first();
    const levelsBefore = await card.locator('ol.chain li').count();
    await card.getByTestId('edit-chain').click();
    await expect(page.getByTestId('chain-editor')).toBeVisible();
    await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
    const rows = page.getByTestId('level-row');
    const rowsBefore = await rows.count();
    await page.getByTestId('add-level').click();
    await expect(rows).toHaveCount(rowsBefore + 1);
    const added = rows.last();
    await added.getByTestId('level-target-kind').selectOption('user');
    await added.getByTestId('level-target-user').fill('olivia.coo@acme.example');
    await added.getByTestId('level-hours').fill('6');
    await page.getByTestId('save-chain').click();
    await expect(page.getByTestId('chain-saved')).toBeVisible();
    await screenshot(page, 'chains');
    // Saved for real: a fresh page load shows the new level.
    await page.goto('/chains');
    const saved = page.locator('[data-testid^="chain-"]').filter({ has: page.getByTestId('edit-chain') }).first();
    await expect(saved.locator('ol.chain li')).toHaveCount(levelsBefore + 1);
    await expect(saved.locator('ol.chain li').last()).toContainText('Olivia Operations');
  });

  test('defines a group that chain levels can target', async ({ page }) => {
    await signIn(page, ADMIN, '/groups');
    await page.getByTestId('group-key').fill('finance-approvers');
    await page.getByTestId('group-name').fill('Finance approvers');
    await page.getByTestId('group-strategy').selectOption('round_robin');
    await page.getByTestId('group-members').fill('alice@acme.example\nmike.manager@acme.example');
    await page.getByTestId('group-save').click();
    const card = page.getByTestId('group-finance-approvers');
    await expect(card).toContainText('Finance approvers');
    await expect(card).toContainText('round-robin');
    await expect(card.locator('ol li')).toHaveCount(2);
  });

  test('sees the notification bell and every department', async ({ page }) => {
    await signIn(page, ADMIN);
    await expect(page.getByTestId('bell')).toBeVisible();
    const departments = await page
      .getByTestId('workflow-row')
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-department')));
    expect(new Set(departments).size).toBeGreaterThan(1);
  });
});

test.describe('someone going on holiday', () => {
  test('records a delegate and an absence, and an admin sees their work rerouted', async ({ page, browser }) => {
    const ED = 'ed@acme.example';
    const EVE = 'eve.head@acme.example';
    await signIn(page, ED, '/settings');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
    await expect(page.getByTestId('presence')).toHaveText('You: present');
    await page.getByTestId('delegate').selectOption(EVE);
    await page.getByRole('button', { name: 'Save delegate' }).click();
    await expect(page.getByTestId('delegate')).toHaveValue(EVE);
    // Away from today for three days (dates in Ed's time zone, UTC).
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    await page.getByTestId('absence-from').fill(day(0));
    await page.getByTestId('absence-to').fill(day(3));
    await page.getByTestId('absence-reason').fill('Holiday');
    await page.getByTestId('absence-save').click();
    await expect(page.getByTestId('absence')).toHaveCount(1);
    await expect(page.getByTestId('absence').first()).toContainText('Holiday');
    await expect(page.getByTestId('presence')).toHaveText('You: away now');
    // A later absence from a calendar file.
    await page.getByTestId('absence-ics').fill(
      'BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Conference\nDTSTART;VALUE=DATE:20300610\nDTEND;VALUE=DATE:20300613\nEND:VEVENT\nEND:VCALENDAR\n',
    );
    await page.getByTestId('absence-import').click();
    await expect(page.getByText('1 absence(s) imported.')).toBeVisible();
    await expect(page.getByTestId('absence')).toHaveCount(2);
    await screenshot(page, 'settings');

    // The absence has started: the engine hands Ed's open work to Eve within seconds.
    const admin = await browser.newContext();
    const adminPage = await admin.newPage();
    await signIn(adminPage, ADMIN);
    await adminPage.getByRole('link', { name: 'Support contract renewal' }).click();
    await expect(adminPage.getByRole('heading', { level: 1 })).toHaveText('Support contract renewal');
    await expect(async () => {
      await adminPage.reload();
      await expect(adminPage.getByTestId('assignee')).toHaveAttribute('data-email', EVE, { timeout: 1000 });
    }).toPass({ timeout: 20_000 });
    await expect(adminPage.getByText(/Handed over to .* \(the assignee is away\)/).first()).toBeVisible();
    await expect(adminPage.getByTestId('routing')).toContainText(`skipped ${ED} (absent until`);
    await admin.close();
  });
});

test.describe('without JavaScript', () => {
  test('signing in and reading the pending list work', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=/);
    await page.getByLabel('E-mail').fill(HEAD);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pending workflows');
    await expect(page.getByTestId('workflow-row').first()).toBeVisible();
    await context.close();
  });
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test('the pending list fits the screen', async ({ page }) => {
    await signIn(page, HEAD);
    await expect(page.getByTestId('workflow-row').first()).toBeVisible();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await screenshot(page, 'pending-phone');
  });
});
