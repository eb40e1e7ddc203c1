#!/bin/bash
# Which program in a preload chain serves (src/host/program.h): the program a
# wrapper runs, not the wrapper. Each case starts a chain with LD_PRELOAD and
# INTROSPECT_ADDR on one free port and asks /debug/pprof/cmdline who answers.
set -euo pipefail
# Under a sanitizer its runtime would be preloaded into timeout, sh, python...
# (Debian's binaries deadlock at exit under ASan: tests/foundation/plain_sleep.c).
[ -z "${IX_SANITIZE:-}" ] || { echo "skipped: sanitizer build"; exit 77; }
# /usr/bin/python3 is the unknown wrapper (not a version manager's shim, itself a bash script).
[ -x /usr/bin/python3 ] || { echo "skipped: no /usr/bin/python3"; exit 77; }
lib="$IX_BUILD_DIR/libintrospect.so"
sleeper="$IX_BUILD_DIR/tests/plain_sleep"
tmp=$(mktemp -d); pids=()
# A process and its descendants, by PID (wrappers leave their child running).
tree() { local c; echo "$1"; for c in $(pgrep -P "$1" || true); do tree "$c"; done; }
stop_all() {
    local all=() p
    for p in "${pids[@]}"; do all+=($(tree "$p")); done
    for p in "${all[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}
cleanup() { stop_all; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# who PORT: the argv[0] basename of the process serving PORT ("" if none), retried for up to ~12 s.
who() {
    local port=$1 out
    for _ in $(seq 120); do
        out=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/debug/pprof/cmdline" 2>/dev/null | tr '\0' '\n' | head -1) || true
        if [ -n "$out" ]; then basename "$out"; return; fi
        sleep 0.1
    done
}
expect() { # expect PORT NAME WHAT
    local got; got=$(who "$1")
    echo "$3: served by '${got}'"
    [ "$got" = "$2" ] || { echo "FAIL: $3: expected $2"; cat "$tmp"/err* 2>/dev/null | head -20; exit 1; }
}

# 1. timeout stays alive as the server's parent: the server serves.
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port timeout 60 "$sleeper" 60 2> "$tmp/err1" & pids+=($!)
expect "$port" plain_sleep "timeout 60 server"
stop_all

# 2. sh -c 'server; echo': the shell waits as the parent.
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port sh -c "'$sleeper' 60; echo done" 2> "$tmp/err2" & pids+=($!)
expect "$port" plain_sleep "sh -c 'server; echo'"
stop_all

# 3. nice + env + setsid chain (exec wrappers).
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port nice env setsid "$sleeper" 60 2> "$tmp/err3" & pids+=($!)
expect "$port" plain_sleep "nice env setsid server"
stop_all

# 4. A wrapper the list does not know (python3) that stays alive: it takes the
#    port by default; INTROSPECT_PROGRAM names the server (glob), and it serves.
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port \
    /usr/bin/python3 -c "import subprocess; subprocess.run(['$sleeper', '60'])" 2> "$tmp/err4" & pids+=($!)
expect "$port" python3 "python3 wrapper, INTROSPECT_PROGRAM unset"
stop_all
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port INTROSPECT_PROGRAM='memcached, plain_*' \
    /usr/bin/python3 -c "import subprocess; subprocess.run(['$sleeper', '60'])" 2> "$tmp/err5" & pids+=($!)
expect "$port" plain_sleep "python3 wrapper, INTROSPECT_PROGRAM='memcached, plain_*'"
stop_all

# 5. A launcher that starts the server, holds the port a moment, then exits
#    (like pg_ctl start): the server's start keeps retrying and takes it over.
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port \
    /usr/bin/python3 -c "import subprocess, time; subprocess.Popen(['$sleeper', '60']); time.sleep(1.5)" \
    2> "$tmp/err6" &
launcher=$!
wait "$launcher"
sleeper_pid=$(pgrep -n -f "^$sleeper 60$" || true)
[ -n "$sleeper_pid" ] && pids+=("$sleeper_pid")
expect "$port" plain_sleep "launcher exits after 1.5 s"
stop_all

# 6. INTROSPECT_PROGRAM that matches nothing in the chain: nobody serves, silently.
port=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$port INTROSPECT_PROGRAM=nginx "$sleeper" 3 2> "$tmp/err7" & pids+=($!)
sleep 1
if curl -fsS --max-time 2 "http://127.0.0.1:$port/debug/vars" > /dev/null 2>&1; then
    echo "FAIL: a process that does not match INTROSPECT_PROGRAM serves"; exit 1
fi
[ ! -s "$tmp/err7" ] || { echo "FAIL: it printed:"; cat "$tmp/err7"; exit 1; }
stop_all
echo ok
