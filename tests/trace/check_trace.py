#!/usr/bin/env python3
"""Validate a Chrome trace-event JSON file (as /debug/pprof/trace writes it),
then, when asked, check the starved-pool scenario of tests/trace/test_trace.c.

Format (the trace-event spec, "JSON Object Format"):
  - the file parses with python's json; traceEvents is a list of objects;
  - every event has ph, pid, tid (ints) and, except "M", a numeric ts >= 0;
  - per phase: X needs name and dur >= 0; B/E pair up per (pid, tid) with
    stack discipline; b/e pair up per (cat, id); s/f pair up per id
    (one start, one finish, finish not before start); C has a name and
    args whose values are all numbers; i has name and scope s in g/p/t;
    M is one of process_name/thread_name/thread_sort_index with args;
  - X events on one lane nest: a slice that starts inside another ends
    inside it too;
  - "sf" names a frame of stackFrames, and every frame's parent exists;
  - otherData.dropped_events is a number, and so are the CPU sample notes
    (cpu_samples, cpu_samples_dropped); cpu_samples counts the "i" events
    of category cpu, each with args.weight >= 1.
Scenario (--task NAME ...): the task span, its pool-wait child linked to it
(same thread, inside the span, at least --min-wait-ms), the thread's state
lane blocked during the wait with --stack among the blocked interval's
frames, and the pool's in-use counter at its maximum from the wait's start
for at least half of its samples in the wait.
CPU (--cpu-func F --cpu-tid T): at least --min-cpu-samples CPU samples on
thread T's lane with F in their stack, and none with F on any other lane.
Tree (--tree-pids P1,P2,... --tree-missing M,...): a process tree's merged
trace (docs/process-tree.md) holds events of every pid in P, each named by
process_name metadata "... (pid N)"; every frame an event of pid N points
at, and every frame's parent, is in N's namespace ("N:..."); span and flow
ids of different pids differ; otherData.process_tree counts the processes
merged, and names each pid of M as missing.
Exit 0 when everything holds; otherwise each failure is printed, exit 1."""
import argparse
import json
import sys

STATE_TID = 1000000000
errors = []


def err(msg):
    errors.append(msg)


