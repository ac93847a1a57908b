#!/usr/bin/env bash
# A newcomer's first hour, timed: a fresh clone into a scratch directory with its own CARGO_HOME
# (so cargo-leptos and wasm-bindgen really are built), then
#   1. `make tools`            the build tools
#   2. `make dev`              until http://127.0.0.1:3000/ answers with the home page
#   3. an edit to the home page until the served page shows it (three edits, each timed)
#   4. `make test-tools`       what `make test` installs before its first run
# Not in CI (it takes minutes and downloads every crate). The Rust toolchain is shared; the
# registry cache is not, so crate downloads count as a newcomer's would.
#
#   bench/first-hour.sh                    # clones this checkout's HEAD
#   KEEP=1 bench/first-hour.sh             # leaves the scratch directory for a look
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

scratch=$(mktemp -d /var/tmp/first-hour.XXXXXX)
export CARGO_HOME="$scratch/cargo" XDG_DATA_HOME="$scratch/share"
# Only rustup's proxies from the real ~/.cargo/bin: the tools installed there must not count.
mkdir -p "$scratch/rustup-bin"
for tool in cargo rustc rustdoc rustup rustfmt cargo-fmt cargo-clippy clippy-driver; do
  ln -s "$HOME/.cargo/bin/$tool" "$scratch/rustup-bin/$tool"
done
export PATH="$CARGO_HOME/bin:$scratch/rustup-bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -vx "$HOME/.cargo/bin" | paste -sd:)"
unset CARGO_TARGET_DIR
dev_pid=
cleanup() {
  [ -n "$dev_pid" ] && kill -- -"$dev_pid" 2>/dev/null || true
  [ -n "${KEEP:-}" ] && { echo "kept $scratch"; return; }
  rm -rf "$scratch"
}
trap cleanup EXIT
. bench/dev-loop.sh
ports_free

git clone -q "$repo" "$scratch/app"
cd "$scratch/app"
# A failed step shows the end of its log.
step() { local log=$1; shift; "$@" > "$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }; }
if command -v cargo-leptos >/dev/null || command -v wasm-bindgen >/dev/null; then
  echo "the scratch PATH still finds installed tools" >&2
  exit 1
fi

start=$(now)
step "$scratch/tools.log" make tools
tools=$(took "$start")
printf 'make tools                 %8s s\n' "$tools"

dev_log="$scratch/dev.log"
dev_start=$(now)
start_dev
served 'Leptos + Clerk starter' 3600
printf 'make dev → first page      %8s s  (%s s from the clone)\n' "$(took "$dev_start")" "$(took "$start")"

# Edit → visible: the served page shows the new heading (the server rebuilt and restarted).
for n in 1 2 3; do edit_home "$n" 300; done
kill -- -"$dev_pid" 2>/dev/null || true
dev_pid=

start=$(now)
step "$scratch/test-tools.log" make test-tools
printf 'make test-tools            %8s s\n' "$(took "$start")"
