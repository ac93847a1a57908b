import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { isRelease, mintSessionToken } from './mode';
import { staffEmail, staffPassword } from './staff';

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
  // ClerkJS sets both: a cookie token without an active __client_uat is signed out, as Clerk's
  // own authenticateRequest does.
  await context.addCookies([
    { name: '__session', value: token, url: baseURL! },
    { name: '__client_uat', value: '1700000000', url: baseURL! },
  ]);
  await page.goto('/account');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.getByTestId('account-name')).toHaveText('Bench User2');
  // With real Clerk, ClerkJS's UserButton mounts here.
  await expect(page.locator('#clerk-user-button')).toHaveCount(1);
});

/// The wasm files a page made the browser fetch, and their brotli size as built (`--precompress`).
function wasmDownloads(page: Page): () => { files: string[]; brotli: number } {
  const files = new Set<string>();
  page.on('request', (req) => {
    const { pathname } = new URL(req.url());
    if (pathname.endsWith('.wasm')) files.add(pathname);
  });
  const site = path.join(__dirname, '..', '..', 'target', 'site');
  return () => ({
    files: [...files],
    brotli: [...files].reduce((sum, f) => sum + fs.statSync(path.join(site, `${f}.br`)).size, 0),
  });
}

test('a visitor of / downloads at most 150 KB of brotli wasm, none of it the admin', async ({ page }) => {
  const downloads = wasmDownloads(page);
  await page.goto('/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const { files, brotli } = downloads();
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((f) => /admin|account/.test(f))).toEqual([]);
  expect(brotli).toBeLessThanOrEqual(150_000);
});

test('the admin code loads on admin pages', async ({ page }) => {
  const downloads = wasmDownloads(page);
  await page.goto('/admin/login');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Email').fill(staffEmail);
  await page.getByLabel('Password').fill(staffPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.goto('/admin/users');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  expect(downloads().files.some((f) => f.includes('admin_users'))).toBe(true);
});

test('pages answer with a nonce-based CSP that hydrates them and refuses an injected script', async ({ page, consoleProblems }) => {
  const res = await page.goto('/');
  const headers = res!.headers();
  const csp = headers['content-security-policy'];
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
  // The policy is on, and the page still hydrated under it.
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const injected = await page.evaluate(
    () =>
      new Promise<{ ran: boolean; blocked: string }>((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve({ ran: (window as any).__injected === 1, blocked: e.violatedDirective }), { once: true });
        const script = document.createElement('script');
        script.textContent = 'window.__injected = 1';
        document.head.appendChild(script);
        setTimeout(() => resolve({ ran: (window as any).__injected === 1, blocked: '' }), 2000);
      }),
  );
  expect(injected).toEqual({ ran: false, blocked: expect.stringMatching(/^script-src/) });
  // That violation was provoked here; any other still fails the test.
  for (let i = consoleProblems.length - 1; i >= 0; i--) {
    if (/script-src/.test(consoleProblems[i]) && /inline/.test(consoleProblems[i])) consoleProblems.splice(i, 1);
  }
});

test('an async page names the same chunk preloads in every response, even 20 at once', async ({ page }) => {
  await page.goto('/admin/login');
  await page.getByLabel('Email').fill(staffEmail);
  await page.getByLabel('Password').fill(staffPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('header-staff')).toBeVisible();
  // `/admin/users` renders with SsrMode::Async; concurrent requests wake on different threads,
  // which is what used to lose (or swap) its preloads.
  const preloads = (html: string) =>
    [...html.matchAll(/<link[^>]+rel="(?:preload|modulepreload)"[^>]*>/g)]
      .map((m) => /href="([^"]+)"/.exec(m[0])![1])
      .filter((href) => /__wasm_split|\.wasm$/.test(href))
      .sort();
  const pages = await Promise.all(
    Array.from({ length: 20 }, () => page.request.get('/admin/users').then((r) => r.text())),
  );
  const first = preloads(pages[0]);
  expect(first.some((href) => href.includes('__wasm_split'))).toBe(true);
  expect(first.filter((href) => href.endsWith('.wasm')).length).toBeGreaterThan(1);
  for (const html of pages) expect(preloads(html)).toEqual(first);
});
