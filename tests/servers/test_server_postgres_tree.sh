#!/bin/bash
# PostgreSQL 15 with the module preloaded into the postmaster (pg_ctl, as
# user postgres): the backends (forks that keep running) start instances of
# their own, and the postmaster's one address shows them. Proves:
#  - under pgbench -c4 the backends are listed with their titles as roles
#    ("postgres: postgres postgres 127.0.0.1(...) ...");
#  - the tree's CPU profile from the postmaster's address has
#    exec_simple_query (or another query-path function) in its top 20 and a
#    pid label per busy backend;
#  - repeated pgbench -C runs (a backend per transaction: most exit before
#    their instance starts, some while it starts) never hang, and the list
#    is back to the long-lived processes afterwards.
. "$(dirname "$0")/lib.sh"
PGBIN=/usr/lib/postgresql/15/bin
need "$PGBIN/postgres" "$PGBIN/initdb" "$PGBIN/pg_ctl" pgbench runuser go curl python3
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (runuser -u postgres)"; exit 77; }
id postgres > /dev/null 2>&1 || { echo "skipped: no postgres user"; exit 77; }
mkdir "$tmp/sock" && chown -R postgres "$tmp"
pgport=$(free_port); ixport=$(free_port)
base="http://127.0.0.1:$ixport"
on_exit_extra() {
    [ -f "$tmp/data/postmaster.pid" ] || return 0
    local pm; pm=$(head -1 "$tmp/data/postmaster.pid")
    timeout 20 runuser -u postgres -- "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w -t 15 stop > /dev/null 2>&1 ||
        kill -9 "$pm" 2> /dev/null || true
}
timeout 120 runuser -u postgres -- "$PGBIN/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --no-sync \
    > "$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log"; fail "initdb"; }
pgopts="-p $pgport -k $tmp/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
timeout 90 runuser -u postgres -- env LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport \
    INTROSPECT_PROGRAM=postgres "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" \
    -w -t 60 -o "$pgopts" start > "$tmp/pg_ctl.log" 2>&1 || { cat "$tmp/pg_ctl.log" "$tmp/server.log"; fail "pg_ctl start"; }
pm=$(head -1 "$tmp/data/postmaster.pid")
echo "postmaster $pm, postgres port $pgport, module port $ixport"
wait_http "$base/debug/vars"
pgb() { timeout 120 env -u LD_PRELOAD pgbench -h 127.0.0.1 -p "$pgport" -U postgres "$@" postgres; }
pgb -i -s 1 -q > "$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; fail "pgbench -i"; }
roles() { curl -fsS "$base/debug/pprof/processes" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["processes"]:
    print(p["pid"], p["role"])'; }

pgb -c4 -T15 > "$tmp/load.log" 2>&1 &
load=$!
sleep 2
roles > "$tmp/roles1"
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
timeout 40 runuser -u postgres -- "$PGBIN/pg_ctl" -D "$tmp/data" -m fast -w -t 30 stop > "$tmp/stop.log" 2>&1 ||
    { cat "$tmp/stop.log"; tail -20 "$tmp/server.log"; fail "pg_ctl stop -m fast did not finish"; }
refused "$ixport" || fail "the module's port $ixport still accepts after the shutdown"
echo ok
