#!/usr/bin/env bash
# Generates a project from this repository the way a newcomer does (`cargo leptos new --git`,
# which is cargo-generate), checks that it is renamed, and that it builds for the server (ssr)
# and the browser (hydrate). `--git` takes what is committed: in CI's clean clone, everything.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
name=acme-portal
work=${TEMPLATE_CHECK_DIR:-/var/tmp/clerk-starter-generated}
rm -rf "${work:?}/$name"
mkdir -p "$work"

echo "==> cargo leptos new --git $repo --name $name"
(cd "$work" && cargo leptos new --git "$repo" --name "$name")
cd "$work/$name"

fail() { echo "error: the generated project $*" >&2; exit 1; }
grep -qx "name = \"$name\"" Cargo.toml || fail "keeps the old name in Cargo.toml"
grep -qx "LEPTOS_OUTPUT_NAME = \"$name\"" .cargo/config.toml || fail "keeps the old name in .cargo/config.toml"
grep -qx "ENV LEPTOS_OUTPUT_NAME=$name" Dockerfile || fail "keeps the old name in the Dockerfile"
grep -q "\"${name//-/_}_invalidations\"" backend/src/invalidation.rs || fail "keeps the old NOTIFY channel"
grep -qx "# $name" README.md || fail "keeps the old README title"
if grep -n 'clerk-starter\|clerk_starter\|{%\|{{' Cargo.toml .cargo/config.toml backend/src/invalidation.rs; then
  fail "has an old name or an unrendered placeholder (above)"
fi

# Its own target dir: cargo keys workspace crates by name, not path, so sharing one with this
# repository would mix the two projects' builds.
export CARGO_TARGET_DIR="$work/target"
echo "==> cargo check (ssr) in the generated project"
cargo check -q -p server
echo "==> cargo check (hydrate) in the generated project"
cargo check -q -p frontend --target wasm32-unknown-unknown
echo "generated project $name: renamed, and builds for ssr and hydrate"
