#!/bin/sh
# The web UI in headless Chromium: playwright-core (npm) drives Debian's
# /usr/bin/chromium. Fails, never skips, when a prerequisite is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${IX_BUILD_DIR:?run from ctest (IX_BUILD_DIR unset)}"
if [ ! -x /usr/bin/chromium ]; then
    echo "test_ui: /usr/bin/chromium is missing (apt-get install chromium)" >&2
    exit 1
fi
command -v node >/dev/null || { echo "test_ui: node is missing (apt-get install nodejs npm)" >&2; exit 1; }
# node_modules lives in the build tree, keyed by the lock file, so the
# source tree stays clean and a changed lock file reinstalls.
deps="$IX_BUILD_DIR/ui-node"
if ! cmp -s "$here/package-lock.json" "$deps/package-lock.json" 2>/dev/null || [ ! -d "$deps/node_modules" ]; then
    rm -rf "$deps" && mkdir -p "$deps"
    cp "$here/package.json" "$here/package-lock.json" "$deps/"
    (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
fi
# $1: the test script (default ui.test.js; tree.test.js for the process tree).
NODE_PATH="$deps/node_modules" exec timeout 3600 node "$here/${1:-ui.test.js}"