def num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate(doc):
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        err("no traceEvents list")
        return []
    evs = doc["traceEvents"]
    frames = doc.get("stackFrames", {})
    if not isinstance(frames, dict):
        err("stackFrames is not an object")
        frames = {}
    for fid, fr in frames.items():
        if "name" not in fr:
            err("frame %s has no name" % fid)
        if "parent" in fr and fr["parent"] not in frames:
            err("frame %s: parent %s missing" % (fid, fr["parent"]))
    be = {}
    async_open = {}
    flows = {}
    for i, e in enumerate(evs):
        if not isinstance(e, dict):
            err("event %d is not an object" % i)
            continue
        ph = e.get("ph")
        for k in ("pid", "tid"):
            if not isinstance(e.get(k), int):
                err("event %d (%s): %s not an int" % (i, ph, k))
        if ph != "M" and (not num(e.get("ts")) or e["ts"] < 0):
            err("event %d (%s): bad ts %r" % (i, ph, e.get("ts")))
        if ph not in ("M", "f", "e", "E") and not isinstance(e.get("name"), str):
            err("event %d (%s): no name" % (i, ph))
        lane = (e.get("pid"), e.get("tid"))
        if ph == "X":
            if not num(e.get("dur")) or e["dur"] < 0:
                err("event %d: X without dur >= 0" % i)
        elif ph == "B":
            be.setdefault(lane, []).append(e)
        elif ph == "E":
            st = be.get(lane)
            if not st:
                err("event %d: E without B on %s" % (i, lane))
            else:
                b = st.pop()
                if e["ts"] < b["ts"]:
                    err("event %d: E before its B" % i)
        elif ph in ("b", "e"):
            key = (e.get("cat"), e.get("id"))
            if e.get("id") is None:
                err("event %d: async event without id" % i)
            if ph == "b":
                async_open[key] = e
            elif key not in async_open:
                err("event %d: e without b %s" % (i, key))
            else:
                async_open.pop(key)
        elif ph in ("s", "t", "f"):
            if e.get("id") is None:
                err("event %d: flow without id" % i)
            flows.setdefault(e.get("id"), []).append(e)
        elif ph == "C":
            args = e.get("args")
            if not isinstance(args, dict) or not args or not all(num(v) for v in args.values()):
                err("event %d: counter args not numeric: %r" % (i, args))
        elif ph == "i":
            if e.get("s", "t") not in ("g", "p", "t"):
                err("event %d: instant scope %r" % (i, e.get("s")))
        elif ph == "M":
            if e.get("name") not in ("process_name", "thread_name", "thread_sort_index",
                                     "process_sort_index", "process_labels"):
                err("event %d: unknown metadata %r" % (i, e.get("name")))
            if not isinstance(e.get("args"), dict):
                err("event %d: metadata without args" % i)
        else:
            err("event %d: unknown phase %r" % (i, ph))
        if "sf" in e and str(e["sf"]) not in frames:
            err("event %d: sf %r not in stackFrames" % (i, e["sf"]))
    for lane, st in be.items():
        if st:
            err("%d B without E on %s" % (len(st), lane))
    if async_open:
        err("%d async b without e" % len(async_open))
    for fid, fl in flows.items():
        phs = [f["ph"] for f in fl]
        if phs.count("s") != 1 or phs.count("f") != 1:
            err("flow %r: phases %r" % (fid, phs))
        else:
            s = next(f for f in fl if f["ph"] == "s")
            f = next(f for f in fl if f["ph"] == "f")
            if f["ts"] < s["ts"]:
                err("flow %r finishes before it starts" % fid)
    # X nesting per lane (ns precision: ts/dur carry 3 decimals of us).
    lanes = {}
    for e in evs:
        if isinstance(e, dict) and e.get("ph") == "X" and num(e.get("dur")):
            lanes.setdefault((e["pid"], e["tid"]), []).append(e)
    for lane, xs in lanes.items():
        xs.sort(key=lambda e: (e["ts"], -e["dur"]))
        ends = []
        for e in xs:
            end = round(e["ts"] + e["dur"], 3)
            while ends and ends[-1] <= e["ts"] + 1e-9:
                ends.pop()
            if ends and end > ends[-1] + 1e-6:
                err("lane %s: %r (%.3f..%.3f) overlaps its parent without nesting (ends %.3f)"
                    % (lane, e.get("name"), e["ts"], end, ends[-1]))
            ends.append(end)
    od = doc.get("otherData", {})
    if not num(od.get("dropped_events")):
        err("otherData.dropped_events missing")
    cpu = [e for e in evs if isinstance(e, dict) and e.get("ph") == "i" and e.get("cat") == "cpu"]
    for k in ("cpu_samples", "cpu_samples_dropped", "cpu_hz"):
        if not num(od.get(k)):
            err("otherData.%s missing" % k)
    if num(od.get("cpu_samples")) and od["cpu_samples"] != len(cpu):
        err("otherData.cpu_samples %r, %d cpu instants" % (od["cpu_samples"], len(cpu)))
    for e in cpu:
        w = (e.get("args") or {}).get("weight")
        if not num(w) or w < 1:
            err("cpu sample without weight >= 1: %r" % e)
            break
    return evs


def frame_names(frames, fid):
    names = []
    while fid is not None and fid in frames:
        names.append(frames[fid].get("name", ""))
        fid = frames[fid].get("parent")
    return names


