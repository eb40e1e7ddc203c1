#!/bin/bash
# pgbench -C (a backend forked per transaction) against PostgreSQL 15 started
# by tests/servers/test_server_postgres.sh, ROUNDS times per configuration:
#   none      no preload (IX_BASELINE=1)
#   module    LD_PRELOAD of BUILD/libintrospect.so
#   old       LD_PRELOAD of OLD_LIB (a build from before issue 14), when given;
#             the postmaster is started directly (that library has no INTROSPECT_PROGRAM)
# Each round is 3 runs of `pgbench -C -c4 -T5` bounded by `timeout 60` (exit
# 124 = hung; the round stops there). Prints every run's tps and the hangs.
# Usage: bench/servers/pgbench_c.sh BUILD [ROUNDS] [OLD_LIB]   (as root)
set -u
build=$1; rounds=${2:-3}; old=${3:-}
here=$(cd "$(dirname "$0")/../.." && pwd)
configs="none module"; [ -n "$old" ] && configs="$configs old"
for c in $configs; do
    runs=0; hangs=0; tps=()
    for r in $(seq "$rounds"); do
        case $c in
            none) out=$(IX_BASELINE=1 IX_BUILD_DIR=$build "$here/tests/servers/test_server_postgres.sh" 2>&1) ;;
            module) out=$(IX_BUILD_DIR=$build "$here/tests/servers/test_server_postgres.sh" 2>&1) ;;
            old) out=$(IX_DIRECT=1 IX_LIB=$old IX_BUILD_DIR=$build "$here/tests/servers/test_server_postgres.sh" 2>&1) ;;
        esac
        while read -r t; do tps+=("$t"); runs=$((runs + 1)); done < <(echo "$out" | sed -n 's/^run [0-9]: tps = \([0-9.]*\).*/\1/p')
        if echo "$out" | grep -q "exit 124"; then hangs=$((hangs + 1)); runs=$((runs + 1)); fi
        echo "$out" | grep -E "^FAIL" | sed "s/^/  [$c round $r] /"
    done
    med=$(printf '%s\n' "${tps[@]:-0}" | sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}')
    echo "$c: $runs runs, $hangs hung; tps (including reconnection) median $med: ${tps[*]:-}"
done
