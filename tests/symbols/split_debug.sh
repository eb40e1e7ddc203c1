#!/bin/sh
# split_debug.sh LINKLIB BIDLIB OUTDIR: stripped copies of two builds of the
# test library (different build IDs) whose debug info lives elsewhere:
#   OUTDIR/link/libdbg_link.so  debug info stripped, .gnu_debuglink to libdbg_link.so.debug
#   OUTDIR/bid/libdbg_bid.so    everything stripped (no .symtab); its debug file is
#                               OUTDIR/debugroot/.build-id/xx/rest.debug
set -eu
linklib=$1
bidlib=$2
out=$3
rm -rf "$out/link" "$out/bid" "$out/debugroot"
mkdir -p "$out/link" "$out/bid"
objcopy --only-keep-debug "$linklib" "$out/link/libdbg_link.so.debug"
(cd "$out/link" && objcopy --strip-debug --add-gnu-debuglink=libdbg_link.so.debug "$linklib" libdbg_link.so)
id=$(readelf -n "$bidlib" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
[ -n "$id" ] || { echo "no build id in $bidlib" >&2; exit 1; }
dir="$out/debugroot/.build-id/$(echo "$id" | cut -c1-2)"
mkdir -p "$dir"
objcopy --only-keep-debug "$bidlib" "$dir/$(echo "$id" | cut -c3-).debug"
objcopy --strip-all "$bidlib" "$out/bid/libdbg_bid.so"
