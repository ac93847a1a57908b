import { test, expect } from './fixtures';
import { isRelease, mintSessionToken } from './mode';

// What only the release build can show: no dev mode anywhere, and a real Clerk session token
// (signed by the fake Clerk's instance key) signing a visitor in.
test.skip(!isRelease, 'release build only');

test('the release build shows no dev mode', async ({ page }) => {
  for (const path of ['/', '/sign-in']) {
    await page.goto(path);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await expect(page.getByTestId('dev-banner')).toHaveCount(0);
  }
  await expect(page.getByRole('button', { name: 'Sign in' })).toHaveCount(0);
});

test('a Clerk session token signs the visitor in, and /account hydrates', async ({ page, context, baseURL }) => {
  // The server alone: with ClerkJS loaded, a token its client never issued would be signed out
  // (clerkjs.spec.ts covers that path). An empty script stands in for it.
  await page.route((url) => url.pathname.endsWith('/clerk.browser.js'), (route) =>
    route.fulfill({ contentType: 'application/javascript', body: '', headers: { 'access-control-allow-origin': '*' } }),
  );
  const token = await mintSessionToken('user_0000002');
  await context.addCookies([{ name: '__session', value: token, url: baseURL! }]);
  await page.goto('/account');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('account-name')).toHaveText('Bench User2');
  // With real Clerk, ClerkJS's UserButton mounts here.
  await expect(page.locator('#clerk-user-button')).toHaveCount(1);
});