def scenario(doc, evs, a):
    xs = [e for e in evs if e.get("ph") == "X"]
    tasks = [e for e in xs if e.get("cat") == "task"]
    if len(tasks) < a.min_tasks:
        err("%d task spans, expected at least %d" % (len(tasks), a.min_tasks))
    mine = [e for e in tasks if e["args"].get("name") == a.task]
    if len(mine) != 1:
        err("task %r: %d spans" % (a.task, len(mine)))
        return
    t = mine[0]
    tid, tid_task = t["tid"], t["args"]["task"]
    t_end = t["ts"] + t["dur"]
    if t["args"].get("status") != "200":
        err("task status %r" % t["args"].get("status"))
    waits = [e for e in xs if e.get("cat") == "pool" and e["args"].get("task") == tid_task]
    if len(waits) != 1:
        err("task %s: %d pool waits linked (expected 1)" % (tid_task, len(waits)))
        return
    w = waits[0]
    w_end = w["ts"] + w["dur"]
    if w["tid"] != tid or w["args"].get("pool") != a.pool:
        err("pool wait on tid %s pool %r" % (w["tid"], w["args"].get("pool")))
    if not (t["ts"] <= w["ts"] and w_end <= t_end + 1e-6):
        err("pool wait %.3f..%.3f not inside the task %.3f..%.3f" % (w["ts"], w_end, t["ts"], t_end))
    if w["dur"] < a.min_wait_ms * 1000:
        err("pool wait %.3f ms < %s ms" % (w["dur"] / 1000, a.min_wait_ms))
    # The state lane: blocked while waiting, with the acquire's stack.
    frames = doc.get("stackFrames", {})
    blocked = [e for e in xs if e["tid"] == tid + STATE_TID and e["name"].startswith("blocked")
               and e["ts"] < w_end and e["ts"] + e["dur"] > w["ts"]]
    covered = sum(min(e["ts"] + e["dur"], w_end) - max(e["ts"], w["ts"]) for e in blocked)
    if covered < 0.5 * w["dur"]:
        err("blocked intervals cover %.3f of the %.3f ms wait" % (covered / 1000, w["dur"] / 1000))
    with_stack = [e for e in blocked if a.stack in frame_names(frames, e.get("sf"))]
    if not with_stack:
        err("no blocked interval during the wait has %r in its stack: %r" % (
            a.stack, [frame_names(frames, e.get("sf"))[:12] for e in blocked]))
    # The pool's in-use counter during the wait.
    series = "pool %s in use" % a.pool
    cs = [e for e in evs if e.get("ph") == "C" and e.get("name") == series]
    if not cs:
        err("no counter %r" % series)
    else:
        # At its maximum from the wait's start, until the holder gives the
        # connection back; between that and the waiter's acquire (its
        # wake-up: milliseconds on a loaded machine) the counter may read
        # less. So: a prefix at the maximum, at least half the samples.
        top = max(e["args"]["value"] for e in cs)
        during = [e["args"]["value"] for e in cs if w["ts"] <= e["ts"] <= w_end]
        at_top = next((i for i, v in enumerate(during) if v != top), len(during))
        if not during or top < 1 or at_top < (len(during) + 1) // 2:
            err("counter %r during the wait %r, maximum %r" % (series, during, top))
    if a.mutex_task:
        mt = [e for e in tasks if e["args"].get("name") == a.mutex_task]
        mw = [e for e in xs if e.get("cat") == "mutex" and mt and
              e["args"].get("task") == mt[0]["args"]["task"]]
        if not mw:
            err("no mutex wait linked to %r" % a.mutex_task)
    print("task %s %r: %.3f ms; pool wait %.3f ms; blocked %.3f ms over %d intervals; "
          "%d task spans" % (tid_task, a.task, t["dur"] / 1000, w["dur"] / 1000,
                             covered / 1000, len(blocked), len(tasks)))


def has_func(names, func):
    """func among names, or a compiler's clone of it (func.isra.0, func.constprop.0)."""
    return any(n == func or n.startswith(func + ".") for n in names)


def cpu_samples(doc, evs, a):
    frames = doc.get("stackFrames", {})
    cpu = [e for e in evs if e.get("ph") == "i" and e.get("cat") == "cpu"]
    mine = [e for e in cpu if e["tid"] == a.cpu_tid]
    hits = [e for e in mine if has_func(frame_names(frames, e.get("sf")), a.cpu_func)]
    elsewhere = [e for e in cpu if e["tid"] != a.cpu_tid and
                 has_func(frame_names(frames, e.get("sf")), a.cpu_func)]
    if len(hits) < a.min_cpu_samples:
        err("%d cpu samples on tid %d with %r in the stack (of %d there, %d in all), expected "
            ">= %d; note: %r" % (len(hits), a.cpu_tid, a.cpu_func, len(mine), len(cpu),
                                 a.min_cpu_samples, doc.get("otherData", {}).get("cpu_note")))
    if elsewhere:
        err("%d cpu samples with %r on other threads: %r" % (
            len(elsewhere), a.cpu_func, sorted({e["tid"] for e in elsewhere})))
    print("cpu: %d samples, %d on tid %d, %d of them in %s" % (
        len(cpu), len(mine), a.cpu_tid, len(hits), a.cpu_func))


