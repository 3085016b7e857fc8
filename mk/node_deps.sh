#!/bin/sh
# Installs the DAP tests' npm packages (tests/dap/package.json, pinned in
# its package-lock.json) with `npm ci`, when node_modules is missing or
# older than the lock file. Needs node and npm (mk/deps.sh installs them).
set -eu

dir=$(dirname "$0")/../tests/dap
stamp="$dir/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ -n "$(find "$stamp" -newer "$dir/package-lock.json")" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "polytrace: npm is missing (run mk/deps.sh as root); the DAP tests need it" >&2
    exit 1
fi
echo "installing the DAP tests' npm packages (npm ci in tests/dap)" >&2
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
