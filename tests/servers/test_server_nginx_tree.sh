#!/bin/bash
# nginx with master_process on and 2 workers, the module preloaded: one
# address (the master's) shows the whole server. Proves:
#  - each worker (a fork that keeps running) starts its own instance and the
#    master lists it (/debug/pprof/processes) with its title as the role;
#  - under a bounded wrk load the tree's CPU profile from the master's address
#    has ngx_http_* functions in its top 10 (cumulative: their work is in syscalls) and a pid label per worker;
#  - ?pid=N serves one worker; a reload's new workers replace the old ones
#    in the list;
#  - a reload during a tree profile: the old workers, which exit inside the
#    window, contribute what they had (tree/spill.h), under their pids.
. "$(dirname "$0")/lib.sh"
need nginx wrk go curl python3
nginx_setup
nginx_start
workers=$(nginx_workers)
pids+=($workers)
# listed: the master and both workers, each worker with its title
listed() {
    curl -fsS "$base/debug/pprof/processes" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted(str(p["pid"]) for p in d["processes"] if not p["root"])))
roles = [p["role"] for p in d["processes"] if not p["root"]]
assert all(r.startswith("nginx: worker process") for r in roles), roles'
}
got=
for _ in $(seq 100); do
    got=$(listed) || fail "process list"
    [ "$got " = "$workers" ] && break
    sleep 0.1
done
echo "master $master, workers $workers, listed: $got"
[ "$got " = "$workers" ] || fail "the master lists '$got', the workers are '$workers'"

timeout 60 wrk -t2 -c20 -d8s "http://127.0.0.1:$port/" > "$tmp/wrk" &
wrk=$!
sleep 1
curl -fsS --max-time 40 -o "$tmp/tree.pb.gz" "$base/debug/pprof/profile?seconds=5" || fail "tree profile"
wait "$wrk" || fail "wrk"
grep -E "Requests/sec" "$tmp/wrk"
go tool pprof -top -cum "$tmp/tree.pb.gz" > "$tmp/top" 2>&1 || { cat "$tmp/top"; fail "pprof -top"; }
sed -n "/flat%/,\$p" "$tmp/top" | sed -n 1,14p
sed -n '/flat%/,$p' "$tmp/top" | sed -n 2,11p | grep ' ngx_http_' > /dev/null ||
    fail "no ngx_http_* function in the tree profile's top 10 (by cumulative time)"
go tool pprof -tags "$tmp/tree.pb.gz" > "$tmp/tags" 2>&1 || { cat "$tmp/tags"; fail "pprof -tags"; }
for w in $workers; do
    grep -qw "$w" "$tmp/tags" || { cat "$tmp/tags"; fail "no pid label $w in the tree profile"; }
    go tool pprof -top -tagfocus=pid="$w" "$tmp/tree.pb.gz" 2>&1 | grep 'ngx_' > /dev/null ||
        fail "worker $w's samples (tagfocus pid=$w) hold no ngx_* function"
done
grep -q "3 of 3 processes merged" <(go tool pprof -raw "$tmp/tree.pb.gz" 2>&1) || fail "not 3 processes merged"
# One worker alone.
w1=${workers%% *}
curl -fsS "$base/debug/pprof/cmdline?pid=$w1" | tr '\0' ' ' | grep "^nginx: worker process" > /dev/null ||
    fail "?pid=$w1 is not served by that worker"

# Reload: the old workers leave the list, the new ones join it.
nginx_reload
new=
for _ in $(seq 200); do
    new=$(nginx_workers)
    got=$(listed) || true
    [ "$got " = "$new" ] && [ "$new" != "$workers" ] && break
    sleep 0.1
done
pids+=($new)
echo "after reload: workers $new, listed: $got"
[ "$got " = "$new" ] && [ "$new" != "$workers" ] || fail "after reload the list is '$got', the workers '$new'"

# A reload during a tree profile: the old workers exit (exit(3), gracefully)
# inside the window; each leaves the profile it had, merged under its pid.
workers=$new
timeout 60 wrk -t2 -c20 -d7s "http://127.0.0.1:$port/" > "$tmp/wrk3" &
wrk=$!
sleep 1
( sleep 2; nginx_reload ) &
rl=$!
curl -fsS --max-time 40 -o "$tmp/reload.pb.gz" "$base/debug/pprof/profile?seconds=5" || fail "tree profile across a reload"
wait "$rl" || fail "reload during the profile"
wait "$wrk" || fail "wrk during the reload"
go tool pprof -raw "$tmp/reload.pb.gz" > "$tmp/raw" 2>&1 || { cat "$tmp/raw"; fail "pprof -raw"; }
grep '^Comment: introspect: pid' "$tmp/raw" || true
for w in $workers; do
    grep -E "pid $w \(.*\) exited during the window: the profile it wrote as it exited is merged" "$tmp/raw" > /dev/null ||
        fail "old worker $w's profile is not merged after it exited in the window"
    go tool pprof -top -tagfocus=pid="$w" "$tmp/reload.pb.gz" 2>&1 | grep 'ngx_' > /dev/null ||
        fail "old worker $w's samples (tagfocus pid=$w) hold no ngx_* function"
done
kill -QUIT "$master"
for _ in $(seq 100); do kill -0 "$master" 2> /dev/null || break; sleep 0.1; done
echo ok