def moves(doc, evs, a):
    """--flow-task: a task that moved threads has a span on each and a flow
    between them; --early-task: a task begun before the trace is named (from
    the registry) and marked began_before_trace."""
    xs = [e for e in evs if e.get("ph") == "X" and e.get("cat") == "task"]
    if a.flow_task:
        spans = [e for e in xs if e["args"].get("name") == a.flow_task]
        tids = {e["tid"] for e in spans}
        if len(tids) < 2:
            err("task %r on threads %r, expected 2" % (a.flow_task, sorted(tids)))
        else:
            tid_task = spans[0]["args"]["task"]
            fl = [e for e in evs if e.get("ph") in ("s", "f") and
                  (e.get("args") or {}).get("task") == tid_task]
            starts = {e["tid"] for e in fl if e["ph"] == "s"}
            ends = {e["tid"] for e in fl if e["ph"] == "f"}
            if not starts or not ends or starts == ends or not (starts | ends) <= tids:
                err("flow of %r: starts on %r, finishes on %r, spans on %r" % (
                    a.flow_task, starts, ends, tids))
    if a.early_task:
        early = [e for e in xs if e["args"].get("name") == a.early_task]
        if not early or not early[0]["args"].get("began_before_trace"):
            err("task %r begun before the trace: %r" % (a.early_task, early[:1]))


def tree(doc, evs, a):
    pids = [int(p) for p in a.tree_pids.split(",") if p]
    missing = [int(p) for p in (a.tree_missing or "").split(",") if p]
    frames = doc.get("stackFrames", {})
    for pid in pids:
        mine = [e for e in evs if e.get("pid") == pid and e.get("ph") != "M"]
        if not mine:
            err("pid %d: no events" % pid)
        names = [e["args"].get("name", "") for e in evs if e.get("ph") == "M" and
                 e.get("pid") == pid and e.get("name") == "process_name"]
        if len(names) != 1 or not names[0].endswith("(pid %d)" % pid):
            err("pid %d: process_name metadata %r" % (pid, names))
        ns = "%d:" % pid
        for e in mine:
            if "sf" in e and not str(e["sf"]).startswith(ns):
                err("pid %d: event %r points at frame %r of another namespace" % (
                    pid, e.get("name"), e["sf"]))
                break
    for fid, fr in frames.items():
        if "parent" in fr and fid.split(":")[0] != str(fr["parent"]).split(":")[0]:
            err("frame %s: parent %s in another namespace" % (fid, fr["parent"]))
            break
    owner = {}
    for e in evs:
        if e.get("ph") in ("b", "e", "s", "f") and e.get("id") is not None:
            key = (e["ph"] in ("s", "f"), str(e["id"]))
            if owner.setdefault(key, e["pid"]) != e["pid"]:
                err("id %r used by pids %d and %d" % (e["id"], owner[key], e["pid"]))
                break
    pt = doc.get("otherData", {}).get("process_tree")
    if not isinstance(pt, dict):
        err("otherData.process_tree missing")
        return
    if pt.get("merged") != len(pids) or pt.get("processes") != len(pids) + len(missing):
        err("process_tree %r, expected %d merged of %d" % (pt, len(pids), len(pids) + len(missing)))
    notes = " | ".join(pt.get("notes", []))
    for pid in missing:
        if ("pid %d (" % pid) not in notes or "is missing" not in notes:
            err("pid %d not named missing in %r" % (pid, notes))
        if any(e.get("pid") == pid for e in evs):
            err("pid %d is missing yet has events" % pid)
    print("tree: %d processes merged; notes: %s" % (len(pids), notes))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--task")
    ap.add_argument("--pool")
    ap.add_argument("--stack")
    ap.add_argument("--min-wait-ms", type=float, default=0)
    ap.add_argument("--min-tasks", type=int, default=0)
    ap.add_argument("--mutex-task")
    ap.add_argument("--flow-task")
    ap.add_argument("--early-task")
    ap.add_argument("--cpu-func")
    ap.add_argument("--cpu-tid", type=int)
    ap.add_argument("--min-cpu-samples", type=int, default=1)
    ap.add_argument("--tree-pids")
    ap.add_argument("--tree-missing")
    a = ap.parse_args()
    with open(a.file) as f:
        doc = json.load(f)
    evs = validate(doc)
    if a.task and not errors:
        scenario(doc, evs, a)
    if a.cpu_func and not errors:
        cpu_samples(doc, evs, a)
    if a.tree_pids and not errors:
        tree(doc, evs, a)
    if (a.flow_task or a.early_task) and not errors:
        moves(doc, evs, a)
    od = doc.get("otherData", {})
    print("%d events, dropped %s, %s" % (len(evs), od.get("dropped_events"),
                                         {k: od.get(k) for k in ("ticks", "late_ticks",
                                                                 "blocked_walks")}))
    for e in errors[:40]:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
