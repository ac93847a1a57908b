#!/usr/bin/env bash
# The admin dashboard's chart queries with 100,000 users and 1,000,000 logged webhook deliveries,
# on SQLite (a temporary file) and on Postgres (a throwaway database on PG_ADMIN_URL's server).
# The target (issue 33): all of them together in 50 ms or less on each.
#
#   bench/dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}

cargo build --release -q -p bench --bin dashboard-queries
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/dashboard-queries"
work=$(mktemp -d)
db="bench_dashboard_$$"
cleanup() { psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== SQLite"
DATABASE_URL="sqlite://$work/bench.db" "$bin"
if psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null 2>&1; then
  echo "== Postgres"
  DATABASE_URL="${PG_ADMIN_URL%/*}/$db" "$bin"
else
  echo "(Postgres skipped: cannot create a database on $PG_ADMIN_URL)"
fi
