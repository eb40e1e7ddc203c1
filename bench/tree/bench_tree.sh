#!/bin/bash
# Process trees (issue 16): the time of one request to the root of a 1-, 4- and
# 32-process tree (tests/tree/tree_server with idle workers), and the memory a
# child's instance costs. Usage: bench/tree/bench_tree.sh BUILD_DIR [RUNS]
# (IX_TREE_SIZES: workers per tree, default "0 3 31"; IX_TREE_QUERIES: the
# requests, default profile?seconds=1 heap goroutine trace?seconds=1; a trace's
# body size is printed too, e.g. "trace?seconds=1&format=perfetto")
set -euo pipefail
build=${1:?build dir}; runs=${2:-5}
srv=; tmp=$(mktemp -d)
cleanup() { [ -z "$srv" ] || { kill "$srv" 2> /dev/null; wait "$srv" 2> /dev/null; } || true; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
start() { # start N_WORKERS [env...]
    local n=$1; shift
    port=$(free_port)
    env "$@" INTROSPECT_ADDR=127.0.0.1:$port "$build/tests/tree_server" "$n" idle > "$tmp/srv.log" 2>&1 &
    srv=$!
    for _ in $(seq 300); do
        got=$(curl -fsS "http://127.0.0.1:$port/debug/pprof/processes?format=text" 2> /dev/null | tail -n +2 | wc -l || echo 0)
        [ "$got" -ge $((n + 1)) ] && return 0
        [ "$*" = "INTROSPECT_TREE=0" ] && [ "$got" -ge 1 ] && { sleep 1; return 0; }
        sleep 0.1
    done
    echo "tree of $((n + 1)) never listed"; exit 1
}
stop() { kill "$srv"; wait "$srv" 2> /dev/null || true; srv=; }
echo "| processes | request | median s | runs (s) |"
echo "|---|---|---|---|"
if [ -n "${IX_TREE_QUERIES:-}" ]; then read -ra queries <<< "$IX_TREE_QUERIES"
else queries=("profile?seconds=1" heap goroutine "trace?seconds=1"); fi
for n in ${IX_TREE_SIZES:-0 3 31}; do
    start "$n"
    for q in "${queries[@]}"; do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/debug/pprof/$q" # warm: symbol caches
        all=; sizes=
        for _ in $(seq "$runs"); do
            t=$(curl -fsS -o "$tmp/p" -w '%{time_total}' "http://127.0.0.1:$port/debug/pprof/$q")
            all="$all $t"
            case $q in
            trace*) grep -ao 'pid [0-9]* ([^"]*is missing[^"]*' "$tmp/p" | head -3 || true ;;
            *) go tool pprof -raw "$tmp/p" 2>&1 | grep -m3 "is missing" || true ;;
            esac
            case $q in trace*) sizes="$sizes $(stat -c %s "$tmp/p")" ;; esac
        done
        med=$(echo $all | tr ' ' '\n' | median)
        echo "| $((n + 1)) | $q | $med | $all |${sizes:+ bytes:$sizes}"
    done
    stop
done
# Memory of a child's instance: the workers' Pss (smaps_rollup) with and without it.
pss() { local s=0 p; for p in $(pgrep -P "$srv"); do
    s=$((s + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup))); done; echo "$s"; }
rss() { local s=0 p; for p in $(pgrep -P "$srv"); do
    s=$((s + $(awk '/^Rss:/ {print $2}' /proc/$p/smaps_rollup))); done; echo "$s"; }
for mode in on off; do
    if [ $mode = on ]; then start 8; else start 8 INTROSPECT_TREE=0; fi
    sleep 1
    echo "workers 8, instance $mode: Pss $(( $(pss) / 8 )) KiB, Rss $(( $(rss) / 8 )) KiB per worker"
    stop
done
