#!/bin/bash
# What a real server's first CPU profiles cost the module: Debian's
# redis-server as user redis, the module preloaded, under a bounded
# redis-benchmark load (4 clients, GET/SET) on loopback. For each run a
# fresh redis; the CPU of the module's threads (every thread named
# introspect-*: the HTTP workers that symbolize and encode, the profiler's
# drain; sum of /proc/PID/task/*/schedstat's first field) is read just before
# and just after each of four `/debug/pprof/profile?seconds=S`: profile 0
# with symbolize=0 (sampling, unwinding and encoding, nothing named: the
# baseline), profile 1 the first named one (cold: nothing parsed yet), 2 and
# 3 name new addresses only. The profile's size and the objects parsed so
# far are printed beside it.
#
#   IX_BUILD_DIR=build bench/cost/first_profile.sh [RUNS] [S]
#   IX_BUILD_DIR=build IX_LIB=OLD/libintrospect.so bench/cost/first_profile.sh 5 2
set -euo pipefail
IX_BUILD_DIR=${IX_BUILD_DIR:-build}
export IX_BUILD_DIR
. "$(dirname "$0")/../../tests/servers/lib.sh"
need redis-server redis-benchmark curl
runs=${1:-3}
S=${2:-2}
module_cpu_ns() { # threads named introspect-* of pid
    local t s=0
    for t in /proc/"$1"/task/*; do
        case "$(cat "$t/comm" 2> /dev/null)" in
        introspect*) s=$((s + $(cut -d' ' -f1 "$t/schedstat"))) ;;
        esac
    done
    echo "$s"
}
parsed() {
    curl -fsS "http://127.0.0.1:$ixport/metrics" |
        awk '$1 == "introspect_symbol_objects_parsed_total" {print $2; f=1} END {if (!f) print "?"}'
}
echo "run profile module_cpu_ms bytes objects_parsed_total"
for r in $(seq "$runs"); do
    redis_start "redis$r.log"
    redis-benchmark -p "$port" -c 4 -n 100000000 -t get,set -q > /dev/null 2>&1 &
    bench=$!
    pids+=($bench)
    sleep 1
    for k in 0 1 2 3; do
        a=$(module_cpu_ns "$rs")
        q="seconds=$S"
        [ "$k" = 0 ] && q="$q&symbolize=0"
        curl -fsS --max-time 60 -o "$tmp/p$k.pb.gz" "http://127.0.0.1:$ixport/debug/pprof/profile?$q"
        b=$(module_cpu_ns "$rs")
        echo "$r $k $(((b - a) / 1000000)) $(stat -c %s "$tmp/p$k.pb.gz") $(parsed)"
    done
    kill "$bench" 2> /dev/null || true
    wait "$bench" 2> /dev/null || true
    kill "$rs"
    for _ in $(seq 100); do kill -0 "$rs" 2> /dev/null || break; sleep 0.1; done
done
