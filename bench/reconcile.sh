#!/usr/bin/env bash
# One background reconciliation (CLERK_RECONCILE_INTERVAL) over N users (default 100,000) and
# 100 organizations with members, on SQLite and on Postgres (release binaries). The mirror is
# synced first, then DRIFT users are changed in the fake Clerk only (a missed webhook each), so
# the run measured is the steady-state one: every page read and compared, a few rows repaired.
# Prints the run's wall time and counts from `reconcile_runs`.
#
#   bench/reconcile.sh            USERS=20000 DRIFT=10 bench/reconcile.sh
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
DRIFT=${DRIFT:-100}
PORT=${PORT:-3230}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
server_bin="$target_dir/release/server"
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --users "$USERS" --orgs 100 > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 600); do grep -q '^USERS=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"
export CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" RUST_LOG=warn

# The newest run as "seconds created updated pruned errors", or nothing while none finished.
last_run() {
  local query="SELECT started_at, finished_at, created, updated, pruned, errors FROM reconcile_runs
               WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1"
  case $DATABASE_URL in
    sqlite:*) python3 - "${DATABASE_URL#sqlite://}" "$query" <<'PY'
import sqlite3, sys
from datetime import datetime
row = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
if row:
    secs = (datetime.fromisoformat(row[1]) - datetime.fromisoformat(row[0])).total_seconds()
    print(f"{secs:.2f}", *row[2:])
PY
    ;;
    *) psql "$DATABASE_URL" -Atc "SELECT extract(epoch FROM finished_at - started_at)::numeric(10,2), created, updated, pruned, errors
               FROM ($query) r" | tr '|' ' ' ;;
  esac
}

reconcile_on() {
  local label=$1
  export DATABASE_URL=$2
  "$server_bin" migrate > /dev/null
  "$server_bin" sync-users > /dev/null
  "$server_bin" sync-orgs --members > /dev/null
  # Drift: changed in Clerk, no webhook sent.
  for i in $(seq "$DRIFT"); do
    id=$(printf 'user_%07d' "$i")
    curl -sf -X PATCH -H "Authorization: Bearer $SECRET_KEY" -H 'Content-Type: application/json' \
      -d "{\"first_name\": \"Drifted$i\"}" "$API_URL/v1/users/$id" > /dev/null
  done
  CLERK_RECONCILE_INTERVAL=1h LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site "$server_bin" &
  server_pid=$!
  local run=""
  for _ in $(seq 3000); do run=$(last_run 2>/dev/null || true); [ -n "$run" ] && break; sleep 0.1; done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
  [ -n "$run" ] || { echo "$label: no run finished within 300 s" >&2; exit 1; }
  read -r secs created updated pruned errors <<< "$run"
  printf '%-9s users=%s run=%ss created=%s updated=%s pruned=%s errors=%s\n' \
    "$label" "$USERS" "$secs" "$created" "$updated" "$pruned" "$errors"
}

reconcile_on sqlite "sqlite://$work/bench.db"
if psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS bench_reconcile WITH (FORCE)' -c 'CREATE DATABASE bench_reconcile' >/dev/null 2>&1; then
  reconcile_on postgres "${PG_ADMIN_URL%/*}/bench_reconcile"
else
  echo "postgres: skipped (cannot reach $PG_ADMIN_URL)"
fi
