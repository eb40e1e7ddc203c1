#!/bin/bash
# Foundation benchmarks: /metrics render time at 1k and 10k series, and
# /debug/vars requests per second under wrk against the demo.
set -euo pipefail
build=${1:-build}
for n in 1000 10000; do "$build/bench/bench_metrics_render" $n; done
command -v wrk > /dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 0; }
INTROSPECT_ADDR=127.0.0.1:16060 "$build/examples/introspect-demo" --listen 127.0.0.1:18080 > /dev/null & pid=$!
trap 'kill $pid' EXIT
sleep 1
wrk -t2 -c16 -d10s http://127.0.0.1:16060/debug/vars | grep -E 'Requests/sec|Latency'
wrk -t2 -c16 -d10s http://127.0.0.1:16060/metrics | grep -E 'Requests/sec|Latency'
