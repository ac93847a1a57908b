#!/usr/bin/env bash
# CPU instructions per request of /healthz and a warm /api/me (Bearer token), counted by
# valgrind's callgrind on the release server: the same for the same build whatever else the
# machine does, so two builds compare in one run where wrk's req/s moves by 20% between runs
# here. Counts the server's request handling (hyper's connection task, every layer included),
# not the kernel's share.
#
#   bench/request_cost.sh                      # 2,000 requests each
#   N=5000 SERVER_BIN=/tmp/old-server bench/request_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2000}
PORT=${PORT:-3220}
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }

bench/build-release.sh
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
server_bin=${SERVER_BIN:-$target_dir/release/server}
work=$(mktemp -d)
cleanup() { kill "${server_pid:-}" "${clerk_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir/release/fake-clerk" --mint user_bench > "$work/clerk.env" &
clerk_pid=$!
for _ in $(seq 50); do grep -q '^TOKEN=' "$work/clerk.env" 2>/dev/null && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/clerk.env"

# One keep-alive connection, N requests, each checked.
cat > "$work/load.py" <<'PY'
import http.client, sys
port, path, n, token = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
headers = {"Authorization": "Bearer " + token} if token else {}
conn = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
PY

measure() {
  local name=$1 path=$2 token=$3
  rm -f "$work"/db*
  DATABASE_URL="sqlite://$work/db.sqlite" CLERK_SECRET_KEY="$SECRET_KEY" CLERK_API_URL="$API_URL" \
    LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$server_bin" > "$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.5; done
  # Warm the caches (JWKS, the user, the verified token) outside the count's connection.
  python3 "$work/load.py" "$PORT" /api/me 1 "$TOKEN"
  callgrind_control --zero "$server_pid" > /dev/null 2>&1
  python3 "$work/load.py" "$PORT" "$path" "$N" "$token"
  kill -INT "$server_pid"; wait "$server_pid" 2>/dev/null || true
  # hyper's per-connection future holds every request's handling, from parsing to the last write.
  local total
  total=$(callgrind_annotate --inclusive=yes "$work/$name.out" 2>/dev/null |
    awk '/Dispatcher<D,Bs,I,T>::poll_catch / { gsub(",", "", $1); print $1; exit }')
  echo "$name $(( total / N ))"
}

healthz=$(measure healthz /healthz "")
me=$(measure api_me /api/me "$TOKEN")
printf '%-8s %14s\n' endpoint 'instr/request'
printf '%-8s %14s\n' $healthz $me
awk -v a="${healthz#* }" -v b="${me#* }" 'BEGIN { printf "/api/me costs %.2fx /healthz\n", b / a }'
