#!/usr/bin/env bash
# Installs what building the app needs, skipping whatever is already there at the right version:
# the wasm target, cargo-leptos, wasm-bindgen-cli matching Cargo.lock, and wasm-opt.
# cargo-leptos would otherwise try to download wasm-bindgen and wasm-opt from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (slow, once)"
  cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# wasm-bindgen's CLI must match the library version in Cargo.lock exactly.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WBG_VERSION\$"; then
  say "installing wasm-bindgen-cli $WBG_VERSION (slow, once)"
  # No --locked: its lockfile names a crate version this registry lacks.
  cargo install wasm-bindgen-cli --version "$WBG_VERSION" --force
fi

if ! command -v wasm-opt >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    say "installing wasm-opt (binaryen) for release builds"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q binaryen >/dev/null
  else
    say "wasm-opt is missing: install binaryen for release builds (debug builds work without it)"
  fi
fi
