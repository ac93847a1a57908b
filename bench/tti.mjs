// Time to interactive of /account in headless Chromium: from navigation start until hydration
// has finished (the frontend marks <body data-hydrated="true">). Signs in through dev mode first.
//
//   node bench/tti.mjs http://127.0.0.1:3000   (against a running debug server in dev mode)
import { createRequire } from 'node:module';
const require = createRequire(new URL('../end2end/package.json', import.meta.url));
const { chromium } = require('@playwright/test');

const base = process.argv[2] ?? 'http://127.0.0.1:3000';
const runs = Number(process.env.RUNS ?? 7);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage();
await page.goto(`${base}/sign-in`);
await page.getByLabel('Email').fill(`tti-${Date.now()}@example.com`);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(/\/account$/);

const samples = [];
for (let i = 0; i < runs; i++) {
  await page.goto(`${base}/account`, { waitUntil: 'commit' });
  await page.waitForSelector('body[data-hydrated="true"]');
  samples.push(await page.evaluate(() => performance.now()));
}
await browser.close();
samples.sort((a, b) => a - b);
console.log(`/account time to interactive over ${runs} loads: median ${samples[runs >> 1].toFixed(0)} ms, ` +
  `min ${samples[0].toFixed(0)} ms, max ${samples[runs - 1].toFixed(0)} ms`);
