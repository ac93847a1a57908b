#!/usr/bin/env bash
# Static assets and the home page on the release build (split, precompressed, hashed names):
# the size of every wasm chunk and JS file (raw and brotli), what a visitor of `/` and of
# `/admin/users` downloads (read from the page's own script and preload tags), then wrk
# -t1 -c1 and -t2 -c16 against the main wasm (brotli), the CSS, `/` and a 404, and optionally
# the same URLs on another server (e.g. the official Leptos template's release build) in the
# same run:
#
#   bench/static.sh        DURATION=10s bench/static.sh
#   COMPARE_URL=http://127.0.0.1:3300 bench/static.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
PORT=${PORT:-3202}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

bench/build-release.sh site
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

pkg=target/site/pkg
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
echo "release assets (bytes), largest first:"
for f in $(ls -S $pkg/*.wasm $pkg/*.js); do
  printf '  %-70s raw %9s  brotli %9s\n' "$(basename "$f")" "$(size "$f")" "$(size "$f.br")"
done

# A release build has no dev mode: unused keys make it start.
DATABASE_URL="sqlite://$work/app.db" CLERK_SECRET_KEY=sk_test_bench CLERK_API_URL=http://127.0.0.1:9 \
  LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_HASH_FILES=true RUST_LOG=warn "$target_dir/release/server" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
printf 'bench-staff-password\n' | DATABASE_URL="sqlite://$work/app.db" "$target_dir/release/server" \
  create-staff --email bench@example.com --password-stdin >/dev/null

# What a page makes the browser fetch up front: its module script, wasm and chunk preloads, and
# the split loader, which the main JS imports.
downloads() { # $1 = page path, $2 = cookie header (may be empty)
  curl -s ${2:+-H "cookie: $2"} "http://127.0.0.1:$PORT$1" \
    | grep -oE '(href|src)="/pkg/[^"]+\.(wasm|js)"' | sed -E 's/^(href|src)="\/pkg\///; s/"$//' \
    | { cat; ls "$pkg" | grep -E '^__wasm_split\.[^.]+\.js$'; } | sort -u \
    | while read -r f; do echo "$(size "$pkg/$f") $(size "$pkg/$f.br") $f"; done \
    | awk -v page="$1" '{raw+=$1; br+=$2; n++} END {printf "  %-14s %2d files  raw %9d  brotli %9d\n", page, n, raw, br}'
}
staff_cookie=$(curl -s -D - -o /dev/null -H "origin: http://127.0.0.1:$PORT" \
  --data-urlencode email=bench@example.com --data-urlencode password=bench-staff-password \
  "http://127.0.0.1:$PORT/admin/login" | awk -F'[ ;]' 'tolower($1)=="set-cookie:" {print $2}' | tail -1)
echo
echo "what a first visit downloads (wasm and JS named in the page):"
downloads / ""
downloads /admin/users "$staff_cookie"

wasm=$(curl -s "http://127.0.0.1:$PORT/" | grep -oE '/pkg/[^"/]+\.wasm' | head -1)
css=$(basename "$(ls $pkg/*.css)")
echo
printf '%-30s %-7s %12s %10s %10s\n' target load 'req/s' p50 p99
measure() { # $1 = base URL, $2 = path, $3 = accept-encoding, $4 = label
  for load in "1 1" "2 16"; do
    set -- "$1" "$2" "$3" "$4" $load
    out=$(wrk -t"$5" -c"$6" -d"$DURATION" --latency -H "Accept-Encoding: $3" "$1$2")
    printf '%-30s %-7s %12s %10s %10s\n' "${4:0:30}" "-t$5 -c$6" \
      "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  done
}
base="http://127.0.0.1:$PORT"
measure "$base" "$wasm" br "ours $wasm"
measure "$base" "/pkg/$css" identity "ours /pkg/$css"
measure "$base" / identity "ours /"
measure "$base" /no/such/page identity "ours 404"
if [ -n "${COMPARE_URL:-}" ]; then
  measure "$COMPARE_URL" / identity "compare /"
  measure "$COMPARE_URL" /no/such/page identity "compare 404"
fi
