#!/bin/bash
# nginx with master_process on and 2 workers, the module preloaded: one
# address (the master's) shows the whole server. Proves:
#  - each worker (a fork that keeps running) starts its own instance and the
#    master lists it (/debug/pprof/processes) with its title as the role;
#  - under a bounded wrk load the tree's CPU profile from the master's address
#    has ngx_http_* functions in its top 10 (cumulative: their work is in syscalls) and a pid label per worker;
#  - ?pid=N serves one worker; a reload's new workers replace the old ones
#    in the list.
. "$(dirname "$0")/lib.sh"
need nginx wrk go curl python3
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (nginx master switches the workers' user)"; exit 77; }
port=$(free_port); ixport=$(free_port)
mkdir -p "$tmp/logs" "$tmp/temp" "$tmp/html"
chmod 777 "$tmp/temp"
echo hello > "$tmp/html/index.html"
chmod -R a+rX "$tmp/html"
cat > "$tmp/nginx.conf" << CONF
master_process on;
worker_processes 2;
daemon off;
user nobody nogroup;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $tmp/temp/body;
    proxy_temp_path $tmp/temp/proxy;
    fastcgi_temp_path $tmp/temp/fastcgi;
    uwsgi_temp_path $tmp/temp/uwsgi;
    scgi_temp_path $tmp/temp/scgi;
    server { listen 127.0.0.1:$port; root $tmp/html; }
}
CONF
base="http://127.0.0.1:$ixport"
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport timeout 120 nginx -p "$tmp" -c "$tmp/nginx.conf" \
    2> "$tmp/stderr" &
pids+=("$!")
wait_port "$port"
wait_http "$base/debug/vars"
master=$(cat "$tmp/nginx.pid")
pids+=("$master")
for _ in $(seq 100); do [ "$(pgrep -P "$master" | wc -l)" = 2 ] && break; sleep 0.1; done
workers=$(pgrep -P "$master" | sort | tr '\n' ' ')
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
timeout 20 env -u LD_PRELOAD nginx -p "$tmp" -c "$tmp/nginx.conf" -s reload || fail "nginx -s reload"
new=
for _ in $(seq 200); do
    new=$(pgrep -P "$master" | sort | tr '\n' ' ')
    got=$(listed) || true
    [ "$got " = "$new" ] && [ "$new" != "$workers" ] && break
    sleep 0.1
done
pids+=($new)
echo "after reload: workers $new, listed: $got"
[ "$got " = "$new" ] && [ "$new" != "$workers" ] || fail "after reload the list is '$got', the workers '$new'"
kill -QUIT "$master"
for _ in $(seq 100); do kill -0 "$master" 2> /dev/null || break; sleep 0.1; done
echo ok
