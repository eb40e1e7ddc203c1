#!/bin/bash
# Build the libFuzzer targets with clang (ASan+UBSan) in build-fuzz/ and run
# each for a bounded time, starting from the committed corpus in
# tests/fuzz/corpus/<target>/ (new inputs go to a scratch copy; pass
# --update-corpus to merge the ones that add coverage back into the repo).
#   tests/fuzz/run.sh [--update-corpus] [target...]   FUZZ_SECONDS=30 per target
set -euo pipefail
cd "$(dirname "$0")/../.."
update=0
if [ "${1:-}" = --update-corpus ]; then update=1; shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(uri symbol prom json pprof head)
secs=${FUZZ_SECONDS:-30}
command -v clang > /dev/null || { echo "fuzz: clang not installed"; exit 1; }
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DINTROSPECT_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DINTROSPECT_BUILD_EXAMPLES=OFF > /dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail=0
for t in "${targets[@]}"; do
    seeds=tests/fuzz/corpus/$t
    mkdir -p "$scratch/$t" "$seeds"
    cp "$seeds"/* "$scratch/$t"/ 2>/dev/null || true
    echo "=== fuzz_$t: ${secs}s from $(ls "$seeds" | wc -l) seeds"
    # -timeout: one input running over 10 s counts as a hang; -rss_limit_mb bounds memory.
    if ! (cd "$scratch" && timeout $((secs + 120)) "$OLDPWD/build-fuzz/tests/fuzz/fuzz_$t" \
            -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
            -print_final_stats=1 "$scratch/$t" > "$scratch/$t.log" 2>&1); then
        echo "fuzz_$t FAILED:"; grep -a -A40 -m1 "ERROR\|runtime error\|deadly" "$scratch/$t.log" | head -60
        for c in "$scratch"/crash-* "$scratch"/timeout-* "$scratch"/leak-* "$scratch"/oom-*; do
            [ -e "$c" ] && cp "$c" build-fuzz/ && echo "reproducer: build-fuzz/$(basename "$c")"
        done
        fail=$((fail + 1))
        continue
    fi
    grep -a "stat::number_of_executed_units\|Done" "$scratch/$t.log" | tail -1
    if [ $update = 1 ]; then
        build-fuzz/tests/fuzz/fuzz_$t -merge=1 "$seeds" "$scratch/$t" > /dev/null 2>&1
        echo "corpus/$t: $(ls "$seeds" | wc -l) inputs"
    fi
done
# The plain closing line CI reads: targets that ran clean and that failed.
echo "fuzz: $((${#targets[@]} - fail)) passed, $fail failed"
[ $fail -eq 0 ]
