#!/usr/bin/env python3
"""Footprint of the unikernel vNFs: image size, boot time, memory, density.

    sudo .venv/bin/python benchmarks/footprint.py [--density N] [--repeat R]
         [--machine microvm|q35] [--idle-seconds S] [--mem-range LO:HI]
         [--pipelines GLOB] [--explain] [-o out.json]

Needs root (it creates TAP devices), qemu-system-x86_64 and iproute2.
Everything runs inside a network namespace the script creates and deletes
(the whole process enters it with setns(2) after the builds; QEMU inherits
it), so nothing touches the host's interfaces.

What it measures, for each ``pipelines/*.click`` (built with
``uknfv build P --target kvm`` and again with ``--opt size``):

* **image size**: the bytes of the bootable (stripped) image, and its
  text/data/bss (``size``); bss is memory the image needs but does not ship.
* **boot**: QEMU is started exactly as ``uknfv run`` starts it (the argv comes
  from ``uknfv.run.qemu.command``; console on a pipe, control socket, one TAP
  per logical port).  Wall time from just before exec to the moment the
  ``UKNFV READY`` line arrives on the pipe, median of R runs; the guest's own
  ``boot_us`` (TSC, PVH entry -> ready) from that line; their difference is
  what QEMU spends before the guest's first instruction.
* **RSS**: QEMU's VmRSS (and PSS from smaps_rollup) once the guest is ready.
* **smallest -m**: binary search over whole MB (``--mem-range``, default
  2:64) for the least guest memory with which the vNF boots *and forwards*:
  frames are written into the input TAP through an AF_PACKET socket and must
  come out of the output TAP (router: routed with TTL 63 and the neighbour's
  MAC; firewall: an allowed DNS query, unchanged; other pipelines: any
  frame carrying the probe's marker on any port).
* **idle CPU**: utime+stime of the QEMU process (/proc/PID/stat) over
  ``--idle-seconds`` while nothing is sent.
* **stop**: ``stop`` written to the control socket (as ``uknfv write SOCK
  stop`` does), time until QEMU exits, guest exit status.

Baseline in the same run, built by this script: the *floor* kernel
(uknfv/libs/ukplat/floor.c: PVH boot, one console line, exit) compiled with
the kvm target's flags (``uknfv.targets.kvm``) from ukplat's closure alone
(ukplat + ukconsole + uklibc), run the same way (same machine options,
memory, console and control socket; no NICs); exec -> its line, exec -> exit,
peak RSS (wait4's ru_maxrss).  Runs are interleaved (one round boots every
image once), after one warm-up boot of the floor.

**Density**: N router VMs (``--density``, default 20 on this 2-vCPU host;
0 skips it), each with its own two TAPs, started at once: time from the
first exec until every one has printed READY, total RSS and PSS, the host CPU
all of them use over ``--idle-seconds`` idle, then one probe frame through
each (how many forward), then ``stop`` to all and the time until all exited.
Before starting, the host's limits are checked (available memory against
N x the measured RSS, open files, processes); the script refuses a density
that does not fit.

``--explain`` adds ablations that attribute the router's guest boot time
with kernel command-line options (no rebuild): ``uk.tsc_khz=`` (skip the TSC
calibration), ``uknfv.pool=640`` (a small pool that still fills two RX rings),
both; and measures the router's idle CPU again when built with
``UKMAIN_IDLE_MAX_US=1000000`` (a copy of the pipeline with its own .config).

Figures depend on the accelerator: on a host without hardware
virtualisation QEMU runs TCG (the script says which and why), where
everything the guest does is emulated and far slower than under KVM.
"""
from __future__ import annotations

import argparse
import ctypes
import datetime as _dt
import glob
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from uknfv import libs as uklibs  # noqa: E402
from uknfv.diag import UknfvError  # noqa: E402
from uknfv.run import qemu as uq  # noqa: E402
from uknfv.run.accel import choose_accel  # noqa: E402
from uknfv.run.control import ControlClient  # noqa: E402
from uknfv.targets import kvm as kvmt  # noqa: E402
from uknfv.targets.cbuild import CBuild, compiler  # noqa: E402

GOALS = {
    "boot_over_floor_ms": 5.0,     # "within a few milliseconds of the floor"
    "guest_boot_us": 1000,         # guest-internal under 1 ms
    "router_image_bytes": 200 * 1024,
    "memory_mb": 8,
    "idle_cpu_pct": 1.0,           # "near zero": under 1% of one CPU per vNF
}
READY_RE = re.compile(r"UKNFV READY (.*)")
FLOOR_LINE = "UKNFV FLOOR"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
MARK = b"uknfv-footprint:"


def log(msg: str) -> None:
    print(f"footprint: {msg}", file=sys.stderr, flush=True)


def sched(pid: int) -> tuple[int, int, int] | None:
    """Sum over the process's threads of /proc/PID/task/TID/schedstat:
    (ns on a CPU, ns waiting on a run queue, times scheduled)."""
    run = wait = n = 0
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                a, b, c = Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()[:3]
            except (OSError, ValueError):
                continue
            run, wait, n = run + int(a), wait + int(b), n + int(c)
    except OSError:
        return None
    return run, wait, n


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


# --------------------------------------------------------------------------- builds

UKNFV = str(Path(sys.executable).with_name("uknfv"))


def build_pipeline(src: Path, out: Path, opt: str) -> dict:
    cmd = [UKNFV, "build", str(src), "--target", "kvm", "-o", str(out)]
    if opt != "O2":
        cmd += ["--opt", opt]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if res.returncode != 0:
        raise SystemExit(f"footprint: `{' '.join(cmd)}` failed:\n{res.stderr}")
    return image_info(out)


def image_info(path: Path) -> dict:
    info = {"path": str(path), "bytes": path.stat().st_size}
    res = subprocess.run(["size", "-A", str(path)], capture_output=True, text=True)
    text = data = bss = 0
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[1].isdigit():
            continue
        name, sz = parts[0], int(parts[1])
        if name.startswith(".text") or name.startswith(".rodata") or name.startswith(".note") \
                or name.startswith(".init_array") or name.startswith(".boot"):
            text += sz
        elif name.startswith(".bss"):
            bss += sz
        elif name.startswith(".data") or name.startswith(".got"):
            data += sz
    info.update(text=text, data=data, bss=bss)
    return info


