import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { isRelease } from './mode';

// clerk-glue.js with a stand-in for ClerkJS (the release suite routes the instance's
// clerk.browser.js to end2end/support/clerk-standin.js): sign-in and sign-out in ClerkJS reach
// the server with one reload each, and a disagreement that a reload cannot fix stops after one.
test.skip(!isRelease, 'ClerkJS loads only with a publishable key (the release suite)');

/** Counts main-frame page loads (navigation requests) from now on. A reload that starts before
 * the page's own `load` event would hide from a count of `load` events. */
function countLoads(page: Page): () => number {
  let loads = 0;
  page.on('request', (req) => {
    // A redirect's next hop is the same load (a signed-out /account redirects to /sign-in).
    if (req.isNavigationRequest() && req.frame() === page.mainFrame() && !req.redirectedFrom()) loads++;
  });
  return () => loads;
}

const glue = (page: Page) => page.locator('body');

test('signing in and out in ClerkJS reaches the server, with exactly one reload each', async ({ page, context, baseURL }) => {
  await page.goto('/sign-in');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  await expect(page.getByTestId('account-name')).toHaveCount(0);

  const loads = countLoads(page);
  await page.getByTestId('standin-sign-in').click();
  await expect(page.locator('#clerk-user-button')).toHaveAttribute('data-user', 'user_0000002');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  await page.waitForLoadState('load');
  expect(loads()).toBe(1);

  await page.goto('/account');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('account-name')).toHaveText('Bench User2');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');

  const afterSignOut = countLoads(page);
  const signOutCall = page.waitForResponse((res) => res.url().endsWith('/api/session/sign-out'));
  await page.getByTestId('standin-sign-out').click();
  expect((await signOutCall).ok()).toBe(true);
  await expect(page.locator('header .sign-in-link')).toBeVisible();
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  await page.waitForLoadState('load');
  expect(afterSignOut()).toBe(1);

  expect((await page.request.get('/api/me')).status()).toBe(401);
  // The server's record of the Clerk session is gone: even a live-looking __client_uat without a
  // token no longer finds anyone to stand in for.
  await context.addCookies([{ name: '__client_uat', value: '1700000000', url: baseURL! }]);
  expect((await page.request.get('/api/me')).status()).toBe(401);
});

test('when the server keeps disagreeing with ClerkJS, the glue reloads once and stops', async ({ page }) => {
  await page.goto('/');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  // ClerkJS claims a user whose token the server never sees.
  await page.evaluate(() => localStorage.setItem('standin:user', 'user_0000003'));
  const loads = countLoads(page);
  await page.reload();
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'out-of-sync');
  await page.waitForLoadState('load');
  // The explicit reload above, plus exactly one from the glue.
  expect(loads()).toBe(2);
  await page.evaluate(() => localStorage.removeItem('standin:user'));
});
