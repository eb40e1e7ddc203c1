#!/usr/bin/env python3
"""bench/cost: the interposer's cost on a malloc-bound churn (issue 22).

Usage: bench/cost/run.py [BUILD_DIR] [--runs N] [--iters N] [--sides a,b,...] [--before LIB]
                         [--workload cost|heap]

Each run is one process; its figure is the whole process's CPU time (user +
system of all its threads, from wait4's rusage: loading and exit included). Sides are alternated within each
round (A, B, C, ... then again), and each side's ratio is taken pair-wise
against the baseline of the same round, so a load change hits both halves
of a pair alike. Prints a markdown table: the median CPU per side, the
median of the per-round ratios and their spread (the 25th-75th percentile
and the min-max of the ratios over the rounds), the least CPU of each side
and the ratio of the least (interference only ever adds time, so the least
is the run that met the least of it), and, to split the cost, the median
user and system CPU and minor page faults (rusage's ru_minflt) per side.

Seeds: on the "cost" workload every side of round r runs the sequence of seed
r+1 (--fixed-seed: seed 0 everywhere, the issue's one sequence). glibc's
trim/regrow cycle is chaotic in the heap's layout before the churn, so one
fixed sequence measures one draw of it: on seed 0 the baseline happens to
fault ~300 times less than its mean over seeds, and any change to what is
allocated before the churn (such as a started module) lands elsewhere.

Workloads: "cost" is bench/cost/churn.c (sizes 16..4096 plus one 64 KiB block
in 256, 1,000 live blocks, 3,000,000 pairs); "heap" is bench/heap's churn
(16..2064 bytes, ring of 1024) run through the same harness.
"""
import argparse, os, statistics, subprocess, sys

TC = "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4"
JE = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"

def sides(lib, before=None):
    on = {"INTROSPECT_ADDR": "127.0.0.1:0"}
    s = {
        "plain": ("plain glibc, single-threaded program", {}, False),
        "base": ("glibc + one idle thread (the baseline)", {}, True),
        "loaded": ("+ libintrospect preloaded, not started", {"LD_PRELOAD": lib}, True),
        "off": ("+ introspect started, heap sampling off", dict(on, LD_PRELOAD=lib, INTROSPECT_HEAP_RATE="0"), True),
        "s512": ("+ introspect started, heap sampling 512 KiB", dict(on, LD_PRELOAD=lib, INTROSPECT_HEAP_RATE="524288"), True),
        "off1": ("introspect started, sampling off, no idle thread", dict(on, LD_PRELOAD=lib, INTROSPECT_HEAP_RATE="0"), False),
        "tc": ("tcmalloc + idle thread", {"LD_PRELOAD": TC}, True),
        "tcix": ("tcmalloc first, introspect rebinds malloc to itself (redirect), 512 KiB", dict(on, LD_PRELOAD=TC + ":" + lib, INTROSPECT_HEAP_RATE="524288"), True),
        "tcixh": ("tcmalloc first, introspect via MallocHook (INTROSPECT_HEAP_REDIRECT=0), 512 KiB", dict(on, LD_PRELOAD=TC + ":" + lib, INTROSPECT_HEAP_RATE="524288", INTROSPECT_HEAP_REDIRECT="0"), True),
        "ixtc": ("introspect first, forwarding to tcmalloc, 512 KiB", dict(on, LD_PRELOAD=lib + ":" + TC, INTROSPECT_HEAP_RATE="524288"), True),
        "je": ("jemalloc + idle thread", {"LD_PRELOAD": JE}, True),
        "ixje": ("introspect first, forwarding to jemalloc, 512 KiB", dict(on, LD_PRELOAD=lib + ":" + JE, INTROSPECT_HEAP_RATE="524288"), True),
        "jeix": ("jemalloc first, introspect rebinds malloc to itself (redirect), 512 KiB", dict(on, LD_PRELOAD=JE + ":" + lib, INTROSPECT_HEAP_RATE="524288"), True),
    }
    if before:
        s["off_b"] = ("before: introspect started, heap sampling off", dict(on, LD_PRELOAD=before, INTROSPECT_HEAP_RATE="0"), True)
        s["s512_b"] = ("before: introspect started, heap sampling 512 KiB", dict(on, LD_PRELOAD=before, INTROSPECT_HEAP_RATE="524288"), True)
        s["off1_b"] = ("before: introspect started, sampling off, no idle thread", dict(on, LD_PRELOAD=before, INTROSPECT_HEAP_RATE="0"), False)
    return s

