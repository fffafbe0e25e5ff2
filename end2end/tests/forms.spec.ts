import { test, expect } from './fixtures';
import type { Page } from '@playwright/test';

/** Forms submitted in the browser: one's own profile, messages and password; a reassignment. */
const PASSWORD = 'escalator-demo';
const HANK = 'hank@acme.example';
const HEAD = 'dana.head@acme.example';
const MIKE = 'mike.manager@acme.example';

async function signIn(page: Page, email: string, password: string, next = '/') {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === next);
  await expect(page.getByTestId('app')).toHaveAttribute('data-hydrated', 'true');
}

test('my settings: profile, messages and password', async ({ page }) => {
  await signIn(page, HANK, PASSWORD, '/settings');
  await page.getByTestId('profile-name').fill('Hank H. Approver');
  await page.getByTestId('profile-zone').fill('Europe/Berlin');
  await page.getByLabel('From', { exact: true }).fill('22:00');
  await page.getByLabel('until', { exact: true }).fill('07:00');
  await page.getByTestId('channel-reminder-sms').check();
  await page.getByTestId('channel-reminder-email').uncheck();
  await page.getByTestId('profile-save').click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('profile-name')).toHaveValue('Hank H. Approver');
  await expect(page.getByTestId('profile-zone')).toHaveValue('Europe/Berlin');
  await expect(page.getByTestId('channel-reminder-sms')).toBeChecked();
  await expect(page.getByTestId('channel-reminder-email')).not.toBeChecked();

  await page.getByLabel('Current password').fill(PASSWORD);
  await page.getByLabel(/New password/).fill('hanks-new-password');
  await page.getByTestId('password-save').click();
  await expect(page.getByText('Password changed.')).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, HANK, 'hanks-new-password');
});

test('a head reassigns a workflow within the department', async ({ page }) => {
  await signIn(page, HEAD, PASSWORD);
  await page.getByRole('link', { name: 'Conference travel' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Conference travel');
  await page.getByLabel('Reassign to').fill(MIKE);
  await page.getByRole('button', { name: 'Reassign' }).click();
  await expect(page.getByTestId('assignee')).toHaveAttribute('data-email', MIKE);
  await expect(page.getByText(/^Reassigned from .* to Mike Manager$/).first()).toBeVisible();
});
