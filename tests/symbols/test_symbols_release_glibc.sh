#!/bin/bash
# Under glibc the module gives its freed memory back with malloc_trim(0)
# when it goes idle, and only in a host under 256 MiB resident: malloc_trim
# walks every arena's free chunks under the arena's lock (host/release.h),
# which a large host would feel as a stall. The host is python3 with holes
# of its own in glibc's main arena (64 KiB blocks, every other one freed:
# malloc_trim would return their pages). One /debug/pprof/symbol request,
# then the symbolizer's idle flush (INTROSPECT_SYMBOL_IDLE_S=1):
#   128 MB host, 64 MB of holes:  the holes go back (RSS falls by > 40 MB);
#   320 MB host, 160 MB of holes: nothing is trimmed (RSS falls by < 16 MB).
set -euo pipefail
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
metric() { curl -fsS "$1/metrics" | awk -v m="$2" '$1 == m {print $2}'; }
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }

# run BLOCKS: prints the host's RSS drop in kB across the idle flush
run() {
    INTROSPECT_ADDR=127.0.0.1:0 INTROSPECT_SYMBOL_IDLE_S=1 LD_PRELOAD="$IX_BUILD_DIR/libintrospect.so" \
        /usr/bin/python3 -c "import time
keep = [bytearray(65536) for _ in range($1)]
del keep[::2]
print('ready', flush=True)
time.sleep(300)" > "$tmp/out" 2> "$tmp/err" & pid=$!
    local port=
    for _ in $(seq 200); do
        port=$(sed -n "/(pid $pid)/s/.*127\\.0\\.0\\.1:\\([0-9]*\\)\\/.*/\\1/p" "$tmp/err" | head -1)
        [ -n "$port" ] && grep -q ready "$tmp/out" && break; sleep 0.05
    done
    [ -n "$port" ] || fail "the module did not start: $(cat "$tmp/err")"
    local u=http://127.0.0.1:$port
    read -r lo hi < <(awk '/r-xp .*\/libc\.so\.6$/ {split($1, a, "-"); print a[1], a[2]; exit}' /proc/$pid/maps)
    python3 -c "lo, hi = int('$lo', 16), int('$hi', 16)
print('+'.join(hex(lo + (hi - lo) * i // 50) for i in range(50)))" > "$tmp/body"
    curl -fsS --data-binary @"$tmp/body" "$u/debug/pprof/symbol" > /dev/null
    local before; before=$(rss_kb "$pid")
    local cached=
    for _ in $(seq 300); do
        cached=$(metric "$u" introspect_symbol_objects_cached)
        [ "$cached" = 0 ] && break; sleep 0.1
    done
    [ "$cached" = 0 ] || fail "the symbolizer never went idle ($cached objects cached)"
    sleep 1 # the release follows the flush, on the reaper thread
    echo $(( before - $(rss_kb "$pid") ))
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

small=$(run 2000)
echo "128 MB host: RSS fell by $small kB at the idle flush"
[ "$small" -gt 40000 ] || fail "a small host's free pages were not given back"
large=$(run 5000)
echo "320 MB host: RSS fell by $large kB at the idle flush"
[ "$large" -lt 16000 ] || fail "a host over 256 MiB was trimmed"
echo ok
