#!/bin/bash
# What a symbolization frees goes back to the kernel under jemalloc and
# tcmalloc too, not only glibc, and the host's own free pages stay where its
# allocator left them (host/release.c). The host is python3 with the
# allocator and the module preloaded; the allocator is told never to give
# pages back by itself (jemalloc: dirty_decay_ms:-1; tcmalloc:
# TCMALLOC_RELEASE_RATE=0), so only the module can. The host first frees
# 16 MB of its own. One /debug/pprof/symbol request then names 400 addresses
# across libc (its debug file: tens of MB parsed, then freed at the end of
# the request).
#   jemalloc: right after the request, the module's arena holds under 1 MiB
#             of dirty pages (4-5 MB without the purge), and the host's
#             16 MB are still dirty (a purge of every arena would take them).
#   tcmalloc: its whole page heap is released only when the module goes
#             idle (INTROSPECT_SYMBOL_IDLE_S=1 here): pageheap_free_bytes
#             falls under 1 MiB within 30 s.
set -euo pipefail
libdir=${IX_LIBDIR:-/usr/lib/x86_64-linux-gnu}
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

metric() { curl -fsS "$1/metrics" | awk -v m="introspect_allocator_$2" '$1 == m {print $2}'; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

host_frees='import time
x = [bytes(8192) for _ in range(2000)]
del x
time.sleep(300)'

# run ALLOCATOR_LIB METRIC ENV...
run() {
    local lib=$1 name=$2; shift 2
    [ -e "$lib" ] || { echo "skip $(basename "$lib"): not installed"; return 0; }
    env "$@" LD_PRELOAD="$lib $IX_BUILD_DIR/libintrospect.so" INTROSPECT_ADDR=127.0.0.1:0 \
        INTROSPECT_SYMBOL_IDLE_S=1 /usr/bin/python3 -c "$host_frees" 2> "$tmp/err" & pid=$!
    local port=
    for _ in $(seq 200); do
        port=$(sed -n "/(pid $pid)/s/.*127\\.0\\.0\\.1:\\([0-9]*\\)\\/.*/\\1/p" "$tmp/err" | head -1)
        [ -n "$port" ] && break; sleep 0.05
    done
    [ -n "$port" ] || fail "the module did not start: $(cat "$tmp/err")"
    local u=http://127.0.0.1:$port
    read -r lo hi < <(awk '/r-xp .*\/libc\.so\.6$/ {split($1, a, "-"); print a[1], a[2]; exit}' /proc/$pid/maps)
    python3 -c "lo, hi = int('$lo', 16), int('$hi', 16)
print('+'.join(hex(lo + (hi - lo) * i // 400) for i in range(400)))" > "$tmp/body"
    local hwm0; hwm0=$(kb "$pid" VmHWM)
    curl -fsS --data-binary @"$tmp/body" "$u/debug/pprof/symbol" > "$tmp/names"
    local named; named=$(awk 'NF >= 2' "$tmp/names" | wc -l)
    [ "$named" -ge 390 ] || fail "$name: only $named of 400 libc addresses named"
    local grew=$(( $(kb "$pid" VmHWM) - hwm0 ))
    local free; free=$(metric "$u" "$name")
    [ -n "$free" ] || fail "no introspect_allocator_$name in /metrics"
    echo "$(basename "$lib"): the request's peak +${grew} kB, $name after it: $free bytes"
    if [ "$grew" -lt 8192 ]; then
        echo "skip $(basename "$lib"): the request used too little to measure (libc6-dbg missing?)"
    elif [ "$name" = module_dirty_bytes ]; then
        below "$free" $((1 << 20)) ||
            fail "$name is $free bytes after the request: the module's memory was not given back"
        local all; all=$(metric "$u" dirty_bytes)
        echo "  all arenas' dirty pages: $all bytes (the host freed 16 MB of its own)"
        below $((8 << 20)) "$(python3 -c "print(int(float('$all') - float('$free')))")" ||
            fail "the host's own dirty pages were purged too ($all bytes left)"
    else
        for _ in $(seq 300); do below "$free" $((1 << 20)) && break; sleep 0.1; free=$(metric "$u" "$name"); done
        echo "  $name once the module went idle: $free bytes"
        below "$free" $((1 << 20)) ||
            fail "$name is $free bytes 30 s after the request: the freed memory was not given back"
    fi
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}
below() { python3 -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }

run "$libdir/libjemalloc.so.2" module_dirty_bytes MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1
run "$libdir/libtcmalloc.so.4" pageheap_free_bytes TCMALLOC_RELEASE_RATE=0
echo ok
