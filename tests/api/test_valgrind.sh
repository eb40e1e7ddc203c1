#!/bin/bash
# start / requests / stop / start / stop under valgrind: no errors, no leaks.
set -euo pipefail
if [ -n "${IX_SANITIZE:-}" ]; then echo "skipped: valgrind cannot run sanitizer builds"; exit 77; fi
command -v valgrind > /dev/null || { echo "valgrind missing"; exit 1; }
valgrind --quiet --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect "$IX_BUILD_DIR/tests/test_http"
echo ok
