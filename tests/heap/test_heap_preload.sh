#!/bin/bash
# Zero-code mode: a program that knows nothing of introspect, LD_PRELOADed,
# serves a heap profile in which go tool pprof ranks its leak first; the
# INTROSPECT_MEMTRACE lines appear on stderr.
set -euo pipefail
prog="$IX_BUILD_DIR/tests/heap_leaky_main"
lib="$IX_BUILD_DIR/libintrospect.so"
"$IX_BUILD_DIR/tests/test_heap_valgrind_prog" > /dev/null 2>&1 || [ $? -ne 77 ] || exit 77
tmp=$(mktemp -d); pid=; trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=16384 INTROSPECT_MEMTRACE=1 \
    "$prog" 30 16 > "$tmp/out" 2> "$tmp/err" & pid=$!
for _ in $(seq 300); do grep -q leaked "$tmp/out" && break; sleep 0.1; done
port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$tmp/err" | head -1)
[ -n "$port" ] || { echo "no port announced:"; cat "$tmp/err"; exit 1; }
grep -q leaked "$tmp/out" || { echo "workload did not finish"; exit 1; }

curl -fsS -o "$tmp/heap.pb.gz" "http://127.0.0.1:$port/debug/pprof/heap"
go tool pprof -top -unit=B -sample_index=inuse_space "$tmp/heap.pb.gz" > "$tmp/top" 2>&1
first=$(awk '/flat%/{t=1; next} t{print $6; exit}' "$tmp/top")
[ "$first" = leak_memory ] || { echo "leak not ranked first:"; cat "$tmp/top"; exit 1; }
bytes=$(awk '/flat%/{t=1; next} t{sub("B","",$1); print $1; exit}' "$tmp/top")
truth=$((16 * 256 * 4096))
python3 -c "import sys; e=($bytes-$truth)/$truth; print('estimate %d truth %d error %+.1f%%' % ($bytes,$truth,100*e)); sys.exit(abs(e) > 0.2)"
curl -fsS "http://127.0.0.1:$port/debug/vars" | python3 -c 'import json,sys; m=json.load(sys.stdin)["memstats"]; assert m["HeapProfiler"]=="interpose", m; assert m["Allocator"]=="glibc", m; assert m["Mallocs"]>300000, m'
for _ in $(seq 50); do grep -q "memtrace: " "$tmp/err" && break; sleep 0.1; done
grep -q "memtrace: t=.* mallocs=" "$tmp/err" || { echo "no memtrace line:"; cat "$tmp/err"; exit 1; }
echo ok
