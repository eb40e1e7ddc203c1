#!/bin/bash
# Install what is needed, build, and run the whole test suite: the normal
# build, then the same suite under ASan+UBSan, then the concurrent parts
# under TSan. Builds go to build/, build-asan/, build-tsan/.
#   test.sh            everything
#   test.sh --quick    the normal build only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)

passed=0 failed=0 skipped=0
summary() { echo "all: $passed passed, $failed failed, $skipped skipped"; }

# Add one ctest run's counts (from its log) to the totals.
count() {
    local line total f s
    line=$(grep -E 'tests failed out of [0-9]+' "$1" | tail -1)
    total=$(echo "$line" | sed -E 's/.* out of ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed .*/\1/')
    s=$(grep -cE '^\s+[0-9]+ - .* \(Skipped\)$' "$1" || true)
    passed=$((passed + ${total:-0} - ${f:-0} - s)); failed=$((failed + ${f:-0})); skipped=$((skipped + s))
}

run_suite() { # dir, cmake args..., then -- ctest args...
    local dir=$1; shift
    local cargs=() targs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cargs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    targs=("$@")
    echo "=== $dir: ${cargs[*]:-default}"
    cmake -S . -B "$dir" "${cargs[@]}" > /dev/null
    cmake --build "$dir" -j"$jobs"
    local rc=0
    (cd "$dir" && ctest --output-on-failure "${targs[@]}") 2>&1 | tee "$dir/ctest.log" || rc=$?
    count "$dir/ctest.log"
    if [ $rc -ne 0 ]; then summary; exit $rc; fi
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${1:-}" = --quick ]; then summary; exit 0; fi
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DINTROSPECT_SANITIZE=address
run_suite build-tsan -DCMAKE_BUILD_TYPE=Debug -DINTROSPECT_SANITIZE=thread -- -L tsan
# libFuzzer targets (clang, ASan+UBSan), 30 s each from the committed corpus.
echo "=== build-fuzz: libFuzzer, ${FUZZ_SECONDS:-30}s per target"
rc=0
FUZZ_SECONDS=${FUZZ_SECONDS:-30} tests/fuzz/run.sh 2>&1 | tee build-fuzz.log || rc=$?
line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' build-fuzz.log | tail -1 || true)
fp=$(echo "$line" | sed -nE 's/fuzz: ([0-9]+) passed.*/\1/p')
ff=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed/\1/p')
passed=$((passed + ${fp:-0})); failed=$((failed + ${ff:-0}))
[ -n "$line" ] || { failed=$((failed + 1)); rc=${rc/#0/1}; }
summary
exit $rc
