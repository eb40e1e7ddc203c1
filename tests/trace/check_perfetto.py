#!/usr/bin/env python3
"""Validate a Perfetto protobuf trace (as /debug/pprof/trace?format=perfetto
writes it) by decoding it with the real protoc against the hand-written
subset tests/trace/perfetto_subset.proto, then checking its structure:
  - protoc decodes it as perfetto.protos.Trace, with no field the subset
    does not know (protoc prints those as bare numbers);
  - every packet is on its process's sequence (trusted_packet_sequence_id
    = the pid of the track it describes or draws on); event timestamps
    never go back within a sequence; track uuids are unique, parents and
    events' tracks exist, every track's uuid carries its process's pid;
  - one process track (pid), thread tracks with pid, tid and a name;
    with --tree-pids P,P,... (a process tree's trace): one process track
    per pid, thread tracks under their own process, an instant "process
    tree" on the first pid's track counting the processes; --tree-missing
    P,...: those pids have a process track named missing and no thread;
    --tree-exited P,...: those have threads and a note that they exited;
  - per track, SLICE_BEGIN/SLICE_END pair up with stack discipline;
  - TYPE_COUNTER events only on counter tracks, with a value;
  - every flow id that starts (flow_ids) terminates (terminating_flow_ids)
    on another track.
Scenario options: --task NAME (a slice with debug annotation name=NAME on a
thread track), --flow-task NAME (that task has slices on two threads and a
flow between them), --cpu-func F --cpu-tid T [--min-cpu-samples N] (CPU
instants on thread T's track whose stack annotation has F, none elsewhere).
Exit 0 when everything holds; otherwise each failure is printed, exit 1;
77 when protoc is missing."""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
errors = []


def err(msg):
    errors.append(msg)


def parse_text(lines):
    """protoc's text format into nested dicts of lists."""
    root = {}
    stack = [root]
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
            continue
        if line.endswith("{"):
            key = line[:-1].strip()
            node = {}
            stack[-1].setdefault(key, []).append(node)
            stack.append(node)
            continue
        key, _, val = line.partition(":")
        val = val.strip()
        if val.startswith('"'):
            try:  # C escapes; non-ASCII bytes come as octal escapes
                val = bytes(val[1:-1], "ascii").decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")
            except (UnicodeError, ValueError):
                val = val[1:-1]
        stack[-1].setdefault(key.strip(), []).append(val)
    return root


def one(d, k, default=None):
    v = d.get(k)
    return v[0] if v else default


