#!/usr/bin/env python3
"""RFC 2544 runs of the example vNFs for BENCHMARKS.md, with `uknfv bench`.

    sudo .venv/bin/python benchmarks/rfc2544.py [--repeat 3] [--duration 1] [--quick]

For each run it calls `uknfv bench` (one process, interleaving the vNF with
its baselines), keeps the JSON and the plot in benchmarks/results/, and
prints the Markdown tables BENCHMARKS.md quotes.  Needs root (the kernel
baseline's namespaces, the VM), dpdk-testpmd (Debian's dpdk-dev) and two
CPUs; takes about 45 minutes with the defaults on a 2-CPU host.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
ALL = "64,128,256,512,1024,1280,1518"

# (label, pipeline, via, frame sizes, baselines)
RUNS = [
    ("router-dpdk", "router", "dpdk", ALL, "testpmd,kernel"),
    ("firewall-dpdk", "firewall", "dpdk", ALL, "testpmd,kernel"),
    ("nat44-dpdk", "nat44", "dpdk", "64,512,1518", "testpmd"),
    ("stateful-firewall-dpdk", "stateful-firewall", "dpdk", "64,512,1518", "testpmd"),
    ("router-virtio-user", "router", "virtio-user", "64,1518", "testpmd"),
    ("router-vm", "router", "vm", "64,1518", ""),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--loss", type=float, default=0.0)
    ap.add_argument("--only", default=None, help="comma-separated labels to run")
    ap.add_argument("--quick", action="store_true", help="64 and 1518 only, one repetition")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    uknfv = [sys.executable, "-m", "uknfv.cli"]
    only = set(args.only.split(",")) if args.only else None
    for label, pipeline, via, sizes, baselines in RUNS:
        if only and label not in only:
            continue
        if args.quick:
            sizes = ",".join(s for s in sizes.split(",") if s in ("64", "1518"))
        repeat = 1 if args.quick or via == "vm" else args.repeat
        out = RESULTS / f"{label}.json"
        cmd = uknfv + ["bench", f"pipelines/{pipeline}.click", "--via", via, "--frame-sizes", sizes,
                       "--duration", str(args.duration), "--repeat", str(repeat),
                       "--loss", str(args.loss), "-o", str(out), "--markdown", "--quiet"]
        if baselines:
            cmd += ["--baselines", baselines]
        print(f"## {label}\n\n`uknfv {' '.join(cmd[3:])}`\n", flush=True)
        res = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        if res.returncode != 0:
            print(f"FAILED ({res.returncode}):\n{res.stderr}", flush=True)
            continue
        print(res.stdout.split("\nwrote ")[0], flush=True)
        r = json.loads(out.read_text())
        print(f"\ncores {r['cores']}, accel {r.get('accel')}, {r['elapsed_s']:.0f} s\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
