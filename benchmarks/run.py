#!/usr/bin/env python3
"""In-memory packet-processing benchmarks: uknfv pipelines vs in-run baselines.

    .venv/bin/python benchmarks/run.py [--packets N] [--repeat R] [--opt release] [-o out.json]

Each configuration in this folder (null, l2fwd, firewall, router) is an
InfiniteSource of 64-byte frames -> ... -> Discard that stops after LIMIT
packets.  The script

1. builds each one with ``uknfv build FILE N=<packets> --opt OPT`` and, to
   measure process start-up, once more with ``N=<tiny>``; compiles
   handwritten_router.c with the same optimisation flags as the pipelines;
2. runs everything R times, interleaved (one round = every program once,
   so slow drifts of the machine hit all of them alike), after one warm-up
   run each;
3. takes the wall time of each run, subtracts the median wall time of the
   tiny-LIMIT build of the same program (start-up, pool set-up, exit), and
   divides the packets Discard counted (``--stats``: ``sink.count``) by it;
4. prints median Mpps and spread (min..max) per program, with the ratio to
   the two baselines measured in the same run (the null pipeline: the
   framework's own cost; the hand-written router: what hand-written C gets
   for the router's work) and to original Click's figures, which are fixed
   reference constants from a separate measurement, NOT measured here.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Original Click (userlevel driver, -O2, BURST 32), 64-byte frames in memory,
# on a 2-vCPU AMD EPYC VM of the same class.  Reference constants from a
# separate measurement; this script does not run Click.
CLICK_REFERENCE_MPPS = {
    "null": 73.0,       # InfiniteSource -> Discard
    "l2fwd": 8.9,       # MarkMACHeader, EtherRewrite
    "firewall": 4.05,   # Strip, CheckIPHeader, IPFilter (11 rules), Unstrip
    "router": 6.0,      # Classifier, Strip, CheckIPHeader, GetIPAddress, RadixIPLookup (21 routes), DecIPTTL, EtherEncap
}

PIPELINES = ["null", "l2fwd", "firewall", "router"]
HANDWRITTEN = "handwritten_router"
HANDWRITTEN_FF = "handwritten_router_fill_first"

# The same flags as `uknfv build --opt ...` (uknfv/targets/linux.py), used as a
# fallback when the module cannot be imported.
_FALLBACK_OPT_FLAGS = {"release": ["-O3", "-march=native"], "O2": ["-O2"],
                       "sanitize": ["-O1", "-g", "-fno-omit-frame-pointer",
                                    "-fsanitize=address,undefined"]}


@dataclass
class Program:
    name: str
    kind: str                  # "pipeline" | "baseline"
    full: list[str]            # argv of the measured run
    tiny: list[str]            # argv of the start-up run
    note: str = ""
    error: str | None = None
    samples_s: list[float] = field(default_factory=list)     # wall time, full runs
    tiny_s: list[float] = field(default_factory=list)        # wall time, tiny runs
    cpu_s: list[float] = field(default_factory=list)         # user+sys, full runs
    tiny_cpu_s: list[float] = field(default_factory=list)    # user+sys, tiny runs
    count: int | None = None
    tiny_count: int | None = None
    counters: dict[str, str] = field(default_factory=dict)


def uknfv_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "uknfv"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("uknfv")
    if found:
        return [found]
    return [sys.executable, "-m", "uknfv.cli"]


def opt_flags(opt: str) -> list[str]:
    try:
        sys.path.insert(0, str(REPO))
        from uknfv.targets.linux import OPT_FLAGS  # noqa: PLC0415
        return list(OPT_FLAGS[opt])
    except Exception:  # noqa: BLE001 - the fallback is the documented value
        return list(_FALLBACK_OPT_FLAGS[opt])
    finally:
        if sys.path and sys.path[0] == str(REPO):
            sys.path.pop(0)


def build_pipeline(name: str, packets: int, opt: str, out: Path) -> None:
    cmd = uknfv_cmd() + ["build", str(HERE / f"{name}.click"), f"N={packets}",
                         "--opt", opt, "-o", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if res.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{(res.stderr or res.stdout).strip()}")


def build_handwritten(opt: str, out: Path) -> list[str]:
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-std=gnu11", "-Wall", "-Wextra", *opt_flags(opt), "-g0",
           str(HERE / "handwritten_router.c"), "-o", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed:\n{res.stderr.strip()}")
    return cmd


_STAT = re.compile(r"^([\w.@-]+):\s*(.*)$")


def run_timed(argv: list[str]) -> tuple[float, float, dict[str, str]]:
    """Run argv; return (wall seconds, child's user+sys seconds, its `name: value` lines)."""
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            os.dup2(w, 1)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {rc}")
    stats = {}
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        m = _STAT.match(line.strip())
        if m:
            stats[m.group(1)] = m.group(2)
    return wall, ru.ru_utime + ru.ru_stime, stats


def packets_counted(stats: dict[str, str]) -> int:
    v = stats.get("sink.count")
    if v is None:
        raise RuntimeError("no 'sink.count' in the program's --stats output")
    return int(v.split()[0])


def suspicious_counters(stats: dict[str, str]) -> dict[str, str]:
    """Drop counters that should be zero in these benchmarks but are not."""
    bad = {}
    for k, v in stats.items():
        num = v.split()[0] if v else ""
        if not re.fullmatch(r"\d+", num) or int(num) == 0:
            continue
        if ("drop" in k or "fail" in k or k.startswith(("other.", "local.", "expired."))):
            bad[k] = v
    return bad


def machine() -> dict:
    info = {"nproc": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
            "kernel": platform.release(), "python": platform.python_version()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        info["cc"] = subprocess.run([os.environ.get("CC", "cc"), "--version"], capture_output=True,
                                    text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        info["cc"] = "?"
    return info


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=20_000_000,
                    help="packets per measured run (LIMIT; default 20000000)")
    ap.add_argument("--repeat", type=int, default=5, help="measured runs per program (default 5)")
    ap.add_argument("--tiny", type=int, default=32,
                    help="LIMIT of the start-up run subtracted from each measurement (default 32)")
    ap.add_argument("--opt", choices=["release", "O2", "sanitize"], default="release",
                    help="build flavour for the pipelines and the hand-written loop (default release)")
    ap.add_argument("--only", metavar="NAME", action="append", choices=PIPELINES,
                    help="run only this pipeline (repeatable; the baselines always run)")
    ap.add_argument("--keep", metavar="DIR", help="build into DIR and keep the programs")
    ap.add_argument("-o", "--output", metavar="FILE.json", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.packets < 1000 * args.tiny or args.packets < 100_000:
        ap.error("--packets must be at least 100000 and 1000x --tiny")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    names = ["null"] + [n for n in PIPELINES if n != "null" and (not args.only or n in args.only)]
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="uknfv-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    flags = opt_flags(args.opt)
    load_before = os.getloadavg()
    print(f"uknfv benchmarks: {args.packets} packets of 64 bytes per run, {args.repeat} runs each, "
          f"--opt {args.opt} ({' '.join(flags)}); load average {load_before[0]:.2f} on "
          f"{os.cpu_count()} CPUs", flush=True)

    progs: list[Program] = []
    for n in names:
        p = Program(n, "pipeline", [str(tmp / n), "--stats"], [str(tmp / f"{n}.tiny"), "--stats"],
                    note="baseline: framework cost" if n == "null" else "")
        try:
            build_pipeline(n, args.packets, args.opt, tmp / n)
            build_pipeline(n, args.tiny, args.opt, tmp / f"{n}.tiny")
        except RuntimeError as e:
            p.error = str(e)
            print(f"  {n}: build failed\n    " + str(e).replace("\n", "\n    "), file=sys.stderr)
        progs.append(p)
    hw = Program(HANDWRITTEN, "baseline", [str(tmp / HANDWRITTEN), str(args.packets)],
                 [str(tmp / HANDWRITTEN), str(args.tiny)],
                 note="baseline: the router's work in plain C, fill and process one packet at a time")
    hw_ff = Program(HANDWRITTEN_FF, "baseline",
                    [str(tmp / HANDWRITTEN), str(args.packets), "fill-first"],
                    [str(tmp / HANDWRITTEN), str(args.tiny), "fill-first"],
                    note="baseline: same C, but each burst of 32 is filled before it is processed")
    try:
        hw_cmd = build_handwritten(args.opt, tmp / HANDWRITTEN)
    except RuntimeError as e:
        hw.error = hw_ff.error = str(e)
        hw_cmd = []
        print(f"  {HANDWRITTEN}: build failed\n    {e}", file=sys.stderr)
    progs += [hw, hw_ff]
    live = [p for p in progs if not p.error]

    # Warm-up: page cache, dynamic loader, CPU frequency.
    for p in live:
        try:
            run_timed(p.full)
            run_timed(p.tiny)
        except RuntimeError as e:
            p.error = str(e)
    live = [p for p in live if not p.error]

    for rep in range(args.repeat):
        for p in live:
            if p.error:
                continue
            try:
                wall, cpu, stats = run_timed(p.full)
                twall, tcpu, tstats = run_timed(p.tiny)
            except RuntimeError as e:
                p.error = str(e)
                continue
            p.samples_s.append(wall)
            p.cpu_s.append(cpu)
            p.tiny_s.append(twall)
            p.tiny_cpu_s.append(tcpu)
            p.count = packets_counted(stats)
            p.tiny_count = packets_counted(tstats)
            p.counters = stats
        print(f"  round {rep + 1}/{args.repeat} done", flush=True)

    # Results.
    results = {}
    for p in progs:
        r: dict = {"kind": p.kind, "note": p.note, "argv": [Path(p.full[0]).name, *p.full[1:]]}
        if p.error or not p.samples_s:
            r["error"] = p.error or "no samples"
            results[p.name] = r
            continue
        startup = statistics.median(p.tiny_s)
        startup_cpu = statistics.median(p.tiny_cpu_s)
        pkts = p.count - p.tiny_count
        mpps = [pkts / max(s - startup, 1e-9) / 1e6 for s in p.samples_s]
        mpps_cpu = [pkts / max(c - startup_cpu, 1e-9) / 1e6 for c in p.cpu_s]
        m = statistics.median(mpps)
        r.update({
            "packets": p.count, "startup_s": startup, "wall_s": p.samples_s, "cpu_s": p.cpu_s,
            "mpps": mpps, "mpps_median": m, "mpps_min": min(mpps), "mpps_max": max(mpps),
            "spread_pct": 100 * (max(mpps) - min(mpps)) / m,
            "ns_per_packet": 1e3 / m,
            "mpps_cpu": mpps_cpu, "mpps_cpu_median": statistics.median(mpps_cpu),
            # > 1 when the process waited for the CPU (other load on the machine)
            "wall_over_cpu": statistics.median(w / max(c, 1e-9) for w, c in zip(p.samples_s, p.cpu_s)),
            "startup_share_pct": 100 * startup / statistics.median(p.samples_s),
            "count_ok": p.count == args.packets,
            "nonzero_drop_counters": suspicious_counters(p.counters),
        })
        results[p.name] = r

    def median_of(name):
        return results.get(name, {}).get("mpps_median")

    null_m, hw_m = median_of("null"), median_of(HANDWRITTEN)
    for name, r in results.items():
        if "mpps_median" not in r:
            continue
        m = r["mpps_median"]
        r["vs_null"] = m / null_m if null_m else None
        r["vs_handwritten"] = m / hw_m if hw_m and name in ("router", HANDWRITTEN, HANDWRITTEN_FF) else None
        r["ns_above_null"] = (1e3 / m - 1e3 / null_m) if null_m and name != "null" else None
        ref = CLICK_REFERENCE_MPPS.get(name)
        r["click_reference_mpps"] = ref
        r["vs_click_reference"] = m / ref if ref else None

    # Table.
    hdr = ["program", "Mpps median", "min..max", "ns/pkt", "ns over null", "vs null",
           "vs hand-written", "Click ref*", "vs Click*", "Mpps by CPU time", "wall/CPU"]
    rows = []
    for name in [p.name for p in progs]:
        r = results[name]
        if "error" in r:
            rows.append([name, "FAILED"] + [""] * (len(hdr) - 2))
            continue
        ref = r["click_reference_mpps"]
        rows.append([
            name, f"{r['mpps_median']:.1f}", f"{r['mpps_min']:.1f}..{r['mpps_max']:.1f}",
            f"{r['ns_per_packet']:.2f}",
            "-" if r["ns_above_null"] is None else f"{r['ns_above_null']:+.2f}",
            fmt_ratio(r["vs_null"]), fmt_ratio(r["vs_handwritten"]),
            "-" if ref is None else f"{ref:g}", fmt_ratio(r["vs_click_reference"]),
            f"{r['mpps_cpu_median']:.1f}", f"{r['wall_over_cpu']:.2f}",
        ])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(hdr)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    print()
    print(line(hdr))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    print()
    print("* Click ref: original Click (userlevel driver, -O2, BURST 32), 64-byte frames in memory, on a")
    print("  2-vCPU AMD EPYC: fixed reference constants from a separate measurement, NOT measured in this run.")
    print(f"  Mpps = (packets counted by sink.count) / (wall time - median wall time of a LIMIT {args.tiny} run")
    print("  of the same program), median of the runs.  'vs null' is the share of the framework's own")
    print("  ceiling; 'vs hand-written' compares with handwritten_router.c (same work, same flags).")
    print("  'Mpps by CPU time' uses the child's user+sys time instead; wall/CPU > 1.05 means the")
    print("  machine was busy and the wall-clock figures are pessimistic.")
    r_router, r_ff = results.get("router", {}), results.get(HANDWRITTEN_FF, {})
    if "mpps_median" in r_router and "mpps_median" in r_ff:
        r_router["vs_handwritten_fill_first"] = r_router["mpps_median"] / r_ff["mpps_median"]
        print(f"  router vs {HANDWRITTEN_FF}: {r_router['vs_handwritten_fill_first']:.2f}x "
              "(the hand-written loop filling each burst before processing it, as an RX burst does)")
    load_after = os.getloadavg()
    busy = [n for n, r in results.items() if r.get("wall_over_cpu", 1) > 1.05]
    if busy:
        print(f"warning: other load on the machine during the runs of {', '.join(busy)}: "
              "wall time exceeded CPU time by more than 5%")
    for name, r in results.items():
        if r.get("error"):
            print(f"\n{name}: {r['error']}", file=sys.stderr)
            continue
        if not r["count_ok"]:
            print(f"warning: {name} counted {r['packets']} packets, expected {args.packets}")
        if r["nonzero_drop_counters"]:
            print(f"warning: {name}: unexpected drops: {r['nonzero_drop_counters']}")

    if args.output:
        doc = {
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, "benchmarks/run.py", *(argv or sys.argv[1:])]),
            "machine": machine(),
            "loadavg_before": load_before, "loadavg_after": load_after,
            "packets": args.packets, "repeat": args.repeat, "tiny": args.tiny, "opt": args.opt,
            "cflags": flags, "handwritten_cc": hw_cmd,
            "click_reference_mpps": CLICK_REFERENCE_MPPS,
            "click_reference_note": "not measured in this run: original Click, userlevel driver, "
                                    "-O2, BURST 32, same class of machine",
            "results": results,
        }
        Path(args.output).write_text(json.dumps(doc, indent=2) + "\n")
        print(f"\nwrote {args.output}")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
