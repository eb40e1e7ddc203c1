#!/usr/bin/env python3
"""check_trace.py must fail: each broken trace below is refused, the
well-formed one passes (so the trace test's validator can fail)."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
M = [{"ph": "M", "pid": 1, "tid": 2, "name": "thread_name", "args": {"name": "w"}}]
X = lambda ts, dur, tid=2, **k: dict({"ph": "X", "pid": 1, "tid": tid, "ts": ts, "dur": dur, "name": "x"}, **k)
GOOD = {"traceEvents": M + [X(0, 10), X(1, 5), X(11, 1, sf="a.1"),
                            {"ph": "s", "pid": 1, "tid": 2, "ts": 1, "id": 1, "name": "f"},
                            {"ph": "f", "pid": 1, "tid": 3, "ts": 2, "id": 1, "name": "f", "bp": "e"},
                            {"ph": "C", "pid": 1, "tid": 0, "ts": 3, "name": "c", "args": {"value": 4}},
                            {"ph": "B", "pid": 1, "tid": 4, "ts": 1, "name": "b"},
                            {"ph": "E", "pid": 1, "tid": 4, "ts": 2},
                            {"ph": "i", "pid": 1, "tid": 2, "ts": 2, "name": "i", "s": "t"},
                            {"ph": "i", "pid": 1, "tid": 2, "ts": 3, "name": "f", "s": "t", "cat": "cpu",
                             "sf": "a.1", "args": {"weight": 1}}],
        "stackFrames": {"a.0": {"name": "main"}, "a.1": {"name": "f", "parent": "a.0"}},
        "otherData": {"dropped_events": 0, "cpu_samples": 1, "cpu_samples_dropped": 0, "cpu_hz": 100}}
CPU = {"ph": "i", "pid": 1, "tid": 2, "ts": 3, "name": "f", "s": "t", "cat": "cpu", "sf": "a.1"}
BAD = {
    "misnested X": M + [X(0, 10), X(5, 10)],
    "flow without finish": M + [{"ph": "s", "pid": 1, "tid": 2, "ts": 1, "id": 1, "name": "f"}],
    "counter not numeric": M + [{"ph": "C", "pid": 1, "tid": 0, "ts": 3, "name": "c", "args": {"v": "4"}}],
    "E without B": M + [{"ph": "E", "pid": 1, "tid": 4, "ts": 2}],
    "B without E": M + [{"ph": "B", "pid": 1, "tid": 4, "ts": 2, "name": "b"}],
    "X without dur": M + [{"ph": "X", "pid": 1, "tid": 2, "ts": 0, "name": "x"}],
    "missing sf frame": M + [X(0, 1, sf="nope")],
    "negative ts": M + [X(-1, 1)],
    "unknown phase": M + [{"ph": "Q", "pid": 1, "tid": 2, "ts": 0, "name": "q"}],
    "cpu sample without weight": M + [CPU],
    "cpu samples miscounted": M + [dict(CPU, args={"weight": 1})] * 2,
}


def run(doc, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        return subprocess.run([sys.executable, os.path.join(HERE, "check_trace.py"), f.name] +
                              list(args), capture_output=True, text=True).returncode
    finally:
        os.unlink(f.name)


failed = 0
if run(GOOD) != 0:
    print("FAIL: the well-formed trace was refused")
    failed += 1
for name, evs in BAD.items():
    # otherData counts the cpu samples right, except where that is the fault.
    ncpu = sum(1 for e in evs if e.get("cat") == "cpu")
    od = dict(GOOD["otherData"], cpu_samples=ncpu if name != "cpu samples miscounted" else 1)
    if run({"traceEvents": evs, "stackFrames": GOOD["stackFrames"], "otherData": od}) == 0:
        print("FAIL: accepted:", name)
        failed += 1


# A process tree's trace (--tree-pids 1,2 --tree-missing 3).
def tree_doc(evs=None, frames=None, pt=None):
    base = [{"ph": "M", "pid": p, "tid": 0, "name": "process_name",
             "args": {"name": "srv (pid %d)" % p}} for p in (1, 2)]
    base += [X(0, 1, sf="1:a.1"), dict(X(0, 1, sf="2:a.0"), pid=2),
             {"ph": "s", "pid": 1, "tid": 2, "ts": 1, "id": 11, "name": "f"},
             {"ph": "f", "pid": 1, "tid": 3, "ts": 2, "id": 11, "name": "f", "bp": "e"}]
    return {"traceEvents": base + (evs or []),
            "stackFrames": frames or {"1:a.0": {"name": "main"},
                                      "1:a.1": {"name": "f", "parent": "1:a.0"},
                                      "2:a.0": {"name": "main"}},
            "otherData": dict(GOOD["otherData"], cpu_samples=0, process_tree=pt or {
                "processes": 3, "merged": 2,
                "notes": ["introspect: pid 3 (srv) is missing: no answer in 11000 ms"]})}


TREE = ["--tree-pids", "1,2", "--tree-missing", "3"]
if run(tree_doc(), *TREE) != 0:
    print("FAIL: the well-formed tree trace was refused")
    failed += 1
TREE_BAD = {
    "a pid without events": (tree_doc(), ["--tree-pids", "1,2,4", "--tree-missing", "3"]),
    "a frame of another process": (tree_doc([dict(X(5, 1, sf="1:a.0"), pid=2)]), TREE),
    "a parent in another namespace": (tree_doc(frames={"1:a.0": {"name": "m"}, "1:a.1": {
        "name": "f", "parent": "2:a.0"}, "2:a.0": {"name": "m"}}), TREE),
    "a span id of two processes": (tree_doc([
        {"ph": "b", "pid": 1, "tid": 2, "ts": 1, "id": "0x5", "cat": "task", "name": "t"},
        {"ph": "e", "pid": 1, "tid": 2, "ts": 2, "id": "0x5", "cat": "task"},
        {"ph": "b", "pid": 2, "tid": 2, "ts": 3, "id": "0x5", "cat": "task", "name": "t"},
        {"ph": "e", "pid": 2, "tid": 2, "ts": 4, "id": "0x5", "cat": "task"}]), TREE),
    "a missing pid not named": (tree_doc(pt={"processes": 3, "merged": 2, "notes": []}), TREE),
    "merged miscounted": (tree_doc(pt={"processes": 3, "merged": 3, "notes": [
        "introspect: pid 3 (srv) is missing: x"]}), TREE),
}
for name, (doc, args) in TREE_BAD.items():
    if run(doc, *args) == 0:
        print("FAIL: accepted:", name)
        failed += 1
print("validator: %d broken traces refused, good one accepted" % (len(BAD) + len(TREE_BAD)) if not failed else "")
sys.exit(1 if failed else 0)
