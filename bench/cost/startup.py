#!/usr/bin/env python3
"""bench/cost: what loading libintrospect costs a short process (issue 22).

Usage: bench/cost/startup.py BEFORE_LIB AFTER_LIB [--runs N] [--prog PATH]

Times PROG (default /bin/true) with each library preloaded, in two modes:
"not started" (INTROSPECT_ADDR set but INTROSPECT_PROGRAM matching nothing,
as in every wrapper and subprocess of a preloaded host) and "started"
(INTROSPECT_ADDR=127.0.0.1:0: the module starts in the constructor, then the
program exits), plus PROG alone. Each run is one process; CPU is user +
system from wait4's rusage (all threads, loading and exit included), wall is
fork to reaped exit. The sides are alternated within each round, the first
side rotating, so load changes hit all sides alike. Prints a markdown table
of medians with the 25th-75th percentiles.
"""
import argparse, os, statistics, subprocess, time

def q(xs, f):
    xs = sorted(xs)
    k = (len(xs) - 1) * f
    i = int(k)
    return xs[i] if i + 1 >= len(xs) else xs[i] + (xs[i + 1] - xs[i]) * (k - i)

def run(argv, env):
    e = dict(os.environ)
    e.update(env)
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise RuntimeError("%s exited %d" % (argv, status))
    return (ru.ru_utime + ru.ru_stime) * 1e3, wall * 1e3

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--prog", default="/bin/true")
    a = ap.parse_args()
    off = {"INTROSPECT_ADDR": "127.0.0.1:0", "INTROSPECT_PROGRAM": "no-such-program"}
    on = {"INTROSPECT_ADDR": "127.0.0.1:0"}
    sides = [
        ("%s alone" % a.prog, {}),
        ("before, preloaded, not started", dict(off, LD_PRELOAD=a.before)),
        ("after, preloaded, not started", dict(off, LD_PRELOAD=a.after)),
        ("before, started (then exits)", dict(on, LD_PRELOAD=a.before)),
        ("after, started (then exits)", dict(on, LD_PRELOAD=a.after)),
    ]
    cpu = [[] for _ in sides]
    wall = [[] for _ in sides]
    for r in range(a.runs):
        for k in range(len(sides)):
            i = (r + k) % len(sides)
            c, w = run([a.prog], sides[i][1])
            cpu[i].append(c)
            wall[i].append(w)
    print("| %s, %d runs per side | CPU ms median | p25-p75 | wall ms median | p25-p75 |" % (a.prog, a.runs))
    print("|---|---:|---|---:|---|")
    for i, (name, _) in enumerate(sides):
        print("| %s | %.2f | %.2f-%.2f | %.2f | %.2f-%.2f |" % (
            name, statistics.median(cpu[i]), q(cpu[i], .25), q(cpu[i], .75),
            statistics.median(wall[i]), q(wall[i], .25), q(wall[i], .75)))

if __name__ == "__main__":
    main()
