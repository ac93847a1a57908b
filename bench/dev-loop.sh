# Sourced by bench/first-hour.sh and bench/edit-loop.sh: `make dev` in the background, and the
# time until the served home page shows a text. The caller sets `dev_log` (where `make dev`
# writes) and stops `dev_pid`'s process group when it is done.

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

ports_free() {
  for port in 3000 3001; do
    if (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "port $port is taken" >&2; exit 1; fi
  done
}

# `make dev` in its own process group, so that stopping the group stops cargo-leptos and the
# server it ran.
start_dev() {
  setsid make dev > "$dev_log" 2>&1 &
  dev_pid=$!
}

# Waits until the served home page contains TEXT, at most SECONDS, while `make dev` runs.
served() {
  local text=$1 deadline=$((SECONDS + $2))
  until curl -sf http://127.0.0.1:3000/ 2>/dev/null | grep -q "$text"; do
    kill -0 "$dev_pid" 2>/dev/null || { tail -20 "$dev_log" >&2; exit 1; }
    [ "$SECONDS" -lt "$deadline" ] || { echo "no '$text' within $2 s" >&2; tail -20 "$dev_log" >&2; exit 1; }
    sleep 0.1
  done
}

# Edit N: the home page's heading becomes "Edited N"; prints how long until the page shows it.
edit_home() {
  local start
  start=$(now)
  sed -i "s|<h1>\"[^\"]*\"</h1>|<h1>\"Edited $1\"</h1>|" app/src/pages/home.rs
  served "Edited $1" "$2"
  printf 'edit %d → visible           %8s s\n' "$1" "$(took "$start")"
}
