#!/usr/bin/env bash
# One instance against two on one Postgres (release servers, loopback), load-balanced
# round-robin by the load generator: GET /api/me (valid Bearer, warm caches) and webhook
# ingestion (signed, distinct user.updated events). The same generator drives both cases.
#
#   bench/instances.sh            SECONDS_EACH=10 CONNS=32 EVENTS=5000 bench/instances.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${SECONDS_EACH:-10}
CONNS=${CONNS:-32}
EVENTS=${EVENTS:-5000}
WEBHOOK_CONCURRENCY=${WEBHOOK_CONCURRENCY:-16}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${a_pid:-}" "${b_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS bench_instances WITH (FORCE)' -c 'CREATE DATABASE bench_instances' >/dev/null
db_url="${PG_ADMIN_URL%/*}/bench_instances"

"$target_dir/release/fake-clerk" --mint user_bench > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 50); do grep -q '^TOKEN=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"

start() {
  DATABASE_URL="$db_url" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" CLERK_WEBHOOK_SIGNING_SECRET=$SECRET \
    LEPTOS_SITE_ADDR="127.0.0.1:$1" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    "$target_dir/release/server" &
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && break; sleep 0.1; done
  # Warm the caches (JWKS, provisioning, verified token).
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/api/me" >/dev/null
}
start 3221; a_pid=$!
start 3222; b_pid=$!
a=http://127.0.0.1:3221 b=http://127.0.0.1:3222

load() { "$target_dir/release/get-load" "$1" "$SECONDS_EACH" "$CONNS" "$TOKEN"; }
hooks() { "$target_dir/release/webhook-load" "$1" "$SECRET" "$2" "$EVENTS" "$WEBHOOK_CONCURRENCY"; }
printf '%-22s %s\n' "api_me, 1 instance" "$(load "$a/api/me")"
printf '%-22s %s\n' "api_me, 2 instances" "$(load "$a/api/me,$b/api/me")"
# Distinct work in both runs: new users first, then one newer version of each.
printf '%-22s %s\n' "webhooks, 1 instance" "$(hooks "$a/webhooks/clerk" user.created)"
printf '%-22s %s\n' "webhooks, 2 instances" "$(hooks "$a/webhooks/clerk,$b/webhooks/clerk" user.updated)"
