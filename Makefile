SHELL := /bin/bash

.PHONY: dev test tools test-tools check template-check chaos

## Start the app at http://127.0.0.1:3000, installing any missing build tool first.
# Unhashed file names while developing: with hash-files on, cargo-leptos builds the wasm and then
# the server; without, both at once (the first build takes a minute less on two cores).
dev: tools
	LEPTOS_HASH_FILES=false cargo leptos watch --split

## Run every test (Rust, HTTP, Postgres when TEST_DATABASE_URL is set, and the browser).
test: tools test-tools
	scripts/test.sh

## Chaos with figures: Postgres crashing under deliveries, a killed instance, a full disk, a hanging
## Clerk, and a 10-minute soak (about 15 minutes; needs root for tmpfs and a throwaway Postgres).
chaos:
	@set -o pipefail; CHAOS_SCALE=full cargo test -p server --test api -- chaos full_disk --test-threads=1 --nocapture 2>&1 \
		| tee /tmp/clerk-starter-chaos.log | grep -E '^CHAOS|^test result|FAILED|panicked'

## Formatting and lints for both the server (ssr) and the browser (hydrate) builds.
check:
	python3 scripts/check-import-cycles.py
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

## Generate a project from this repository (`cargo leptos new --git`) and check that it builds.
template-check: tools
	scripts/check-template.sh

tools:
	@scripts/setup-tools.sh

test-tools:
	@scripts/setup-test.sh