def annotations(ev):
    out = {}
    for a in ev.get("debug_annotations", []):
        name = one(a, "name")
        for k in ("string_value", "int_value", "bool_value", "double_value", "uint_value"):
            if k in a:
                out[name] = one(a, k)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--task")
    ap.add_argument("--flow-task")
    ap.add_argument("--cpu-func")
    ap.add_argument("--cpu-tid", type=int)
    ap.add_argument("--min-cpu-samples", type=int, default=1)
    ap.add_argument("--tree-pids")
    ap.add_argument("--tree-missing")
    ap.add_argument("--tree-exited")
    a = ap.parse_args()
    protoc = shutil.which("protoc")
    if not protoc:
        print("SKIP: protoc not installed")
        return 77
    with open(a.file, "rb") as f:
        data = f.read()
    p = subprocess.run([protoc, "--decode=perfetto.protos.Trace", "-I", HERE, "perfetto_subset.proto"],
                       input=data, capture_output=True)
    if p.returncode != 0:
        print("FAIL: protoc --decode: %s" % p.stderr.decode(errors="replace"))
        return 1
    text = p.stdout.decode("utf-8", "replace").splitlines()
    unknown = [l for l in text if re.match(r"^\s*\d+\s*[:{]", l)]
    if unknown:
        err("fields the subset does not know: %r" % unknown[:5])
    trace = parse_text(text)
    packets = trace.get("packet", [])
    if not packets:
        err("no packets")
    tracks = {}
    events = []
    seq_of = {}
    last_ts = {}
    for i, pk in enumerate(packets):
        seq = one(pk, "trusted_packet_sequence_id")
        if not seq or seq == "0":
            err("packet %d: no trusted_packet_sequence_id" % i)
        if "track_descriptor" in pk:
            td = pk["track_descriptor"][0]
            u = one(td, "uuid")
            if u in tracks:
                err("track uuid %s twice" % u)
            tracks[u] = td
            seq_of[u] = seq
        elif "track_event" in pk:
            ts = int(one(pk, "timestamp", "0"))
            if ts < last_ts.get(seq, 0):
                err("packet %d: timestamp %d before %d on sequence %s" % (i, ts, last_ts[seq], seq))
            last_ts[seq] = ts
            ev = pk["track_event"][0]
            ev["_ts"] = ts
            ev["_seq"] = seq
            events.append(ev)
        else:
            err("packet %d: neither descriptor nor event: %r" % (i, list(pk)))
    procs = [t for t in tracks.values() if "process" in t]
    threads = {u: t for u, t in tracks.items() if "thread" in t}
    counters = {u for u, t in tracks.items() if "counter" in t}
    tree = [int(p) for p in a.tree_pids.split(",")] if a.tree_pids else None
    missing = [int(p) for p in a.tree_missing.split(",")] if a.tree_missing else []
    exited = [int(p) for p in a.tree_exited.split(",")] if a.tree_exited else []
    proc_pids = sorted(int(one(p["process"][0], "pid", "0")) for p in procs)
    if tree is None:
        if len(procs) != 1 or not proc_pids[0]:
            err("process tracks: %r" % procs)
    elif proc_pids != sorted(tree + missing):
        err("process tracks of pids %r, expected %r" % (proc_pids, sorted(tree + missing)))

    def pid_of(u, depth=0):
        t = tracks.get(u)
        if t is None or depth > 8:
            return None
        if "process" in t:
            return int(one(t["process"][0], "pid", "0"))
        if "thread" in t:
            return int(one(t["thread"][0], "pid", "0"))
        return pid_of(one(t, "parent_uuid"), depth + 1)
    for u, t in tracks.items():
        p = pid_of(u)
        if p is None or (int(u) >> 32) & 0xffffff != p & 0xffffff:
            err("track %s: uuid does not carry its pid %r" % (u, p))
        elif (tree is None or "process" not in t) and str(p) != seq_of[u]:
            err("track %s of pid %d on sequence %s" % (u, p, seq_of[u]))
    for ev in events:
        p = pid_of(one(ev, "track_uuid"))
        if p is not None and str(p) != ev["_seq"]:
            err("event at %d on pid %d's track, on sequence %s" % (ev["_ts"], p, ev["_seq"]))
    for u, t in threads.items():
        par = one(t, "parent_uuid")
        if par in tracks and pid_of(par) != int(one(t["thread"][0], "pid", "0")):
            err("thread track %s under another process" % u)
    if tree is not None:
        for m in missing:
            named = [p for p in procs if int(one(p["process"][0], "pid", "0")) == m]
            if not named or "missing" not in one(named[0]["process"][0], "process_name", ""):
                err("pid %d: no process track named missing" % m)
            if any(int(one(t["thread"][0], "pid", "0")) == m for t in threads.values()):
                err("pid %d is missing but has threads" % m)
        for p in tree:
            if not any(int(one(t["thread"][0], "pid", "0")) == p for t in threads.values()):
                err("pid %d: no thread track" % p)
        root_uuid = [u for u, t in tracks.items() if "process" in t and
                     int(one(t["process"][0], "pid", "0")) == tree[0]]
        notes = [e for e in events if one(e, "name") == "process tree" and
                 one(e, "track_uuid") in root_uuid]
        if len(notes) != 1:
            err("%d process tree notes on the root's track" % len(notes))
        else:
            an = annotations(notes[0])
            if int(an.get("processes", "0")) != len(tree) + len(missing) or \
                    int(an.get("merged", "0")) != len(tree):
                err("process tree notes: %r" % an)
            text = "\n".join(v for k, v in an.items() if k.startswith("note_"))
            for m in missing:
                if "pid %d (" % m not in text or "missing" not in text:
                    err("pid %d not named missing in the notes: %r" % (m, text))
            for x in exited:
                if "pid %d (" % x not in text or "exited during the window" not in text:
                    err("pid %d not named exited in the notes: %r" % (x, text))
            if "%d of %d processes merged" % (len(tree), len(tree) + len(missing)) not in text:
                err("no summary in the notes: %r" % text)
    for u, t in threads.items():
        th = t["thread"][0]
        if not (one(th, "pid") and one(th, "tid") and one(th, "thread_name")):
            err("thread track %s incomplete: %r" % (u, th))
    for u, t in tracks.items():
        par = one(t, "parent_uuid")
        if par is not None and par not in tracks:
            err("track %s: parent %s missing" % (u, par))
    open_slices = {}
    flows_out, flows_in = {}, {}
    for ev in events:
        tr = one(ev, "track_uuid")
        typ = one(ev, "type")
        if tr not in tracks:
            err("event on unknown track %s" % tr)
            continue
        if typ == "TYPE_SLICE_BEGIN":
            open_slices.setdefault(tr, []).append(ev)
        elif typ == "TYPE_SLICE_END":
            st = open_slices.get(tr)
            if not st:
                err("track %s: SLICE_END without BEGIN at %d" % (tr, ev["_ts"]))
            else:
                b = st.pop()
                b["_end"] = ev["_ts"]
        elif typ == "TYPE_COUNTER":
            if tr not in counters:
                err("counter event on non-counter track %s" % tr)
            if "double_counter_value" not in ev and "counter_value" not in ev:
                err("counter event without a value")
        elif typ == "TYPE_INSTANT":
            if not one(ev, "name"):
                err("instant without a name")
        else:
            err("event of type %r" % typ)
        for fid in ev.get("flow_ids", []):
            if fid in flows_out:
                err("flow id %s starts twice" % fid)
            flows_out[fid] = tr
        for fid in ev.get("terminating_flow_ids", []):
            flows_in[fid] = tr
    for tr, st in open_slices.items():
        if st:
            err("track %s: %d slices never end" % (tr, len(st)))
    for fid, tr in flows_out.items():
        if fid not in flows_in:
            err("flow %s never terminates" % fid)
        elif flows_in[fid] == tr:
            err("flow %s ends on its own track" % fid)
    if errors:
        return report(events, tracks)
    tid_of = {u: int(one(t["thread"][0], "tid")) for u, t in threads.items()}
    if a.task or a.flow_task:
        name = a.task or a.flow_task
        mine = [e for e in events if one(e, "type") == "TYPE_SLICE_BEGIN" and
                annotations(e).get("name") == name]
        on = {one(e, "track_uuid") for e in mine}
        if not mine or not on <= set(threads):
            err("task %r: %d slices on tracks %r" % (name, len(mine), on))
        if a.flow_task:
            if len(on) < 2:
                err("task %r on %d threads, expected 2" % (name, len(on)))
            task_id = annotations(mine[0]).get("task") if mine else None
            moves = [e for e in events if one(e, "type") == "TYPE_INSTANT" and
                     annotations(e).get("task") == task_id and
                     (e.get("flow_ids") or e.get("terminating_flow_ids"))]
            if len(moves) < 2 or not {one(e, "track_uuid") for e in moves} <= on:
                err("task %r: flow instants %r" % (name, [one(e, "track_uuid") for e in moves]))
    if a.cpu_func:
        cpu = [e for e in events if "cpu" in e.get("categories", [])]
        def has(e):
            names = [l.split(" ")[0] for l in annotations(e).get("stack", "").split("\n")]
            return any(n == a.cpu_func or n.startswith(a.cpu_func + ".") for n in names)
        mine = [e for e in cpu if tid_of.get(one(e, "track_uuid")) == a.cpu_tid]
        hits = [e for e in mine if has(e)]
        elsewhere = [e for e in cpu if tid_of.get(one(e, "track_uuid")) != a.cpu_tid and has(e)]
        if len(hits) < a.min_cpu_samples:
            err("%d cpu samples with %r on tid %d (of %d there, %d in all)" % (
                len(hits), a.cpu_func, a.cpu_tid, len(mine), len(cpu)))
        if elsewhere:
            err("%d cpu samples with %r on other threads" % (len(elsewhere), a.cpu_func))
        if hits and not hits[0].get("callstack"):
            err("cpu sample without a callstack")
        print("cpu: %d samples, %d on tid %d with %s" % (len(cpu), len(hits), a.cpu_tid, a.cpu_func))
    return report(events, tracks)


def report(events, tracks):
    print("%d tracks, %d events" % (len(tracks), len(events)))
    for e in errors[:40]:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
