#!/bin/bash
# PostgreSQL 15 with the module preloaded, started the way people do: as user
# postgres through runuser and pg_ctl (two wrappers; INTROSPECT_PROGRAM=postgres
# names the server). The postmaster serves the module's port after pg_ctl
# exits; pgbench -C (a new backend per transaction: a fork and a SIGCHLD for
# each) runs 3 times without a hang; a fast shutdown finishes; the port is
# then closed. Every step is bounded by timeout.
. "$(dirname "$0")/lib.sh"
PGBIN=/usr/lib/postgresql/15/bin
need "$PGBIN/postgres" "$PGBIN/initdb" "$PGBIN/pg_ctl" pgbench runuser
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (runuser -u postgres)"; exit 77; }
id postgres > /dev/null 2>&1 || { echo "skipped: no postgres user"; exit 77; }
as_pg() { runuser -u postgres -- "$@"; }
mkdir "$tmp/sock" && chown -R postgres "$tmp"
pgport=$(free_port); ixport=$(free_port)
on_exit_extra() { # a postmaster left behind: immediate stop, then by PID
    [ -f "$tmp/data/postmaster.pid" ] || return 0
    local pm; pm=$(head -1 "$tmp/data/postmaster.pid")
    timeout 20 runuser -u postgres -- "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w -t 15 stop > /dev/null 2>&1 ||
        kill -9 "$pm" 2> /dev/null || true
}
timeout 120 runuser -u postgres -- "$PGBIN/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --no-sync \
    > "$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log"; fail "initdb"; }

# IX_BASELINE=1 (bench/README.md): the same runs without the module.
preload=(LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport INTROSPECT_PROGRAM=postgres)
[ -z "${IX_BASELINE:-}" ] || preload=(IX_BASELINE=1)
pgopts="-p $pgport -k $tmp/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
if [ -z "${IX_DIRECT:-}" ]; then
    timeout 90 runuser -u postgres -- env "${preload[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" \
        -w -t 60 -o "$pgopts" start > "$tmp/pg_ctl.log" 2>&1 || { cat "$tmp/pg_ctl.log" "$tmp/server.log"; fail "pg_ctl start"; }
else # IX_DIRECT=1: the postmaster without pg_ctl (for a library from before INTROSPECT_PROGRAM)
    runuser -u postgres -- env "${preload[@]}" "$PGBIN/postgres" -D "$tmp/data" $pgopts > "$tmp/server.log" 2>&1 &
    for _ in $(seq 300); do
        [ "$(sed -n 8p "$tmp/data/postmaster.pid" 2> /dev/null | tr -d ' ')" = ready ] && break
        sleep 0.1
    done
fi
pm=$(head -1 "$tmp/data/postmaster.pid")
echo "postmaster $pm, postgres port $pgport, module port $ixport"
if [ -n "${IX_BASELINE:-}" ]; then scrape=false; else scrape=true; fi
$scrape || ixport=
[ -z "$ixport" ] || {
wait_http "http://127.0.0.1:$ixport/debug/vars"
# The postmaster itself serves (pg_ctl, runuser and sh did not keep the port).
srv=$(curl -fsS "http://127.0.0.1:$ixport/debug/vars" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["cmdline"][0])')
[ "$(basename "$srv")" = postgres ] || fail "the module is served by $srv, not the postmaster"
grep -q "serving http://127.0.0.1:$ixport/debug/pprof/ (pid $pm)" "$tmp/server.log" ||
    { cat "$tmp/server.log"; fail "the postmaster ($pm) did not announce the module"; }
[ -n "${IX_LIB:-}" ] || [ "$(module_threads "$pm")" -ge 2 ] || fail "no introspect-* threads in the postmaster"
}

pgb() { timeout 120 env -u LD_PRELOAD pgbench -h 127.0.0.1 -p "$pgport" -U postgres "$@" postgres; }
pgb -i -s 1 -q > "$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; fail "pgbench -i"; }
for run in 1 2 3; do
    # The module is busy meanwhile: a thread dump and a heap profile of the postmaster.
    ( $scrape || exit 0; sleep 2; curl -fsS -o /dev/null --max-time 20 "http://127.0.0.1:$ixport/debug/pprof/threads?debug=2";
      curl -fsS -o /dev/null --max-time 20 "http://127.0.0.1:$ixport/debug/pprof/heap" ) &
    scr=$!
    set +e
    timeout 60 env -u LD_PRELOAD pgbench -h 127.0.0.1 -p "$pgport" -U postgres -C -c4 -T5 postgres > "$tmp/run$run.log" 2>&1
    rc=$?
    set -e
    wait "$scr" || fail "scrape during run $run"
    [ $rc = 0 ] || { tail -20 "$tmp/run$run.log"; tail -20 "$tmp/server.log"; fail "pgbench -C run $run: exit $rc (124 = hung)"; }
    echo "run $run: $(grep -E 'tps = .*without initial' "$tmp/run$run.log" || grep 'tps =' "$tmp/run$run.log" | tail -1)"
done
! $scrape || wait_http "http://127.0.0.1:$ixport/debug/vars" 20
timeout 40 runuser -u postgres -- "$PGBIN/pg_ctl" -D "$tmp/data" -m fast -w -t 30 stop > "$tmp/stop.log" 2>&1 ||
    { cat "$tmp/stop.log"; tail -20 "$tmp/server.log"; fail "pg_ctl stop -m fast did not finish"; }
state=$(awk '{print $3}' /proc/"$pm"/stat 2> /dev/null || echo gone)
[ "$state" = gone ] || [ "$state" = Z ] || fail "the postmaster $pm still runs ($state) after a fast shutdown"
! $scrape || refused "$ixport" || fail "the module's port $ixport still accepts after the shutdown"
echo ok
