#!/bin/bash
# Go's formats where go tool pprof reads them, against values_server's known
# heap (40000 blocks of 32-231 B, half freed; 4000 of 4-8 KiB; 24 of ~1 MiB;
# sampled every 64 KiB on average):
#  - heap samples carry Go's numeric "bytes" label: -tagfocus=bytes=1kb:
#    selects the 4 KiB and 1 MiB blocks (~49 MiB), bytes=:1kb the small ones
#    (~2.6 MiB), bytes=4mb: nothing;
#  - heap profiles state their samples and relative error (comments, JSON);
#  - heap?debug=1 parses and ends with Go's "# runtime.MemStats" trailer,
#    whose HeapAlloc agrees with /debug/vars.
# Tolerances: the sampled estimates rest on ~800 samples for the large
# blocks (relative error ~3.5%) and ~40 for the small ones (~16%); the bounds
# below are 30% / a factor of 2 around the known sizes, far outside that noise.
set -euo pipefail
[ "${IX_SANITIZE:-}" = "" ] || { echo "skip: the interposer is compiled out under sanitizers"; exit 77; }
tmp=$(mktemp -d)
srv=
cleanup() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export PPROF_TMPDIR="$tmp" HOME="$tmp"
mkfifo "$tmp/in"
"$IX_BUILD_DIR/tests/values_server" < "$tmp/in" > "$tmp/port" & srv=$!
exec 3> "$tmp/in"
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(head -1 "$tmp/port")
[ -n "$port" ] || fail "server did not start"
base="http://127.0.0.1:$port"

curl -fsS -o "$tmp/heap.pb.gz" "$base/debug/pprof/heap"
# "Showing nodes accounting for X, P% of T total": X (bytes, -unit=B) is what the focus kept.
total() {
    local out
    out=$(go tool pprof -top -nodefraction=0 -unit=B -sample_index=inuse_space "$@" \
          "$tmp/heap.pb.gz" 2>&1) || true
    echo "$out" | sed -n 's/^Showing nodes accounting for \([0-9.]*\)B, .*/\1/p' | head -1
}
all=$(total)
big=$(total -tagfocus=bytes=1kb:)
small=$(total -tagfocus=bytes=:1kb)
none=$(go tool pprof -top -unit=B -sample_index=inuse_space -tagfocus=bytes=4mb: "$tmp/heap.pb.gz" 2>&1 || true)
echo "inuse_space: all=$all bytes>=1kb: $big bytes<=1kb: $small"
python3 - "$all" "$big" "$small" <<'PY'
import sys
a, big, small = (float(x or 0) for x in sys.argv[1:])
want_big = 4000 * (4096 + 2000) + 24 * (1 << 20) + 4096 * 276   # ~49.6 MB
want_small = 20000 * 131.5                                       # ~2.6 MB
assert 0.7 * want_big < big < 1.3 * want_big, (big, want_big)
assert want_small / 2 < small < want_small * 2, (small, want_small)
assert big + small <= a * 1.001 + 1, (big, small, a)
PY
echo "$none" | grep -q "TagFocus expression matched no samples" \
    || fail "-tagfocus=bytes=4mb: selected samples: $none"
# The label itself: Go's key and unit.
go tool pprof -raw "$tmp/heap.pb.gz" 2>/dev/null | grep -E 'bytes:\[[0-9]+' > /dev/null || fail "no bytes label in -raw"

# Precision: comments in the profile, a field in its JSON.
cm=$(go tool pprof -comments "$tmp/heap.pb.gz" 2>&1)
echo "$cm" | grep -Eq "^inuse: [0-9]+ samples, relative error of the total about [0-9.]+%" \
    || fail "no precision comment: $cm"
curl -fsS "$base/debug/pprof/heap?format=json" | python3 -c '
import json, sys, math
d = json.load(sys.stdin)
p = d["precision"]
assert len(p) == len(d["sample_types"]) == 4, p
n = p[3]["samples"]
assert n > 100 and abs(p[3]["relative_error"] - 1 / math.sqrt(n)) < 1e-9, p
print("precision:", p[3])'

# heap?debug=1: Go's legacy text, parsed by pprof, with the MemStats trailer.
curl -fsS "$base/debug/pprof/heap?debug=1" > "$tmp/heap.txt"
curl -fsS "$base/debug/vars" > "$tmp/vars.json"
head -1 "$tmp/heap.txt" | grep -Eq '^heap profile: [0-9]+: [0-9]+ \[[0-9]+: [0-9]+\] @ heap/131072$' \
    || fail "header: $(head -1 "$tmp/heap.txt")"
for k in Alloc TotalAlloc Sys Lookups Mallocs Frees HeapAlloc HeapSys HeapIdle HeapInuse \
         HeapReleased HeapObjects Stack MSpan MCache BuckHashSys GCSys OtherSys NextGC LastGC \
         PauseNs PauseEnd NumGC NumForcedGC GCCPUFraction DebugGC MaxRSS; do
    grep -q "^# $k = " "$tmp/heap.txt" || fail "trailer has no '# $k = '"
done
grep -q '^# runtime.MemStats$' "$tmp/heap.txt" || fail "no '# runtime.MemStats'"
python3 - "$tmp/heap.txt" "$tmp/vars.json" <<'PY'
import json, re, sys
t = open(sys.argv[1]).read()
v = json.load(open(sys.argv[2]))["memstats"]
h = int(re.search(r"^# HeapAlloc = (\d+)$", t, re.M).group(1))
assert abs(h - v["HeapAlloc"]) < (1 << 20), (h, v["HeapAlloc"])
assert re.search(r"^# PauseNs = \[0( 0){255}\]$", t, re.M)
assert re.search(r"^# Stack = \d+ / \d+$", t, re.M)
print("trailer HeapAlloc", h, "vars", v["HeapAlloc"])
PY
# Over HTTP, as users run it (pprof symbolizes through /debug/pprof/symbol).
top=$(go tool pprof -top -sample_index=inuse_space "$base/debug/pprof/heap?debug=1" 2>&1) \
    || fail "pprof on heap?debug=1: $top"
echo "$top" | grep -q "keep" || fail "pprof on heap?debug=1 does not name keep(): $top"
exec 3>&-
wait "$srv"; srv=
echo ok
