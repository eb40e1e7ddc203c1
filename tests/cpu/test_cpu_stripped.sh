#!/bin/bash
# A stripped program reads well: its frames without symbols are folded into
# one frame named for the program ("[ix-stripped]") in the text (?debug=1),
# folded and JSON outputs, as go tool pprof shows them; consecutive frames of
# the program become one; the JSON keeps the addresses behind each folded
# frame (unfolded_locations), and the pprof protobuf keeps every address
# (pprof folds by itself).
set -u
if [ -n "${IX_SANITIZE:-}" ]; then echo "skipped under ${IX_SANITIZE}"; exit 77; fi
B=${IX_BUILD_DIR:?}
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; cat "$T/err" 2>/dev/null; exit 1; }
cat > "$T/prog.c" <<'C'
#include <stdint.h>
volatile uint64_t sink;
static __attribute__((noinline)) void leaf(void) { uint64_t x = sink | 1; for (int i = 0; i < 200000; i++) x = x * 6364136223846793005ULL + 1; sink = x; }
static __attribute__((noinline)) void mid(void) { leaf(); sink++; }
static __attribute__((noinline)) void top(void) { mid(); sink++; }
int main(void) { for (;;) top(); }
C
gcc -O1 -o "$T/ix-stripped" "$T/prog.c" || fail "cc"
strip "$T/ix-stripped"
nm "$T/ix-stripped" 2>&1 | grep -q "no symbols" || fail "not stripped"
timeout 120 env LD_PRELOAD=$B/libintrospect.so INTROSPECT_ADDR=127.0.0.1:0 "$T/ix-stripped" 2>"$T/err" &
pid=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/err")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "no port printed by the constructor"
base="http://127.0.0.1:$port/debug/pprof/profile?seconds=1&hz=250"
curl -s -m 60 -o "$T/text" "$base&debug=1" || fail "text"
curl -s -m 60 -o "$T/folded" "$base&format=folded" || fail "folded"
curl -s -m 60 -o "$T/json" "$base&format=json" || fail "json"
curl -s -m 60 -o "$T/prof" "$base" || fail "pprof"
kill $pid; wait $pid 2>/dev/null; pid=
echo "--- folded"; cat "$T/folded"
echo "--- text"; head -40 "$T/text"
# folded: the program is one frame between libc's start and the leaf
grep -q '__libc_start_call_main;\[ix-stripped\] [0-9]' "$T/folded" ||
    fail "folded: no [ix-stripped] frame under libc's start"
grep -q '\[ix-stripped\];\[ix-stripped\]' "$T/folded" && fail "folded: consecutive frames not folded"
grep -Eq '(^|;)0x[0-9a-f]+' "$T/folded" && fail "folded: hex frames left"
# text: the folded frame is a function row, no hex rows for the program
grep -Eq '^ +[0-9.]+[a-z]*s? +[0-9.]+% .*\[ix-stripped\]$' "$T/text" || fail "text: no [ix-stripped] row"
grep -Eq '^ +0x[0-9a-f]+$' "$T/text" && fail "text: hex frames left"
# json: the folded location says so, and the addresses behind it are kept
python3 - "$T/json" <<'PY' || fail "json"
import json, sys
p = json.load(open(sys.argv[1]))
fns = p["functions"]
folded = [i for i, l in enumerate(p["locations"]) if l.get("folded")]
assert folded, "no folded location"
assert any(fns[p["locations"][i]["lines"][0]["function"]]["name"] == "[ix-stripped]" for i in folded)
raw = [s for s in p["samples"] if "unfolded_locations" in s]
assert raw, "no unfolded_locations"
s = raw[0]
assert len(s["unfolded_locations"]) >= len(s["locations"])
assert all(p["locations"][i]["address"] != "0x0" for i in s["unfolded_locations"] if not p["locations"][i]["lines"])
print("json: %d folded locations, %d samples carry their addresses" % (len(folded), len(raw)))
PY
# pprof: the protobuf keeps the program's addresses (no synthetic frame)
raw=$(go tool pprof -raw "$T/prof" 2>&1) || fail "pprof: $raw"
echo "$raw" | sed -n '/^Locations/,/^Mappings/p' | grep -q '\[ix-stripped\]' &&
    fail "pprof protobuf carries the folded frame"
echo "$raw" | grep -Eq '^ +[0-9]+: 0x[0-9a-f]+ M=[0-9]+ *$' || fail "pprof: no bare addresses kept"
go tool pprof -top "$T/prof" 2>&1 | head -30
echo ok