def build_floor(work: Path, opt: str) -> dict:
    """floor.c with the kvm target's compile and link flags, from ukplat's closure alone."""
    cc = compiler()
    plat = uklibs.load("ukplat")
    chosen = uklibs.closure(["ukplat"])
    cflags = (kvmt.WARN_FLAGS + kvmt.OPT_FLAGS.get(opt, ["-O2"]) + kvmt.FREESTANDING
              + ["-isystem", kvmt._gcc_include(cc)])
    # The same link flags as uknfv.targets.kvm.build().
    ldflags = ["-static", "-no-pie", "-Wl,--gc-sections", "-Wl,--build-id=none",
               "-Wl,-z,noexecstack", "-Wl,-z,max-page-size=0x1000",
               f"-Wl,-T,{plat.path / 'kvm.ld'}", "-lgcc"]
    src = (plat.path / "floor.c").read_text()
    elf = CBuild(name="floor.elf", source=src, libs=chosen, cflags=cflags, ldflags=ldflags,
                 target="kvm-floor").compile()
    out = work / f"floor-{opt}.img"
    res = subprocess.run(["objcopy", "--strip-all", "--remove-section=.comment", str(elf), str(out)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"footprint: objcopy of the floor failed: {res.stderr}")
    info = image_info(out)
    info["libraries"] = [l.name for l in chosen]
    return info


# --------------------------------------------------------------------------- namespace

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


def sh(*cmd: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    res = subprocess.run(list(cmd), capture_output=True, text=True, input=input, timeout=120)
    if check and res.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {res.stderr.strip()}")
    return res


class Netns:
    """A namespace the whole process enters; TAPs are created in it; all removed on exit."""

    def __init__(self) -> None:
        self.name = f"ukfp-{os.getpid()}"
        self.home: int | None = None
        self.taps: set[str] = set()

    def __enter__(self) -> "Netns":
        sh("ip", "netns", "add", self.name)
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        sh("ip", "link", "set", "lo", "up")
        for k in ("all", "default"):   # quiet TAPs: no router solicitations etc.
            sh("sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1", check=False)
        return self

    def add_taps(self, names: list[str]) -> None:
        batch = "".join(f"tuntap add dev {n} mode tap\nlink set dev {n} up\n" for n in names)
        sh("ip", "-batch", "-", input=batch)
        self.taps.update(names)

    def del_taps(self, names: list[str]) -> None:
        batch = "".join(f"link del dev {n}\n" for n in names if n in self.taps)
        if batch:
            sh("ip", "-force", "-batch", "-", input=batch, check=False)
        self.taps.difference_update(names)

    def __exit__(self, *exc) -> None:
        self.del_taps(sorted(self.taps))
        if self.home is not None:
            _setns(self.home)
            os.close(self.home)
        sh("ip", "netns", "del", self.name, check=False)


# --------------------------------------------------------------------------- one guest

@dataclass
class Guest:
    """One QEMU process started the way `uknfv run` starts it, console on a pipe."""

    image: Path
    label: str
    ports: list[tuple[str, str]]            # (logical port, TAP)
    memory_mb: int
    machine: str
    accel: str
    ctl: Path
    errlog: Path
    append: str = ""
    macs: dict = field(default_factory=dict)
    lines: list = field(default_factory=list)      # (monotonic, text)
    sched_at: dict = field(default_factory=dict)   # marker -> sched() when its line arrived
    watch: tuple = ("UKNFV READY", FLOOR_LINE)
    t0: float = 0.0
    t_ready: float | None = None
    t_exit: float | None = None
    ready: dict | None = None
    status: int | None = None                      # QEMU's exit status
    rusage: object = None
    proc: subprocess.Popen | None = None

    def argv(self) -> list[str]:
        binds = [uq.PortBinding(name, "tap", tap,
                                mac=self.macs.get(name) or uq.default_mac(self.label, i))
                 for i, (name, tap) in enumerate(self.ports)]
        vm = uq.VM(image=self.image, ports=binds, memory_mb=self.memory_mb, machine=self.machine,
                   accel=self.accel, control=self.ctl, console="stdio",
                   append=" ".join(x for x in (uq.guest_cmdline(self.accel), self.append) if x))
        return uq.command(vm)

    def start(self) -> None:
        argv = self.argv()
        self._ready_ev = threading.Event()
        self._line_ev = threading.Event()
        err = open(self.errlog, "ab")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=err, start_new_session=True)
        err.close()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for raw in iter(self.proc.stdout.readline, b""):
            now = time.monotonic()
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.lines.append((now, text))
            for w in self.watch:
                if w in text and w not in self.sched_at:
                    self.sched_at[w] = sched(self.proc.pid)
            m = READY_RE.search(text)
            if m and self.ready is None:
                self.t_ready = now
                self.ready = dict(kv.split("=", 1) for kv in m.group(1).split() if "=" in kv)
                self._ready_ev.set()
            self._line_ev.set()
        self.t_exit_eof = time.monotonic()
        self._ready_ev.set()
        self._line_ev.set()

    # -- waiting ------------------------------------------------------------
    def wait_ready(self, timeout: float) -> bool:
        self._ready_ev.wait(timeout)
        return self.ready is not None

    def wait_line(self, needle: str, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while True:
            for ts, text in list(self.lines):
                if needle in text:
                    return ts
            left = deadline - time.monotonic()
            if left <= 0 or self.reaped():
                for ts, text in list(self.lines):
                    if needle in text:
                        return ts
                return None
            self._line_ev.clear()
            self._line_ev.wait(min(left, 0.2))

    def reaped(self) -> bool:
        if self.status is not None:
            return True
        if self.proc is None:
            return True
        try:
            pid, st, ru = os.wait4(self.proc.pid, os.WNOHANG)
        except ChildProcessError:
            self.status = self.proc.returncode if self.proc.returncode is not None else -1
            return True
        if pid == 0:
            return False
        self.t_exit = time.monotonic()
        self.status = os.waitstatus_to_exitcode(st)
        self.rusage = ru
        self.proc.returncode = self.status
        return True

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.reaped():
                return True
            time.sleep(0.005)
        return self.reaped()

    # -- /proc ----------------------------------------------------------------
    def status_kb(self) -> dict:
        out = {}
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "Threads"):
                    out[k] = int(v.split()[0])
            for line in Path(f"/proc/{self.proc.pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    out["Pss"] = int(line.split()[1])
        except (OSError, ValueError, AttributeError):
            pass
        return out

    def cpu_ticks(self) -> int | None:
        try:
            rest = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(rest[11]) + int(rest[12])
        except (OSError, IndexError, ValueError, AttributeError):
            return None

    # -- stopping ---------------------------------------------------------------
    def stop(self, timeout: float = 15.0) -> dict:
        """`stop` over the control channel, wait for QEMU; kill it if it does not go."""
        res: dict = {"how": "control"}
        if self.reaped():
            res["how"] = "already exited"
        else:
            t = time.monotonic()
            try:
                ControlClient(self.ctl, timeout=5).write("stop")
            except UknfvError as e:
                res["control_error"] = e.message
            if self.wait_exit(timeout):
                res["stop_ms"] = (self.t_exit - t) * 1000
            else:
                res["how"] = "killed"
                self.kill()
        res["qemu_status"] = self.status
        res["guest_status"] = uq.guest_status(self.status) if self.status is not None else None
        return res

    def kill(self) -> None:
        if self.proc is None or self.reaped():
            return
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.wait_exit(5)

    def stats(self) -> dict:
        out, inside = {}, False
        for _, text in self.lines:
            if "UKNFV STATS BEGIN" in text:
                inside = True
            elif "UKNFV STATS END" in text:
                inside = False
            elif inside and ":" in text:
                k, _, v = text.partition(":")
                out[k.strip()] = v.strip()
        return out

    def messages(self, n: int = 20) -> list[str]:
        """Console lines other than UKNFV READY/STATS/EXIT (warnings, errors)."""
        out, inside = [], False
        for _, text in self.lines:
            if "UKNFV STATS BEGIN" in text:
                inside = True
            elif "UKNFV STATS END" in text:
                inside = False
            elif not inside and not text.startswith("UKNFV") and text.strip():
                out.append(text)
        return out[:n]

    def tail(self, n: int = 4) -> list[str]:
        lines = [t for _, t in self.lines[-n:]]
        try:
            err = self.errlog.read_text(errors="replace").strip().splitlines()[-n:]
        except OSError:
            err = []
        return lines + [f"stderr: {e}" for e in err]


# --------------------------------------------------------------------------- probes

def _mac(s: str) -> bytes:
    return bytes.fromhex(s.replace(":", ""))


def _csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(src_mac: str, dst_mac: str, src_ip: str, dst_ip: str, sport: int, dport: int,
              payload: bytes, ttl: int = 64, ident: int = 1) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0, ttl, 17, 0,
                      socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
    return _mac(dst_mac) + _mac(src_mac) + b"\x08\x00" + hdr + udp


# Router defaults (pipelines/router.click's define()).
R_LAN_MAC, R_WAN_MAC = "52:54:00:00:01:01", "52:54:00:00:02:01"
R_LAN_HOST, R_WAN_HOST = "02:00:00:00:01:02", "02:00:00:00:02:02"


def probe_spec(stem: str, ports: list[str]):
    """(input port, frame(i), check(out_port, frame, sent) -> bool) for a pipeline."""
    if stem == "router" and ports == ["lan", "wan"]:
        def frame(i):
            return udp_frame(R_LAN_HOST, R_LAN_MAC, "10.0.1.2", "10.0.2.5", 1234, 5678,
                             MARK + b"%04d" % i, ident=i)

        def check(port, f, sent):
            return (port == "wan" and f[0:6] == _mac(R_WAN_HOST) and f[6:12] == _mac(R_WAN_MAC)
                    and f[12:14] == b"\x08\x00" and f[14 + 8] == 63 and MARK in f)
        return "lan", frame, check
    if stem == "firewall" and ports == ["inside", "outside"]:
        def frame(i):
            return udp_frame("02:00:00:00:01:02", "02:00:00:00:02:02", "10.0.1.10", "10.0.2.5",
                             40000 + i, 53, MARK + b"%04d" % i, ident=i)

        def check(port, f, sent):
            return port == "outside" and f[:len(sent)] == sent
        return "inside", frame, check

    def frame(i):
        return udp_frame("02:00:00:00:01:02", "02:00:00:00:02:02", "10.0.1.2", "10.0.2.5",
                         1234, 5678, MARK + b"%04d" % i, ident=i)

    def check(port, f, sent):
        return MARK in f
    return ports[0], frame, check


def probe(guest: Guest, stem: str, count: int = 5, timeout: float = 5.0) -> dict:
    """Send `count` frames into the vNF's input TAP; count those that come out right."""
    names = [p for p, _ in guest.ports]
    taps = dict(guest.ports)
    inport, frame, check = probe_spec(stem, names)
    socks = {}
    try:
        for p, t in guest.ports:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.bind((t, 0))
            s.setblocking(False)
            socks[p] = s
        sent = {}
        t0 = time.monotonic()
        for i in range(count):
            f = frame(i)
            sent[MARK + b"%04d" % i] = f
            socks[inport].send(f)
        got, first = set(), None
        deadline = t0 + timeout
        while len(got) < count and time.monotonic() < deadline:
            import select
            r, _, _ = select.select(list(socks.values()), [], [], 0.05)
            for p, s in socks.items():
                if s not in r:
                    continue
                while True:
                    try:
                        data, addr = s.recvfrom(4096)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    k = data.find(MARK)
                    if k < 0:
                        continue
                    key = data[k:k + len(MARK) + 4]
                    if key in sent and key not in got and check(p, data, sent[key]):
                        got.add(key)
                        if first is None:
                            first = (time.monotonic() - t0) * 1000
        return {"sent": count, "forwarded": len(got), "ok": len(got) == count,
                "first_ms": first, "in": inport, "taps": taps}
    finally:
        for s in socks.values():
            s.close()


# --------------------------------------------------------------------------- runner

class Bench:
    def __init__(self, args, work: Path, ns: Netns, accel: str):
        self.args, self.work, self.ns, self.accel = args, work, ns, accel
        self.seq = 0
        self.live: list[Guest] = []

    def guest(self, img: dict, ports: list[tuple[str, str]], memory: int, label: str,
              append: str = "") -> Guest:
        self.seq += 1
        g = Guest(image=Path(img["path"]), label=label, ports=ports, memory_mb=memory,
                  machine=self.args.machine, accel=self.accel,
                  ctl=self.work / "ctl" / f"{self.seq}.sock",
                  errlog=self.work / "log" / f"{label}-{self.seq}.stderr", append=append,
                  macs=img.get("macs", {}))
        self.live.append(g)
        return g

    def finish(self, g: Guest) -> None:
        g.kill()
        if g in self.live:
            self.live.remove(g)

    def kill_all(self) -> None:
        for g in list(self.live):
            self.finish(g)

    # -- one boot ----------------------------------------------------------------
    def boot_floor(self, img: dict) -> dict:
        g = self.guest(img, [], self.args.floor_memory, "floor")
        g.start()
        t_line = g.wait_line(FLOOR_LINE, self.args.timeout)
        g.wait_exit(self.args.timeout)
        res = {"line_ms": (t_line - g.t0) * 1000 if t_line else None,
               "exit_ms": (g.t_exit - g.t0) * 1000 if g.t_exit else None,
               "qemu_status": g.status,
               "guest_status": uq.guest_status(g.status) if g.status is not None else None,
               "maxrss_kb": g.rusage.ru_maxrss if g.rusage else None}
        st = g.sched_at.get(FLOOR_LINE)
        if st:
            res["cpu_ms_to_line"], res["runq_wait_ms_to_line"] = st[0] / 1e6, st[1] / 1e6
        if t_line is None or res["guest_status"] != 0:
            res["error"] = g.tail()
        self.finish(g)
        return res

    def boot_vnf(self, img: dict, stem: str, taps: list[str], memory: int, *,
                 probe_it: bool = False, idle_s: float = 0.0, append: str = "") -> dict:
        ports = list(zip(img["ports"], taps))
        g = self.guest(img, ports, memory, stem, append=append)
        g.start()
        res: dict = {"memory_mb": memory}
        if not g.wait_ready(self.args.timeout):
            g.wait_exit(1)
            res.update(ready=False, qemu_status=g.status,
                       guest_status=uq.guest_status(g.status) if g.status is not None else None,
                       error=g.tail())
            self.finish(g)
            return res
        res.update(ready=True, ready_ms=(g.t_ready - g.t0) * 1000,
                   boot_us=int(g.ready.get("boot_us", 0)), ready_line=g.ready)
        st = g.sched_at.get("UKNFV READY")
        if st:
            res["cpu_ms_to_ready"], res["runq_wait_ms_to_ready"] = st[0] / 1e6, st[1] / 1e6
        time.sleep(0.05)
        res["rss_kb"] = g.status_kb()
        if idle_s:
            time.sleep(1.0)          # let the guest reach its longest halt
            c0, s0, w0 = g.cpu_ticks(), sched(g.proc.pid), time.monotonic()
            time.sleep(idle_s)
            c1, s1, w1 = g.cpu_ticks(), sched(g.proc.pid), time.monotonic()
            if c0 is not None and c1 is not None:
                res["idle_cpu_pct"] = (c1 - c0) / CLK_TCK / (w1 - w0) * 100
            if s0 and s1:
                # schedstat: ns precision (threads alive through the window)
                res["idle_cpu_pct_sched"] = (s1[0] - s0[0]) / 1e9 / (w1 - w0) * 100
                res["idle_switches_per_s"] = (s1[2] - s0[2]) / (w1 - w0)
            res["idle_s"] = w1 - w0
            res["rss_kb_after_idle"] = g.status_kb()
        if probe_it:
            res["probe"] = probe(g, stem)
        res.update(g.stop())
        res["stats"] = g.stats() if probe_it else None
        res["console"] = g.messages() if probe_it else None
        self.finish(g)
        return res

    def forwards(self, img: dict, stem: str, taps: list[str], memory: int) -> tuple[bool, dict]:
        r = self.boot_vnf(img, stem, taps, memory, probe_it=True)
        ok = bool(r.get("ready") and r.get("probe", {}).get("ok"))
        summary = {"memory_mb": memory, "ok": ok, "ready": r.get("ready"),
                   "forwarded": r.get("probe", {}).get("forwarded"),
                   "rss_kb": r.get("rss_kb", {}).get("VmRSS"),
                   "guest_status": r.get("guest_status")}
        if not ok:
            summary["why"] = r.get("error") or ("frames not forwarded" if r.get("ready") else None)
            st = r.get("stats") or {}
            summary["counters"] = {k: v for k, v in st.items()
                                   if k.startswith("port.") or k.startswith("pool.")}
            summary["console"] = r.get("console")
            if r.get("ready_line"):
                summary["ready_line"] = r["ready_line"]
        return ok, summary

    def min_memory(self, img: dict, stem: str, taps: list[str]) -> dict:
        lo, hi = self.args.mem_lo, self.args.mem_hi
        trials = []
        ok, s = self.forwards(img, stem, taps, hi)
        trials.append(s)
        log(f"  {stem}: -m {hi}: {'ok' if ok else 'FAILS'}")
        if not ok:
            return {"min_mb": None, "note": f"does not boot and forward even with {hi} MB",
                    "trials": trials}
        good = hi
        while lo < good:
            mid = (lo + good) // 2
            ok, s = self.forwards(img, stem, taps, mid)
            trials.append(s)
            log(f"  {stem}: -m {mid}: {'ok' if ok else 'fails: ' + str(s.get('why'))[:160]}")
            if ok:
                good = mid
            else:
                lo = mid + 1
        return {"min_mb": good, "trials": trials}


# --------------------------------------------------------------------------- host info

def host_info(accel_reason: str) -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    qv = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                        text=True).stdout.splitlines()
    mem = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("MemTotal", "MemAvailable"):
            mem[k] = int(v.split()[0])
    return {"date": _dt.datetime.now().isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu": model, "kernel": platform.release(), "qemu": qv[0] if qv else "?",
            "accel_reason": accel_reason, "mem_kb": mem, "loadavg_start": os.getloadavg()}


def check_density_limits(n: int, rss_kb: int) -> list[str]:
    problems = []
    avail = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            avail = int(line.split()[1])
    need = n * rss_kb * 1.3
    if need > avail:
        problems.append(f"{n} VMs x {rss_kb // 1024} MiB RSS (+30%) = {need / 1048576:.1f} GiB "
                        f"> {avail / 1048576:.1f} GiB available")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and n * 4 + 64 > soft:
        problems.append(f"open files: need ~{n * 4 + 64} (pipes, sockets), limit {soft} "
                        f"(ulimit -n)")
    nproc, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    if nproc != resource.RLIM_INFINITY and n * 8 > nproc:
        problems.append(f"processes/threads: need ~{n * 8}, limit {nproc} (ulimit -u)")
    try:
        tmax = int(Path("/proc/sys/kernel/threads-max").read_text())
        if n * 8 > tmax:
            problems.append(f"threads-max {tmax} < ~{n * 8}")
    except OSError:
        pass
    return problems


# --------------------------------------------------------------------------- density

def density(b: Bench, img: dict, n: int, idle_s: float, timeout: float) -> dict:
    taps = [(f"d{i}l", f"d{i}w") for i in range(n)]
    b.ns.add_taps([t for pair in taps for t in pair])
    guests = []
    res: dict = {"n": n, "memory_mb": b.args.density_memory or img["memory_mb"]}
    try:
        for i, (tl, tw) in enumerate(taps):
            guests.append(b.guest(img, list(zip(img["ports"], (tl, tw))), res["memory_mb"],
                                  f"d{i}"))
        t0 = time.monotonic()
        for g in guests:
            g.start()
        res["spawn_ms"] = (time.monotonic() - t0) * 1000
        deadline = t0 + timeout
        for g in guests:
            g.wait_ready(max(0.0, deadline - time.monotonic()))
        ready = [g for g in guests if g.ready is not None]
        res["ready"] = len(ready)
        if ready:
            res["all_ready_ms"] = (max(g.t_ready for g in ready) - t0) * 1000 \
                if len(ready) == n else None
            per = [(g.t_ready - g.t0) * 1000 for g in ready]
            res["ready_ms_median"] = median(per)
            res["ready_ms_max"] = max(per)
            bus = [int(g.ready.get("boot_us", 0)) for g in ready]
            res["boot_us_median"], res["boot_us_max"] = median(bus), max(bus)
            st = [g.sched_at.get("UKNFV READY") for g in ready]
            res["cpu_ms_to_ready_median"] = median([x[0] / 1e6 for x in st if x])
            res["runq_wait_ms_to_ready_median"] = median([x[1] / 1e6 for x in st if x])
        if len(ready) < n:
            res["not_ready"] = {g.label: g.tail() for g in guests if g.ready is None}
        time.sleep(2.0)
        kb = [g.status_kb() for g in ready]
        res["rss_kb_total"] = sum(k.get("VmRSS", 0) for k in kb)
        res["pss_kb_total"] = sum(k.get("Pss", 0) for k in kb)
        res["rss_kb_median"] = median([k.get("VmRSS") for k in kb])
        # idle CPU: every QEMU's utime+stime, and the whole host's for context
        def host_busy():
            f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
            return sum(f) - f[3] - f[4], sum(f)
        c0 = [g.cpu_ticks() for g in ready]
        s0 = [sched(g.proc.pid) for g in ready]
        h0, w0 = host_busy(), time.monotonic()
        time.sleep(idle_s)
        c1 = [g.cpu_ticks() for g in ready]
        s1 = [sched(g.proc.pid) for g in ready]
        h1, w1 = host_busy(), time.monotonic()
        ds = [(b1[0] - a1[0], b1[2] - a1[2]) for a1, b1 in zip(s0, s1) if a1 and b1]
        res["idle_cpu_pct_total_sched"] = sum(x[0] for x in ds) / 1e9 / (w1 - w0) * 100
        res["idle_switches_per_s_total"] = sum(x[1] for x in ds) / (w1 - w0)
        d = [(b1 - a1) for a1, b1 in zip(c0, c1) if a1 is not None and b1 is not None]
        res["idle_s"] = w1 - w0
        res["idle_cpu_pct_total"] = sum(d) / CLK_TCK / (w1 - w0) * 100
        res["idle_cpu_pct_per_vm_median"] = median([x / CLK_TCK / (w1 - w0) * 100 for x in d])
        res["host_busy_pct_of_all_cpus"] = (h1[0] - h0[0]) / max(1, h1[1] - h0[1]) * 100
        # then one frame through each: do they all forward?
        fwd = 0
        for g in ready:
            if probe(g, "router", count=1, timeout=3.0)["ok"]:
                fwd += 1
        res["forwarding"] = fwd
        t = time.monotonic()
        for g in ready:
            try:
                ControlClient(g.ctl, timeout=5).write("stop")
            except UknfvError:
                pass
        for g in guests:
            g.wait_exit(max(1.0, 30 - (time.monotonic() - t)))
        res["stop_all_ms"] = (time.monotonic() - t) * 1000
        res["clean_exits"] = sum(1 for g in guests
                                 if g.status is not None and uq.guest_status(g.status) == 0)
    finally:
        for g in guests:
            b.finish(g)
        b.ns.del_taps([t for pair in taps for t in pair])
    return res


# --------------------------------------------------------------------------- report

def fmt(x, nd=1, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{nd}f}{unit}"
    return f"{x}{unit}"


def table(headers: list[str], rows: list[list]) -> str:
    rows = [[str(c) for c in r] for r in rows]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def report(R: dict) -> str:
    parts = []
    h = R["host"]
    parts.append(f"host: {h['nproc']} vCPU {h['cpu']}, Linux {h['kernel']}, {h['qemu']}; "
                 f"{h['accel_reason']}; machine {R['args']['machine']}; load average "
                 f"{h['loadavg_start'][0]:.2f} at start, {h.get('loadavg_end', [0])[0]:.2f} at end")
    rows = []
    for name, v in R["images"].items():
        rows.append([name, v["bytes"], f"{v['bytes'] / 1024:.1f}", v["text"], v["data"], v["bss"]])
    parts.append("\nimages\n" + table(["image", "bytes", "KiB", "text+rodata", "data", "bss"], rows))
    rows = []
    fl = R["boot"].get("floor-O2", {})
    if not R["boot"]:
        parts.append("\n(boots skipped: --density-only)")
    floor_ms = fl.get("line_ms_median")
    for name, v in R["boot"].items():
        if name.startswith("floor"):
            rows.append([name, f"{fmt(v['line_ms_median'])} ({fmt(v['line_ms_min'])}..{fmt(v['line_ms_max'])})",
                         "-", "-", "-", fmt(v.get("cpu_ms_median")),
                         fmt(v.get("runq_wait_ms_median")), fmt(v.get("exit_ms_median")),
                         fmt(v.get("maxrss_kb_median") and v["maxrss_kb_median"] / 1024, 1) + " (peak)",
                         "-", "-", f"{v['ok']}/{v['runs']}"])
        else:
            over = (v["ready_ms_median"] - floor_ms) if (v.get("ready_ms_median") and floor_ms) else None
            rows.append([name,
                         f"{fmt(v.get('ready_ms_median'))} ({fmt(v.get('ready_ms_min'))}..{fmt(v.get('ready_ms_max'))})",
                         fmt(over, 1), fmt(v.get("boot_us_median")),
                         fmt(v.get("qemu_start_ms_median")), fmt(v.get("cpu_ms_median")),
                         fmt(v.get("runq_wait_ms_median")), fmt(v.get("stop_ms_median")),
                         fmt(v.get("rss_kb_median") and v["rss_kb_median"] / 1024, 1),
                         fmt(v.get("anon_kb_median") and v["anon_kb_median"] / 1024, 1),
                         fmt(v.get("pss_kb_median") and v["pss_kb_median"] / 1024, 1),
                         f"{v['ok']}/{v['runs']}"])
    parts.append("\nboot (median of R; wall = exec -> READY/floor line; ms)\n" + table(
        ["image", "wall exec->line (min..max)", "over floor", "guest boot_us", "QEMU before guest",
         "QEMU CPU to line", "run-queue wait", "stop->exit / floor exec->exit", "RSS MiB",
         "anon MiB", "PSS MiB", "ok"], rows))
    rows = []
    for name, v in R.get("pipelines", {}).items():
        mm = v.get("min_memory", {})
        idle = v.get("idle", {})
        pr = idle.get("probe", {})
        rows.append([name, fmt(mm.get("min_mb"), unit=" MB"),
                     fmt((mm.get("rss_kb_at_min") or 0) / 1024 or None, 1),
                     f"{pr.get('forwarded', '-')}/{pr.get('sent', '-')}",
                     fmt(pr.get("first_ms"), 1), fmt(idle.get("idle_cpu_pct"), 2),
                     fmt(idle.get("idle_cpu_pct_sched"), 3), fmt(idle.get("idle_switches_per_s"), 0),
                     " ".join(f"{t['memory_mb']}:{'ok' if t['ok'] else 'x'}" for t in mm.get("trials", []))])
    parts.append("\nmemory, forwarding, idle\n" + table(
        ["pipeline", "smallest -m", "RSS at it MiB", "probe fwd (default -m)", "first frame ms",
         "idle CPU % (stat)", "idle CPU % (schedstat)", "ctx switches/s", "trials (MB:result)"],
        rows))
    if R.get("explain"):
        rows = [[k, fmt(v.get("boot_us_median")), f"{fmt(v.get('boot_us_min'))}..{fmt(v.get('boot_us_max'))}",
                 fmt(v.get("ready_ms_median")), v.get("append") or "-"]
                for k, v in R["explain"].items() if k != "idle"]
        parts.append("\nrouter guest boot ablations (kernel command line)\n" + table(
            ["variant", "boot_us median", "boot_us min..max", "wall ms median", "-append"], rows))
        idl = R["explain"].get("idle")
        if idl:
            rows = [[k, fmt(v.get("idle_cpu_pct"), 2), fmt(v.get("idle_cpu_pct_sched"), 3),
                     fmt(v.get("idle_switches_per_s"), 0)] for k, v in idl.items()]
            parts.append("\nrouter idle ablation (build option)\n" + table(
                ["variant", "idle CPU % (stat)", "idle CPU % (schedstat)", "ctx switches/s"], rows))
    d = R.get("density")
    if d:
        rows = [[d["n"], d.get("ready"), fmt(d.get("all_ready_ms")), fmt(d.get("ready_ms_median")),
                 fmt(d.get("boot_us_median")), fmt(d.get("cpu_ms_to_ready_median")),
                 fmt(d.get("runq_wait_ms_to_ready_median")),
                 fmt(d.get("rss_kb_total", 0) / 1024, 1),
                 fmt(d.get("pss_kb_total", 0) / 1024, 1),
                 fmt(d.get("idle_cpu_pct_total"), 2), fmt(d.get("idle_cpu_pct_total_sched"), 2),
                 fmt(d.get("idle_cpu_pct_per_vm_median"), 3), fmt(d.get("idle_switches_per_s_total"), 0),
                 d.get("forwarding"), d.get("clean_exits"), fmt(d.get("stop_all_ms"))]]
        parts.append("\ndensity (router)\n" + table(
            ["N", "ready", "all ready ms", "per-VM exec->READY ms (median)", "boot_us median",
             "QEMU CPU ms to READY (median)", "run-queue wait ms (median)",
             "RSS total MiB", "PSS total MiB", f"idle CPU % of 1 CPU (all, {d.get('idle_s', 0):.0f} s)",
             "same, schedstat", "idle CPU % per VM", "ctx switches/s (all)", "forwarding",
             "clean exits", "stop all ms"], rows))
    return "\n".join(parts)


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--density", type=int, default=20, help="router VMs started at once (0: skip)")
    ap.add_argument("--repeat", type=int, default=5, help="boots per image for the medians")
    ap.add_argument("--machine", choices=uq.MACHINES, default="microvm")
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--mem-range", default="2:64", help="LO:HI MB for the smallest -m search")
    ap.add_argument("--pipelines", default=str(REPO / "pipelines" / "*.click"))
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one boot")
    ap.add_argument("--density-memory", type=int, default=0,
                    help="-m for the density VMs (default: the image's memory_mb)")
    ap.add_argument("--floor-memory", type=int, default=0,
                    help="-m for the floor (default: the router's memory_mb)")
    ap.add_argument("--explain", action="store_true", help="router boot-time and idle ablations")
    ap.add_argument("--density-only", action="store_true",
                    help="build the router and run the density test only")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-o", "--output", help="write the results as JSON here")
    args = ap.parse_args()
    args.mem_lo, args.mem_hi = (int(x) for x in args.mem_range.split(":"))
    if os.geteuid() != 0:
        print("footprint: needs root (TAP devices in a network namespace)", file=sys.stderr)
        return 2
    for tool in ("qemu-system-x86_64", "ip", "objcopy", "size"):
        if shutil.which(tool) is None:
            print(f"footprint: {tool} not found", file=sys.stderr)
            return 2
    def on_term(signum, frame):
        raise KeyboardInterrupt   # clean up (QEMUs, TAPs, namespace) as for ^C
    signal.signal(signal.SIGTERM, on_term)
    accel, why = choose_accel(None)
    log(why)
    if accel == "tcg":
        log("all guest figures below are under TCG (emulation), not KVM")

    work = Path(tempfile.mkdtemp(prefix="ukfp-", dir="/tmp"))
    (work / "ctl").mkdir(mode=0o700)
    (work / "log").mkdir()
    R: dict = {"args": vars(args), "host": host_info(why), "accel": accel, "goals": GOALS,
               "images": {}, "boot": {}, "pipelines": {}}

    # 1. builds -------------------------------------------------------------------
    srcs = sorted(Path(p) for p in glob.glob(args.pipelines))
    if args.density_only:
        srcs = [s for s in srcs if s.stem == "router"]
    imgs: dict[str, dict] = {}
    for opt in ("O2", "size"):
        log(f"building the floor ({opt})")
        imgs[f"floor-{opt}"] = build_floor(work, opt)
    for src in srcs:
        for opt in ("O2", "size"):
            log(f"building {src.name} --opt {opt}")
            info = build_pipeline(src, work / f"{src.stem}-{opt}.img", opt)
            meta = json.loads(Path(str(info["path"]) + ".json").read_text())
            info["ports"] = [p["name"] if isinstance(p, dict) else p for p in meta["ports"]]
            info["macs"] = {p["name"]: p["mac"] for p in meta["ports"]
                            if isinstance(p, dict) and p.get("mac")}
            info["memory_mb"] = int(meta.get("memory_mb") or uq.DEFAULT_MEMORY_MB)
            info["stem"] = src.stem
            imgs[f"{src.stem}-{opt}"] = info
    for k, v in imgs.items():
        R["images"][k] = {kk: v[kk] for kk in ("bytes", "text", "data", "bss") if kk in v}
    vnf_names = [k for k in imgs if not k.startswith("floor")]
    if not args.floor_memory:
        args.floor_memory = next((imgs[k]["memory_mb"] for k in vnf_names
                                  if imgs[k]["stem"] == "router"), uq.DEFAULT_MEMORY_MB)
    R["args"]["floor_memory"] = args.floor_memory

    rc = 0
    with Netns() as ns:
        b = Bench(args, work, ns, accel)
        try:
            taps = {k: [f"{imgs[k]['stem'][:6]}{i}" for i in range(len(imgs[k]["ports"]))]
                    for k in vnf_names}
            ns.add_taps(sorted({t for ts in taps.values() for t in ts}))

            # 2. interleaved boots ---------------------------------------------------
            log("warm-up boot of the floor")
            b.boot_floor(imgs["floor-O2"])
            runs: dict[str, list[dict]] = {k: [] for k in imgs}
            for r in range(0 if args.density_only else args.repeat):
                log(f"round {r + 1}/{args.repeat}")
                for k in imgs:
                    if k.startswith("floor"):
                        runs[k].append(b.boot_floor(imgs[k]))
                    else:
                        runs[k].append(b.boot_vnf(imgs[k], imgs[k]["stem"], taps[k],
                                                  imgs[k]["memory_mb"]))
            for k, rs in runs.items():
                if not rs:
                    continue
                if k.startswith("floor"):
                    ok = [x for x in rs if x.get("guest_status") == 0 and x.get("line_ms")]
                    lm = [x["line_ms"] for x in ok]
                    R["boot"][k] = {"runs": len(rs), "ok": len(ok), "memory_mb": args.floor_memory,
                                    "line_ms_median": median(lm),
                                    "line_ms_min": spread(lm)[0], "line_ms_max": spread(lm)[1],
                                    "exit_ms_median": median([x["exit_ms"] for x in ok]),
                                    "maxrss_kb_median": median([x["maxrss_kb"] for x in ok]),
                                    "cpu_ms_median": median([x.get("cpu_ms_to_line") for x in ok]),
                                    "runq_wait_ms_median": median([x.get("runq_wait_ms_to_line")
                                                                   for x in ok]),
                                    "runs_detail": rs}
                else:
                    ok = [x for x in rs if x.get("ready") and x.get("guest_status") == 0]
                    rm = [x["ready_ms"] for x in ok]
                    R["boot"][k] = {
                        "runs": len(rs), "ok": len(ok), "memory_mb": imgs[k]["memory_mb"],
                        "ready_ms_median": median(rm), "ready_ms_min": spread(rm)[0],
                        "ready_ms_max": spread(rm)[1],
                        "boot_us_median": median([x["boot_us"] for x in ok]),
                        "boot_us_min": spread([x["boot_us"] for x in ok])[0],
                        "qemu_start_ms_median": median([x["ready_ms"] - x["boot_us"] / 1000
                                                        for x in ok]),
                        "rss_kb_median": median([x["rss_kb"].get("VmRSS") for x in ok]),
                        "anon_kb_median": median([x["rss_kb"].get("RssAnon") for x in ok]),
                        "cpu_ms_median": median([x.get("cpu_ms_to_ready") for x in ok]),
                        "runq_wait_ms_median": median([x.get("runq_wait_ms_to_ready") for x in ok]),
                        "pss_kb_median": median([x["rss_kb"].get("Pss") for x in ok]),
                        "stop_ms_median": median([x.get("stop_ms") for x in ok]),
                        "ready_line": ok[0]["ready_line"] if ok else None,
                        "runs_detail": rs}
                    if len(ok) < len(rs):
                        rc = 1

            # 3. per pipeline: idle CPU + forwarding, smallest -m ---------------------
            for k in vnf_names:
                if not k.endswith("-O2") or args.density_only:
                    continue
                stem = imgs[k]["stem"]
                log(f"{stem}: idle CPU over {args.idle_seconds:g} s, then a forwarding probe")
                idle = b.boot_vnf(imgs[k], stem, taps[k], imgs[k]["memory_mb"], probe_it=True,
                                  idle_s=args.idle_seconds)
                log(f"{stem}: smallest -m in {args.mem_lo}..{args.mem_hi} MB that boots and forwards")
                mm = b.min_memory(imgs[k], stem, taps[k])
                at = [t for t in mm["trials"] if t["ok"] and t["memory_mb"] == mm.get("min_mb")]
                mm["rss_kb_at_min"] = at[0]["rss_kb"] if at else None
                R["pipelines"][stem] = {"idle": idle, "min_memory": mm}
                if not idle.get("probe", {}).get("ok"):
                    rc = 1

            # 4. ablations ---------------------------------------------------------------
            if args.explain and "router-O2" in imgs and not args.density_only:
                ex = {}
                first = R["boot"]["router-O2"].get("ready_line") or {}
                khz = int(first.get("tsc_mhz", 0)) * 1000 or 2_000_000
                # smallest pool that still fills both RX rings (2 x 256) with headroom
                for name, app in (("default", ""), ("tsc_khz", f"uk.tsc_khz={khz}"),
                                  ("pool640", "uknfv.pool=640"),
                                  ("tsc_khz+pool640", f"uk.tsc_khz={khz} uknfv.pool=640")):
                    rs = [b.boot_vnf(imgs["router-O2"], "router", taps["router-O2"],
                                     imgs["router-O2"]["memory_mb"], append=app)
                          for _ in range(args.repeat)]
                    ok = [x for x in rs if x.get("ready")]
                    ex[name] = {"append": app, "boot_us_median": median([x["boot_us"] for x in ok]),
                                "boot_us_min": spread([x["boot_us"] for x in ok])[0],
                                "boot_us_max": spread([x["boot_us"] for x in ok])[1],
                                "ready_ms_median": median([x["ready_ms"] for x in ok]),
                                "boot_us": [x["boot_us"] for x in ok]}
                    log(f"explain {name}: boot_us {ex[name]['boot_us']}")
                # idle: the same router built with the longest halt the option allows
                d = work / "explain"
                d.mkdir(exist_ok=True)
                src = d / "router.click"
                shutil.copy(REPO / "pipelines" / "router.click", src)
                subprocess.run([UKNFV, "config", str(src), "-t", "kvm", "--set",
                                "UKMAIN_IDLE_MAX_US=1000000"], capture_output=True, check=True)
                long_img = build_pipeline(src, d / "router-idle1s.img", "O2")
                long_img.update({kk: imgs["router-O2"][kk] for kk in ("ports", "macs", "memory_mb",
                                                                     "stem")})
                keys = ("idle_cpu_pct", "idle_cpu_pct_sched", "idle_switches_per_s")
                ex["idle"] = {}
                for name, im in (("default (UKMAIN_IDLE_MAX_US=10000)", imgs["router-O2"]),
                                 ("UKMAIN_IDLE_MAX_US=1000000", long_img)):
                    r = b.boot_vnf(im, "router", taps["router-O2"], im["memory_mb"],
                                   idle_s=args.idle_seconds)
                    ex["idle"][name] = {k: r.get(k) for k in keys}
                    log(f"explain idle {name}: {ex['idle'][name]}")
                R["explain"] = ex

            # 5. density -----------------------------------------------------------------
            if args.density > 0 and "router-O2" in imgs:
                rss = R["boot"].get("router-O2", {}).get("rss_kb_median") or 64 * 1024
                problems = check_density_limits(args.density, int(rss))
                if problems:
                    R["density"] = {"n": args.density, "refused": problems}
                    log("density refused: " + "; ".join(problems))
                    rc = 1
                else:
                    log(f"density: {args.density} routers at once")
                    R["density"] = density(b, imgs["router-O2"], args.density,
                                           args.idle_seconds,
                                           max(args.timeout, 3.0 * args.density))
        except KeyboardInterrupt:
            log("interrupted: cleaning up")
            rc = 130
        finally:
            b.kill_all()
    R["host"]["loadavg_end"] = os.getloadavg()
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"work directory kept: {work}")
    print(report(R))
    text = json.dumps(R, indent=1, default=str)
    if args.output:
        Path(args.output).write_text(text + "\n")
        log(f"wrote {args.output}")
    print(text)
    return rc


if __name__ == "__main__":
    sys.exit(main())
