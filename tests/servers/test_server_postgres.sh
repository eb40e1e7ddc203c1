#!/bin/bash
# PostgreSQL 15 with the module preloaded, started the way people do: as user
# postgres through runuser and pg_ctl (two wrappers; INTROSPECT_PROGRAM=postgres
# names the server). The postmaster serves the module's port after pg_ctl
# exits; pgbench -C (a new backend per transaction: a fork and a SIGCHLD for
# each) runs 3 times without a hang; a fast shutdown finishes; the port is
# then closed. Every step is bounded by timeout.
. "$(dirname "$0")/lib.sh"
pg_setup
# IX_BASELINE=1 (bench/README.md): the same runs without the module.
preload=(LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport INTROSPECT_PROGRAM=postgres)
[ -z "${IX_BASELINE:-}" ] || preload=(IX_BASELINE=1)
pg_start "${preload[@]}"
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
pg_stop_fast
state=$(awk '{print $3}' /proc/"$pm"/stat 2> /dev/null || echo gone)
[ "$state" = gone ] || [ "$state" = Z ] || fail "the postmaster $pm still runs ($state) after a fast shutdown"
! $scrape || refused "$ixport" || fail "the module's port $ixport still accepts after the shutdown"
echo ok
