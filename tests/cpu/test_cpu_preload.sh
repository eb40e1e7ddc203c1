#!/bin/bash
# A Debian binary not built for this (sha256sum on a large sparse file) under
# LD_PRELOAD=libintrospect.so yields a CPU profile with real function names
# (libc's at least, through dladdr; more once .symtab/DWARF symbolization lands).
set -u
# Sanitizer builds: Debian's coreutils deadlock at exit under a preloaded ASan
# runtime (see tests/install/plain_sleep.c); the normal build covers this.
if [ -n "${IX_SANITIZE:-}" ]; then echo "skipped under ${IX_SANITIZE}"; exit 77; fi
B=${IX_BUILD_DIR:?}
T=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; cat "$T/err" 2>/dev/null; exit 1; }
truncate -s 4G "$T/big"
timeout 120 env LD_PRELOAD=$B/libintrospect.so INTROSPECT_ADDR=127.0.0.1:0 \
    sha256sum "$T/big" "$T/big" >/dev/null 2>"$T/err" &
pid=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/err")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "no port printed by the constructor"
code=$(curl -s -m 60 -o "$T/prof" -w '%{http_code}' \
    "http://127.0.0.1:$port/debug/pprof/profile?seconds=2&hz=500")
[ "$code" = 200 ] || fail "profile request answered $code: $(cat "$T/prof")"
kill $pid
wait $pid 2>/dev/null
top=$(go tool pprof -top -nodecount=200 "$T/prof" 2>&1) || fail "pprof: $top"
echo "$top"
echo "$top" | grep -q 'engine: ' || fail "no engine comment"
# libc's entry path is on every stack of the main thread
echo "$top" | grep -Eq '__libc_start|__libc_start_call_main|__libc_start_main' ||
    fail "no libc function names"
echo "$top" | grep -Eq 'Total samples = [1-9]' || fail "no samples"
echo ok
