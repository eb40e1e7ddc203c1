#!/bin/bash
# PostgreSQL 15 with the module preloaded into the postmaster (pg_ctl, as
# user postgres): the backends (forks that keep running) start instances of
# their own, and the postmaster's one address shows them. Proves:
#  - under pgbench -c4 the backends are listed with their titles as roles
#    ("postgres: postgres postgres 127.0.0.1(...) ...");
#  - the tree's CPU profile from the postmaster's address has
#    exec_simple_query (or another query-path function) in its top 20 and a
#    pid label per busy backend;
#  - backends that exit inside a profile's window (pgbench stopped) contribute
#    what they had, query path included, under their pids (tree/spill.h);
#  - repeated pgbench -C runs (a backend per transaction: most exit before
#    their instance starts, some while it starts) never hang, and the list
#    is back to the long-lived processes afterwards.
. "$(dirname "$0")/lib.sh"
pg_setup go curl python3
pg_start LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport INTROSPECT_PROGRAM=postgres
echo "postmaster $pm, postgres port $pgport, module port $ixport"
wait_http "$base/debug/vars"
pgb -i -s 1 -q > "$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; fail "pgbench -i"; }
roles() { curl -fsS "$base/debug/pprof/processes" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    print(p["pid"], p["role"])'; }

pgb -c4 -T15 > "$tmp/load.log" 2>&1 &
load=$!
# Each backend starts its instance a moment after its fork: wait for the four
# (bounded as a watchdog: 30 s), not a fixed time (a loaded machine lags).
for _ in $(seq 60); do
    sleep 0.5
    roles > "$tmp/roles1"
    [ "$(grep -c 'postgres: postgres postgres 127.0.0.1' "$tmp/roles1")" -ge 4 ] && break
done
cat "$tmp/roles1"
[ "$(grep -c 'postgres: postgres postgres 127.0.0.1' "$tmp/roles1")" -ge 4 ] ||
    fail "the 4 pgbench backends are not listed"
t0=$(date +%s.%N)
curl -fsS --max-time 40 -o "$tmp/tree.pb.gz" "$base/debug/pprof/profile?seconds=5" || fail "tree profile"
echo "tree profile of 5 s answered in $(echo "$(date +%s.%N) - $t0" | bc) s"
wait "$load" || { cat "$tmp/load.log"; fail "pgbench -c4"; }
grep -E "tps = " "$tmp/load.log" | tail -1
go tool pprof -top -cum "$tmp/tree.pb.gz" > "$tmp/top" 2>&1 || { cat "$tmp/top"; fail "pprof -top"; }
sed -n '/flat%/,$p' "$tmp/top" | sed -n 1,22p
sed -n '/flat%/,$p' "$tmp/top" | sed -n 2,21p |
    grep -E ' (exec_simple_query|PostgresMain|exec_execute_message|standard_ExecutorRun|PortalRun)$' > /dev/null ||
    { go tool pprof -raw "$tmp/tree.pb.gz" 2>&1 | grep -E '^Comment: (samples|introspect|threads)'; fail "no query-path function in the tree profile's top 20"; }
go tool pprof -tags "$tmp/tree.pb.gz" > "$tmp/tags" 2>&1 || fail "pprof -tags"
busy=0
for b in $(grep 'postgres: postgres postgres 127.0.0.1' "$tmp/roles1" | cut -d' ' -f1); do
    grep -qw "$b" "$tmp/tags" && busy=$((busy + 1))
done
echo "backends with a pid label: $busy"
[ "$busy" -ge 4 ] || { cat "$tmp/tags"; fail "not every busy backend has a pid label"; }

# Backends that exit inside the window leave what they had: once the root
# lists pgbench's 4 backends, an 8 s tree profile starts; 3 s into it
# pgbench is stopped (SIGTERM through timeout), and each backend, seeing its
# client gone, ends through proc_exit (exit(3)) inside the window.
timeout 120 env -u LD_PRELOAD pgbench -h 127.0.0.1 -p "$pgport" -U postgres -n -c4 -T100 postgres \
    > "$tmp/load2.log" 2>&1 &
load=$! # timeout's pid: it passes SIGTERM on to pgbench
for _ in $(seq 300); do
    roles > "$tmp/roles3"
    [ "$(grep -c 'postgres: postgres postgres 127.0.0.1' "$tmp/roles3")" -ge 4 ] && break
    sleep 0.1
done
curl -fsS --max-time 60 -o "$tmp/exit.pb.gz" "$base/debug/pprof/profile?seconds=8" &
prof=$!
sleep 3
kill -TERM "$load"
wait "$load" || true
wait "$prof" || fail "tree profile while the backends exit"
go tool pprof -raw "$tmp/exit.pb.gz" > "$tmp/raw" 2>&1 || { cat "$tmp/raw"; fail "pprof -raw"; }
grep '^Comment: introspect: pid' "$tmp/raw" || true
left=0
for b in $(grep 'postgres: postgres postgres 127.0.0.1' "$tmp/roles3" | cut -d' ' -f1); do
    grep -E "pid $b \(.*\) exited during the window: the profile it wrote as it exited is merged" "$tmp/raw" > /dev/null || continue
    go tool pprof -top -tagfocus=pid="$b" "$tmp/exit.pb.gz" 2>&1 |
        grep -E ' (exec_simple_query|PostgresMain|exec_execute_message|standard_ExecutorRun|PortalRun)$' > /dev/null &&
        left=$((left + 1))
done
echo "backends that exited in the window with their query path merged: $left"
[ "$left" -ge 4 ] || { cat "$tmp/roles3" "$tmp/load2.log"; grep '^Comment' "$tmp/raw";
    fail "the 4 backends that exited in the window did not all contribute their profiles"; }

for run in 1 2 3; do
    ( sleep 1; curl -fsS -o /dev/null --max-time 30 "$base/debug/pprof/profile?seconds=2" ) &
    scr=$!
    set +e
    timeout 60 env -u LD_PRELOAD pgbench -h 127.0.0.1 -p "$pgport" -U postgres -C -c4 -T4 postgres > "$tmp/run$run.log" 2>&1
    rc=$?
    set -e
    wait "$scr" || fail "tree profile during pgbench -C run $run"
    [ $rc = 0 ] || { tail -20 "$tmp/run$run.log"; tail -20 "$tmp/server.log"; fail "pgbench -C run $run: exit $rc (124 = hung)"; }
    echo "run $run: $(grep 'tps =' "$tmp/run$run.log" | tail -1)"
done
sleep 1
roles > "$tmp/roles2"
n=$(grep -c 'postgres: postgres postgres' "$tmp/roles2" || true)
echo "backends listed after the -C runs: $n"
[ "$n" = 0 ] || { cat "$tmp/roles2"; fail "exited backends are still listed"; }
pg_stop_fast
refused "$ixport" || fail "the module's port $ixport still accepts after the shutdown"
echo ok
