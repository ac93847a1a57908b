import { test, expect } from './fixtures';
import type { Page } from '@playwright/test';
import { isRelease } from './mode';

// Both tests sign in through the dev form, which a release build does not have.
test.skip(isRelease, 'dev mode only');

async function devSignIn(page: Page, email: string, org: string, role: 'member' | 'admin') {
  await page.goto('/sign-in');
  await expect(page.getByTestId('dev-banner')).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('First name (optional)').fill('Ada');
  await page.getByLabel('Last name (optional)').fill('Lovelace');
  await page.getByLabel('Organization (optional)').fill(org);
  await page.getByLabel('Role in it').selectOption(role);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/account$/);
}

test('a new user signs in, edits the profile, switches organization and signs out', async ({ page }) => {
  const email = `ada-${Date.now()}@example.com`;
  await devSignIn(page, email, 'Analytical Engines', 'admin');
  await expect(page.getByTestId('account-name')).toHaveText('Ada Lovelace');
  await expect(page.getByTestId('active-org')).toHaveText('Analytical Engines (org:admin)');
  await expect(page.getByTestId('header-user')).toHaveText(email);
  // API keys live in Clerk: dev mode says so instead of failing.
  await expect(page.getByTestId('api-keys-unavailable')).toBeVisible();

  // The local-only profile field survives a reload.
  await page.getByLabel(/Bio/).fill('Wrote the first program.');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await page.reload();
  await expect(page.getByLabel(/Bio/)).toHaveValue('Wrote the first program.');

  // Join a second organization as a member, then switch back to the first.
  await devSignIn(page, email, 'Difference Engines', 'member');
  await expect(page.getByTestId('active-org')).toHaveText('Difference Engines (org:member)');
  await page.getByLabel(/Active organization/).selectOption({ label: 'Analytical Engines' });
  await page.getByRole('button', { name: 'Switch' }).click();
  await expect(page.getByTestId('active-org')).toHaveText('Analytical Engines (org:admin)');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByTestId('signed-in-state')).toContainText('You are not signed in');
  await page.goto('/account');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('a tab left open past the token lifetime still acts', async ({ page, context }) => {
  await devSignIn(page, `patient-${Date.now()}@example.com`, '', 'member');
  const token = async () => (await context.cookies()).find((c) => c.name === '__session')?.value ?? '';
  const first = await token();
  const exp = JSON.parse(Buffer.from(first.split('.')[1], 'base64url').toString()).exp as number;

  // Wait (bounded) until the first token and the server session's 3 s grace are both over,
  // and the page has refreshed its token in the meantime.
  await expect.poll(() => Date.now() / 1000 > exp + 4, { timeout: 20_000, intervals: [250] }).toBe(true);
  await expect.poll(token, { timeout: 10_000 }).not.toBe(first);

  await page.getByLabel(/Bio/).fill('Still here.');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
});
