#!/bin/bash
# The module's own allocations never enter the host's heap profiles or
# allocation statistics. A preloaded program that knows nothing of us leaks
# and churns, then idles; with every allocation sampled (rate 1), 50 scrapes
# of /metrics (plus a heap profile, a thread dump and /debug/vars each
# round) must leave Mallocs, Frees and TotalAlloc exactly where they were,
# and the allocs profile must hold the host's leak_memory and no frame of
# the module (ix_*, MHD_*, introspect_*, libmicrohttpd, libintrospect).
set -euo pipefail
prog="$IX_BUILD_DIR/tests/heap_leaky_main"
lib="$IX_BUILD_DIR/libintrospect.so"
[ -z "${IX_SANITIZE:-}" ] || { echo "skipped: sanitizer build (no heap interposer)"; exit 77; }
tmp=$(mktemp -d); pid=; trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

timeout 120 env LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=1 \
    "$prog" 100 2 > "$tmp/out" 2> "$tmp/err" & pid=$!
for _ in $(seq 300); do grep -q leaked "$tmp/out" && break; sleep 0.1; done
grep -q leaked "$tmp/out" || { echo "workload did not finish"; cat "$tmp/err"; exit 1; }
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$tmp/err" | head -1)
[ -n "$port" ] || { echo "no port announced:"; cat "$tmp/err"; exit 1; }
base="http://127.0.0.1:$port"
stats() {
    curl -fsS "$base/debug/vars" | python3 -c '
import json, sys
m = json.load(sys.stdin)["memstats"]
print(m["Mallocs"], m["Frees"], m["TotalAlloc"])'
}
before=$(stats)
for _ in $(seq 50); do
    curl -fsS -o /dev/null "$base/metrics"
done
for _ in $(seq 5); do
    curl -fsS -o /dev/null "$base/debug/pprof/heap"
    curl -fsS -o /dev/null "$base/debug/pprof/threads?debug=2"
done
after=$(stats)
echo "Mallocs Frees TotalAlloc before: $before; after 50 scrapes: $after"
[ "$before" = "$after" ] || { echo "the scrapes' allocations reached the host's statistics"; exit 1; }

curl -fsS -o "$tmp/allocs.pb.gz" "$base/debug/pprof/allocs"
env -u LD_PRELOAD go tool pprof -traces "$tmp/allocs.pb.gz" > "$tmp/traces" 2>&1
grep -q leak_memory "$tmp/traces" || { echo "the host's allocations are missing:"; head -40 "$tmp/traces"; exit 1; }
if grep -Eq '(^|[[:space:]])(ix_|MHD_|introspect_)|libmicrohttpd|libintrospect' "$tmp/traces"; then
    echo "module frames in the host's allocs profile:"
    grep -En -B3 -A3 '(^|[[:space:]])(ix_|MHD_|introspect_)|libmicrohttpd|libintrospect' "$tmp/traces" | head -60
    exit 1
fi
echo ok
