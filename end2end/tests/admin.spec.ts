import { test, expect } from './fixtures';
import type { Browser } from '@playwright/test';
import { staffEmail, staffPassword } from './staff';
import { isRelease } from './mode';

/// A user for staff to manage: in dev mode, one who signed in through the dev form in a browser
/// of their own; in the release build, one mirrored from the fake Clerk by `sync-users`.
async function userToManage(browser: Browser): Promise<{ email: string; first: string; last: string }> {
  if (isRelease) return { email: 'user_0000001@example.com', first: 'Bench', last: 'User1' };
  const email = `grace-${Date.now()}@example.com`;
  const other = await browser.newContext();
  const visitor = await other.newPage();
  await visitor.goto('/sign-in');
  await visitor.getByLabel('Email').fill(email);
  await visitor.getByLabel('First name (optional)').fill('Grace');
  await visitor.getByLabel('Last name (optional)').fill('Hopper');
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await expect(visitor).toHaveURL(/\/account$/);
  await other.close();
  return { email, first: 'Grace', last: 'Hopper' };
}

test('a staff member logs in, finds a user, renames them, sees the audit entry and logs out', async ({ page, browser, consoleProblems }) => {
  const { email, first, last } = await userToManage(browser);

  // Anonymous: the admin sends us to its login page, which remembers where we were going.
  await page.goto('/admin/users');
  await expect(page).toHaveURL(/\/admin\/login\?next=%2Fadmin%2Fusers$/);
  await page.getByLabel('Email').fill(staffEmail);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('login-error')).toHaveText('Invalid email or password.');
  // The browser logs the expected 401 as a failed resource; anything else still fails the test.
  const expected = consoleProblems.findIndex((p) => p.includes('status of 401') && p.includes('/admin/login'));
  expect(expected).toBeGreaterThanOrEqual(0);
  consoleProblems.splice(expected, 1);
  await page.getByLabel('Password').fill(staffPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  // The header learns of the login without a reload.
  await expect(page.getByTestId('header-staff')).toHaveText(`${staffEmail} · staff`);

  await page.getByLabel('Search').fill(email);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/admin\/users\?q=/);
  const table = page.getByTestId('users-table');
  await expect(table.getByRole('row')).toHaveCount(2);
  await table.getByRole('link', { name: email }).click();
  await expect(page.getByTestId('user-title')).toHaveText(email);

  const form = page.getByTestId('user-form');
  await expect(form.getByLabel('Last name')).toHaveValue(last);
  await form.getByLabel('Last name').fill('Murray Hopper');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.locator('dl.facts')).toContainText(`${first} Murray Hopper`);
  await page.reload();
  await expect(page.getByTestId('user-form').getByLabel('Last name')).toHaveValue('Murray Hopper');

  await page.getByRole('link', { name: 'Audit log' }).click();
  const entry = page.getByTestId('audit-table').getByRole('row').nth(1);
  await expect(entry).toContainText('user.update');
  await expect(entry).toContainText(staffEmail);
  await expect(entry).toContainText('Murray Hopper');

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/admin\/login$/);
  await expect(page.getByTestId('header-staff')).toHaveCount(0);
  // Seen once in the release build: the audit page's data refetched as the logout landed, and
  // the browser logged that request's 403. Harmless (the visitor is logged out); anything else
  // still fails the test.
  for (let i = consoleProblems.length - 1; i >= 0; i--) {
    if (/status of 403/.test(consoleProblems[i]) && consoleProblems[i].includes('/api/admin/')) consoleProblems.splice(i, 1);
  }
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/admin\/login\?next=%2Fadmin$/);
});

