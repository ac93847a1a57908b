#!/usr/bin/env bash
# Sync N users (default 100,000) from the fake Clerk into SQLite and into Postgres with the
# release binary. Prints users/s, peak memory (/usr/bin/time -v) and HTTP requests made.
#
#   bench/sync.sh            USERS=20000 bench/sync.sh
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-100000}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
[ -x /usr/bin/time ] || { echo "/usr/bin/time is required (apt-get install time)" >&2; exit 1; }

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --users "$USERS" > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 600); do grep -q '^USERS=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"

sync_into() {
  local label=$1 url=$2
  DATABASE_URL="$url" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" RUST_LOG=warn \
    /usr/bin/time -v "$target_dir/release/server" sync-users --json > "$work/$label.json" 2> "$work/$label.time"
  python3 - "$label" "$work/$label.json" "$work/$label.time" <<'PY'
import json, re, sys
label, report, timing = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
secs = report["elapsed_ms"] / 1000
print(f"{label:9} users={report['fetched']} created={report['created']} requests={report['requests']} "
      f"elapsed={secs:.2f}s users/s={report['fetched'] / secs:.0f} peak_rss={rss / 1024:.1f}MiB")
PY
}

sync_into sqlite "sqlite://$work/bench.db"
if psql "$PG_ADMIN_URL" -qc 'DROP DATABASE IF EXISTS bench_sync WITH (FORCE)' -c 'CREATE DATABASE bench_sync' >/dev/null 2>&1; then
  sync_into postgres "${PG_ADMIN_URL%/*}/bench_sync"
else
  echo "postgres: skipped (cannot reach $PG_ADMIN_URL)"
fi
