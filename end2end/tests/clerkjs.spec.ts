import type { Page } from '@playwright/test';
import { createHmac, randomUUID } from 'node:crypto';
import { test, expect } from './fixtures';
import { fakeClerkSecret, fakeClerkUrl, fakeFapiSettings, fakeUserPassword, isRelease, webhookSecret } from './mode';
import { chooseOrganization, enterIdentifier, glue, member, signInThroughClerk, submitPassword } from './clerk-sign-in';

// The real ClerkJS (the pinned npm build) against the fake Clerk's Frontend API: sign-in through
// the mounted <SignIn/>, token refresh, organization switching, sign-out and revocation, each
// checked on the server too. public/clerk-glue.js turns ClerkJS's state changes into one reload.
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

/** What the server thinks of this browser's cookies right now. */
async function serverUser(page: Page): Promise<{ clerk_id: string; org: { id: string; role: string } | null } | null> {
  const res = await page.request.get('/api/me');
  if (res.status() === 401) return null;
  expect(res.status()).toBe(200);
  return res.json();
}

function tokenClaims(token: string): { iat: number; exp: number; sid: string; o?: { id: string } } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

async function sessionCookie(page: Page): Promise<string | undefined> {
  return (await page.context().cookies()).find((c) => c.name === '__session')?.value;
}

test('signing in through the mounted <SignIn/> shows the user on /account, without a reload loop', async ({
  page,
  expectedConsoleErrors,
}) => {
  // The browser logs the fake's 422 for the wrong password, as it would Clerk's.
  expectedConsoleErrors.push(/status of 422 .*\/attempt_first_factor/);
  await enterIdentifier(page);
  await page.locator('input[name=password]').fill('not-the-password');
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
  // Under the password field: the fake's error names the field, as Clerk's does.
  await expect(page.locator('#error-password')).toContainText('Password is incorrect');
  expect(await serverUser(page)).toBeNull();

  const loads = countLoads(page);
  await submitPassword(page, fakeUserPassword);
  await page.waitForLoadState('load');
  expect(loads()).toBe(1);
  expect(await page.evaluate(() => (window as any).Clerk.user.id)).toBe(member.id);
  // The server-rendered page (not only the hydrated one) knows the user.
  const html = await (await page.request.get('/account')).text();
  expect(html).toContain(member.name);
  expect((await serverUser(page))?.clerk_id).toBe(member.id);
});

test('ClerkJS refreshes a token past its lifetime and the server keeps the user', async ({ page }) => {
  // At 15 s or less ClerkJS never reuses a token: its 5 s poller fetches a new one each time.
  await fakeFapiSettings({ token_ttl_secs: 12 });
  await signInThroughClerk(page);
  const first = tokenClaims((await sessionCookie(page))!);
  await expect
    .poll(async () => tokenClaims((await sessionCookie(page)) ?? '..').iat, { timeout: 25_000 })
    .toBeGreaterThan(first.exp);
  expect(Date.now() / 1000).toBeGreaterThan(first.exp);
  expect((await serverUser(page))?.clerk_id).toBe(member.id);
  await page.reload();
  await expect(page.getByTestId('account-name')).toHaveText(member.name);
});

test('the OrganizationSwitcher goes to the chosen organization\'s URL, and the server follows', async ({ page }) => {
  await signInThroughClerk(page);
  expect((await serverUser(page))?.org).toBeNull();
  await expect(page.getByTestId('active-org')).toHaveText('none');

  for (const [name, id, slug, role] of [
    ['Organization 1', 'org_0000001', 'organization-1', 'org:admin'],
    ['Organization 2', 'org_0000002', 'organization-2', 'org:member'],
  ]) {
    const loads = countLoads(page);
    await chooseOrganization(page, name);
    await page.waitForURL(`**/orgs/${slug}`);
    await expect(page.getByTestId('org-name')).toHaveText(name);
    await expect(page.getByTestId('org-role')).toHaveText(role);
    await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
    await page.waitForLoadState('load');
    expect(loads()).toBe(1);
    const user = await serverUser(page);
    expect(user?.org?.id).toBe(id);
    expect(user?.org?.role).toBe(role);
    expect(tokenClaims((await sessionCookie(page))!).o?.id).toBe(id);
  }
});

test('opening another organization\'s URL makes ClerkJS switch to it, with at most one reload', async ({ page }) => {
  await signInThroughClerk(page);
  await chooseOrganization(page, 'Organization 1');
  await page.waitForURL('**/orgs/organization-1');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  expect((await serverUser(page))?.org?.id).toBe('org_0000001');

  // A link from elsewhere (a bookmark, an email) to Organization 2, with Organization 1 active.
  const loads = countLoads(page);
  await page.goto('/orgs/organization-2');
  await expect(page.getByTestId('org-name')).toHaveText('Organization 2');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  // ClerkJS made it active: the token, and so every other page, has it now.
  await expect.poll(async () => (await serverUser(page))?.org?.id, { timeout: 10_000 }).toBe('org_0000002');
  expect(await page.evaluate(() => (window as any).Clerk.organization?.id)).toBe('org_0000002');
  await page.waitForLoadState('load');
  expect(loads()).toBeLessThanOrEqual(2); // the visit itself, and at most one reload

  // The personal account's URL leaves no organization active.
  await page.goto('/me');
  await expect(page.getByTestId('personal-org')).toBeVisible();
  await expect.poll(async () => (await serverUser(page))?.org ?? null, { timeout: 10_000 }).toBeNull();
});

