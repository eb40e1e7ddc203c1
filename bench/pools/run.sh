#!/bin/bash
# Pool benchmarks: instrumentation cost per acquire (bench_pool_api) and the
# example pool's acquire + release cycle (bench_pgpool), 5 runs each.
set -euo pipefail
build=${1:-build}
for i in 1 2 3 4 5; do "$build/bench/bench_pool_api"; done
for i in 1 2 3 4 5; do "$build/bench/bench_pgpool"; done
