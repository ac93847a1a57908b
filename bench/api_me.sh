#!/usr/bin/env bash
# Throughput of GET /api/me (valid Bearer token, warm caches) against /healthz on the same
# release server, with wrk at fixed concurrency on loopback. Goal: /api/me >= 90% of /healthz.
#
#   bench/api_me.sh            # defaults: 2 threads, 32 connections, 10 s each
#   THREADS=2 CONNS=64 DURATION=20s bench/api_me.sh
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
DURATION=${DURATION:-10s}
PORT=${PORT:-3200}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# SERVER_BIN: another build of the server (say, an earlier commit's) in the same harness.
server_bin=${SERVER_BIN:-$target_dir/release/server}
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --mint user_bench > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 50); do grep -q '^TOKEN=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"

DATABASE_URL="sqlite://$work/bench.db" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
  "$server_bin" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

# Warm the caches (JWKS, provisioning, verified token) and prove the token works.
curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/me" >/dev/null

run() {
  local name=$1; shift
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" | tee "$work/$name.txt" >&2
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.txt")
  echo "$name $rps $p50 $p99"
}

healthz=$(run healthz "http://127.0.0.1:$PORT/healthz")
me=$(run api_me -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/me")

echo
printf '%-10s %12s %10s %10s\n' endpoint 'req/s' p50 p99
printf '%-10s %12s %10s %10s\n' $healthz
printf '%-10s %12s %10s %10s\n' $me
awk -v a="$(echo "$me" | cut -d' ' -f2)" -v b="$(echo "$healthz" | cut -d' ' -f2)" \
  'BEGIN { printf "ratio /api/me : /healthz = %.0f%% (goal >= 90%%)\n", 100 * a / b }'
