#!/bin/bash
# Install what is needed, build, and run the demo server with the module on
# 127.0.0.1:6060 (override with INTROSPECT_ADDR). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)" --target introspect-demo
exec build/examples/introspect-demo "$@"
