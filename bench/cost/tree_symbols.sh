#!/bin/bash
# The CPU a merged CPU profile of a pre-forking server costs each of its
# processes, its first one (cold caches): Debian's nginx with W workers
# (default 4), the module preloaded into the master. For each run a fresh
# nginx; the CPU time of every thread of the master and of each worker (sum
# of /proc/PID/task/*/schedstat's first field, ns on a CPU) is read just
# before and just after one `/debug/pprof/profile?seconds=2` from the
# master's address, during which a fixed N requests (default 0; 4 curl
# clients, keep-alive) are served, so the workers have stacks to name; the
# differences are printed in ms, with the objects each process parsed
# (introspect_symbol_objects_parsed_total, when the library has it). Run as
# root (nginx switches its workers' user). IX_LIB picks the library.
#
#   IX_BUILD_DIR=build bench/cost/tree_symbols.sh [RUNS] [W] [N]
#   IX_BUILD_DIR=build IX_LIB=OLD/libintrospect.so bench/cost/tree_symbols.sh 5 4 2000
set -euo pipefail
IX_BUILD_DIR=${IX_BUILD_DIR:-build}
export IX_BUILD_DIR
. "$(dirname "$0")/../../tests/servers/lib.sh"
need nginx curl
runs=${1:-3}
W=${2:-4}
N=${3:-0}
parsed() { # objects a process parsed, or ? when the library does not count them
    curl -fsS "$base/metrics?pid=$1" | awk '$1 == "introspect_symbol_objects_parsed_total" {print $2; f=1} END {if (!f) print "?"}'
}
load() { # N requests from 4 keep-alive clients
    local i c=()
    for i in 1 2 3 4; do
        (for _ in $(seq $((N / 4))); do echo "url = \"http://127.0.0.1:$port/\""; echo "output = /dev/null"; done |
            curl -sS -K - > /dev/null) &
        c+=($!)
    done
    wait "${c[@]}"
}
cpu_ns() { # all threads of pid
    local t s=0
    for t in /proc/"$1"/task/*/schedstat; do s=$((s + $(cut -d' ' -f1 "$t"))); done
    echo "$s"
}
for r in $(seq "$runs"); do
    nginx_setup
    sed -i "s/worker_processes 2;/worker_processes $W;/" "$tmp/nginx.conf"
    nginx_start
    for _ in $(seq 100); do [ "$(pgrep -P "$master" | wc -l)" = "$W" ] && break; sleep 0.1; done
    workers=$(nginx_workers)
    pids+=($workers)
    for _ in $(seq 100); do
        n=$(curl -fsS "$base/debug/pprof/processes" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["processes"]))')
        [ "$n" = $((W + 1)) ] && break
        sleep 0.1
    done
    declare -A before=()
    for p in $master $workers; do before[$p]=$(cpu_ns "$p"); done
    t0=$(date +%s%N)
    curl -fsS --max-time 60 -o "$tmp/tree.pb.gz" "$base/debug/pprof/profile?seconds=2" &
    prof=$!
    sleep 0.2
    [ "$N" -gt 0 ] && load
    wait "$prof"
    t1=$(date +%s%N)
    line="run $r: request $(((t1 - t0) / 1000000)) ms wall; master $((($(cpu_ns "$master") - before[$master]) / 1000000)) ms CPU; workers"
    total=0
    for p in $workers; do
        d=$((($(cpu_ns "$p") - before[$p]) / 1000000))
        total=$((total + d))
        line="$line $d"
    done
    echo "$line ms (sum $total ms); objects parsed: master $(parsed "$master"), workers$(for p in $workers; do printf ' %s' "$(parsed "$p")"; done)"
    kill "$master"
    for _ in $(seq 100); do kill -0 "$master" 2> /dev/null || break; sleep 0.1; done
    unset before
done
