#!/bin/bash
# Where redis waits (issue 17): redis-server as user redis (runuser), the
# module preloaded, under a bounded redis-benchmark on loopback. The off-CPU
# profile names the calls its threads wait in: epoll_wait for the event loop
# (labelled idle) and the background (bio) threads' condition wait; the wall
# profile holds the main thread's on-CPU time and its waits; every thread's
# dump stack reaches its root.
. "$(dirname "$0")/lib.sh"
need redis-server redis-benchmark go runuser
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (runuser -u redis)"; exit 77; }
id redis > /dev/null 2>&1 || { echo "skipped: no redis user"; exit 77; }
chown redis "$tmp"
redis_start redis.log
timeout 90 env -u LD_PRELOAD redis-benchmark -h 127.0.0.1 -p "$port" -n 200000 -c 8 -q \
    -t set,get,lpush,lpop > "$tmp/bench" 2>&1 &
bench=$!
sleep 0.3
curl -fsS --max-time 60 -o "$tmp/offcpu.pb.gz" "http://127.0.0.1:$ixport/debug/pprof/offcpu?seconds=3" ||
    fail "off-CPU profile"
curl -fsS --max-time 60 -o "$tmp/wall.pb.gz" "http://127.0.0.1:$ixport/debug/pprof/wall?seconds=2" ||
    fail "wall profile"
curl -fsS --max-time 30 -o "$tmp/dump.json" "http://127.0.0.1:$ixport/debug/pprof/threads?format=json" ||
    fail "thread dump"
kill "$bench" 2> /dev/null || true
wait "$bench" 2> /dev/null || true
tr '\r' '\n' < "$tmp/bench" | grep "requests per second" | head -4 || true
P="env -u LD_PRELOAD timeout 60 go tool pprof"
$P -top -sample_index=delay "$tmp/offcpu.pb.gz" > "$tmp/top" 2>&1 || { cat "$tmp/top"; fail "go tool pprof"; }
head -16 "$tmp/top"
$P -traces -sample_index=delay "$tmp/offcpu.pb.gz" 2> /dev/null |
    /usr/bin/python3 "$(dirname "$0")/../threads/pprof_traces.py" > "$tmp/traces.json" ||
    fail "go tool pprof -traces"
/usr/bin/python3 - "$tmp/traces.json" << 'PY' || fail "off-CPU profile"
import json, sys, collections
by = collections.Counter()
for x in json.load(open(sys.argv[1])):
    l, fr = x["labels"], " ".join(x["frames"])
    by[(l.get("thread"), l.get("state"), l.get("idle"), "epoll_wait" in fr,
        "pthread_cond_wait" in fr)] += x["value"] / 1e9
for k, v in sorted(by.items(), key=lambda kv: -kv[1])[:12]:
    print("   %-60s %.2f s" % (k, v))
main = [k for k in by if k[0] == "redis-server" and k[1] in ("epoll_wait", "epoll_pwait") and k[3]]
assert main, "redis-server's main thread not seen waiting in epoll_wait"
assert all(k[2] == "true" for k in main), "epoll_wait is not labelled idle"
bio = [k for k in by if k[0].startswith("bio_") and k[1] == "futex" and k[4]]
assert bio, "no bio thread waiting in pthread_cond_wait"
PY
$P -top -sample_index=wall "$tmp/wall.pb.gz" > "$tmp/wtop" 2>&1 || { cat "$tmp/wtop"; fail "go tool pprof (wall)"; }
grep -q "Type: wall" "$tmp/wtop" || fail "wall profile type"
grep -q "epoll_wait" "$tmp/wtop" || { head -20 "$tmp/wtop"; fail "wall profile misses epoll_wait"; }
# Idle waits carry idle=true; what stays after -tagignore idle=true is
# running or runnable time (a wake-up from epoll_wait waiting for a CPU).
$P -traces -sample_index=wall -tagignore idle=true "$tmp/wall.pb.gz" 2> /dev/null |
    /usr/bin/python3 "$(dirname "$0")/../threads/pprof_traces.py" > "$tmp/wall.json" ||
    fail "go tool pprof -tagignore"
/usr/bin/python3 - "$tmp/wall.json" << 'PY' || fail "wall profile's idle label"
import json, sys, collections
s = json.load(open(sys.argv[1]))
states = collections.Counter()
for x in s:
    states[x["labels"].get("state")] += x["value"] / 1e9
print("wall without idle waits, by state (s):", {k: round(v, 3) for k, v in states.items()})
assert s, "nothing left"
left = [x["labels"] for x in s if x["labels"].get("state") in ("epoll_wait", "epoll_pwait", "clock_nanosleep")]
assert not left, left[:3]
PY
/usr/bin/python3 - "$tmp/dump.json" << 'PY' || fail "thread dump stacks"
import json, sys
d = json.load(open(sys.argv[1]))
roots = ("start_thread", "clone", "__clone3", "__libc_start_main", "__libc_start_call_main")
bad = [(t["name"], t["stack_status"], [f["function"] for f in t["frames"]][:5]) for t in d["threads"]
       if not any(r in f["function"] for f in t["frames"] for r in roots)]
print("dump:", len(d["threads"]), "threads,", [t["stack_status"] for t in d["threads"]])
for b in bad: print("  not to its root:", b)
sys.exit(1 if bad else 0)
PY
kill "$rs"
for _ in $(seq 50); do kill -0 "$rs" 2> /dev/null || break; sleep 0.1; done
echo ok
