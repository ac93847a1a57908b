#!/usr/bin/env bash
# The edit loop, timed in this checkout: `make dev` (warm target dir), then N edits to the home
# page's heading, each until the served page shows it. The file is restored at the end.
#
#   bench/edit-loop.sh        # 5 edits
#   EDITS=10 bench/edit-loop.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/dev-loop.sh
edits=${EDITS:-5}
page=app/src/pages/home.rs
dev_log=$(mktemp /tmp/edit-loop.XXXXXX.log)
ports_free

cp "$page" "$dev_log.page"
dev_pid=
cleanup() {
  [ -n "$dev_pid" ] && kill -- -"$dev_pid" 2>/dev/null || true
  cp "$dev_log.page" "$page" && rm -f "$dev_log.page"
}
trap cleanup EXIT

# The watcher is ready once it says which paths it ignores.
watching() {
  local deadline=$((SECONDS + 60))
  until grep -q "ignore list from" "$dev_log"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "cargo-leptos never started watching" >&2; exit 1; }
    sleep 0.1
  done
}

start=$(now)
start_dev
served 'Leptos + Clerk starter' 600
printf 'make dev → first page (warm) %6s s\n' "$(took "$start")"
watching
for n in $(seq 1 "$edits"); do edit_home "$n" 600; done
