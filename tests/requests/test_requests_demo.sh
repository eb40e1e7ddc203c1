#!/bin/bash
# Issue 19's proof on a real HTTP server: the demo (examples/, libmicrohttpd)
# under a loopback load from this script's own client, with no code in the
# test beyond HTTP. The demo wraps every request in introspect_request_begin/end.
#  - /debug/requests lists the routes hit, with counts equal to the client's;
#    each route's server-side P95 is at most the client's (which adds the
#    loopback round trip) and /slow?ms=5's is at least its 5 ms sleep;
#  - the CPU profile split by route (go tool pprof -tags) gives /work (busy
#    loop) several times the CPU of /slow (sleeps);
#  - the block profile (pool waits: 6 clients on /db share 2 connections)
#    carries route=/db, the waiting request's label;
#  - /debug/slo shows the demo's objectives.
# Bounded: 12 s of load; every process stopped by PID.
set -euo pipefail
demo_bin="$IX_BUILD_DIR/examples/introspect-demo"
[ -x "$demo_bin" ] || { echo "SKIP: demo not built"; exit 77; }
command -v go >/dev/null || { echo "SKIP: go missing"; exit 77; }
tmp=$(mktemp -d)
demo=""
cleanup() { [ -n "$demo" ] && kill "$demo" 2>/dev/null; [ -n "$demo" ] && wait "$demo" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
iport=$(free_port); aport=$(free_port)
INTROSPECT_ADDR=127.0.0.1:$iport INTROSPECT_BLOCK_RATE=1 "$demo_bin" --listen 127.0.0.1:$aport \
    --no-traffic > "$tmp/demo.log" 2>&1 & demo=$!
for _ in $(seq 200); do curl -fsS -o /dev/null "http://127.0.0.1:$aport/" 2>/dev/null && break; sleep 0.1; done

# The client: 6 threads for 12 s, each looping over its routes; latencies per route.
python3 - "$aport" 12 > "$tmp/client.json" <<'PY' &
import json, sys, threading, time, http.client
port, secs = int(sys.argv[1]), float(sys.argv[2])
lat = {}
lock = threading.Lock()
def client(paths):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for p in paths:
            t0 = time.monotonic()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", p); c.getresponse().read(); c.close()
            d = time.monotonic() - t0
            route = p.split("?")[0]
            with lock: lat.setdefault(route, []).append(d)
ths = [threading.Thread(target=client, args=(["/work?ms=4", "/slow?ms=5"],)) for _ in range(2)]
ths += [threading.Thread(target=client, args=(["/db?ms=10"],)) for _ in range(4)]
for t in ths: t.start()
for t in ths: t.join()
json.dump(lat, sys.stdout)
PY
client=$!
sleep 2
curl -fsS -o "$tmp/cpu.pb.gz" "http://127.0.0.1:$iport/debug/pprof/profile?seconds=6"
wait $client
curl -fsS -o "$tmp/block.pb.gz" "http://127.0.0.1:$iport/debug/pprof/block"
curl -fsS -o "$tmp/req.json" "http://127.0.0.1:$iport/debug/requests?format=json"
curl -fsS -o "$tmp/slo.txt" "http://127.0.0.1:$iport/debug/slo"

go tool pprof -tags "$tmp/cpu.pb.gz" > "$tmp/cpu.tags" 2>&1
go tool pprof -tags -sample_index=delay "$tmp/block.pb.gz" > "$tmp/block.tags" 2>&1
echo "--- CPU by route"; sed -n '/route: Total/,/^ *$/p' "$tmp/cpu.tags"
echo "--- block by route"; sed -n '/route: Total/,/^ *$/p' "$tmp/block.tags"
grep -q '/work?ms' "$tmp/cpu.tags" && { echo "raw paths as route labels"; exit 1; }

python3 - "$tmp" <<'PY'
import json, math, re, sys
tmp = sys.argv[1]
lat = json.load(open(tmp + "/client.json"))
req = json.load(open(tmp + "/req.json"))
ok = True
def fail(msg):
    global ok
    print("FAIL:", msg); ok = False
routes = {r["route"]: r for r in req["routes"] if r["method"] == "GET"}
for route, xs in sorted(lat.items()):
    xs.sort()
    p95 = xs[math.ceil(0.95 * len(xs)) - 1] * 1e3
    r = routes.get(route)
    if not r:
        fail("route %s missing from /debug/requests" % route); continue
    w = r["windows"]["1m"]
    print("%-6s client %5d requests, P95 %.2f ms; server %5d, P95 %.2f ms" % (route, len(xs), p95, w["count"], w["p95_ms"]))
    if w["count"] != len(xs):
        fail("%s: server counted %d, client sent %d" % (route, w["count"], len(xs)))
    # the server's span is inside the client's round trip (+0.79% bucket error)
    if w["p95_ms"] > p95 * 1.008:
        fail("%s: server P95 above the client's" % route)
if routes.get("/slow", {}).get("windows", {}).get("1m", {}).get("p95_ms", 0) < 5:
    fail("/slow?ms=5 P95 under 5 ms")
def shares(path):
    text = open(path).read()
    m = re.search(r"route: Total[^\n]*\n((?:\s+[^\n]+\n)+)", text)
    out = {}
    for line in (m.group(1).splitlines() if m else []):
        g = re.match(r"\s*\S+\s+\(\s*([\d.]+)%\):\s+(\S+)", line)
        if g: out[g.group(2)] = float(g.group(1))
    return out
cpu, blk = shares(tmp + "/cpu.tags"), shares(tmp + "/block.tags")
# /work busy-loops 4 ms per request, /slow sleeps: /slow's CPU is parsing
# and replying only (measured 13x less than /work's on a loaded 2-core
# machine, from ~100 samples; held to 3x, and /work to a fifth of all, as
# /db's SQLite queries take a share that varies with the load).
if cpu.get("/work", 0) < 20 or cpu.get("/slow", 0) > cpu.get("/work", 0) / 3:
    fail("CPU split by route: %s" % cpu)
if blk.get("/db", 0) < 99:
    fail("block profile by route: %s" % blk)
slo = open(tmp + "/slo.txt").read()
for want in ("/work:latency<100ms@99", "*:avail@99.9"):
    if want not in slo:
        fail("/debug/slo lacks %s" % want)
sys.exit(0 if ok else 1)
PY
echo ok
