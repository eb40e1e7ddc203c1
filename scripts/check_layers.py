#!/usr/bin/env python3
"""Check that src/ keeps its layers: which folder may include which.

Every `#include "..."` under src/ is read. A header's "unit" is its folder
(sampling/<name>/ counts as its own unit) or, for a file at the top of src/,
the file's name. The table below says which units each unit may include
(its own unit is always allowed). The script fails when:
  - a file includes a unit its own unit may not include, or
  - the units' include graph has a cycle (even through allowed edges), or
  - an include names a file that does not exist (a stale path after a move).

The table is mirrored in docs/architecture.md: change both together.
Usage: scripts/check_layers.py [repo-root]   (exit 0 clean, 1 on violations)
"""
import os
import re
import sys

PRODUCER_BASE = ["stack", "symbolize", "model", "util", "host", "labels", "config.h", "runtime.h",
                 "collectors.h", "introspect.h"]

# unit -> units it may include. "introspect.h", the public header
# (include/introspect.h: the status codes, the JSON writer type), is allowed
# everywhere. "http/request.h" style entries allow one header of a unit and
# not the rest of it.
ALLOWED = {
    # Leaves: no knowledge of the rest.
    "util": ["introspect.h"],          # util/json.c implements the public JSON writer
    "stack": ["util", "host", "introspect.h"],  # status codes; the tables' idle drop is a module thread
    "symbolize": ["util", "host"],     # its idle reaper is a module thread
    # Labels on samples: interned sets, the thread's current set, its change log.
    "labels": ["util", "introspect.h"],
    # Living inside the host: module threads (mask, name, TLS mark), fork, wrappers.
    "host": ["util"],
    # The data model of profiles and metrics, resolved through symbolize/.
    "model": ["util", "stack", "symbolize"],
    # Encoders: a model in, bytes out.
    "format": ["model", "util", "symbolize", "introspect.h"],
    # Process-wide state and configuration.
    "config.h": ["introspect.h", "util"],
    "config.c": ["config.h", "introspect.h", "util"],
    "runtime.h": ["config.h", "util"],
    # The producers-to-readers contract of /metrics and /debug/vars.
    "collectors.h": ["model", "util", "introspect.h"],
    # The execution-trace recorder: the hooks producers call while a trace runs.
    "trace": ["util", "introspect.h"],
    # Producers: know nothing of HTTP, endpoints or encoders.
    "sampling/cpu": PRODUCER_BASE + ["sampling/threads"],  # per-thread timers need the thread list
    "sampling/heap": PRODUCER_BASE,
    "sampling/threads": PRODUCER_BASE,
    "sampling/block": PRODUCER_BASE + ["sampling/threads",  # off-CPU walks blocked threads
                                       "sampling/heap",     # its sampler thread stays out of heap profiles
                                       "trace"],            # contended waits go to a running trace
    "registry": PRODUCER_BASE + ["sampling/block",    # pool waits feed the block profile
                                 "sampling/threads",  # tasks join threads by tid
                                 "trace"],            # task and pool events go to a running trace
    # A trace window: the recorder's rings, thread states and gauges into a trace model.
    "sampling/trace": PRODUCER_BASE + ["trace", "sampling/threads", "sampling/cpu", "registry", "gcstats"],
    "gcstats": PRODUCER_BASE + ["sampling/heap"],     # memstats read the heap sampler's stats
    # Requests by route, SLOs: built on the public task API, sets labels.
    "requests": PRODUCER_BASE,
    # The leak sentinel's history snapshots the other producers.
    "leaks": PRODUCER_BASE + ["sampling/heap", "sampling/threads", "registry", "gcstats"],
    # Transport: knows nothing of producers or endpoints.
    "http": ["util", "host", "config.h", "runtime.h", "introspect.h"],
    # The process tree of a pre-forking server: the shared table, the
    # fan-out to the children's instances and the merge of their profiles.
    "tree": ["util", "host", "format", "config.h", "runtime.h", "introspect.h",
             "http/request.h", "http/router.h"],
    # Endpoints: parse a request, call a producer, hand a model to an encoder.
    "endpoints": ["sampling/cpu", "sampling/heap", "sampling/threads", "sampling/block",
                  "sampling/trace",
                  "registry", "requests", "gcstats", "leaks", "model", "format", "stack", "symbolize", "util",
                  "config.h", "runtime.h", "collectors.h", "introspect.h",
                  "http/request.h", "http/router.h", "http/heavy.h", "tree"],
    # Wiring at the top: the public entry points, the module list, the collector tables.
    "introspect.c": ["config.h", "runtime.h", "modules.h", "introspect.h", "http", "util",
                     "host", "stack", "symbolize", "sampling/threads",  # fork: locks to reset
                     "tree"],  # the root maps the process table; a forked child joins it
    "modules.h": ["config.h"],
    "modules.c": ["modules.h", "config.h", "http/router.h", "sampling/block", "sampling/heap",
                  "gcstats", "registry", "leaks", "symbolize", "stack"],
    "collectors.c": ["collectors.h", "registry"],
}


