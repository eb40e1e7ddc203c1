#!/bin/bash
# nginx with master_process on and 2 workers, the module preloaded into the
# master (daemon off: the master is the process we start). Proves:
#  - the master's signal handlers run on its own thread: nginx logs pid#tid,
#    and every "signal N (...) received" line has tid == pid;
#  - `nginx -s reload` works: both workers are replaced (new PIDs);
#  - the workers (forks) keep nothing of the master's module: once the
#    master is SIGKILLed, the module's port refuses connections while the
#    orphaned workers (each with an instance of its own) still live (they
#    are then killed by PID).
. "$(dirname "$0")/lib.sh"
need nginx wrk
nginx_setup
workers() { pgrep -P "$1" | sort | tr '\n' ' '; }
nginx_start
srv=$(curl -fsS "$base/debug/pprof/cmdline" | tr '\0' ' ')
case "$srv" in "nginx: master process"*) ;; *) fail "the module is served by '$srv', not the master";; esac
old=$(workers "$master")
echo "master $master, workers $old, nginx port $port, module port $ixport"
timeout 30 wrk -t2 -c8 -d3s "http://127.0.0.1:$port/" > "$tmp/wrk1" || fail "wrk"
grep -E "Requests/sec" "$tmp/wrk1"

# Reload: the master's SIGHUP handler runs (on its thread) and replaces the workers.
nginx_reload
new=
for _ in $(seq 200); do
    new=$(workers "$master")
    if [ "$(echo $new | wc -w)" = 2 ]; then
        overlap=$(comm -12 <(echo $old | tr ' ' '\n' | sort) <(echo $new | tr ' ' '\n' | sort) | wc -l)
        [ "$overlap" = 0 ] && break
    fi
    sleep 0.1
done
echo "after reload: workers $new"
[ "$(echo $new | wc -w)" = 2 ] && [ "$overlap" = 0 ] || fail "reload did not replace the workers ($old -> $new)"
timeout 30 wrk -t2 -c8 -d2s "http://127.0.0.1:$port/" > "$tmp/wrk2" || fail "wrk after reload"
curl -fsS -o /dev/null "http://127.0.0.1:$ixport/debug/pprof/threads?debug=2" || fail "thread dump of the master"
grep -q "signal 1 (SIGHUP) received" "$tmp/logs/error.log" || { cat "$tmp/logs/error.log"; fail "no SIGHUP logged"; }
# "2026/.. [notice] PID#TID: signal N (NAME) received from ...": handlers on the master's main thread.
off=$(grep -E "signal [0-9]+ \(SIG[A-Z]+\) received" "$tmp/logs/error.log" |
      sed -E 's/.*\] ([0-9]+)#([0-9]+): .*/\1 \2/' | awk '$1 == '"$master"' && $1 != $2' | wc -l)
echo "master's signal handler runs logged off its main thread: $off"
[ "$off" = 0 ] || { grep "received" "$tmp/logs/error.log"; fail "a signal handler ran on another thread"; }
# The workers are forks of the master: each runs an instance of its own
# (tests/servers/test_server_nginx_tree.sh), on its own loopback port, listed
# by the master; none keeps the master's listener (checked below).
listed=$(curl -fsS "http://127.0.0.1:$ixport/debug/pprof/processes")
for w in $new; do
    echo "$listed" | grep "\"pid\":$w," > /dev/null || fail "worker $w is not in the master's process list"
done

# SIGKILL the master: the orphaned workers live on, the module's port is closed.
kill -9 "$master"
for _ in $(seq 50); do kill -0 "$master" 2> /dev/null || break; sleep 0.1; done
alive=0
for w in $new; do kill -0 "$w" 2> /dev/null && alive=$((alive + 1)); done
echo "master killed; workers alive: $alive"
[ "$alive" -ge 1 ] || fail "no orphaned worker left to check against"
refused "$ixport" || fail "the module's port $ixport still accepts while the workers live"
for w in $new; do kill -9 "$w" 2> /dev/null || true; done
echo ok