test('removing a member asks first: declining keeps them, confirming removes them', async ({ page, browser }) => {
  test.skip(isRelease, 'signs the member in through dev mode');
  const stamp = Date.now();
  const email = `lin-${stamp}@example.com`;
  const org = `Removal Works ${stamp}`;
  const other = await browser.newContext();
  const visitor = await other.newPage();
  await visitor.goto('/sign-in');
  await visitor.getByLabel('Email').fill(email);
  await visitor.getByLabel('Organization (optional)').fill(org);
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await expect(visitor).toHaveURL(/\/account$/);
  await other.close();

  await page.goto('/admin/login');
  await page.getByLabel('Email').fill(staffEmail);
  await page.getByLabel('Password').fill(staffPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto(`/admin/orgs?q=${encodeURIComponent(org)}`);
  await page.getByTestId('orgs-table').getByRole('link', { name: org }).click();
  await expect(page.getByTestId('org-title')).toHaveText(org);
  const members = page.getByTestId('members-table');
  await expect(members.getByRole('link', { name: email })).toBeVisible();
  // The confirmation is the hydrated button's: a click before hydration would find no handler.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  const removals: string[] = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url().includes('/api/admin/member-remove')) removals.push(req.url());
  });
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await members.getByRole('button', { name: 'Remove' }).click();
  await expect.poll(() => asked).toEqual([`Remove ${email} from ${org}? Clerk is told at once.`]);
  await page.reload();
  await expect(page.getByTestId('members-table').getByRole('link', { name: email })).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  expect(removals, 'declining sends nothing').toEqual([]);

  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByTestId('members-table').getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByTestId('members-table').getByRole('link', { name: email })).toHaveCount(0);
  expect(removals).toHaveLength(1);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Members (0)' })).toBeVisible();
});

test('the dashboard draws its charts as SVG whose bars follow the counts', async ({ page, consoleProblems }) => {
  // A failed login first (for another email: a success forgives its own), so the staff login
  // chart has a bar of its own.
  await page.goto('/admin/login');
  await page.getByLabel('Email').fill('not-staff@example.com');
  await page.getByLabel('Password').fill('not the password either');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('login-error')).toBeVisible();
  const expected = consoleProblems.findIndex((p) => p.includes('status of 401') && p.includes('/admin/login'));
  if (expected >= 0) consoleProblems.splice(expected, 1);
  await page.getByLabel('Email').fill(staffEmail);
  await page.getByLabel('Password').fill(staffPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('header-staff')).toBeVisible();
  await page.goto('/admin');

  const charts = page.getByTestId('charts');
  for (const id of ['signups', 'active', 'webhooks', 'logins', 'plans']) {
    await expect(charts.locator(`figure[data-chart="${id}"] svg > title`)).toHaveCount(1);
    await expect(charts.locator(`figure[data-chart="${id}"] svg > desc`)).toHaveCount(1);
  }
  // Every chart: bars proportional to their values (the tallest fills 150 units), and the table
  // for screen readers holds the same numbers.
  const checks = await page.evaluate(() =>
    [...document.querySelectorAll('figure.chart')].map((figure) => {
      const bars = [...figure.querySelectorAll('rect')].map((r) => ({
        height: Number(r.getAttribute('height')),
        value: Number(r.getAttribute('data-value')),
      }));
      const max = Math.max(1, ...bars.map((b) => b.value));
      const proportional = bars.every((b) => Math.abs(b.height - Math.round((b.value / max) * 150 * 100) / 100) < 1e-6);
      const cells = [...figure.querySelectorAll('table tbody td:not(:first-child)')].map((td) => Number(td.textContent));
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      return { id: figure.getAttribute('data-chart'), proportional, bars: bars.length, total: sum(bars.map((b) => b.value)), tableTotal: sum(cells) };
    }),
  );
  expect(checks.map((c) => c.id)).toEqual(['signups', 'active', 'webhooks', 'logins', 'plans']);
  for (const c of checks) {
    expect(c.proportional, c.id!).toBe(true);
    expect(c.tableTotal, c.id!).toBe(c.total);
  }
  expect(checks.find((c) => c.id === 'signups')!.bars).toBe(30);
  expect(checks.find((c) => c.id === 'webhooks')!.bars).toBe(96);
  expect(checks.find((c) => c.id === 'logins')!.total).toBeGreaterThanOrEqual(1);
  // Drawn on the server: the bars are in the HTML before any script runs.
  const html = await (await page.request.get('/admin')).text();
  expect(html).toContain('data-chart="webhooks"');
});
