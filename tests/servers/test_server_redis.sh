#!/bin/bash
# redis-server as user redis (runuser), the module preloaded, under a bounded
# redis-benchmark: the module serves /debug/vars from redis-server and a heap
# profile go tool pprof reads, with redis's own allocations (zmalloc) in it
# and none of the module's.
. "$(dirname "$0")/lib.sh"
need redis-server redis-benchmark go runuser
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (runuser -u redis)"; exit 77; }
id redis > /dev/null 2>&1 || { echo "skipped: no redis user"; exit 77; }
chown redis "$tmp"
redis_start redis.log INTROSPECT_HEAP_RATE=65536
curl -fsS "http://127.0.0.1:$ixport/debug/vars" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["cmdline"][0].startswith("redis-server"), d["cmdline"][0]
assert d["memstats"]["HeapProfiler"] == "interpose", d["memstats"]["HeapProfiler"]' || fail "/debug/vars"
timeout 90 env -u LD_PRELOAD redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -c 8 -q -t set,get,lpush,lpop \
    > "$tmp/bench" 2>&1 || { cat "$tmp/bench"; fail "redis-benchmark"; }
tr '\r' '\n' < "$tmp/bench" | grep "requests per second" | sed -n 1,4p
curl -fsS --max-time 30 -o "$tmp/heap.pb.gz" "http://127.0.0.1:$ixport/debug/pprof/heap" || fail "heap profile"
env -u LD_PRELOAD timeout 60 go tool pprof -traces -sample_index=alloc_space "$tmp/heap.pb.gz" > "$tmp/traces" 2>&1 ||
    { cat "$tmp/traces"; fail "go tool pprof"; }
grep -q zmalloc "$tmp/traces" || { head -40 "$tmp/traces"; fail "redis's allocations are not in the heap profile"; }
if grep -Eq '(^|[[:space:]])(ix_|MHD_|introspect_)' "$tmp/traces"; then
    grep -E -B2 -A2 '(^|[[:space:]])(ix_|MHD_|introspect_)' "$tmp/traces" | sed -n 1,30p
    fail "module frames in redis's heap profile"
fi
[ "$(module_threads "$rs")" -ge 2 ] || fail "module threads are not named introspect-*"
kill "$rs"
for i in $(seq 100); do kill -0 "$rs" 2> /dev/null || break; sleep 0.1; done

# Heap sampling off: the interposer stands aside (redis's malloc calls go to
# the allocator directly) and redis still serves a bounded load; the exact
# counts are not served rather than frozen.
redis_start redis0.log INTROSPECT_HEAP_RATE=0
timeout 90 env -u LD_PRELOAD redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -c 8 -q -t set,get,lpush,lpop \
    > "$tmp/bench0" 2>&1 || { cat "$tmp/bench0"; fail "redis-benchmark (sampling off)"; }
tr '\r' '\n' < "$tmp/bench0" | grep "requests per second" | sed -n 1,4p
curl -fsS "http://127.0.0.1:$ixport/metrics" > "$tmp/metrics0" || fail "/metrics (sampling off)"
grep -q '^introspect_heap_sample_rate_bytes 0$' "$tmp/metrics0" || fail "sampling is not off"
if grep -q '^introspect_heap_mallocs_total' "$tmp/metrics0"; then fail "counts served while aside"; fi
curl -fsS "http://127.0.0.1:$ixport/debug/vars" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)["memstats"]
assert d["HeapProfiler"] == "interpose" and d["Mallocs"] == 0, (d["HeapProfiler"], d["Mallocs"])' ||
    fail "/debug/vars (sampling off)"
kill "$rs"
echo ok
