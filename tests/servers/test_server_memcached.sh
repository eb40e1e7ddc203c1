#!/bin/bash
# memcached as its own user (-u memcache: it drops root after start), the
# module preloaded, under a bounded memcslap load: the module serves /debug/vars
# and a CPU profile that go tool pprof reads, with samples in memcached's
# threads; every module thread is named introspect-*.
. "$(dirname "$0")/lib.sh"
need memcached memcslap go
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (memcached -u memcache)"; exit 77; }
id memcache > /dev/null 2>&1 || { echo "skipped: no memcache user"; exit 77; }
port=$(free_port); ixport=$(free_port)
LD_PRELOAD="$lib" INTROSPECT_ADDR=127.0.0.1:$ixport INTROSPECT_PROGRAM=memcached \
    timeout 120 memcached -u memcache -l 127.0.0.1 -p "$port" -U 0 -t 2 -m 64 2> "$tmp/stderr" &
pids+=($!)
watch=(memcached "$tmp/stderr")
wait_port "$port"
wait_http "http://127.0.0.1:$ixport/debug/vars"
mc=$(pgrep -P "${pids[0]}" -x memcached || true)
[ -n "$mc" ] || fail "no memcached process under timeout"
pids+=("$mc")
[ "$(stat -c %U /proc/"$mc")" = memcache ] || fail "memcached does not run as memcache"
curl -fsS "http://127.0.0.1:$ixport/debug/vars" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["cmdline"][0].endswith("memcached"), d["cmdline"]' || fail "/debug/vars"
# Bounded load, and a 3 s CPU profile while it runs.
timeout 60 memcslap --servers=127.0.0.1:"$port" --concurrency=4 --execute-number=20000 --binary \
    > "$tmp/slap" 2>&1 &
slap=$!
sleep 0.5
curl -fsS --max-time 30 -o "$tmp/cpu.pb.gz" "http://127.0.0.1:$ixport/debug/pprof/profile?seconds=3" ||
    fail "CPU profile"
wait "$slap" || { cat "$tmp/slap"; fail "memcslap"; }
grep -iE "took|time" "$tmp/slap" | head -2 || true
env -u LD_PRELOAD timeout 60 go tool pprof -top "$tmp/cpu.pb.gz" > "$tmp/top" 2>&1 || { cat "$tmp/top"; fail "go tool pprof"; }
head -12 "$tmp/top"
samples=$(env -u LD_PRELOAD timeout 60 go tool pprof -raw "$tmp/cpu.pb.gz" 2> /dev/null | awk '/^Samples:/{s=1; next} /^Locations/{s=0} s && $1 ~ /^[0-9]+$/ {n += $1} END {print n + 0}')
echo "samples: $samples"
[ "$samples" -gt 0 ] || fail "the profile holds $samples samples"
echo "memcached threads: $(cat /proc/"$mc"/task/*/comm | sort | uniq -c | tr '\n' ';')"
[ "$(module_threads "$mc")" -ge 2 ] || fail "module threads are not named introspect-*"
kill "$mc"
echo ok
