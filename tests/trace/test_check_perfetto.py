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
PROC = 'packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 1 process { pid: 7 process_name: "p" } } }\n'
THREAD = ('packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 2 parent_uuid: 1 '
          'thread { pid: 7 tid: 8 thread_name: "w" } } }\n')
COUNTER = 'packet { trusted_packet_sequence_id: 1 track_descriptor { uuid: 3 parent_uuid: 1 name: "c" counter { unit: UNIT_COUNT } } }\n'


def ev(ts, body, seq=1):
    return 'packet { timestamp: %d trusted_packet_sequence_id: %d track_event { %s } }\n' % (ts, seq, body)


BEGIN = lambda ts, name="s", track=2: ev(ts, 'type: TYPE_SLICE_BEGIN track_uuid: %d name: "%s"' % (track, name))
END = lambda ts, track=2: ev(ts, 'type: TYPE_SLICE_END track_uuid: %d' % track)
GOOD = (PROC + THREAD + COUNTER + BEGIN(10) + BEGIN(11, "inner") + END(12) + END(13) +
        ev(14, 'type: TYPE_COUNTER track_uuid: 3 double_counter_value: 4') +
        ev(15, 'type: TYPE_INSTANT track_uuid: 2 name: "f" flow_ids: 9') +
        ev(16, 'type: TYPE_INSTANT track_uuid: 3 name: "g" terminating_flow_ids: 9'))
BAD = {
    "END without BEGIN": PROC + THREAD + END(5),
    "BEGIN without END": PROC + THREAD + BEGIN(5),
    "time going back": PROC + THREAD + BEGIN(10) + END(5),
    "event on an unknown track": PROC + THREAD + ev(5, 'type: TYPE_INSTANT track_uuid: 99 name: "x"'),
    "counter on a thread track": PROC + THREAD + ev(5, 'type: TYPE_COUNTER track_uuid: 2 double_counter_value: 1'),
    "flow that never ends": PROC + THREAD + ev(5, 'type: TYPE_INSTANT track_uuid: 2 name: "f" flow_ids: 9'),
    "no sequence id": PROC + THREAD + ev(5, 'type: TYPE_INSTANT track_uuid: 2 name: "x"', seq=2),
    "duplicate uuid": PROC + THREAD + THREAD,
    "no process track": THREAD,
}


def run(text, raw=None):
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
        return subprocess.run([sys.executable, os.path.join(HERE, "check_perfetto.py"), f.name],
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
# a field the subset does not know (field 99, varint) inside a packet
if run(None, raw=b"\x0a\x03\x98\x06\x01") == 0:
    print("FAIL: accepted: unknown field")
    failed += 1
print("perfetto validator: %d broken traces refused, good one accepted" % (len(BAD) + 1) if not failed else "")
sys.exit(1 if failed else 0)
