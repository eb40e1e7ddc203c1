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

run_suite() { # dir, cmake args..., then -- ctest args...
    local dir=$1; shift
    local cargs=() targs=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do cargs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    targs=("$@")
    echo "=== $dir: ${cargs[*]:-default}"
    cmake -S . -B "$dir" "${cargs[@]}" > /dev/null
    cmake --build "$dir" -j"$jobs"
    (cd "$dir" && ctest --output-on-failure "${targs[@]}")
}

run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
[ "${1:-}" = --quick ] && exit 0
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DINTROSPECT_SANITIZE=address
run_suite build-tsan -DCMAKE_BUILD_TYPE=Debug -DINTROSPECT_SANITIZE=thread -- -L tsan
# libFuzzer targets (clang, ASan+UBSan), 30 s each from the committed corpus.
echo "=== build-fuzz: libFuzzer, ${FUZZ_SECONDS:-30}s per target"
FUZZ_SECONDS=${FUZZ_SECONDS:-30} tests/fuzz/run.sh
