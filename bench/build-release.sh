#!/usr/bin/env bash
# What the benchmarks run, built one way: the release server, the fake Clerk and the load
# generators in one cargo invocation (one feature set, so switching benchmarks rebuilds nothing),
# and with `site`, the release site too (wasm, JS, CSS, hashed names, precompressed), which the
# server finds through LEPTOS_SITE_ROOT and LEPTOS_HASH_FILES. SKIP_BUILD=1 uses what is built.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SKIP_BUILD:-}" ] && exit 0
cargo build --release -q -p server -p fake-clerk -p bench
if [ "${1:-}" = site ]; then
  cargo leptos build --release --precompress --split --frontend-only >/dev/null 2>&1 ||
    { echo "cargo leptos build --release --frontend-only failed" >&2; exit 1; }
fi
