import { defineConfig } from '@playwright/test';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { staffEmail, staffPassword } from './tests/staff';
import { fakeClerkUrl, fakeClerkSecret, fakePublishableKey, fakeUserPassword, isRelease, webhookSecret } from './tests/mode';

// The server under test: the binary and site that `cargo leptos build` (or `--release`) produced.
// A debug build runs in dev mode; a release build has none, so it runs against the fake Clerk
// (JWKS, Backend and Frontend API on loopback), with users and organizations mirrored from it
// by `server sync-users` and `sync-orgs`, and the real ClerkJS in the browser.
const root = path.resolve(__dirname, '..');
const serverBin = process.env.SERVER_BIN ?? path.join(root, 'target', 'debug', 'server');
const fakeClerkBin = process.env.FAKE_CLERK_BIN ?? path.join(root, 'target', 'debug', 'fake-clerk');
const port = process.env.E2E_PORT ?? '3100';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'starter-e2e-'));
// The site's file names come from the project name in Cargo.toml (a generated project renames it).
const cargoToml = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8');
const siteName = /\[\[workspace\.metadata\.leptos\]\][^[]*?\nname = "([^"]+)"/.exec(cargoToml)?.[1];
if (!siteName) throw new Error('no `name` under [[workspace.metadata.leptos]] in Cargo.toml');

const createStaff = `printf '%s\\n' "$E2E_STAFF_PASSWORD" | "${serverBin}" create-staff --email "$E2E_STAFF_EMAIL" --superuser --password-stdin`;
const clerkEnv: Record<string, string> = isRelease
  ? {
      CLERK_SECRET_KEY: fakeClerkSecret,
      CLERK_API_URL: fakeClerkUrl,
      CLERK_PUBLISHABLE_KEY: fakePublishableKey,
      CLERK_WEBHOOK_SIGNING_SECRET: webhookSecret,
      // The fake mints `azp` from the page's Origin, as Clerk does: the server checks it.
      CLERK_AUTHORIZED_PARTIES: `http://127.0.0.1:${port}`,
    }
  : {};

const appServer = {
  // A staff account first (the admin test logs in with it), the release build's users from the
  // fake Clerk, then the server itself.
  command: isRelease
    ? `${createStaff} && "${serverBin}" sync-users && "${serverBin}" sync-orgs --members && exec "${serverBin}"`
    : `${createStaff} && exec "${serverBin}"`,
  cwd: root,
  url: `http://127.0.0.1:${port}/readyz`,
  timeout: 60_000,
  reuseExistingServer: false,
  stdout: 'pipe' as const,
  stderr: 'pipe' as const,
  env: {
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
    LEPTOS_OUTPUT_NAME: siteName,
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
    ...clerkEnv,
  },
};

const fakeClerk = {
  command: `exec "${fakeClerkBin}" --addr ${new URL(fakeClerkUrl).host} --users 4 --orgs 2 --password ${fakeUserPassword}`,
  cwd: root,
  // Any answer will do: it means the fake is listening (it wants the secret key).
  url: `${fakeClerkUrl}/v1/jwks`,
  ignoreHTTPSErrors: true,
  timeout: 30_000,
  reuseExistingServer: false,
  stdout: 'ignore' as const,
  stderr: 'pipe' as const,
};

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
  webServer: isRelease ? [fakeClerk, appServer] : [appServer],
});
