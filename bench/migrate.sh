#!/usr/bin/env bash
# Moves N local accounts (default 1,200; a third with argon2id hashes) to the fake Clerk with
# `server migrate-users-to-clerk`, once without a rate limit and once with Clerk's development
# limit (100 requests per 10 s). Prints users/s for each. SQLite; release binaries.
#
#   bench/migrate.sh            USERS=5000 bench/migrate.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Not USERS inside: the fake Clerk's env file (sourced below) sets USERS to its own count.
ACCOUNTS=${USERS:-1200}
bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
cleanup() { kill "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

hash='$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhc2g'
run_once() {
  local label=$1; shift
  "$target_dir/release/fake-clerk" "$@" > "$work/clerk.env" &
  clerk_pid=$!
  for _ in $(seq 100); do grep -q '^USERS=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
  # shellcheck disable=SC1091
  source "$work/clerk.env"
  rm -f "$work/bench.db"*
  DATABASE_URL="sqlite://$work/bench.db" "$target_dir/release/server" migrate > /dev/null
  python3 - "$work/bench.db" "$ACCOUNTS" "$hash" <<'PY'
import sqlite3, sys
db, n, h = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
db.executemany(
    "INSERT INTO users (email, first_name, last_name, password_hash, created_at, updated_at) "
    "VALUES (?, 'Local', ?, ?, datetime('now'), datetime('now'))",
    [(f"person{i}@example.com", f"User{i}", h if i % 3 == 0 else None) for i in range(n)])
db.commit()
PY
  DATABASE_URL="sqlite://$work/bench.db" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" RUST_LOG=warn \
    "$target_dir/release/server" migrate-users-to-clerk --json > "$work/$label.json" 2> /dev/null
  python3 - "$label" "$work/$label.json" <<'PY'
import json, sys
label, r = sys.argv[1], json.load(open(sys.argv[2]))
secs = r["elapsed_ms"] / 1000
print(f"{label:14} created={r['created']} with_password={r['with_password']} failed={r['failed']} "
      f"requests={r['requests']} elapsed={secs:.2f}s users/s={r['created'] / secs:.1f}")
PY
  kill "$clerk_pid"; wait "$clerk_pid" 2>/dev/null || true
}

run_once "no limit"
run_once "100 per 10 s" --rate-limit 100/10
