import { defineConfig } from '@playwright/test';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { staffEmail, staffPassword } from './tests/staff';

// The server under test: the debug binary and site that `cargo leptos build` produced.
const root = path.resolve(__dirname, '..');
const serverBin = process.env.SERVER_BIN ?? path.join(root, 'target', 'debug', 'server');
const port = process.env.E2E_PORT ?? '3100';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'starter-e2e-'));


export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    // A staff account first (the admin test logs in with it), then the server itself.
    command: `printf '%s\\n' "$E2E_STAFF_PASSWORD" | "${serverBin}" create-staff --email "$E2E_STAFF_EMAIL" --password-stdin && exec "${serverBin}"`,
    cwd: root,
    url: `http://127.0.0.1:${port}/readyz`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
      LEPTOS_OUTPUT_NAME: 'clerk-starter',
      LEPTOS_HASH_FILES: 'true',
      // SQLite by default; scripts/test.sh runs the suite again on a fresh Postgres database.
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? `sqlite://${path.join(dataDir, 'app.db')}`,
      CLERK_DEV_KEY_FILE: path.join(dataDir, 'dev-signing-key.pem'),
      // Short-lived dev tokens and a short revalidation window, so a test can prove that an
      // open tab keeps itself signed in by refreshing its token.
      CLERK_DEV_TOKEN_TTL_SECONDS: '4',
      CLERK_SESSION_REVALIDATION_SECONDS: '3',
      RUST_LOG: 'warn',
      E2E_STAFF_EMAIL: staffEmail,
      E2E_STAFF_PASSWORD: staffPassword,
    },
  },
});
