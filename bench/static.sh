#!/usr/bin/env bash
# Static assets and the home page on the release build (precompressed, hashed names):
# sizes of the wasm and JS (raw and brotli), then wrk -t1 -c1 and -t2 -c16 against the wasm
# (brotli), the CSS and `/`, and the time to interactive of /account in headless Chromium.
#
#   bench/static.sh        DURATION=10s bench/static.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
PORT=${PORT:-3202}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

cargo leptos build --release --precompress --split >/dev/null 2>&1
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

pkg=target/site/pkg
wasm=$(basename "$(ls $pkg/*.wasm)")
js=$(basename "$(ls $pkg/clerk-starter.*.js)")
css=$(basename "$(ls $pkg/*.css)")
size() { stat -c %s "$1" 2>/dev/null || echo "-"; }
echo "release assets (bytes):"
printf '  %-45s raw %9s  brotli %9s  gzip %9s\n' "$wasm" "$(size $pkg/$wasm)" "$(size $pkg/$wasm.br)" "$(size $pkg/$wasm.gz)"
printf '  %-45s raw %9s  brotli %9s  gzip %9s\n' "$js" "$(size $pkg/$js)" "$(size $pkg/$js.br)" "$(size $pkg/$js.gz)"
printf '  %-45s raw %9s  brotli %9s  gzip %9s\n' "$css" "$(size $pkg/$css)" "$(size $pkg/$css.br)" "$(size $pkg/$css.gz)"

DATABASE_URL="sqlite://$work/app.db" CLERK_DEV_KEY_FILE="$work/dev.pem" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
  LEPTOS_OUTPUT_NAME=clerk-starter LEPTOS_SITE_ROOT=target/site LEPTOS_HASH_FILES=true RUST_LOG=warn \
  "$target_dir/release/server" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
if grep -q "no Clerk keys" "$work/server.log"; then
  echo "the release server has no dev mode: running it with fake keys for the benchmark"
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true
  DATABASE_URL="sqlite://$work/app.db" CLERK_SECRET_KEY=sk_test_bench CLERK_API_URL=http://127.0.0.1:9 \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_OUTPUT_NAME=clerk-starter LEPTOS_SITE_ROOT=target/site \
    LEPTOS_HASH_FILES=true RUST_LOG=warn "$target_dir/release/server" 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
fi

echo
printf '%-22s %-7s %12s %10s %10s\n' target load 'req/s' p50 p99
for target in "/pkg/$wasm br" "/pkg/$css identity" "/ identity"; do
  set -- $target
  for load in "1 1" "2 16"; do
    set -- $target $load
    out=$(wrk -t"$3" -c"$4" -d"$DURATION" --latency -H "Accept-Encoding: $2" "http://127.0.0.1:$PORT$1")
    printf '%-22s %-7s %12s %10s %10s\n' "${1:0:22}" "-t$3 -c$4" \
      "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  done
done
