.PHONY: dev test tools test-tools check template-check

## Start the app at http://127.0.0.1:3000, installing any missing build tool first.
dev: tools
	cargo leptos watch --split

## Run every test (Rust, HTTP, Postgres when TEST_DATABASE_URL is set, and the browser).
test: tools test-tools
	scripts/test.sh

## Formatting and lints for both the server (ssr) and the browser (hydrate) builds.
check:
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
