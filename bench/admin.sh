#!/usr/bin/env bash
# /admin/users with 10,000 mirrored users, on SQLite and on Postgres (release server, wrk on
# loopback): a deep page (?page=100, and the same page as page 99's Next link names it, read on
# from page 99's last row), and a search matching about 1% of users (q=User12: 111 users), each
# as the SSR page and as the JSON server function alone (the query without SSR),
# with the admin read cache on (the default, ADMIN_CACHE_SECONDS=2) and off (every request
# runs its queries: the figure that holds after every write). Prints req/s, p50 and p99, the
# uncached ratios against the original package's Django admin measured on this machine
# (23.8 req/s deep page, 34.2 req/s 1% search; goals: 100x on SQLite, 50x on Postgres), and the
# query plans. BASELINE_DEEP / BASELINE_SEARCH replace the Django figures with your own.
#
#   bench/admin.sh            THREADS=2 CONNS=16 DURATION=10s bench/admin.sh
#   CACHES=uncached bench/admin.sh                       # only the uncached figures
set -euo pipefail
cd "$(dirname "$0")/.."

THREADS=${THREADS:-2}
CONNS=${CONNS:-16}
DURATION=${DURATION:-10s}
USERS=${USERS:-10000}
PORT=${PORT:-3210}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
BASELINE_DEEP=${BASELINE_DEEP:-23.8}
BASELINE_SEARCH=${BASELINE_SEARCH:-34.2}
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

# The release site as deployed: the pages name its hashed files, which the server reads at render.
bench/build-release.sh site
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# SERVER_BIN: another build of the server (say, an earlier commit's) in the same harness.
server_bin=${SERVER_BIN:-$target_dir/release/server}
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --users "$USERS" > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 600); do grep -q '^USERS=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"
export CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" RUST_LOG=warn
base="http://127.0.0.1:$PORT"

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Origin"] = os.getenv("ORIGIN")
LUA

run() {
  local name=$1; shift
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" > "$work/$name.txt"
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$name.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$name.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$name.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$name.txt")
  printf '%-9s %-8s %-22s %10s %9s %9s %s\n' "$label" "$cache" "$name" "$rps" "$p50" "$p99" "${non2xx:+non-2xx=$non2xx}" |
    tee -a "$work/results.txt"
}

bench_on() {
  label=$1
  export DATABASE_URL=$2
  "$server_bin" sync-users > /dev/null
  # Statistics and a visibility map, as autovacuum keeps them in a running database.
  if [ "$label" = postgres ]; then psql "$DATABASE_URL" -qc 'VACUUM ANALYZE users' >/dev/null; fi
  printf '%s\n' "bench admin password" | "$server_bin" create-staff --email bench@example.com --password-stdin > /dev/null
  for cache in ${CACHES:-cached uncached}; do serve_and_measure; done
}

serve_and_measure() {
  local ttl=2
  [ "$cache" = uncached ] && ttl=0
  ADMIN_CACHE_SECONDS=$ttl LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site LEPTOS_HASH_FILES=true \
    "$server_bin" &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
  cookie=$(curl -s -o /dev/null -D - -H "Origin: $base" -H 'Accept: application/json' \
    --data-urlencode email=bench@example.com --data-urlencode 'password=bench admin password' "$base/admin/login" |
    awk -F'[ ;]' 'tolower($1)=="set-cookie:" && $2 ~ /starter_session=/ {print $2}')
  [ -n "$cookie" ] || { echo "$label: staff login failed" >&2; exit 1; }
  # Prove the pages render what we measure.
  curl -sf -H "Cookie: $cookie" "$base/admin/users?page=100" | grep -q '10001 total · page 100 of 201'
  curl -sf -H "Cookie: $cookie" "$base/admin/users?q=User12" | grep -q '111 total'

  # The same page reached by Next from page 99: its link names page 99's last row (keyset paging).
  next=$(curl -sf -H "Cookie: $cookie" "$base/admin/users?page=99" |
    grep -o 'href="[^"]*" rel="next"' | sed -e 's/^href="//' -e 's/" rel="next"$//' -e 's/&amp;/\&/g')
  curl -sf -H "Cookie: $cookie" "$base/admin/users$next" | grep -q '10001 total · page 100 of 201'

  run page100_ssr -H "Cookie: $cookie" "$base/admin/users?page=100"
  run page100_next_ssr -H "Cookie: $cookie" "$base/admin/users$next"
  run search1pct_ssr -H "Cookie: $cookie" "$base/admin/users?q=User12"
  BODY="page=100" ORIGIN="$base" run page100_query_only -s "$work/post.lua" -H "Cookie: $cookie" "$base/api/admin/users"
  BODY="q=User12" ORIGIN="$base" run search1pct_query_only -s "$work/post.lua" -H "Cookie: $cookie" "$base/api/admin/users"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
}

printf '%-9s %-8s %-22s %10s %9s %9s\n' backend cache case 'req/s' p50 p99
bench_on sqlite "sqlite://$work/bench.db"
if command -v sqlite3 >/dev/null; then
  echo "sqlite plan, deep page:"
  sqlite3 "$work/bench.db" "EXPLAIN QUERY PLAN SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 4950" | sed 's/^/  /'
fi
if psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS bench_admin WITH (FORCE)' -c 'CREATE DATABASE bench_admin' >/dev/null 2>&1; then
  pg_url="${PG_ADMIN_URL%/*}/bench_admin"
  bench_on postgres "$pg_url"
  echo "postgres plan, deep page:"
  psql "$pg_url" -qAtc "ANALYZE users" -c "EXPLAIN SELECT id FROM users ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 4950" | sed 's/^/  /'
else
  echo "postgres: skipped (cannot reach $PG_ADMIN_URL)"
fi
echo "uncached SSR against the Django admin (${BASELINE_DEEP} req/s deep page, ${BASELINE_SEARCH} req/s 1% search):"
awk -v deep="$BASELINE_DEEP" -v search="$BASELINE_SEARCH" '
  $2 == "uncached" && $3 == "page100_ssr" { printf "  %-9s deep page %6.0fx\n", $1, $4 / deep }
  $2 == "uncached" && $3 == "page100_next_ssr" { printf "  %-9s deep page by Next %6.0fx\n", $1, $4 / deep }
  $2 == "uncached" && $3 == "search1pct_ssr" { printf "  %-9s 1%% search %6.0fx\n", $1, $4 / search }
' "$work/results.txt"
echo "goals: 100x on SQLite, 50x on Postgres"
