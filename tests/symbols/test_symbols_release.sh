#!/bin/bash
# What a symbolization frees goes back to the kernel under every allocator,
# and the host's own free pages stay where its allocator left them
# (host/release.h). The host is python3 with the module (and the allocator)
# preloaded; one /debug/pprof/symbol request names addresses across libc
# (its debug file: tens of MB parsed, then freed at the end of the request).
#
# jemalloc and tcmalloc are told never to give pages back by themselves
# (dirty_decay_ms:-1; TCMALLOC_RELEASE_RATE=0), so only the module can, and
# the host first frees 16 MB of its own:
#   jemalloc: right after the request, the module's arena holds under 1 MiB
#             of dirty pages (4-5 MB without the purge), and the host's
#             16 MB are still dirty (a purge of every arena would take them).
#   tcmalloc: its whole page heap is released only when the module goes
#             idle (INTROSPECT_SYMBOL_IDLE_S=1 here): pageheap_free_bytes
#             falls under 1 MiB within 30 s; the same with jemalloc loaded
#             after tcmalloc (its mallctl there, but not its malloc).
# glibc: malloc_trim(0) at the idle flush, and only in a host under 256 MiB
# resident (it walks every arena's free chunks under the arena's lock). The
# host keeps 64 KiB holes in glibc's main arena (every other block freed):
#   128 MB host, 64 MB of holes:  the holes go back (RSS falls by > 40 MB);
#   320 MB host, 160 MB of holes: nothing is trimmed (RSS falls by < 16 MB).
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
below() { python3 -c "import sys; sys.exit(0 if float('$1') < float('$2') else 1)"; }
metric() { curl -fsS "$u/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }

# start PRELOAD PYTHON ENV...: the host, once it printed "ready"; sets pid and u.
start() {
    local preload=$1 script=$2; shift 2
    env "$@" LD_PRELOAD="$preload" INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_SYMBOL_IDLE_S=1 \
        /usr/bin/python3 -c "$script
print('ready', flush=True)
import time
time.sleep(300)" > "$tmp/out" 2> "$tmp/err" & pid=$!
    local port=
    for _ in $(seq 400); do
        port=$(sed -n "/(pid $pid)/s/.*127\\.0\\.0\\.1:\\([0-9]*\\)\\/.*/\\1/p" "$tmp/err" | head -1)
        [ -n "$port" ] && grep -q ready "$tmp/out" && break; sleep 0.05
    done
    [ -n "$port" ] || fail "the module did not start: $(cat "$tmp/err")"
    u=http://127.0.0.1:$port
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

# name_libc N: one request naming N addresses spread over libc's text.
name_libc() {
    read -r lo hi < <(awk '/r-xp .*\/libc\.so\.6$/ {split($1, a, "-"); print a[1], a[2]; exit}' /proc/$pid/maps)
    python3 -c "lo, hi = int('$lo', 16), int('$hi', 16)
print('+'.join(hex(lo + (hi - lo) * i // $1) for i in range($1)))" > "$tmp/body"
    curl -fsS --data-binary @"$tmp/body" "$u/debug/pprof/symbol" > "$tmp/names"
    local named; named=$(awk 'NF >= 2' "$tmp/names" | wc -l)
    [ "$named" -ge $(($1 * 39 / 40)) ] || fail "only $named of $1 libc addresses named"
}

host_frees='x = [bytes(8192) for _ in range(2000)]
del x'

# allocator "LIB [LIB...]" METRIC ENV...: the first library's malloc serves.
allocator() {
    local libs=$1 name=$2 l; shift 2
    for l in $libs; do [ -e "$l" ] || { echo "skip $(basename "$l"): not installed"; return 0; }; done
    local lib=${libs%% *}
    start "$libs $IX_BUILD_DIR/libintrospect.so" "$host_frees" "$@"
    local hwm0; hwm0=$(kb VmHWM)
    name_libc 400
    local grew=$(( $(kb VmHWM) - hwm0 ))
    curl -fsS "$u/metrics" | grep -q "^introspect_allocator_info{allocator=\"$(basename "$lib" | sed 's/^lib//; s/\..*//')\"" ||
        fail "the allocator is not named $(basename "$lib")"
    local free; free=$(metric "introspect_allocator_$name")
    [ -n "$free" ] || fail "no introspect_allocator_$name in /metrics"
    echo "$(basename "$lib"): the request's peak +${grew} kB, $name after it: $free bytes"
    if [ "$grew" -lt 8192 ]; then
        echo "skip $(basename "$lib"): the request used too little to measure (libc6-dbg missing?)"
    elif [ "$name" = module_dirty_bytes ]; then
        below "$free" $((1 << 20)) ||
            fail "$name is $free bytes after the request: the module's memory was not given back"
        local all; all=$(metric introspect_allocator_dirty_bytes)
        echo "  all arenas' dirty pages: $all bytes (the host freed 16 MB of its own)"
        below $((8 << 20)) "$(python3 -c "print(int(float('$all') - float('$free')))")" ||
            fail "the host's own dirty pages were purged too ($all bytes left)"
    else
        for _ in $(seq 300); do below "$free" $((1 << 20)) && break; sleep 0.1; free=$(metric "introspect_allocator_$name"); done
        echo "  $name once the module went idle: $free bytes"
        below "$free" $((1 << 20)) ||
            fail "$name is $free bytes 30 s after the request: the freed memory was not given back"
    fi
    stop
}

# glibc BLOCKS: sets drop to the host's RSS drop in kB across the idle flush
# (not printed: a command substitution's subshell would not stop the host on failure).
glibc() {
    start "$IX_BUILD_DIR/libintrospect.so" "keep = [bytearray(65536) for _ in range($1)]
del keep[::2]"
    # Debian's python3 is not PIE: its malloc resolves to its own PLT stub,
    # and the allocator is found by asking (gcstats/allocator.c).
    curl -fsS "$u/metrics" | grep -q '^introspect_allocator_info{allocator="glibc"' ||
        fail "the allocator under /usr/bin/python3 is not named glibc"
    name_libc 50
    local before cached=
    before=$(kb VmRSS)
    for _ in $(seq 300); do
        cached=$(metric introspect_symbol_objects_cached)
        [ "$cached" = 0 ] && break; sleep 0.1
    done
    [ "$cached" = 0 ] || fail "the symbolizer never went idle ($cached objects cached)"
    sleep 1 # the release follows the flush, on the reaper thread
    drop=$(( before - $(kb VmRSS) ))
    stop
}

allocator "$libdir/libjemalloc.so.2" module_dirty_bytes MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1
allocator "$libdir/libtcmalloc.so.4" pageheap_free_bytes TCMALLOC_RELEASE_RATE=0
# jemalloc loaded too (its mallctl found) but tcmalloc's malloc serving: the
# release is still tcmalloc's, and the module takes no jemalloc arena.
allocator "$libdir/libtcmalloc.so.4 $libdir/libjemalloc.so.2" pageheap_free_bytes TCMALLOC_RELEASE_RATE=0
glibc 2000
echo "glibc, 128 MB host: RSS fell by $drop kB at the idle flush"
[ "$drop" -gt 40000 ] || fail "a small host's free pages were not given back"
glibc 5000
echo "glibc, 320 MB host: RSS fell by $drop kB at the idle flush"
[ "$drop" -lt 16000 ] || fail "a host over 256 MiB was trimmed"
echo ok
