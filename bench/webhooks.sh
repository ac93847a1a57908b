#!/usr/bin/env bash
# Webhook ingestion: signed, distinct deliveries posted at fixed concurrency on loopback to the
# release server, on SQLite and on Postgres: EVENTS `user.created` (new users), then EVENTS
# `user.updated` (a newer version of each), then EVENTS Clerk Billing `subscriptionItem.updated`
# (new items; goal: within 20% of `user.updated`). Prints events/s, p50/p99 and the server's CPU time
# per event; a run where any delivery is not `processed` (a duplicate, a stale event, an error)
# fails, so replays never count as throughput.
#
#   bench/webhooks.sh                     # 5000 events of each kind, 16 concurrent
#   EVENTS=20000 CONCURRENCY=32 bench/webhooks.sh
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/test bench/webhooks.sh
#   SERVER_BIN=/path/to/an/earlier/server bench/webhooks.sh   # the same load against another build
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-5000}
CONCURRENCY=${CONCURRENCY:-16}
PORT=${PORT:-3201}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

run_against() {
  local label=$1 url=$2
  # A release build has no dev mode: give it (unused) keys.
  DATABASE_URL="$url" CLERK_SECRET_KEY=sk_test_bench CLERK_API_URL=http://127.0.0.1:9 \
    CLERK_WEBHOOK_SIGNING_SECRET=$SECRET LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
    LEPTOS_SITE_ROOT=target/site RUST_LOG=warn "${SERVER_BIN:-$target_dir/release/server}" &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
  for kind in user.created user.updated subscriptionItem.updated; do
    printf '%-9s ' "$label"
    "$target_dir/release/webhook-load" "http://127.0.0.1:$PORT/webhooks/clerk" "$SECRET" "$kind" \
      "$EVENTS" "$CONCURRENCY" "$server_pid"
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

run_against sqlite "sqlite://$work/bench.db"
if psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS bench_webhooks WITH (FORCE)' -c 'CREATE DATABASE bench_webhooks' >/dev/null 2>&1; then
  run_against postgres "${PG_ADMIN_URL%/*}/bench_webhooks"
else
  echo "postgres: skipped (cannot reach $PG_ADMIN_URL)"
fi
