import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { isRelease } from './mode';
import { staffEmail, staffPassword } from './staff';

// Staff accounts from the admin: the (superuser) e2e staff member adds an account, resets its
// password, and both show in the audit log; the new account logs in with the new password only.

async function logIn(page: Page, email: string, password: string) {
  await page.goto('/admin/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
}

test('a superuser adds a staff account and resets its password, audited', async ({ page, context, baseURL }) => {
  const email = `added-${Date.now()}@example.com`;
  await logIn(page, staffEmail, staffPassword);
  if (isRelease) {
    // Release builds default to Secure cookies (over http://127.0.0.1 Chromium still keeps them),
    // named with the __Host- prefix so no sibling host or plain-HTTP answer can plant one.
    const cookie = (await context.cookies(baseURL!)).find((c) => c.name === '__Host-starter_session');
    expect(cookie?.secure).toBe(true);
    expect(cookie?.httpOnly).toBe(true);
  }
  await page.getByRole('link', { name: 'Staff', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/staff$/);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  const create = page.getByTestId('staff-create-form');
  await create.getByLabel('Email').fill(email);
  await create.getByLabel('Password', { exact: true }).fill('first password here');
  await create.getByLabel('Password (again)').fill('first password here');
  await create.getByRole('button', { name: 'Add staff' }).click();
  await expect(create.getByRole('status')).toHaveText('Staff account added.');
  await expect(page.getByTestId('staff-table').getByRole('link', { name: email })).toBeVisible();

  const reset = page.getByTestId('staff-reset-form');
  await reset.getByLabel('Account').selectOption({ label: email });
  await reset.getByLabel('New password', { exact: true }).fill('second password here');
  await reset.getByLabel('New password (again)').fill('second password here');
  await reset.getByRole('button', { name: 'Reset password' }).click();
  await expect(reset.getByRole('status')).toHaveText('Password reset.');

  await page.getByRole('link', { name: 'Audit log' }).click();
  const rows = page.getByTestId('audit-table').getByRole('row');
  await expect(rows.nth(1)).toContainText('staff.password_reset');
  await expect(rows.nth(2)).toContainText('staff.create');
  await expect(rows.nth(2)).toContainText(email);

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/admin\/login$/);
  await logIn(page, email, 'second password here');
  await expect(page.getByTestId('header-staff')).toHaveText(`${email} · staff`);
});
