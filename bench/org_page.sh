#!/usr/bin/env bash
# An organization's page against /account: the release server against the fake Clerk, the
# member's session token as a Bearer, `/account` then `/orgs/organization-1` (the URL makes that
# organization active: one more lookup by slug and a membership from the cache), one run each
# with the repository's load generator. Goal: the organization page at >= 80% of /account.
#
#   bench/org_page.sh                 # 10 s each at 32 connections
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${SECONDS_EACH:-10}
CONNS=${CONNS:-32}
PORT=${PORT:-3202}

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --users 4 --orgs 2 > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 50); do grep -q '^USERS=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"
# user_0000003 is admin of Organization 1 (`fake-clerk --orgs`); a token good for an hour.
TOKEN=$(curl -sf -X POST -H "Authorization: Bearer $SECRET_KEY" "$API_URL/__fake/session-tokens" -d '{"sub":"user_0000003","ttl_secs":3600}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["jwt"])')

export DATABASE_URL="sqlite://$work/bench.db" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn
"$target_dir/release/server" sync-users >/dev/null
"$target_dir/release/server" sync-orgs --members >/dev/null
"$target_dir/release/server" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

base="http://127.0.0.1:$PORT"
curl -sf -H "Authorization: Bearer $TOKEN" "$base/orgs/organization-1" | grep -q 'data-url-org="org_0000001"'
curl -sf -H "Authorization: Bearer $TOKEN" "$base/account" >/dev/null

run() { "$target_dir/release/get-load" "$base$2" "$SECONDS_EACH" "$CONNS" "$TOKEN" | sed "s/^/$1 /"; }
account=$(run account /account)
org=$(run org_page /orgs/organization-1)
printf '%s\n%s\n' "$account" "$org"
rps() { echo "$1" | grep -o 'req/s=[0-9.]*' | cut -d= -f2; }
awk -v a="$(rps "$account")" -v o="$(rps "$org")" 'BEGIN { printf "org page : /account = %.0f%% (goal >= 80%%)\n", 100*o/a }'
