#!/usr/bin/env python3
"""How long a busy-polling thread loses its CPU on this host.

    .venv/bin/python benchmarks/cpu_gaps.py [--seconds 5] [--cpus 0,1]

Runs one busy loop per CPU (pinned, all at once, as the benchmark's generator
and vNF run) that reads CLOCK_MONOTONIC back to back and records every gap
between two reads: a gap is time the thread was not running (preempted by
other work on the CPU, or the hypervisor).  Prints, per CPU, the longest gap
and how many exceeded 100 us, 500 us and 1 ms.  A zero-loss search fails
whenever a gap outlasts what the vNF's RX ring holds at the offered rate.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

C = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static uint64_t ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
int main(int argc, char **argv)
{
	uint64_t end = ns() + (uint64_t)(atof(argv[1]) * 1e9), last = ns(), max = 0;
	unsigned g100 = 0, g500 = 0, g1000 = 0;
	for (;;) {
		uint64_t n = ns(), d = n - last;
		last = n;
		if (d > max)
			max = d;
		g100 += d > 100000;
		g500 += d > 500000;
		g1000 += d > 1000000;
		if (n > end)
			break;
	}
	printf("%s max_gap_us=%llu over_100us=%u over_500us=%u over_1ms=%u\n", argv[2],
	       (unsigned long long)(max / 1000), g100, g500, g1000);
	return 0;
}
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--cpus", default=",".join(map(str, sorted(os.sched_getaffinity(0)))))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        src, exe = Path(d) / "gaps.c", Path(d) / "gaps"
        src.write_text(C)
        subprocess.run(["cc", "-O2", "-o", str(exe), str(src)], check=True)
        procs = [subprocess.Popen(["taskset", "-c", cpu, str(exe), str(args.seconds), f"cpu{cpu}"],
                                  stdout=subprocess.PIPE, text=True)
                 for cpu in args.cpus.split(",")]
        for p in procs:
            sys.stdout.write(p.communicate()[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
