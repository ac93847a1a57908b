// Time to interactive in headless Chromium: from navigation start until hydration has finished
// (the frontend marks <body data-hydrated="true">), for each path given.
//
//   node bench/tti.mjs http://127.0.0.1:3000 /account            (debug server in dev mode:
//                                                                   signs in through the dev form)
//   TOKEN=eyJ… node bench/tti.mjs http://127.0.0.1:3202 / /account (release server: a session
//                                                                   token from the fake Clerk)
import { createRequire } from 'node:module';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const paths = process.argv.length > 3 ? process.argv.slice(3) : ['/account'];
const runs = Number(process.env.RUNS ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const context = await browser.newContext();
const page = await context.newPage();
if (process.env.TOKEN) {
  await context.addCookies([
    { name: '__session', value: process.env.TOKEN, url: base },
    { name: '__client_uat', value: '1700000000', url: base },
  ]);
} else {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('Email').fill(`tti-${Date.now()}@example.com`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/account$/);
}

for (const path of paths) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(`${base}${path}`, { waitUntil: 'commit' });
    await page.waitForSelector('body[data-hydrated="true"]');
    samples.push(await page.evaluate(() => performance.now()));
  }
  samples.sort((a, b) => a - b);
  console.log(`${path} time to interactive over ${runs} loads: median ${samples[runs >> 1].toFixed(0)} ms, ` +
    `min ${samples[0].toFixed(0)} ms, max ${samples[runs - 1].toFixed(0)} ms`);
}
await browser.close();
