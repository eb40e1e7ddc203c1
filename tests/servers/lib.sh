# Shared by the real-server tests (sourced): skip rules, a private copy of
# the library every user can read, free loopback ports, waiting, and
# stopping processes by PID.
set -euo pipefail

# LD_PRELOAD into Debian's binaries cannot work under ASan/TSan (the runtime
# must come first and the binaries are not instrumented): skip, as the other
# preload tests do.
if [ -n "${IX_SANITIZE:-}" ]; then echo "skipped: sanitizer build"; exit 77; fi
need() { for b in "$@"; do command -v "$b" > /dev/null 2>&1 || [ -x "$b" ] ||
    { echo "skipped: $b not installed (scripts/deps.sh test)"; exit 77; }; done; }

tmp=$(mktemp -d /tmp/ix-server.XXXXXX)
chmod 755 "$tmp"
# A copy the server's own user can read (the build tree may not be).
# IX_LIB: another build of the library (bench/servers/pgbench_c.sh compares).
install -m 755 "${IX_LIB:-$IX_BUILD_DIR/libintrospect.so}" "$tmp/libintrospect.so"
lib="$tmp/libintrospect.so"
pids=()
on_exit_extra() { :; }
cleanup() {
    on_exit_extra || true
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# free_port: a loopback port free now and not handed out before in this test
# (two closed probes may get the same port: a server and its module would
# then race for it).
free_port() {
    /usr/bin/python3 - "$tmp/ports" << 'PY'
import os, socket, sys
used = set(open(sys.argv[1]).read().split()) if os.path.exists(sys.argv[1]) else set()
while True:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = str(s.getsockname()[1])
    s.close()
    if port not in used:
        break
with open(sys.argv[1], "a") as f:
    f.write(port + "\n")
print(port)
PY
}
# What a server that did not come up was doing, for the CI log: the end of
# its log, then each thread's name, state and kernel wait, and every thread's
# stack (eu-stack, or gdb). The starters set watch=(process-name log-file).
watch=()
stuck() {
    [ ${#watch[@]} -eq 2 ] || return 0
    echo "--- the end of ${watch[1]}:"
    tail -n 30 "${watch[1]}" 2> /dev/null || true
    local p t
    for p in $(pgrep -x "${watch[0]}" || true); do
        echo "--- ${watch[0]} $p: $(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null)"
        for t in /proc/"$p"/task/*; do
            echo "  $(cat "$t/comm" 2> /dev/null) $(grep '^State' "$t/status" 2> /dev/null) $(cat "$t/wchan" 2> /dev/null)"
        done
        if command -v eu-stack > /dev/null; then
            timeout 30 eu-stack -p "$p" 2>&1 | head -n 300 || true
        elif command -v gdb > /dev/null; then
            timeout 60 gdb -batch -p "$p" -ex 'thread apply all bt' 2>&1 | grep -E '^(#|Thread)' | head -n 300 || true
        fi
    done
}
# wait_http URL [tries]: until the URL answers 2xx (0.1 s steps).
wait_http() {
    local i
    for i in $(seq "${2:-300}"); do
        curl -fsS --max-time 2 -o /dev/null "$1" 2> /dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: $1 never answered"; stuck; return 1
}
# wait_port PORT: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local i
    for i in $(seq 300); do
        (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: nothing listens on port $1"; stuck; return 1
}
# refused PORT: 0 when a connection to 127.0.0.1:PORT is refused.
refused() {
    /usr/bin/python3 - "$1" << 'PY'
import socket, sys
s = socket.socket(); s.settimeout(3)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except ConnectionRefusedError:
    sys.exit(0)
except OSError as e:
    print("connect:", e); sys.exit(1)
print("connection accepted"); sys.exit(1)
PY
}
# The module's threads of PID (names): every one not the host's is introspect-*.
module_threads() { cat /proc/"$1"/task/*/comm 2> /dev/null | grep -c '^introspect' || true; }
fail() { echo "FAIL: $*"; exit 1; }

# ---- nginx (test_server_nginx*.sh): master_process on, 2 workers, daemon off ----
# redis_start LOG [VAR=VALUE...]: redis-server as user redis on new ports
# (port, ixport), the module preloaded with the given environment, output to
# $tmp/LOG; waits for redis and the module; sets rs to its pid.
redis_start() {
    local log=$1
    shift
    port=$(free_port); ixport=$(free_port)
    timeout 120 runuser -u redis -- env LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport "$@" \
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" \
        --daemonize no > "$tmp/$log" 2>&1 &
    pids+=($!)
    watch=(redis-server "$tmp/$log")
    wait_port "$port"
    wait_http "http://127.0.0.1:$ixport/debug/vars"
    rs=$(pgrep -x redis-server -u redis -n || true)
    [ -n "$rs" ] || fail "no redis-server process ($log)"
    pids+=("$rs")
}
# nginx_setup: ports (port, ixport, base) and a config in $tmp; needs root
# (the master switches its workers' user to nobody).
nginx_setup() {
    [ "$(id -u)" = 0 ] || { echo "skipped: needs root (nginx master switches the workers' user)"; exit 77; }
    port=$(free_port); ixport=$(free_port)
    base="http://127.0.0.1:$ixport"
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
}
# nginx_start: the module preloaded into the master (INTROSPECT_ADDR=ixport);
# waits for nginx and the module, then for both workers; sets master.
nginx_start() {
    LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport timeout 120 nginx -p "$tmp" -c "$tmp/nginx.conf" \
        2> "$tmp/stderr" &
    pids+=("$!")
    watch=(nginx "$tmp/stderr")
    wait_port "$port"
    wait_http "$base/debug/vars"
    master=$(cat "$tmp/nginx.pid")
    pids+=("$master")
    local _
    for _ in $(seq 100); do [ "$(pgrep -P "$master" | wc -l)" = 2 ] && break; sleep 0.1; done
}
# nginx_workers: the master's children, sorted, each followed by a space.
nginx_workers() { pgrep -P "$master" | sort | tr '\n' ' '; }
nginx_reload() {
    timeout 20 env -u LD_PRELOAD nginx -p "$tmp" -c "$tmp/nginx.conf" -s reload || fail "nginx -s reload"
}

# ---- PostgreSQL 15 (test_server_postgres*.sh), as user postgres ----
PGBIN=/usr/lib/postgresql/15/bin
# pg_setup [tools...]: skip rules, ports (pgport, ixport, base), an initdb'ed
# cluster in $tmp/data, and a cleanup that stops a postmaster left behind.
pg_setup() {
    need "$PGBIN/postgres" "$PGBIN/initdb" "$PGBIN/pg_ctl" pgbench runuser "$@"
    [ "$(id -u)" = 0 ] || { echo "skipped: needs root (runuser -u postgres)"; exit 77; }
    id postgres > /dev/null 2>&1 || { echo "skipped: no postgres user"; exit 77; }
    mkdir "$tmp/sock" && chown -R postgres "$tmp"
    pgport=$(free_port); ixport=$(free_port)
    base="http://127.0.0.1:$ixport"
    on_exit_extra() { # a postmaster left behind: immediate stop, then by PID
        [ -f "$tmp/data/postmaster.pid" ] || return 0
        local pm; pm=$(sed -n 1p "$tmp/data/postmaster.pid")
        timeout 20 runuser -u postgres -- "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w -t 15 stop > /dev/null 2>&1 ||
            kill -9 "$pm" 2> /dev/null || true
    }
    pgopts="-p $pgport -k $tmp/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40"
    timeout 120 runuser -u postgres -- "$PGBIN/initdb" -D "$tmp/data" -U postgres --auth=trust -E UTF8 --no-sync \
        > "$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log"; fail "initdb"; }
}
# pg_start VAR=VALUE...: the postmaster with that environment (the preload),
# through runuser and pg_ctl as people start it; IX_DIRECT=1: postgres
# itself (for a library from before INTROSPECT_PROGRAM). Sets pm.
pg_start() {
    watch=(postgres "$tmp/server.log")
    if [ -z "${IX_DIRECT:-}" ]; then
        timeout 90 runuser -u postgres -- env "$@" "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" \
            -w -t 60 -o "$pgopts" start > "$tmp/pg_ctl.log" 2>&1 ||
            { cat "$tmp/pg_ctl.log"; stuck; fail "pg_ctl start"; }
    else
        runuser -u postgres -- env "$@" "$PGBIN/postgres" -D "$tmp/data" $pgopts > "$tmp/server.log" 2>&1 &
        local _
        for _ in $(seq 300); do
            [ "$(sed -n 8p "$tmp/data/postmaster.pid" 2> /dev/null | tr -d ' ')" = ready ] && break
            sleep 0.1
        done
    fi
    pm=$(sed -n 1p "$tmp/data/postmaster.pid")
}
pgb() { timeout 120 env -u LD_PRELOAD pgbench -h 127.0.0.1 -p "$pgport" -U postgres "$@" postgres; }
pg_stop_fast() {
    timeout 40 runuser -u postgres -- "$PGBIN/pg_ctl" -D "$tmp/data" -m fast -w -t 30 stop > "$tmp/stop.log" 2>&1 ||
        { cat "$tmp/stop.log"; watch=(postgres "$tmp/server.log"); stuck; fail "pg_ctl stop -m fast did not finish"; }
}
