#!/usr/bin/env bash
# Machine callers against browser callers: GET /api/whoami (it accepts every kind) with a session
# token, a cached API key and a JWT M2M token, on one release server, one run each, with the
# repository's own load generator. Goals: API key >= 80% and JWT M2M >= 90% of the session token.
#
#   bench/whoami.sh                      # 10 s each at 32 connections
#   SECONDS_EACH=20 CONNS=64 bench/whoami.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${SECONDS_EACH:-10}
CONNS=${CONNS:-32}
PORT=${PORT:-3201}

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --mint user_bench > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 50); do grep -q '^M2M_JWT=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"

DATABASE_URL="sqlite://$work/bench.db" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  "$target_dir/release/server" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

url="http://127.0.0.1:$PORT/api/whoami"
# Warm every cache (JWKS, the user, the API key's verdict) and prove each token works.
for token in "$TOKEN" "$API_KEY" "$M2M_JWT"; do
  curl -sf -H "Authorization: Bearer $token" "$url" >/dev/null
done

run() { "$target_dir/release/get-load" "$url" "$SECONDS_EACH" "$CONNS" "$2" | sed "s/^/$1 /"; }
session=$(run session "$TOKEN")
api_key=$(run api_key "$API_KEY")
m2m=$(run m2m_jwt "$M2M_JWT")
printf '%s\n%s\n%s\n' "$session" "$api_key" "$m2m"
rps() { echo "$1" | grep -o 'req/s=[0-9.]*' | cut -d= -f2; }
awk -v s="$(rps "$session")" -v a="$(rps "$api_key")" -v m="$(rps "$m2m")" 'BEGIN {
  printf "API key : session = %.0f%% (goal >= 80%%)\nJWT M2M : session = %.0f%% (goal >= 90%%)\n", 100*a/s, 100*m/s }'
