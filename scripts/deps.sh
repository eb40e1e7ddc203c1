#!/bin/bash
# Install the Debian 12 packages introspect needs.
#   deps.sh build   what building the library and the demo needs
#   deps.sh test    that plus every real client and server the tests start
set -euo pipefail
what=${1:-build}
build_pkgs=(build-essential g++ cmake pkg-config libmicrohttpd-dev zlib1g-dev libdw-dev libelf-dev libpq-dev libsqlite3-dev)
test_pkgs=(clang elfutils libclang-rt-14-dev python3 curl valgrind binutils postgresql openssl
           libgoogle-perftools4 libjemalloc2 libdeflate0 libc6-dbg
           golang-go protobuf-compiler golang-github-google-pprof-dev prometheus chromium
           nginx memcached redis-server libmemcached-tools wrk)
# libc6-dbg: libc's DWARF 5, the large real input the line-table decoder is
# checked against libdw on (tests/symbols/test_symbols_lines.c skips without it).
# The UI test drives Chromium with playwright-core from npm: any Node.js with npm will do.
command -v npm > /dev/null 2>&1 || test_pkgs+=(nodejs npm)
pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
