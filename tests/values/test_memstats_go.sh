#!/bin/bash
# /debug/vars memstats read by Go: builds memstats_check.go with Debian's Go
# toolchain (standard library only, no network), runs values_server and
# checks its memstats against glibc's own figures (see memstats_check.go).
set -euo pipefail
[ "${IX_SANITIZE:-}" = "" ] || { echo "skip: the interposer is compiled out under sanitizers"; exit 77; }
command -v go >/dev/null || { echo "skip: no go toolchain"; exit 77; }
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
export GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GOFLAGS= GOPROXY=off GO111MODULE=off
go build -o "$tmp/memstats_check" "$IX_SOURCE_DIR/tests/values/memstats_check.go"
mkfifo "$tmp/in"
"$IX_BUILD_DIR/tests/values_server" < "$tmp/in" > "$tmp/port" & srv=$!
exec 3> "$tmp/in" # holds the server's stdin open; closed on exit
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || { echo "server did not start"; exit 1; }
"$tmp/memstats_check" "http://127.0.0.1:$port/debug/vars"
exec 3>&-
wait "$srv"; srv=
