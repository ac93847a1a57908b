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