BASE_OF = {"plain": "base", "off1": "plain", "off1_b": "plain", "tcix": "tc", "tcixh": "tc", "ixtc": "tc", "ixje": "je", "jeix": "je"}

def cmd(b, workload, iters, thread, seed):
    if workload == "cost":
        return [os.path.join(b, "bench", "bench_cost_churn")] + (["-t"] if thread else []) + ["-s", str(seed), str(iters)]
    # bench/heap's program always starts its idle thread ("plain" is not single-threaded there)
    return [os.path.join(b, "bench", "bench_heap"), "churn", str(iters), "0", "0"]

def run_rusage(argv, env):
    e = dict(os.environ)
    e.update(env)
    p = subprocess.Popen(argv, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise RuntimeError("%s exited %d" % (argv, status))
    return ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime, ru.ru_minflt

def q(xs, f):
    xs = sorted(xs)
    k = (len(xs) - 1) * f
    i = int(k)
    return xs[i] if i + 1 >= len(xs) else xs[i] + (xs[i + 1] - xs[i]) * (k - i)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "..", "build"))
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--iters", type=int, default=3000000)
    ap.add_argument("--sides", default="plain,base,off,s512")
    ap.add_argument("--workload", default="cost", choices=["cost", "heap"])
    ap.add_argument("--before", help="another libintrospect.so: adds the sides off_b, s512_b, off1_b")
    ap.add_argument("--fixed-seed", action="store_true",
                    help="every round runs the issue's one sequence (seed 0); by default round r runs seed r+1 on every side")
    a = ap.parse_args()
    b = os.path.abspath(a.build)
    lib = os.path.join(b, "libintrospect.so")
    S = sides(lib, a.before and os.path.abspath(a.before))
    names = a.sides.split(",")
    need = set(names) | {BASE_OF.get(n, "base") for n in names}
    order = [n for n in S if n in need]
    t = {n: [] for n in order}
    split = {n: [] for n in order}
    for r in range(a.runs):
        rot = order[r % len(order):] + order[:r % len(order)]
        for n in rot:
            _, env, thread = S[n]
            argv = cmd(b, a.workload, a.iters, thread, 0 if a.fixed_seed else r + 1)
            cpu, user, sys_, flt = run_rusage(argv, env)
            t[n].append(cpu)
            split[n].append((user, sys_, flt))
    what = "bench/cost churn" if a.workload == "cost" else "bench/heap churn"
    print("| %s, %d pairs, %d alternated rounds | median CPU s | vs | median ratio | p25-p75 | min-max | least CPU s | ratio of least | user s | sys s | minor faults |" % (what, a.iters, a.runs))
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in order:
        base = BASE_OF.get(n, "base")
        us = "%.4f | %.4f | %d" % tuple(statistics.median(x[i] for x in split[n]) for i in range(3))
        if n == base:
            print("| %s | %.4f | | 1 | | | %.4f | 1 | %s |" % (S[n][0], statistics.median(t[n]), min(t[n]), us))
            continue
        rs = [x / y for x, y in zip(t[n], t[base])]
        print("| %s | %.4f | %s | **%.3f** | %.3f-%.3f | %.3f-%.3f | %.4f | %.3f | %s |" % (
            S[n][0], statistics.median(t[n]), base, statistics.median(rs), q(rs, .25), q(rs, .75), min(rs), max(rs),
            min(t[n]), min(t[n]) / min(t[base]), us))

if __name__ == "__main__":
    main()
