#!/bin/bash
# bench/cost/rss.sh: resident memory the module adds to a host (issue 22).
# Usage: bench/cost/rss.sh [BUILD_DIR] [HOST...]   (default host: python3.11 idling)
# Starts the host with libintrospect preloaded (ephemeral loopback port), then
# reads VmRSS (/proc/PID/status) after start, after a 1 s CPU profile, a full
# thread dump, a heap profile, and IDLE seconds later (env IDLE, default 50:
# answers are dropped after 30 s, unwind tables after 30 s + a 10 s grace).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:-$here/../../build}" && pwd); shift || true
LIB=$B/libintrospect.so
IDLE=${IDLE:-50}
[ $# -gt 0 ] || set -- /usr/bin/python3.11 -c 'import time; time.sleep(600)'
tmp=$(mktemp -d)
"$@" & plain=$!  # the host alone (exec'd directly: $! is its pid)
sleep 2
printf '| host alone | %s |\n' "$(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' /proc/$plain/status)"
kill $plain; wait $plain 2>/dev/null || true
LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 "$@" > /dev/null 2> "$tmp/err" & pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
# The host's own line: a host may run children (preloaded too) at start.
for _ in $(seq 100); do grep -q "(pid $pid)" "$tmp/err" && break; sleep 0.1; done
port=$(grep "(pid $pid)" "$tmp/err" | sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' | head -1)
u=http://127.0.0.1:$port/debug/pprof
rss() { awk '/^VmRSS/{printf "%.1f", $2 / 1024}' /proc/$pid/status; }
sleep 1
printf '| started | %s |\n' "$(rss)"
curl -fsS -o /dev/null "$u/profile?seconds=1"; printf '| after a 1 s CPU profile | %s |\n' "$(rss)"
curl -fsS -o /dev/null "$u/threads?debug=2"; printf '| after a thread dump (debug=2) | %s |\n' "$(rss)"
curl -fsS -o /dev/null "$u/heap"; printf '| after a heap profile | %s |\n' "$(rss)"
curl -fsS -o /dev/null "$u/profile?seconds=1"; printf '| after a second CPU profile | %s |\n' "$(rss)"
sleep "$IDLE"; printf '| %s s idle later (INTROSPECT_SYMBOL_IDLE_S, INTROSPECT_UNWIND_IDLE_S: 30) | %s |\n' "$IDLE" "$(rss)"
