#!/usr/bin/env python3
"""CPU profiler benchmark (issues 3 and 9): the 3:1 workload at T threads and
several rates, side by side: unprofiled, introspect (perf engine, timer
engine), gperftools' libprofiler, Go's runtime/pprof and perf record.

    bench/cpu/run_bench.py BUILD_DIR [--rounds 3] [--seconds 4]
        [--threads 1,2,4,8] [--hz 100,250,1000] [--tools ...]

Per run: samples/expected (expected = process CPU seconds x rate, measured by
the workload over the profiled window), attribution (heavy/light samples) and
work per CPU-second (overhead = 1 - profiled/unprofiled). Medians over rounds;
attribution also pooled over all rounds. Writes a markdown table to stdout and
raw rows to --json (default bench/cpu/results.json)."""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def sh(cmd, env=None, check=True):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(cmd, shell=True, env=e, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: {r.returncode}\n{r.stderr[-2000:]}")
    return r.stdout


def kv(line):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


def pprof_counts(path):
    out = sh(f"go tool pprof -sample_index=samples -top -nodecount=1000 {path} 2>/dev/null")
    m = re.search(r"process CPU ([0-9.]+) s user \+ ([0-9.]+) s system", out)
    window_cpu = float(m.group(1)) + float(m.group(2)) if m else None
    total = float(re.search(r"of ([0-9.]+) total", out).group(1))
    cum = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and re.match(r"^[0-9.]+$", f[3]):
            name = " ".join(f[5:])
            for want in ("cpu_heavy_three", "cpu_light_one", "cpuHeavyThree", "cpuLightOne"):
                if name.endswith(want):
                    cum["heavy" if "eavy" in want else "light"] = float(f[3])
    return total, cum.get("heavy", 0.0), cum.get("light", 0.0), window_cpu


def gperf_counts(binary, path):
    """go tool pprof 1.19 does not symbolize this legacy profile; Debian's
    google-pprof (perl, from google-perftools) does."""
    out = sh(f"google-pprof --text --nodecount=1000 {binary} {path} 2>/dev/null")
    total = float(re.search(r"Total: ([0-9.]+) samples", out).group(1))
    cum = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[-1] in ("cpu_heavy_three", "cpu_light_one"):
            cum["heavy" if "heavy" in f[-1] else "light"] = float(f[3])
    return total, cum.get("heavy", 0.0), cum.get("light", 0.0), None


def perf_counts(path):
    out = sh(f"perf script -i {path} 2>/dev/null")
    lines = [l for l in out.splitlines() if "cpu-clock:" in l]
    heavy = sum(1 for l in lines if "cpu_heavy_three" in l)
    light = sum(1 for l in lines if "cpu_light_one" in l)
    return float(len(lines)), float(heavy), float(light), None


def run(tool, T, hz, secs, build, tmp):
    wl = os.path.join(tmp, "cpu_workload")
    prof = os.path.join(tmp, f"{tool}.prof")
    if os.path.exists(prof):
        os.unlink(prof)
    if tool == "none":
        return kv(sh(f"{wl} {T} {secs} none")), None
    if tool.startswith("introspect-"):
        eng = tool[len("introspect-"):]
        r = kv(sh(f"{wl} {T} {secs} introspect",
                  {"IX_HZ": str(hz), "IX_OUT": prof, "INTROSPECT_CPU_ENGINE": eng}))
        return r, pprof_counts(prof)
    if tool == "gperftools":
        # env: only the workload is preloaded (not the shell)
        r = kv(sh(f"env LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libprofiler.so CPUPROFILE={prof} "
                  f"CPUPROFILE_FREQUENCY={hz} {wl} {T} {secs} none"))
        return r, gperf_counts(wl, prof)
    if tool == "go":
        r = kv(sh(f"{tmp}/cpuwork_go {T} {secs} {hz} {prof}"))
        r["wcpu"] = r["cpu"]  # goroutines: no per-thread figure, process CPU
        return r, pprof_counts(prof)
    if tool == "perf":
        out = sh(f"perf record -q -F {hz} -e cpu-clock -o {prof} -- {wl} {T} {secs} none")
        return kv(out), perf_counts(prof)
    raise ValueError(tool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--threads", default="1,2,4,8")
    ap.add_argument("--hz", default="100,250,1000")
    ap.add_argument("--tools", default="none,introspect-perf,introspect-perf-signal,"
                    "introspect-timer,gperftools,go,perf")
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ixbench")
    build = os.path.abspath(a.build)
    sh(f"cp -a {build}/libintrospect.so* {tmp}/")  # immune to rebuilds during the run
    sh(f"gcc -O2 -I{SRC}/include {HERE}/cpu_workload.c -L{tmp} -lintrospect -lpthread "
       f"-Wl,-rpath,{tmp} -rdynamic -o {tmp}/cpu_workload")
    sh(f"cd {HERE}/go && GOFLAGS=-mod=mod go build -o {tmp}/cpuwork_go .")
    Ts = [int(x) for x in a.threads.split(",")]
    hzs = [int(x) for x in a.hz.split(",")]
    tools = a.tools.split(",")
    truth = {}
    for T in Ts:  # calibrated truth: the workload times each call itself
        rs = [kv(sh(f"{tmp}/cpu_workload {T} 2 none", {"TIMING": "1"}))["truth"] for _ in range(3)]
        truth[T] = statistics.median(rs)
    rows = []
    for rnd in range(a.rounds):
        for T in Ts:
            for hz in hzs:
                for tool in tools:
                    if tool == "none" and hz != hzs[0]:
                        continue
                    try:
                        r, c = run(tool, T, hz, a.seconds, build, tmp)
                    except Exception as ex:  # keep going: report what failed
                        print(f"# {tool} T={T} hz={hz}: {ex}", file=sys.stderr)
                        continue
                    row = {"round": rnd, "tool": tool, "T": T, "hz": hz, **r}
                    if c:
                        # introspect measures the CPU of its exact window itself (its
                        # comments); the workload's own window also holds the encoding
                        row.update(samples=c[0], heavy=c[1], light=c[2],
                                   expected=(c[3] if c[3] else r["cpu"]) * hz)
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr)
    json.dump({"truth": truth, "rows": rows}, open(a.json, "w"), indent=1)
    report(truth, rows, Ts, hzs, tools)


def report(truth, rows, Ts, hzs, tools):
    base, wbase = {}, {}
    for T in Ts:
        v = [r["units"] / r["cpu"] for r in rows if r["tool"] == "none" and r["T"] == T]
        base[T] = statistics.median(v) if v else None
        v = [r["units"] / r["wcpu"] for r in rows if r["tool"] == "none" and r["T"] == T]
        wbase[T] = statistics.median(v) if v else None
    print("| tool | T | hz | samples/expected (median) | heavy:light pooled (truth) | bias | "
          "overhead on app threads | overhead, whole process |")
    print("|---|---|---|---|---|---|---|---|")
    for T in Ts:
        for hz in hzs:
            for tool in tools:
                if tool == "none":
                    continue
                rs = [r for r in rows if r["tool"] == tool and r["T"] == T and r["hz"] == hz]
                if not rs:
                    continue
                se = statistics.median(r["samples"] / r["expected"] for r in rs)
                h, l = sum(r["heavy"] for r in rs), sum(r["light"] for r in rs)
                ratio = h / l if l else float("nan")
                bias = ratio / truth[T] - 1
                ov = wov = ""
                if base[T]:
                    ov = f"{(1 - statistics.median(r['units'] / r['cpu'] for r in rs) / base[T]) * 100:+.1f}%"
                if wbase[T] and tool != "go":
                    wov = f"{(1 - statistics.median(r['units'] / r['wcpu'] for r in rs) / wbase[T]) * 100:+.1f}%"
                print(f"| {tool} | {T} | {hz} | {se:.3f} | {ratio:.3f} ({truth[T]:.3f}) | "
                      f"{bias * 100:+.1f}% | {wov} | {ov} |")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--report":
        d = json.load(open(sys.argv[2]))
        rows = d["rows"]
        truth = {int(k): v for k, v in d["truth"].items()}
        Ts = sorted({r["T"] for r in rows})
        hzs = sorted({r["hz"] for r in rows if r["tool"] != "none"})
        tools = ["introspect-perf", "introspect-perf-signal", "introspect-timer", "gperftools",
                 "go", "perf"]
        report(truth, rows, Ts, hzs, tools)
    else:
        main()
