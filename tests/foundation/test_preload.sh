#!/bin/bash
# Zero-code mode: LD_PRELOAD on a plain binary serves the endpoints; without
# INTROSPECT_ADDR nothing at all happens.
set -euo pipefail
lib="$IX_BUILD_DIR/libintrospect.so"
tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:0 sleep 30 2> "$tmp/err" & pid=$!
for _ in $(seq 100); do grep -q serving "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$tmp/err" | head -1)
[ -n "$port" ] || { echo "no port announced:"; cat "$tmp/err"; exit 1; }

curl -fsS "http://127.0.0.1:$port/debug/pprof/cmdline" | od -An -c | tr -s ' ' > "$tmp/cmd"
grep -q 's l e e p \\0 3 0' "$tmp/cmd" || { echo "cmdline wrong:"; cat "$tmp/cmd"; exit 1; }
curl -fsS "http://127.0.0.1:$port/debug/vars" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["cmdline"]==["sleep","30"], d["cmdline"]; assert d["memstats"]["threads"]>=2'
curl -fsS "http://127.0.0.1:$port/metrics" | promtool check metrics
curl -fsS "http://127.0.0.1:$port/debug/pprof/" | grep -q '/debug/vars'
kill $pid; wait $pid 2>/dev/null || true

# Without INTROSPECT_ADDR: no thread, no socket, no output.
out=$(LD_PRELOAD="$lib" sh -c 'ls /proc/$$/task | wc -l; ls -l /proc/$$/fd | grep -c socket || true' 2>&1)
[ "$(echo "$out" | head -1)" = 1 ] || { echo "threads started without INTROSPECT_ADDR: $out"; exit 1; }
[ "$(echo "$out" | tail -1)" = 0 ] || { echo "socket opened without INTROSPECT_ADDR: $out"; exit 1; }
echo ok
