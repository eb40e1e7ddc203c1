#!/bin/sh
# One copy of each utility (docs/architecture.md): the clock, the hash, the
# random generator and the arenas live in src/util/, stack interning in
# src/stack/. This fails when one of their tell-tale lines appears anywhere
# else in src/, so a second copy cannot creep back in unnoticed (ctest runs
# it as test_no_duplicate_utils). For repeated code in general, review
# `duplicates --repo src --most 40` and, before a commit, `duplicates --change`.
# Usage: scripts/check_duplicates.sh [repo-root]
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
status=0
check() { # what, extended regex, the one place allowed (a path prefix)
    hits=$(grep -rnE "$2" src --include='*.c' --include='*.h' | grep -v "^$3")
    if [ -n "$hits" ]; then
        echo "second copy of $1 (use $3):"
        echo "$hits"
        status=1
    fi
}
check "the clock" 'clock_gettime\(' src/util/clock.h
check "the FNV hash" '1469598103934665603|1099511628211|cbf29ce484222325|100000001b3' src/util/hash.h
check "the random generator" '\^= *[a-zA-Z_.>-]+ *(<<|>>) *(7|12|13|17|25|27);' src/util/random.h
check "the mmap arena" 'mmap\(NULL, *[A-Z_]*CHUNK' src/util/arena
check "the stack table" 'struct ix_stack_entry \{' src/stack/stack_table.h
if [ $status -eq 0 ]; then
    echo "check_duplicates: one clock, hash, random generator, arena and stack table"
fi
exit $status
