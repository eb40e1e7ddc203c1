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

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_http URL [tries]: until the URL answers 2xx (0.1 s steps).
wait_http() {
    local i
    for i in $(seq "${2:-300}"); do
        curl -fsS --max-time 2 -o /dev/null "$1" 2> /dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: $1 never answered"; return 1
}
# wait_port PORT: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local i
    for i in $(seq 300); do
        (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: nothing listens on port $1"; return 1
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
