import { test as base, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fakeClerkUrl, fakeFapiSettings, fakeFrontendApi, isRelease } from './mode';

const clerkJsDist = path.join(__dirname, '..', '.clerk-js', 'dist');
const loopback = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const test = base.extend<{
  consoleProblems: string[];
  expectedConsoleErrors: RegExp[];
  clerkOffline: void;
  clerkJsServed: { file: string; bytes: number }[];
}>({
  // Console errors a test provokes on purpose (a test pushes patterns; anything else still fails).
  expectedConsoleErrors: [async ({}, use) => use([]), { scope: 'test' }],
  // What the page fetched of ClerkJS itself (entry and chunks), for size measures.
  clerkJsServed: [async ({}, use) => use([]), { scope: 'test' }],
  // The release build runs with a publishable key: its pages load the real ClerkJS (the pinned
  // npm build) from the instance's Frontend API host, which here is the fake Clerk's Frontend API
  // on loopback. Nothing else leaves the machine: any other non-loopback request is aborted.
  clerkOffline: [
    async ({ context, clerkJsServed }, use) => {
      await context.route(
        (url) => !loopback.has(url.hostname),
        (route) => route.abort('blockedbyclient'),
      );
      if (isRelease) {
        await fakeFapiSettings({});
        await context.route(
          (url) => url.hostname === fakeFrontendApi,
          async (route) => {
            const url = new URL(route.request().url());
            const file = /^\/npm\/@clerk\/clerk-js@[^/]+\/dist\/([\w.-]+\.js)$/.exec(url.pathname)?.[1];
            if (file) {
              const body = fs.readFileSync(path.join(clerkJsDist, file));
              clerkJsServed.push({ file, bytes: body.length });
              // The app's script tag is crossorigin="anonymous": the script needs CORS.
              return route.fulfill({ body, contentType: 'application/javascript', headers: { 'access-control-allow-origin': '*' } });
            }
            if (url.pathname.startsWith('/v1/')) {
              // A reload cancels ClerkJS's polling request mid-flight, which disposes the fetched
              // response, and the test's end cancels ClerkJS's background requests: either way that
              // request is gone, so there is nothing left to answer.
              try {
                const response = await route.fetch({ url: `${fakeClerkUrl}${url.pathname}${url.search}` });
                return await route.fulfill({ response });
              } catch (err) {
                if (/disposed|closed|already handled|test ended/i.test(String(err))) return;
                throw err;
              }
            }
            return route.fulfill({ status: 404 });
          },
        );
      }
      await use();
      if (clerkJsServed.length > 0) {
        const bytes = clerkJsServed.reduce((sum, f) => sum + f.bytes, 0);
        const names = clerkJsServed.map((f) => f.file.split('_')[0]).join(' ');
        console.log(`[clerk-js] served ${clerkJsServed.length} files, ${bytes} bytes: ${names}`);
      }
    },
    { auto: true },
  ],
  // Every page gets a watcher: any console error, page error or hydration warning fails the test.
  consoleProblems: [
    async ({ page, expectedConsoleErrors }, use) => {
      const problems: string[] = [];
      // Every Content-Security-Policy violation, reported or not, reaches the console.
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`),
        );
      });
      page.on('console', (msg) => {
        const text = msg.text();
        if (msg.type() === 'error' || /hydration/i.test(text)) problems.push(`${msg.type()}: ${text} (${msg.location().url})`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use(problems);
      // A CSP violation is never expected: the policy must fit what the pages do.
      const csp = problems.filter((p) => /Content Security Policy|CSP violation/i.test(p));
      expect(csp, 'Content-Security-Policy violations').toEqual([]);
      const unexpected = problems.filter((p) => !expectedConsoleErrors.some((re) => re.test(p)));
      expect(unexpected, 'console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
