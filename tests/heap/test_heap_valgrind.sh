#!/bin/bash
# The heap module under valgrind memcheck, both ways valgrind can treat our
# malloc (see test_heap_valgrind_prog.c): no errors, no definite leaks.
set -euo pipefail
command -v valgrind > /dev/null || { echo "valgrind missing"; exit 1; }
prog="$IX_BUILD_DIR/tests/test_heap_valgrind_prog"
"$prog" > /dev/null 2>&1 || [ $? -ne 77 ] || exit 77
vg() { timeout 240 valgrind --quiet --error-exitcode=9 --leak-check=full \
    --suppressions="$(dirname "$0")/valgrind.supp" \
    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect "$@"; }
IX_EXPECT_PROFILER=bypassed vg "$prog"
IX_EXPECT_PROFILER=interpose vg --soname-synonyms=somalloc=nouserintercepts "$prog"
echo ok
