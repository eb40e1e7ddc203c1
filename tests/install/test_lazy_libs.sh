#!/bin/bash
# Issue 22: libmicrohttpd (and through it GnuTLS) and elfutils are dlopen'ed
# at first use, not linked. Proves:
#  1. the library's DT_NEEDED names none of them;
#  2. a preloaded process where the module does not start maps none of them;
#  3. starting the module on plain HTTP maps none of them either: the first
#     connection maps libmicrohttpd (serving works), the first symbolized
#     answer maps libdw (names and lines come back);
#  4. a libmicrohttpd without the needed symbols: the module starts, the
#     first request gets a 503 with the reason, stderr one line, and the
#     process lives on;
#  5. a libdw without the needed symbols: one note, stacks as addresses only.
set -euo pipefail
# Sanitizer builds link elfutils (CMakeLists.txt: LeakSanitizer and dlopen).
[ -z "${IX_SANITIZE:-}" ] || { echo "skipped: sanitizer builds link elfutils"; exit 77; }
lib="$IX_BUILD_DIR/libintrospect.so"
pre="${IX_PRELOAD_RUNTIME:+$IX_PRELOAD_RUNTIME:}$lib"
sleeper="$IX_BUILD_DIR/tests/plain_sleep"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
lazy='lib(microhttpd|gnutls|dw|elf)[.-]'

# 1. DT_NEEDED
readelf -d "$lib" | grep NEEDED > "$tmp/needed"
if grep -Eq "$lazy" "$tmp/needed"; then echo "still linked:"; cat "$tmp/needed"; exit 1; fi
grep -q 'libc\.so' "$tmp/needed" || { echo "readelf output unexpected:"; cat "$tmp/needed"; exit 1; }

# maps_of PID: the lazily loaded libraries PID has mapped, one per line.
maps_of() { grep -oE "$lazy" "/proc/$1/maps" | sort -u || true; }

# start [env...]: starts plain_sleep preloaded with the environment given; sets pid.
start() {
    env "$@" LD_PRELOAD="$pre" "$sleeper" 30 2> "$tmp/err" & pid=$!
}
wait_port() {
    for _ in $(seq 100); do grep -q 'serving\|not started' "$tmp/err" && break; sleep 0.1; done
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$tmp/err" | head -1)
}
stop() { kill $pid; wait $pid 2>/dev/null || true; pid=; }

# 2. not started (INTROSPECT_PROGRAM does not match): nothing mapped
start INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_PROGRAM=no-such-program
sleep 1
m=$(maps_of $pid); stop
[ -z "$m" ] || { echo "mapped although the module did not start: $m"; exit 1; }

# 3. started: nothing mapped until the first connection; then libmicrohttpd
# (and GnuTLS) mapped and serving; libdw at the first symbolization
start INTROSPECT_ADDR=127.0.0.1:0
wait_port
[ -n "$port" ] || { echo "no port announced:"; cat "$tmp/err"; exit 1; }
m=$(maps_of $pid)
[ -z "$m" ] || { echo "mapped before the first connection: $m"; exit 1; }
curl -fsS "http://127.0.0.1:$port/debug/vars" > /dev/null
maps_of $pid > "$tmp/m1"
grep -q 'libmicrohttpd' "$tmp/m1" || { echo "libmicrohttpd not mapped after a request"; exit 1; }
if grep -q 'libdw' "$tmp/m1"; then echo "libdw mapped before any symbolization"; exit 1; fi
curl -fsS "http://127.0.0.1:$port/debug/pprof/goroutine?debug=2" > "$tmp/g"
grep -q 'plain_sleep.c:[0-9]' "$tmp/g" || { echo "no symbolized main:"; head -30 "$tmp/g"; exit 1; }
maps_of $pid > "$tmp/m2"; stop
grep -q 'libdw' "$tmp/m2" || { echo "libdw not mapped after symbolization"; exit 1; }

# 4. and 5.: stand-in libraries without the symbols, found first through LD_LIBRARY_PATH
mkdir "$tmp/fake"
cc -shared -fPIC -o "$tmp/fake/libmicrohttpd.so.12" -x c /dev/null
cc -shared -fPIC -o "$tmp/fake/libdw.so.1" -x c /dev/null
mkdir "$tmp/nomhd" "$tmp/nodw"
cp "$tmp/fake/libmicrohttpd.so.12" "$tmp/nomhd/"
cp "$tmp/fake/libdw.so.1" "$tmp/nodw/"

start LD_LIBRARY_PATH="$tmp/nomhd" INTROSPECT_ADDR=127.0.0.1:0
wait_port
[ -n "$port" ] || { echo "no port announced (fake libmicrohttpd):"; cat "$tmp/err"; exit 1; }
for _ in 1 2; do # the second is refused from the remembered error
    code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/debug/vars" || true)
    [ "$code" = 503 ] || { echo "expected 503 without libmicrohttpd, got $code"; cat "$tmp/body"; exit 1; }
    grep -q 'cannot serve: .*libmicrohttpd.so.12 has no MHD_' "$tmp/body" ||
        { echo "no clear reason in the answer:"; cat "$tmp/body"; exit 1; }
done
kill -0 $pid || { echo "process died without libmicrohttpd"; cat "$tmp/err"; exit 1; }
stop
[ "$(grep -c 'cannot serve: .*libmicrohttpd.so.12 has no MHD_' "$tmp/err")" = 1 ] ||
    { echo "expected one line about libmicrohttpd on stderr:"; cat "$tmp/err"; exit 1; }

start LD_LIBRARY_PATH="$tmp/nodw" INTROSPECT_ADDR=127.0.0.1:0
wait_port
[ -n "$port" ] || { echo "no port announced (fake libdw):"; cat "$tmp/err"; exit 1; }
curl -fsS "http://127.0.0.1:$port/debug/pprof/goroutine?debug=2" > "$tmp/g"
curl -fsS "http://127.0.0.1:$port/debug/pprof/goroutine?debug=2" > /dev/null
kill -0 $pid || { echo "process died without libdw"; cat "$tmp/err"; exit 1; }
stop
grep -q 'pc=0x' "$tmp/g" || { echo "no stack without libdw:"; cat "$tmp/g"; exit 1; }
if grep -q 'plain_sleep.c:' "$tmp/g"; then echo "symbolized without libdw?"; exit 1; fi
[ "$(grep -c 'symbolization off' "$tmp/err")" = 1 ] ||
    { echo "expected one note about libdw:"; cat "$tmp/err"; exit 1; }
echo ok
