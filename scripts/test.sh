#!/usr/bin/env bash
# Every test: Rust unit and integration tests (SQLite always, Postgres when TEST_DATABASE_URL
# is set), then the browser tests against the debug build and against the release build (what
# ships: wasm-opt'd, precompressed, no dev mode, against the fake Clerk).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  printf '\033[1;33m!! TEST_DATABASE_URL is not set: Postgres tests will be SKIPPED.\033[0m\n'
  printf '   e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make test\n'
fi

echo "==> cargo test"
# One test at a time per binary: each HTTP test runs a whole server, and under heavy CPU load a
# Leptos SSR stream was seen to stall while several servers shared one test process.
cargo test --workspace --exclude frontend -- --test-threads=1

echo "==> cargo leptos build --split"
cargo leptos build --split
cargo build -q -p fake-clerk --bin fake-clerk

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
echo "==> end2end (Playwright, Chromium) on SQLite"
(cd end2end && SERVER_BIN="$target_dir/debug/server" npx playwright test)

# A fresh Postgres database for one browser run; prints its URL.
fresh_e2e_database() {
  local e2e_db=starter_e2e base=${TEST_DATABASE_URL%%\?*}
  psql "$TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $e2e_db WITH (FORCE)" -c "CREATE DATABASE $e2e_db" >/dev/null
  echo "${base%/*}/$e2e_db"
}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  echo "==> end2end (Playwright, Chromium) on Postgres"
  e2e_url=$(fresh_e2e_database)
  (cd end2end && SERVER_BIN="$target_dir/debug/server" E2E_DATABASE_URL="$e2e_url" npx playwright test)
fi

echo "==> cargo leptos build --release --precompress --split"
cargo leptos build --release --precompress --split
echo "==> end2end (Playwright, Chromium) on the release build, SQLite"
(cd end2end && E2E_RELEASE=1 SERVER_BIN="$target_dir/release/server" FAKE_CLERK_BIN="$target_dir/debug/fake-clerk" \
  npx playwright test)

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  # The real ClerkJS against the fake Frontend API, on the other backend too.
  echo "==> end2end ClerkJS (Playwright, Chromium) on the release build, Postgres"
  e2e_url=$(fresh_e2e_database)
  (cd end2end && E2E_RELEASE=1 SERVER_BIN="$target_dir/release/server" FAKE_CLERK_BIN="$target_dir/debug/fake-clerk" \
    E2E_DATABASE_URL="$e2e_url" npx playwright test clerkjs.spec.ts)
fi
