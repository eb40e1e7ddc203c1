#!/bin/sh
# The Timeline view in headless Chromium (see timeline.test.js). Shares
# tests/ui's playwright-core install (node_modules in the build tree).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ui="$here/../ui"
: "${IX_BUILD_DIR:?run from ctest (IX_BUILD_DIR unset)}"
[ -x /usr/bin/chromium ] || { echo "test_timeline: /usr/bin/chromium is missing" >&2; exit 1; }
command -v node >/dev/null || { echo "test_timeline: node is missing" >&2; exit 1; }
[ -x "$IX_BUILD_DIR/examples/introspect-demo" ] || { echo "test_timeline: the demo is not built" >&2; exit 1; }
deps="$IX_BUILD_DIR/ui-node"
if ! cmp -s "$ui/package-lock.json" "$deps/package-lock.json" 2>/dev/null || [ ! -d "$deps/node_modules" ]; then
    rm -rf "$deps" && mkdir -p "$deps"
    cp "$ui/package.json" "$ui/package-lock.json" "$deps/"
    (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
fi
NODE_PATH="$deps/node_modules" exec timeout 120 node "$here/timeline.test.js"
