#!/bin/bash
# Zero-code mode: LD_PRELOAD on a plain binary serves the endpoints; without
# INTROSPECT_ADDR nothing at all happens.
set -euo pipefail
lib="$IX_BUILD_DIR/libintrospect.so"
# Under a sanitizer its runtime must be loaded first.
pre="${IX_PRELOAD_RUNTIME:+$IX_PRELOAD_RUNTIME:}$lib"
tmp=$(mktemp -d); trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

# Sanitizer builds use our own plain binary (see plain_sleep.c for why).
sleeper=sleep; [ -n "${IX_SANITIZE:-}" ] && sleeper="$IX_BUILD_DIR/tests/plain_sleep"
LD_PRELOAD="$pre" INTROSPECT_ADDR=127.0.0.1:0 "$sleeper" 30 2> "$tmp/err" & pid=$!
for _ in $(seq 100); do grep -q serving "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$tmp/err" | head -1)
[ -n "$port" ] || { echo "no port announced:"; cat "$tmp/err"; exit 1; }

# One line however od wraps it (the wrap point depends on the build path's length).
curl -fsS "http://127.0.0.1:$port/debug/pprof/cmdline" | od -An -c | tr -d ' \n' > "$tmp/cmd"
grep -q 'sleep\\030$' "$tmp/cmd" || { echo "cmdline wrong:"; cat "$tmp/cmd"; exit 1; }
curl -fsS "http://127.0.0.1:$port/debug/vars" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["cmdline"][0].endswith("sleep") and d["cmdline"][1:]==["30"], d["cmdline"]; assert d["memstats"]["threads"]>=2'
curl -fsS "http://127.0.0.1:$port/metrics" | promtool check metrics
curl -fsS "http://127.0.0.1:$port/debug/pprof/" | grep -q '/debug/vars'
kill $pid; wait $pid 2>/dev/null || true

# Without INTROSPECT_ADDR: no thread, no socket, no output.
LD_PRELOAD="$pre" "$IX_BUILD_DIR/tests/plain_sleep" 3 2> "$tmp/err2" & pid=$!
sleep 1
threads=$(ls /proc/$pid/task | wc -l)
sockets=$(ls -l /proc/$pid/fd | grep -c socket || true)
kill $pid; wait $pid 2>/dev/null || true
[ "$threads" = 1 ] || { echo "threads started without INTROSPECT_ADDR: $threads"; exit 1; }
[ "$sockets" = 0 ] || { echo "socket opened without INTROSPECT_ADDR: $sockets"; exit 1; }
[ ! -s "$tmp/err2" ] || { echo "printed without INTROSPECT_ADDR:"; cat "$tmp/err2"; exit 1; }
echo ok
