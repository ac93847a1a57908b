#!/usr/bin/env bash
# The edit loop, timed in this checkout: `make dev` (warm target dir), then N edits to the home
# page's heading, each until the served page shows it. The file is restored at the end.
#
#   bench/edit-loop.sh        # 5 edits
#   EDITS=10 bench/edit-loop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
edits=${EDITS:-5}
page=app/src/pages/home.rs
log=$(mktemp /tmp/edit-loop.XXXXXX.log)
for port in 3000 3001; do
  if (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is taken" >&2; exit 1; fi
done

cp "$page" "$log.page"
dev_pid=
cleanup() {
  [ -n "$dev_pid" ] && kill -- -"$dev_pid" 2>/dev/null || true
  cp "$log.page" "$page" && rm -f "$log.page"
}
trap cleanup EXIT

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# Waits until the served home page contains TEXT (at most 600 s) while `make dev` runs.
served() {
  local deadline=$((SECONDS + 600))
  until curl -sf http://127.0.0.1:3000/ 2>/dev/null | grep -q "$1"; do
    kill -0 "$dev_pid" 2>/dev/null || { tail -20 "$log" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "no '$1' within 600 s" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 0.1
  done
}
# The watcher is ready once it says which paths it ignores.
watching() {
  local deadline=$((SECONDS + 60))
  until grep -q "ignore list from" "$log"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "cargo-leptos never started watching" >&2; exit 1; }
    sleep 0.1
  done
}

setsid make dev > "$log" 2>&1 &
dev_pid=$!
start=$(now)
served 'Leptos + Clerk starter'
printf 'make dev → first page (warm) %6s s\n' "$(took "$start")"
watching
for n in $(seq 1 "$edits"); do
  edit_start=$(now)
  sed -i "s|<h1>\"[^\"]*\"</h1>|<h1>\"Edited $n\"</h1>|" "$page"
  served "Edited $n"
  printf 'edit %d → visible             %6s s\n' "$n" "$(took "$edit_start")"
done
