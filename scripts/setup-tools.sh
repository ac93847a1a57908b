#!/usr/bin/env bash
# Installs what building the app needs, skipping whatever is already there at the right version:
# the wasm target, cargo-leptos, wasm-bindgen-cli matching Cargo.lock, and a wasm-opt that works.
# cargo-leptos would otherwise try to download wasm-bindgen and wasm-opt from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The tools are built unoptimised except for the crates that do real work on every build (the wasm
# splitter, wasm parsing and encoding, compression, hashing): compiling ~600 crates at opt-level 3
# with LTO is what made the first `make dev` take 14 to 39 minutes. See docs/first-hour.md.
quick_install() {
  local hot=() crate
  for crate in $HOT_CRATES; do hot+=(--config "profile.release.package.$crate.opt-level=3"); done
  CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_INCREMENTAL=false \
    cargo install "${hot[@]}" "$@"
}

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (a few minutes, once)"
  # cargo-leptos asks for a vendored OpenSSL (through cargo-generate): compiling its C sources
  # was the longest single step of the install. With the system's OpenSSL headers present
  # (Debian: libssl-dev), it links that instead.
  if pkg-config --exists openssl 2>/dev/null; then export OPENSSL_NO_VENDOR=1; fi
  HOT_CRATES="wasm_split_cli_support wasmparser wasm-encoder gimli regex-automata brotli
    brotli-decompressor flate2 miniz_oxide zlib-rs crc32fast adler2 seahash md-5" \
    quick_install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
fi

# wasm-bindgen's CLI must match the library version in Cargo.lock exactly. Its wasm rewriting
# (walrus, wasmparser, the bindgen passes) runs on every build and stays optimised; the rest of
# the package (its test runner's HTTP server and TLS, argument parsing) does not.
WBG_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WBG_VERSION\$"; then
  say "installing wasm-bindgen-cli $WBG_VERSION (two minutes, once)"
  # No --locked: its lockfile names a crate version this registry lacks. Only the binary
  # cargo-leptos runs (not the test runner).
  HOT_CRATES="wasm-bindgen-cli wasm-bindgen-cli-support wasm-bindgen-shared walrus wasmparser
    wasm-encoder gimli leb128 id-arena hashbrown indexmap rustc-demangle serde_json rayon rayon-core" \
    quick_install wasm-bindgen-cli --version "$WBG_VERSION" --bin wasm-bindgen --force
fi

# wasm-opt for release builds: binaryen 132 from npm (it runs under Node). Debian's binaryen 108
# breaks wasm-bindgen's reference-types output (the page throws `WebAssembly.Table.set()` on
# load), so an older wasm-opt first on PATH is refused rather than silently used.
BINARYEN_VERSION=132
binaryen_dir="${XDG_DATA_HOME:-$HOME/.local/share}/clerk-starter/binaryen-$BINARYEN_VERSION"
wasm_opt_version() { "$1" --version 2>/dev/null | awk '/wasm-opt version/ { print $3; exit }'; }
if [ "$(wasm_opt_version "$binaryen_dir/node_modules/.bin/wasm-opt")" != "$BINARYEN_VERSION" ]; then
  say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) for release builds"
  mkdir -p "$binaryen_dir"
  npm install --prefix "$binaryen_dir" --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION.0.0" >/dev/null
fi
# cargo-leptos finds it on PATH; ~/.cargo/bin is where it and wasm-bindgen already live.
mkdir -p "${CARGO_HOME:-$HOME/.cargo}/bin"
ln -sf "$binaryen_dir/node_modules/.bin/wasm-opt" "${CARGO_HOME:-$HOME/.cargo}/bin/wasm-opt"
found=$(command -v wasm-opt || true)
version=$(wasm_opt_version "${found:-/nonexistent}")
if [ -z "$version" ] || [ "$version" -lt "$BINARYEN_VERSION" ]; then
  echo "error: the wasm-opt first on PATH (${found:-none}, version ${version:-unknown}) is older than" >&2
  echo "       binaryen $BINARYEN_VERSION; its release bundles do not run in the browser." >&2
  echo "       Remove it (Debian: apt-get remove binaryen) or put ${CARGO_HOME:-$HOME/.cargo}/bin first on PATH." >&2
  exit 1
fi
