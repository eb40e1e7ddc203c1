#!/bin/bash
# Hardening benchmarks (see bench/README.md, hardening section):
#  1. wrk against /metrics and /debug/vars while the host serves its own wrk load;
#  2. the host's own throughput (the demo's "/" under wrk) with and without one
#     /metrics scrape per second, RUNS alternating runs each, medians;
#  3. /metrics latency and the process' thread count with 500 idle sockets open.
#   bench/http/run.sh [build-dir]     RUNS=5 SECS=10
set -euo pipefail
build=${1:-build}
runs=${RUNS:-5}
secs=${SECS:-10}
command -v wrk > /dev/null || { echo "wrk not installed"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
iport=$(free_port); aport=$(free_port)
INTROSPECT_ADDR=127.0.0.1:$iport INTROSPECT_MAX_CONNECTIONS=1024 "$build/examples/introspect-demo" \
    --listen 127.0.0.1:$aport --no-traffic > /dev/null 2>&1 & pid=$!
pids=($pid)
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done' EXIT
sleep 1
rps() { grep 'Requests/sec' | awk '{print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "== 1. introspect under a busy host (host: wrk -t1 -c8 on /; introspect: wrk -t1 -c8)"
for path in /metrics /debug/vars; do
    wrk -t1 -c8 -d$((secs + 2))s "http://127.0.0.1:$aport/" > /dev/null & busy=$!
    sleep 1
    wrk -t1 -c8 -d${secs}s --latency "http://127.0.0.1:$iport$path" | grep -E 'Requests/sec|Latency |  50%|  99%' | sed "s|^|$path |"
    wait $busy
done

echo "== 2. host throughput (wrk -t2 -c16 ${secs}s on /), $runs runs each, alternating"
: > /tmp/ix_bench_off; : > /tmp/ix_bench_on
for i in $(seq "$runs"); do
    wrk -t2 -c16 -d${secs}s "http://127.0.0.1:$aport/" | rps >> /tmp/ix_bench_off
    ( while :; do curl -s -o /dev/null "http://127.0.0.1:$iport/metrics"; sleep 1; done ) & scr=$!
    wrk -t2 -c16 -d${secs}s "http://127.0.0.1:$aport/" | rps >> /tmp/ix_bench_on
    kill $scr; wait $scr 2>/dev/null || true
done
off=$(median < /tmp/ix_bench_off); on=$(median < /tmp/ix_bench_on)
echo "without scrapes: $(tr '\n' ' ' < /tmp/ix_bench_off)-> median $off req/s"
echo "1 scrape/s:      $(tr '\n' ' ' < /tmp/ix_bench_on)-> median $on req/s"
python3 -c "print('drop: %.2f%%' % (100*(1-$on/$off)))"

echo "== 4. CPU cost of one /metrics scrape (process utime+stime over 300 scrapes)"
cpu_ms() { awk '{print ($14+$15)*1000/'"$(getconf CLK_TCK)"'}' /proc/$pid/stat; }
c0=$(cpu_ms)
for _ in $(seq 300); do curl -s -o /dev/null "http://127.0.0.1:$iport/metrics"; done
c1=$(cpu_ms)
python3 -c "c=($c1-$c0)/300; print('%.3f ms CPU per scrape -> %.4f%% of one core at 1 scrape/s' % (c, c/10))"

echo "== 3. 500 idle sockets held open (40 source addresses)"
threads() { awk '/^Threads/ {print $2}' /proc/$pid/status; }
echo "threads before: $(threads)"
python3 - "$iport" <<'PY' & holder=$!
import socket, sys, time
port = int(sys.argv[1]); held = []
for i in range(500):
    s = socket.socket(); s.bind(("127.0.0.%d" % (2 + i % 40), 0)); s.connect(("127.0.0.1", port)); held.append(s)
time.sleep(40)
PY
pids+=($holder)
sleep 2
echo "threads with 500 idle sockets: $(threads); fds: $(ls /proc/$pid/fd | wc -l)"
wrk -t1 -c4 -d${secs}s --latency "http://127.0.0.1:$iport/metrics" | grep -E 'Requests/sec|  50%|  99%' | sed 's|^|/metrics with 500 idle: |'
kill $holder 2>/dev/null || true
