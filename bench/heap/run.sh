#!/bin/bash
# bench/heap: overhead and accuracy of the heap sampler on a malloc-bound
# workload, next to tcmalloc sampling, jemalloc prof and heaptrack.
# Usage: bench/heap/run.sh [build-dir]   (env: ITERS, LEAK_MIB, RUNS)
# Prints the rows of bench/heap.md's tables.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:-$here/../../build}" && pwd)
LIB=$B/libintrospect.so
TC=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
ITERS=${ITERS:-20000000}
LEAK=${LEAK_MIB:-256}
RUNS=${RUNS:-5}
BIN=$B/heap_bench
cc -O2 -g -fno-omit-frame-pointer -rdynamic "$here/heap_bench.c" -o "$BIN"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The machine is shared: each figure is the minimum thread CPU time of RUNS
# runs (the run least disturbed by other processes), configurations interleaved.
best() { sort -g | head -1; }

# time_cfg NAME ITERS ENV...: least thread CPU seconds of RUNS runs.
time_cfg() {
    local name=$1 iters=$2; shift 2
    for _ in $(seq "$RUNS"); do
        env "$@" "$BIN" churn "$iters" "$LEAK" 0 | awk '/^cpu /{print $2}'
    done | best
}

declare -A T
T[glibc]=$(time_cfg glibc "$ITERS")
T[loaded]=$(time_cfg loaded "$ITERS" LD_PRELOAD="$LIB")
T[off]=$(time_cfg off "$ITERS" LD_PRELOAD="$LIB" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0)
T[s512]=$(time_cfg s512 "$ITERS" LD_PRELOAD="$LIB" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288)
T[tc]=$(time_cfg tc "$ITERS" LD_PRELOAD="$TC")
T[tcs]=$(time_cfg tcs "$ITERS" LD_PRELOAD="$TC" TCMALLOC_SAMPLE_PARAMETER=524288)
T[tcix]=$(time_cfg tcix "$ITERS" LD_PRELOAD="$TC $LIB" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288)
T[je]=$(time_cfg je "$ITERS" LD_PRELOAD="$JE")
T[jep]=$(time_cfg jep "$ITERS" LD_PRELOAD="$JE" MALLOC_CONF=prof:true,lg_prof_sample:19)
T[ixje]=$(time_cfg ixje "$ITERS" LD_PRELOAD="$LIB $JE" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288)
small=$((ITERS / 10))
T[glibc_small]=$(time_cfg glibc "$small")
T[off_small]=$(time_cfg off "$small" LD_PRELOAD="$LIB" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0)
T[rate1_small]=$(time_cfg rate1 "$small" LD_PRELOAD="$LIB" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=1)
if command -v heaptrack > /dev/null; then
    T[heaptrack_small]=$(for _ in $(seq "$RUNS"); do
        heaptrack -o "$tmp/ht" "$BIN" churn "$small" "$LEAK" 0 2>/dev/null | awk '/^cpu /{print $2}'
        rm -f "$tmp"/ht*; done | best)
fi

ratio() { python3 -c "print('%.3f' % ($1 / $2))"; }
echo "| configuration | best s | ratio to glibc | ratio to its own allocator |"
echo "|---|---|---|---|"
echo "| glibc malloc, no profiler | ${T[glibc]} | 1.000 | 1.000 |"
echo "| + libintrospect preloaded, not started (counting only) | ${T[loaded]} | $(ratio ${T[loaded]} ${T[glibc]}) | |"
echo "| + introspect started, heap sampling off (rate 0) | ${T[off]} | $(ratio ${T[off]} ${T[glibc]}) | |"
echo "| + introspect heap sampling at 512 KiB | ${T[s512]} | $(ratio ${T[s512]} ${T[glibc]}) | |"
echo "| tcmalloc, no profiler | ${T[tc]} | $(ratio ${T[tc]} ${T[glibc]}) | 1.000 |"
echo "| tcmalloc sampling (TCMALLOC_SAMPLE_PARAMETER=524288) | ${T[tcs]} | $(ratio ${T[tcs]} ${T[glibc]}) | $(ratio ${T[tcs]} ${T[tc]}) |"
echo "| tcmalloc + introspect via MallocHook at 512 KiB | ${T[tcix]} | $(ratio ${T[tcix]} ${T[glibc]}) | $(ratio ${T[tcix]} ${T[tc]}) |"
echo "| jemalloc, no profiler | ${T[je]} | $(ratio ${T[je]} ${T[glibc]}) | 1.000 |"
echo "| jemalloc prof:true, lg_prof_sample:19 | ${T[jep]} | $(ratio ${T[jep]} ${T[glibc]}) | $(ratio ${T[jep]} ${T[je]}) |"
echo "| introspect (first) forwarding to jemalloc, 512 KiB | ${T[ixje]} | $(ratio ${T[ixje]} ${T[glibc]}) | $(ratio ${T[ixje]} ${T[je]}) |"
echo "| (1/10 iterations) glibc | ${T[glibc_small]} | 1.000 | |"
echo "| (1/10 iterations) introspect rate 1: every allocation sampled | ${T[rate1_small]} | $(ratio ${T[rate1_small]} ${T[glibc_small]}) | |"
[ -n "${T[heaptrack_small]:-}" ] && echo "| (1/10 iterations) heaptrack | ${T[heaptrack_small]} | $(ratio ${T[heaptrack_small]} ${T[glibc_small]}) | |"
python3 -c "
n = $small + $LEAK * 256
print('cost per sampled allocation (rate 1 vs rate 0, incl. its sampled free): %.0f ns' % ((${T[rate1_small]} - ${T[off_small]}) / n * 1e9))
print('glibc churn: %.1f ns per malloc+free pair' % (${T[glibc]} / $ITERS * 1e9))"

echo
echo "free cost (1M blocks of 64 B; best of 5):"
for cfg in "glibc:" "loaded:LD_PRELOAD=$LIB" "rate0:LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0" \
           "rate512k:LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288"; do
    name=${cfg%%:*}; envs=${cfg#*:}
    for _ in 1 2 3; do env $envs "$BIN" free 1000000 64; done | sort -t' ' -k4 -g | head -1 | sed "s/^/$name: /"
done

echo
echo "accuracy (INTROSPECT_HEAP_RATE=524288, leak ${LEAK} MiB amid $ITERS churn ops):"
for i in $(seq "$RUNS"); do
    LD_PRELOAD="$LIB" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288 \
        "$BIN" churn "$ITERS" "$LEAK" 30 > "$tmp/out" 2> "$tmp/err" & pid=$!
    for _ in $(seq 600); do grep -q '^cpu ' "$tmp/out" && break; sleep 0.1; done
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$tmp/err" | head -1)
    curl -fsS -o "$tmp/heap.pb.gz" "http://127.0.0.1:$port/debug/pprof/heap"
    kill $pid; wait $pid 2>/dev/null || true
    go tool pprof -top -unit=B -sample_index=inuse_space "$tmp/heap.pb.gz" 2>/dev/null |
        awk -v truth=$((LEAK * 1048576)) '/flat%/{t=1; next} t{sub("B","",$1); printf "rank 1: %s, estimate %d B, truth %d B, error %+.1f%%\n", $6, $1, truth, 100*($1-truth)/truth; exit}'
done
