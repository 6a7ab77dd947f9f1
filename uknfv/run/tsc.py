"""The host's TSC frequency, for guests under TCG.

Under TCG a guest's TSC runs at the host's rate, and the guest has no
other clock to calibrate it with but the PIT (about 5-80 ms of boot time on
a busy host).  `uknfv run` passes `uk.tsc_khz=N` instead, measured here once
per host boot (a small C program compares RDTSC with CLOCK_MONOTONIC_RAW
over 20 ms) and cached.  On KVM the guest reads kvmclock or CPUID instead.
"""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from ..targets.cbuild import cache_root

_SOURCE = r"""
#include <stdio.h>
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>
static uint64_t ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec; }
int main(void) {
	double best = 0; uint64_t best_err = ~0ull;
	for (int i = 0; i < 5; i++) {
		uint64_t a0 = ns(), t0 = __rdtsc(), a1 = ns();
		struct timespec d = {0, 20000000}; nanosleep(&d, NULL);
		uint64_t b0 = ns(), t1 = __rdtsc(), b1 = ns();
		uint64_t err = (a1 - a0) + (b1 - b0);
		if (err < best_err) { best_err = err; best = (double)(t1 - t0) * 1e6 / (double)((b0 + b1) / 2 - (a0 + a1) / 2); }
	}
	printf("%.0f\n", best);
	return 0;
}
"""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def host_tsc_khz() -> int | None:
    """The host TSC frequency in kHz, or None when it cannot be measured."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if "constant_tsc" not in cpuinfo:
        return None           # a TSC that changes with the CPU clock: let the guest calibrate
    d = cache_root() / "tsc"
    cached = d / f"khz-{_boot_id()}"
    try:
        return int(cached.read_text())
    except (OSError, ValueError):
        pass
    try:
        d.mkdir(parents=True, exist_ok=True)
        src, exe = d / "tsc_khz.c", d / "tsc_khz"
        if not exe.exists():
            src.write_text(_SOURCE)
            tmp = f"{exe}.{os.getpid()}"
            subprocess.run([os.environ.get("CC", "cc"), "-O2", "-o", tmp, str(src)], check=True,
                           capture_output=True, timeout=60)
            os.replace(tmp, exe)
        out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=10, check=True)
        khz = int(out.stdout.strip())
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    if not 100_000 <= khz <= 10_000_000:
        return None
    cached.write_text(str(khz))
    return khz
