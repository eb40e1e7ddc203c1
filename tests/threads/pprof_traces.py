#!/usr/bin/env python3
"""Read `go tool pprof -traces` output (stdin) into JSON (stdout): a list of
{"labels": {key: value}, "value": float (ns for durations, else the count),
"frames": [leaf first]}. Used by the tests of the wait profiles so numbers are
taken from what go tool pprof itself decoded."""
import json
import re
import sys

UNITS = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}


def value(tok):
    m = re.fullmatch(r"([0-9.]+)(ns|us|µs|ms|s|m|h)?", tok)
    if not m:
        return None
    v = float(m.group(1))
    return v * UNITS[m.group(2)] if m.group(2) else v


out, cur = [], None
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith("-----------+"):
        if cur and cur["value"] is not None:
            out.append(cur)
        cur = {"labels": {}, "value": None, "frames": []}
        continue
    if cur is None or not line.strip():
        continue
    m = re.match(r"^\s+(\S+):\s+(.*)$", line)
    if m and cur["value"] is None:
        v = m.group(2).strip()
        if v.startswith("[") and v.endswith("]"):
            v = v[1:-1]
        cur["labels"][m.group(1)] = v
        continue
    parts = line.split()
    if cur["value"] is None and parts and value(parts[0]) is not None:
        cur["value"] = value(parts[0])
        cur["frames"].append(" ".join(parts[1:]))
    elif cur["value"] is not None:
        cur["frames"].append(line.strip())
if cur and cur["value"] is not None:
    out.append(cur)
json.dump(out, sys.stdout)
