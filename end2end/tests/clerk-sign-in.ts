import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import { fakeUserPassword } from './mode';

// Signing in as a person would: through ClerkJS's own <SignIn/> against the fake's Frontend API
// (release builds only). Shared by the specs that need a ClerkJS session.

// Seeded by `fake-clerk --orgs 2` into both organizations; no other spec changes this user.
export const member = { email: 'user_0000003@example.com', id: 'user_0000003', name: 'Bench User3' };

export const glue = (page: Page) => page.locator('body');

/** ClerkJS's own <SignIn/> form on /sign-in, up to its password step. */
export async function enterIdentifier(page: Page) {
  await page.goto('/sign-in');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  await page.locator('input[name=identifier]').fill(member.email);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await expect(page).toHaveURL(/#\/factor-one/);
}

/** Submits the password step and waits for /account, hydrated and in step with ClerkJS. */
export async function submitPassword(page: Page, password: string) {
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  await page.waitForURL('**/account');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('account-name')).toHaveText(member.name);
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
}

/** Signs in through ClerkJS's own <SignIn/> form, as a person would, and lands on /account. */
export async function signInThroughClerk(page: Page) {
  await enterIdentifier(page);
  await submitPassword(page, fakeUserPassword);
}


/** Picks an organization in the mounted <OrganizationSwitcher/>, with the keyboard. Once open,
 * ClerkJS focuses the popover's first item (which can scroll the page) and then places the
 * popover again: a click aimed while it moves can land beside the item, and nothing is chosen. */
export async function chooseOrganization(page: Page, name: string) {
  await page.locator('.cl-organizationSwitcherTrigger').click();
  await page.locator('.cl-organizationSwitcherPopoverCard').getByRole('menuitem', { name }).press('Enter');
}
