#!/bin/bash
# Install to a temporary prefix, then build a consumer with find_package()
# and with pkg-config, and run it.
set -euo pipefail
if [ -n "${IX_SANITIZE:-}" ]; then echo "skipped: an uninstrumented consumer cannot link a sanitizer build"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cmake --install "$IX_BUILD_DIR" --prefix "$tmp/prefix" > /dev/null
mkdir -p "$tmp/consumer"
cat > "$tmp/consumer/main.c" <<'C'
#include <introspect.h>
#include <stdio.h>
int main(void) {
    introspect_config cfg; introspect_config_init(&cfg); cfg.addr = "127.0.0.1:0";
    int rc = introspect_start(&cfg);
    if (rc) { printf("%s\n", introspect_strerror(rc)); return 1; }
    printf("port %d\n", introspect_port());
    return introspect_stop();
}
C
cat > "$tmp/consumer/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(introspect 0.1 REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE introspect::introspect)
C
cmake -S "$tmp/consumer" -B "$tmp/cbuild" -DCMAKE_PREFIX_PATH="$tmp/prefix" > /dev/null
cmake --build "$tmp/cbuild" > /dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/cbuild/consumer" | grep -q '^port [0-9]'
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -1)
PKG_CONFIG_PATH="$libdir" cc "$tmp/consumer/main.c" -o "$tmp/pc-consumer" \
    $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs introspect)
LD_LIBRARY_PATH="$(dirname "$libdir")" "$tmp/pc-consumer" | grep -q '^port [0-9]'
echo ok
