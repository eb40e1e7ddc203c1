#!/usr/bin/env python3
"""check_perfetto.py must fail: broken traces (written as protobuf text,
encoded by protoc --encode against perfetto_subset.proto) are refused, the
well-formed one passes. Exit 77 when protoc is missing."""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
P = 7 << 32  # uuids carry the pid (7) above the number, packets are on its sequence
PROC = 'packet { trusted_packet_sequence_id: 7 track_descriptor { uuid: %d process { pid: 7 process_name: "p" } } }\n' % (P + 1)
THREAD = ('packet { trusted_packet_sequence_id: 7 track_descriptor { uuid: %d parent_uuid: %d '
          'thread { pid: 7 tid: 8 thread_name: "w" } } }\n' % (P + 2, P + 1))
COUNTER = ('packet { trusted_packet_sequence_id: 7 track_descriptor { uuid: %d parent_uuid: %d name: "c" '
           'counter { unit: UNIT_COUNT } } }\n' % (P + 3, P + 1))


def ev(ts, body, seq=7):
    return 'packet { timestamp: %d trusted_packet_sequence_id: %d track_event { %s } }\n' % (ts, seq, body)


BEGIN = lambda ts, name="s", track=P + 2: ev(ts, 'type: TYPE_SLICE_BEGIN track_uuid: %d name: "%s"' % (track, name))
END = lambda ts, track=P + 2: ev(ts, 'type: TYPE_SLICE_END track_uuid: %d' % track)
GOOD = (PROC + THREAD + COUNTER + BEGIN(10) + BEGIN(11, "inner") + END(12) + END(13) +
        ev(14, 'type: TYPE_COUNTER track_uuid: %d double_counter_value: 4' % (P + 3)) +
        ev(15, 'type: TYPE_INSTANT track_uuid: %d name: "f" flow_ids: 9' % (P + 2)) +
        ev(16, 'type: TYPE_INSTANT track_uuid: %d name: "g" terminating_flow_ids: 9' % (P + 3)))
# A tree of pids 7 and 9 (9's packets on its own sequence, its time its own)
# and 11 missing.
Q = 9 << 32
TREE = (ev(5, 'type: TYPE_INSTANT track_uuid: %d name: "process tree" debug_annotations { name: "processes" int_value: 3 } '
              'debug_annotations { name: "merged" int_value: 2 } debug_annotations { name: "note_1" string_value: '
              '"introspect: pid 11 (w) is missing: gone" } debug_annotations { name: "note_2" string_value: '
              '"introspect: process tree: 2 of 3 processes merged" }' % (P + 1)) +
        'packet { trusted_packet_sequence_id: 7 track_descriptor { uuid: %d process { pid: 11 process_name: "w (pid 11): missing" } } }\n' % ((11 << 32) + 1) +
        GOOD + GOOD.replace("trusted_packet_sequence_id: 7", "trusted_packet_sequence_id: 9")
        .replace("pid: 7", "pid: 9").replace("uuid: %d" % (P + 1), "uuid: %d" % (Q + 1))
        .replace("uuid: %d" % (P + 2), "uuid: %d" % (Q + 2)).replace("uuid: %d" % (P + 3), "uuid: %d" % (Q + 3))
        .replace("flow_ids: 9", "flow_ids: 10"))
TREE_ARGS = ["--tree-pids", "7,9", "--tree-missing", "11"]
BAD = {
    "END without BEGIN": PROC + THREAD + END(5),
    "BEGIN without END": PROC + THREAD + BEGIN(5),
    "time going back": PROC + THREAD + BEGIN(10) + END(5),
    "event on an unknown track": PROC + THREAD + ev(5, 'type: TYPE_INSTANT track_uuid: 99 name: "x"'),
    "counter on a thread track": PROC + THREAD + ev(5, 'type: TYPE_COUNTER track_uuid: %d double_counter_value: 1' % (P + 2)),
    "flow that never ends": PROC + THREAD + ev(5, 'type: TYPE_INSTANT track_uuid: %d name: "f" flow_ids: 9' % (P + 2)),
    "another process's sequence": PROC + THREAD + ev(5, 'type: TYPE_INSTANT track_uuid: %d name: "x"' % (P + 2), seq=2),
    "duplicate uuid": PROC + THREAD + THREAD,
    "no process track": THREAD,
    "uuid without the pid": PROC.replace("uuid: %d" % (P + 1), "uuid: 1"),
}
TREE_BAD = {
    "a flow id of two processes": TREE.replace("flow_ids: 10", "flow_ids: 9"),
    "a pid of the tree without a process": GOOD,
    "a missing pid not named": TREE.replace("pid 11 (w) is missing: gone", "gone"),
    "a thread under another process": TREE.replace("thread { pid: 9 tid: 8", "thread { pid: 7 tid: 8"),
}


def run(text, raw=None, args=()):
    data = raw
    if data is None:
        p = subprocess.run(["protoc", "--encode=perfetto.protos.Trace", "-I", HERE, "perfetto_subset.proto"],
                           input=text.encode(), capture_output=True)
        if p.returncode != 0:
            sys.exit("protoc --encode failed: %s\n%s" % (p.stderr.decode(), text))
        data = p.stdout
    with tempfile.NamedTemporaryFile("wb", suffix=".pftrace", delete=False) as f:
        f.write(data)
    try:
        return subprocess.run([sys.executable, os.path.join(HERE, "check_perfetto.py"), f.name] + list(args),
                              capture_output=True, text=True).returncode
    finally:
        os.unlink(f.name)


if not shutil.which("protoc"):
    print("SKIP: protoc not installed")
    sys.exit(77)
failed = 0
if run(GOOD) != 0:
    print("FAIL: the well-formed trace was refused")
    failed += 1
for name, text in BAD.items():
    if run(text) == 0:
        print("FAIL: accepted:", name)
        failed += 1
if run(TREE, args=TREE_ARGS) != 0:
    print("FAIL: the well-formed tree trace was refused")
    failed += 1
for name, text in TREE_BAD.items():
    if run(text, args=TREE_ARGS) == 0:
        print("FAIL: accepted (tree):", name)
        failed += 1
# a field the subset does not know (field 99, varint) inside a packet
if run(None, raw=b"\x0a\x03\x98\x06\x01") == 0:
    print("FAIL: accepted: unknown field")
    failed += 1
print("perfetto validator: %d broken traces refused, good one accepted" % (len(BAD) + len(TREE_BAD) + 1) if not failed else "")
sys.exit(1 if failed else 0)
