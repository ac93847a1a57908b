#!/usr/bin/env bash
# Installs what the browser tests need, idempotently: Debian's Chromium and the node packages.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "==> installing chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  else
    echo "chromium is missing: install it (apt-get install chromium) or set CHROMIUM" >&2
    exit 1
  fi
fi

# npm ci only when the lockfile changed since the last install.
stamp=end2end/node_modules/.lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s end2end/package-lock.json "$stamp"; then
  echo "==> installing end2end node packages"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
  cp end2end/package-lock.json "$stamp"
fi

# Clerk's own server SDK, pinned by its lockfile, for the differential tests that put the same
# requests to it and to this server (server/tests/api/clerk_reference.rs).
stamp=server/tests/clerk-reference/node_modules/.lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s server/tests/clerk-reference/package-lock.json "$stamp"; then
  echo "==> installing @clerk/backend for the differential tests"
  (cd server/tests/clerk-reference && npm ci --no-audit --no-fund --loglevel=error)
  cp server/tests/clerk-reference/package-lock.json "$stamp"
fi

# Clerk's own browser client, for the ClerkJS tests: the npm tarball of a pinned version, checked
# against its published integrity, with only what the browser loads extracted (its dist entry and
# chunks; `npm install` would pull 479 MB). The tests serve it in place of Clerk's CDN.
clerk_js_version=5.128.0
clerk_js_integrity=sha512-aw8USKnrZVPOqJfp1eKpbaQL+jUYkXJn/v3XdBslfT4jXEUIqkyITmlgY8bA9GqVF7xGcr+m/HJTpgvGbtIvXA==
clerk_js_dir=end2end/.clerk-js
if [ "$(cat "$clerk_js_dir/VERSION" 2>/dev/null)" != "$clerk_js_version" ]; then
  echo "==> fetching @clerk/clerk-js@$clerk_js_version"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "@clerk/clerk-js@$clerk_js_version" >/dev/null)
  tarball="$work/clerk-clerk-js-$clerk_js_version.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$clerk_js_integrity" ]; then
    echo "@clerk/clerk-js@$clerk_js_version does not match its pinned integrity ($actual)" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work" --wildcards 'package/dist/clerk.browser.js' 'package/dist/*_clerk.browser_*'
  rm -rf "$clerk_js_dir"
  mkdir -p "$clerk_js_dir"
  mv "$work/package/dist" "$clerk_js_dir/dist"
  echo "$clerk_js_version" > "$clerk_js_dir/VERSION"
fi
