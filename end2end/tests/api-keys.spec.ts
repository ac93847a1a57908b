import { test, expect } from './fixtures';
import { fakeFapiSettings, isRelease } from './mode';
import { signInThroughClerk } from './clerk-sign-in';

// Self-service API keys on /account, with the real ClerkJS signed in against the fake Clerk: the
// key is created in the page, works on /api/whoami from outside the browser, and stops working
// once revoked. Creating one asks for a recent verification (Clerk's `strict`).
test.skip(!isRelease, 'API keys live in Clerk: the release suite runs against the fake Clerk');

test('an API key made on /account calls /api/whoami, and is refused once revoked', async ({ page, playwright, baseURL }) => {
  await signInThroughClerk(page);
  const name = `e2e key ${Date.now()}`;
  const form = page.getByTestId('api-key-form');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel(/Scopes/).fill('projects:read');
  await form.getByRole('button', { name: 'Create key' }).click();
  const shown = page.getByTestId('api-key-secret');
  await expect(shown).toContainText(name);
  const secret = await shown.getByLabel('New API key').inputValue();
  expect(secret).toMatch(/^ak_/);
  await expect(page.getByTestId('api-keys')).toContainText(name);

  // From a script, not the browser: a fresh client with no cookies.
  const script = await playwright.request.newContext({ baseURL });
  const call = () => script.get('/api/whoami', { headers: { authorization: `Bearer ${secret}` } });
  const who = await call();
  expect(who.status()).toBe(200);
  expect(await who.json()).toMatchObject({ token_type: 'api_key', user_id: 'user_0000003', scopes: ['projects:read'], name });

  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByRole('button', { name: `Revoke ${name}` })).toHaveCount(0);
  // Revoked through the app: refused at once (the bound for revocations made elsewhere is 60 s).
  await expect.poll(async () => (await call()).status(), { timeout: 5_000 }).toBe(401);
  await script.dispose();
});

test('creating a key after a stale sign-in asks ClerkJS to verify the user, and creates nothing', async ({ page, expectedConsoleErrors }) => {
  // The fake's Frontend API mints tokens that say the user signed in 30 minutes ago.
  await fakeFapiSettings({ first_factor_age_minutes: 30 });
  // The browser logs the server function's 403, as it would any failed fetch; and, once
  // ClerkJS's reverification starts, the fake Frontend API's 404 for the verification endpoint
  // it does not have (whether that request goes out before the test ends is a race).
  expectedConsoleErrors.push(/status of 403/, /status of 404 .*\/v1\/client\/sessions\/[^/]+\/verify/);
  await signInThroughClerk(page);
  const form = page.getByTestId('api-key-form');
  await form.getByLabel('Name').fill('needs step-up');
  await form.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('api-key-reverify')).toBeVisible();
  // The glue heard the page's request and handed it to ClerkJS's reverification flow. The fake
  // Frontend API has no verification endpoints, so the flow stops there: no key, no retry yet.
  await expect(page.locator('body')).toHaveAttribute('data-reverification', /opened|reverify-cancelled/);
  await expect(page.getByTestId('api-key-secret')).toHaveCount(0);
  await expect(page.getByTestId('api-keys-empty').or(page.getByTestId('api-keys'))).not.toContainText('needs step-up');
});