def unit_of(path):
    """Unit of a path relative to src/ ("sampling/cpu/x.c" -> "sampling/cpu")."""
    parts = path.split("/")
    if len(parts) == 1:
        return path
    if parts[0] == "sampling" and len(parts) > 2:
        return "sampling/" + parts[1]
    return parts[0]


def allowed(src_unit, inc_path):
    inc_unit = unit_of(inc_path)
    if inc_unit == src_unit or inc_path == "introspect.h":  # the public header: everyone
        return True
    rules = ALLOWED.get(src_unit)
    if rules is None:
        return False
    return inc_unit in rules or inc_path in rules


def find_cycle(graph):
    """A list of units forming a cycle, or None."""
    state = {}
    stack = []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                c = visit(v)
                if c:
                    return c
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            c = visit(u)
            if c:
                return c
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    src = os.path.join(root, "src")
    include_dir = os.path.join(root, "include")
    inc_re = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    # Calls that hold glibc's locale lock (dcgettext inside): a module thread
    # in one when the host forks leaves the child's setlocale() blocked.
    fork_unsafe_re = re.compile(r'(?<![\w.])(strerror|strerror_r|perror|strsignal|gettext|dgettext|dcgettext)\s*\(')
    errors = []
    graph = {}
    nfiles = 0
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            nfiles += 1
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, src).replace(os.sep, "/")
            u = unit_of(rel)
            if u not in ALLOWED:
                errors.append("%s: unit %r is not in the table of scripts/check_layers.py" % (rel, u))
            with open(full, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
            for m in fork_unsafe_re.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                errors.append("src/%s:%d: %s() takes a libc lock a host fork can leave held "
                              "(use util/errno_text.h's ix_errno_text)" % (rel, line, m.group(1)))
            for m in inc_re.finditer(text):
                inc = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                where = "src/%s:%d" % (rel, line)
                here = os.path.normpath(os.path.join(os.path.dirname(full), inc))
                if not (os.path.exists(os.path.join(src, inc)) or os.path.exists(here)
                        or os.path.exists(os.path.join(include_dir, inc))):
                    errors.append('%s: #include "%s" names no file' % (where, inc))
                    continue
                iu = unit_of(inc)
                if not allowed(u, inc):
                    errors.append('%s: %s may not include "%s" (%s)' % (where, u, inc, iu))
                if iu != u:
                    graph.setdefault(u, set()).add(iu)
    cycle = find_cycle(graph)
    if cycle:
        errors.append("cycle between folders: " + " -> ".join(cycle))
    for e in errors:
        print(e)
    if errors:
        print("check_layers: %d problem(s); the rules are the table at the top of "
              "scripts/check_layers.py (docs/architecture.md)" % len(errors))
        return 1
    print("check_layers: %d files, %d units, no forbidden include, no cycle" % (nfiles, len(graph)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
