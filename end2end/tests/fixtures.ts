import { test as base, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRelease, mintSessionToken, standinFrontendApi } from './mode';

const standinScript = fs.readFileSync(path.join(__dirname, '..', 'support', 'clerk-standin.js'), 'utf8');

export const test = base.extend<{ consoleProblems: string[]; clerkStandin: void }>({
  // The release build runs with a publishable key: its pages load ClerkJS from the instance's
  // Frontend API, which here is the stand-in, never the network.
  clerkStandin: [
    async ({ page }, use) => {
      if (isRelease) {
        await page.route(`https://${standinFrontendApi}/**`, (route) =>
          route.request().url().endsWith('/clerk.browser.js')
            ? route.fulfill({ contentType: 'text/javascript', body: standinScript })
            : route.fulfill({ status: 404 }),
        );
        await page.exposeFunction('__standinMint', (sub: string) => mintSessionToken(sub));
      }
      await use();
    },
    { auto: true },
  ],
  // Every page gets a watcher: any console error, page error or hydration warning fails the test.
  consoleProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('console', (msg) => {
        const text = msg.text();
        if (msg.type() === 'error' || /hydration/i.test(text)) problems.push(`${msg.type()}: ${text} (${msg.location().url})`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      await use(problems);
      expect(problems, 'console errors or hydration warnings').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