test('Clerk Billing plans in the token reach require_plan', async ({ page }) => {
  await fakeFapiSettings({ plans: 'u:free' });
  await signInThroughClerk(page);
  const ask = (plan: string) =>
    page.request.post('/api/examples/plan', {
      form: { plan },
      headers: { accept: 'application/json', origin: new URL(page.url()).origin },
    });
  expect((await ask('user:free')).status()).toBe(200);
  expect((await ask('pro')).status()).toBe(403);
});

test('signing out with the UserButton signs the server out at once, with one reload', async ({ page, context, baseURL }) => {
  await signInThroughClerk(page);
  const loads = countLoads(page);
  await page.locator('.cl-userButtonTrigger').click();
  // The glue tells the server (keepalive: ClerkJS navigates away at once, so the answer may
  // never reach this page).
  const signOutCall = page.waitForRequest((req) => req.url().endsWith('/api/session/sign-out') && req.method() === 'POST');
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await signOutCall;
  expect(await serverUser(page)).toBeNull();
  await expect(page.locator('header .sign-in-link')).toBeVisible();
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  await page.waitForLoadState('load');
  expect(loads()).toBe(1);
  expect(await page.evaluate(() => (window as any).Clerk.user)).toBeNull();
  // The server's record of the Clerk session is gone too: a live-looking __client_uat without a
  // token finds no one to stand in for.
  await context.addCookies([{ name: '__client_uat', value: String(Math.floor(Date.now() / 1000)), url: baseURL! }]);
  expect(await serverUser(page)).toBeNull();
});

/** A Clerk webhook signed as Svix signs it, with the secret the server was given. */
function signedWebhook(type: string, data: unknown) {
  const id = `msg_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ data, object: 'event', type, timestamp: Date.now(), instance_id: 'ins_fake_primary' });
  const key = Buffer.from(webhookSecret.slice('whsec_'.length), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const headers = { 'svix-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': `v1,${signature}` };
  return { headers: { ...headers, 'content-type': 'application/json' }, data: body };
}

test('a revoked session signs the server out at once, and ClerkJS follows', async ({ page, expectedConsoleErrors }) => {
  // ClerkJS's requests for the revoked session fail with 401 until it has signed out.
  expectedConsoleErrors.push(/status of 401 .*fake-fox-12\.clerk\.accounts\.dev\/v1\/(client\/sessions\/|me\/)/);
  // Short tokens, so ClerkJS asks for one within seconds and learns of the revocation.
  await fakeFapiSettings({ token_ttl_secs: 12 });
  await signInThroughClerk(page);
  const sid: string = await page.evaluate(() => (window as any).Clerk.session.id);

  // What Clerk does when an admin revokes the session: it ends, and a webhook tells the app.
  const revoked = await fetch(`${fakeClerkUrl}/v1/sessions/${sid}/revoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fakeClerkSecret}` },
  });
  expect(revoked.status).toBe(200);
  const delivery = await page.request.post('/webhooks/clerk', signedWebhook('session.revoked', await revoked.json()));
  expect(delivery.status()).toBe(200);

  // The cookie still holds an unexpired token for the session: the server refuses it anyway.
  const claims = tokenClaims((await sessionCookie(page))!);
  expect(claims.sid).toBe(sid);
  expect(await serverUser(page)).toBeNull();

  await expect(page.locator('header .sign-in-link')).toBeVisible({ timeout: 20_000 });
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  expect(await page.evaluate(() => (window as any).Clerk.user)).toBeNull();
  expect(await serverUser(page)).toBeNull();
});

test('when the server keeps refusing what ClerkJS holds, the glue reloads once and stops', async ({ page }) => {
  // Tokens signed with a key the server does not trust: ClerkJS is signed in, the server is not.
  await fakeFapiSettings({ foreign_signing: true });
  await page.goto('/');
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'in-sync');
  const loads = countLoads(page);
  await page.evaluate(
    async ([identifier, password]) => {
      const clerk = (window as any).Clerk;
      const attempt = await clerk.client.signIn.create({ identifier, password });
      await clerk.setActive({ session: attempt.createdSessionId });
    },
    [member.email, fakeUserPassword],
  );
  await expect(glue(page)).toHaveAttribute('data-clerk-glue', 'out-of-sync');
  await page.waitForLoadState('load');
  expect(loads()).toBe(1);
  expect(await serverUser(page)).toBeNull();
});
