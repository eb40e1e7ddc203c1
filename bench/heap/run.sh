#!/bin/bash
# bench/heap: overhead and accuracy of the heap sampler on a malloc-bound
# workload, next to tcmalloc sampling, jemalloc prof and heaptrack.
# Usage: bench/heap/run.sh [build-dir]   (env: ITERS, LEAK_MIB, RUNS)
# Prints the rows of the heap tables of bench/README.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:-$here/../../build}" && pwd)
LIB=$B/libintrospect.so
TC=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4
JE=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
ITERS=${ITERS:-20000000}
LEAK=${LEAK_MIB:-256}
RUNS=${RUNS:-5}
BIN=$B/bench/bench_heap # built by cmake (bench/CMakeLists.txt)
[ -x "$BIN" ] || { echo "build first: cmake --build $B"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The machine is shared: each figure is the least thread CPU time over RUNS
# runs (the run least disturbed by other processes), with the runs of all
# configurations interleaved so load changes hit them alike. Timing runs leak
# nothing (page faults of a leak are noise); the accuracy runs below leak.
declare -A ENVS ITER T
add() { ENVS[$1]=$2; ITER[$1]=$3; }
small=$((ITERS / 10))
add glibc "X=1" "$ITERS"
add loaded "LD_PRELOAD=$LIB" "$ITERS"
add off "LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0" "$ITERS"
add s512 "LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288" "$ITERS"
add s512dwarf "LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288 INTROSPECT_HEAP_UNWIND=dwarf" "$ITERS"
add tc "LD_PRELOAD=$TC" "$ITERS"
add tcs "LD_PRELOAD=$TC TCMALLOC_SAMPLE_PARAMETER=524288" "$ITERS"
add tcix "LD_PRELOAD=$TC:$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288" "$ITERS"
add je "LD_PRELOAD=$JE" "$ITERS"
add jep "LD_PRELOAD=$JE MALLOC_CONF=prof:true,lg_prof_sample:19" "$ITERS"
add ixje0 "LD_PRELOAD=$LIB:$JE INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0" "$ITERS"
add ixje "LD_PRELOAD=$LIB:$JE INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288" "$ITERS"
add glibc_small "X=1" "$small"
add off_small "LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0" "$small"
add rate1_small "LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=1" "$small"
add rate1dwarf_small "LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=1 INTROSPECT_HEAP_UNWIND=dwarf" "$small"
for _ in $(seq "$RUNS"); do
    for k in "${!ENVS[@]}"; do
        env ${ENVS[$k]} "$BIN" churn "${ITER[$k]}" 0 0 2>/dev/null | awk '/^cpu /{print $2}' >> "$tmp/t.$k"
    done
done
for k in "${!ENVS[@]}"; do T[$k]=$(sort -g "$tmp/t.$k" | head -1); done

# heaptrack records in a second process: compare total CPU (user + sys of
# every process) with glibc's, both measured by bash's time.
total_cpu() { local TIMEFORMAT='%U %S'; { time "$@" > /dev/null 2>&1; } 2>&1 | awk '{print $1 + $2}'; }
for _ in $(seq "$RUNS"); do
    total_cpu "$BIN" churn "$small" 0 0 >> "$tmp/tc.glibc"
    command -v heaptrack > /dev/null && total_cpu heaptrack -o "$tmp/ht" "$BIN" churn "$small" 0 0 >> "$tmp/tc.heaptrack"
    rm -f "$tmp"/ht*
done
T[tc_glibc]=$(sort -g "$tmp/tc.glibc" | head -1)
[ -s "$tmp/tc.heaptrack" ] && T[tc_heaptrack]=$(sort -g "$tmp/tc.heaptrack" | head -1)

ratio() { python3 -c "print('%.3f' % ($1 / $2))"; }
echo "| configuration (malloc-bound churn, $ITERS malloc+free pairs) | best thread CPU s | ratio to glibc | ratio to its own allocator |"
echo "|---|---|---|---|"
row() { echo "| $1 | ${T[$2]} | $(ratio ${T[$2]} ${T[glibc]}) | ${3:+$(ratio ${T[$2]} ${T[$3]})} |"; }
row "glibc malloc, no profiler" glibc glibc
row "+ libintrospect preloaded, not started (interposer counting only)" loaded
row "+ introspect started, heap sampling off (rate 0)" off
row "+ introspect heap sampling at 512 KiB (frame-pointer stacks)" s512
row "+ introspect heap sampling at 512 KiB, INTROSPECT_HEAP_UNWIND=dwarf" s512dwarf
row "tcmalloc, no profiler" tc tc
row "tcmalloc sampling (TCMALLOC_SAMPLE_PARAMETER=524288)" tcs tc
row "tcmalloc first + introspect via MallocHook at 512 KiB" tcix tc
row "jemalloc, no profiler" je je
row "jemalloc prof:true, lg_prof_sample:19 (512 KiB)" jep je
row "introspect first, forwarding to jemalloc, sampling off" ixje0 je
row "introspect first, forwarding to jemalloc, 512 KiB" ixje je
echo "| glibc, 1/10 of the iterations | ${T[glibc_small]} | 1.000 | |"
echo "| introspect rate 1 (every allocation sampled), 1/10 | ${T[rate1_small]} | $(ratio ${T[rate1_small]} ${T[glibc_small]}) | |"
echo "| introspect rate 1, DWARF stacks, 1/10 | ${T[rate1dwarf_small]} | $(ratio ${T[rate1dwarf_small]} ${T[glibc_small]}) | |"
[ -n "${T[tc_heaptrack]:-}" ] && echo "| heaptrack, 1/10 (total CPU of all processes vs glibc's ${T[tc_glibc]} s) | ${T[tc_heaptrack]} | $(ratio ${T[tc_heaptrack]} ${T[tc_glibc]}) | |"
python3 -c "
print('cost per sampled allocation, frame pointers (rate 1 vs rate 0, incl. its sampled free): %.0f ns' % ((${T[rate1_small]} - ${T[off_small]}) / $small * 1e9))
print('cost per sampled allocation, DWARF: %.0f ns' % ((${T[rate1dwarf_small]} - ${T[off_small]}) / $small * 1e9))
print('glibc churn: %.1f ns per malloc+free pair' % (${T[glibc]} / $ITERS * 1e9))"
echo
echo "free cost (1M blocks of 64 B; best of 5):"
for cfg in "glibc:" "loaded:LD_PRELOAD=$LIB" "rate0:LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=0" \
           "rate512k:LD_PRELOAD=$LIB INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_HEAP_RATE=524288"; do
    name=${cfg%%:*}; envs=${cfg#*:}
    for _ in 1 2 3; do env $envs "$BIN" free 1000000 64 2>/dev/null; done | sort -t' ' -k4 -g | head -1 | sed "s/^/$name: /"
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
