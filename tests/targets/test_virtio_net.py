"""virtio-net on the unikernel: ukpci, ukvirtio, uknetdev and ukvirtionet.

Builds a test kernel (data/netdev_echo.c: probe the NICs, print their MACs,
echo every frame back out of the NIC it came in on with the MACs swapped)
with the kvm micro-libraries, boots it under QEMU with TCG (never KVM here)
on every transport the driver supports:

  * microvm: virtio-mmio version 1 (QEMU's default, legacy) and version 2
    (modern, `-global virtio-mmio.force-legacy=false`), found in the ACPI
    DSDT (QEMU's default) and on the kernel command line (`acpi=off`);
  * q35 + qboot: virtio-net-pci modern (`disable-legacy=on`) and legacy
    (`disable-modern=on`);
  * two NICs on each machine,

each NIC on a TAP device in a fresh network namespace.  From inside the
namespace scapy sends frames and sniffs the echoes: every frame must come
back exactly once, byte for byte with the MACs swapped.  The first frame is
sent while the guest halts with RX interrupts armed and a 2 s timeout, so an
echo well under 2 s proves the interrupt (MSI-X on PCI, the GSI on mmio)
woke it.  Namespaces, TAPs and QEMU are always removed.
Needs root, iproute2, qemu-system-x86_64 and scapy; skipped otherwise.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("scapy.all")

from uknfv import libs  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DATA = Path(__file__).parent / "data"
QEMU = shutil.which("qemu-system-x86_64")
QBOOT = Path("/usr/share/qemu/qboot.rom")
KERNEL_LIBS = ["ukplat", "ukalloc", "ukconsole", "uktime", "ukintr", "uklibc", "pktpool",
               "uknetdev", "ukvirtionet"]
IDLE_MS = 2000
MARK = b"uknfv-virtio-net"


def _platform_ready() -> bool:
    try:
        libs.closure(KERNEL_LIBS)
    except (KeyError, RuntimeError, OSError):
        return False
    return (libs.LIBS_DIR / "ukplat" / "kvm.ld").exists()


pytestmark.append(pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or QEMU is None or not _platform_ready(),
    reason="needs root, iproute2, qemu-system-x86_64 and the kvm platform libraries"))

CFLAGS = ["-ffreestanding", "-nostdlib", "-nostdinc", "-mno-red-zone", "-fno-pic", "-fno-pie",
          "-fno-stack-protector", "-ffunction-sections", "-fdata-sections", "-O2", "-g",
          "-Wall", "-Wextra", "-Werror"]


def build_kernel(out: Path) -> Path:
    cc = os.environ.get("CC", "cc")
    gccinc = subprocess.run([cc, "-print-file-name=include"], capture_output=True, text=True,
                            check=True).stdout.strip()
    chosen = libs.closure(KERNEL_LIBS)
    cmd = [cc, *CFLAGS, "-isystem", gccinc]
    for lib in chosen:
        if lib.include.exists():
            cmd.append(f"-I{lib.include}")
        cmd.extend(lib.cflags)
    cmd.append(str(DATA / "netdev_echo.c"))
    for lib in chosen:
        cmd.extend(str(p) for p in lib.source_paths())
    ld = libs.LIBS_DIR / "ukplat" / "kvm.ld"
    cmd += ["-nostdlib", "-static", "-no-pie", "-Wl,--gc-sections", f"-Wl,-T,{ld}",
            "-o", str(out), "-lgcc"]
    for lib in chosen:
        cmd.extend(lib.ldflags)
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"building the test kernel failed:\n{' '.join(cmd)}\n{res.stderr}"
    return out


@pytest.fixture(scope="module")
def echo_kernel(tmp_path_factory) -> Path:
    return build_kernel(tmp_path_factory.mktemp("netdev-echo") / "netdev_echo.elf")


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=30)


@contextmanager
def netns_with_taps(ntaps: int):
    """A fresh namespace holding TAPs uktap0.. (up, IPv6 off, so quiet)."""
    ns = f"uknfv-vn-{uuid.uuid4().hex[:8]}"
    taps = [f"uktap{i}" for i in range(ntaps)]
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        for k in ("all", "default"):
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.disable_ipv6=1")
        for t in taps:
            sh("ip", "-n", ns, "tuntap", "add", t, "mode", "tap")
            sh("ip", "-n", ns, "link", "set", t, "up")
        yield ns, taps
    finally:
        for t in taps:
            sh("ip", "-n", ns, "link", "del", t, check=False)
        sh("ip", "netns", "del", ns, check=False)


# machine -> (qemu machine args, nic device template).  QEMU microvm lists its
# virtio-mmio transports in the ACPI DSDT by default, and on the kernel
# command line (virtio_mmio.device=...) with acpi=off: both are tested.
MICROVM = ["-M", "microvm"]
MICROVM_NOACPI = ["-M", "microvm,acpi=off"]
MMIO_V2 = ["-global", "virtio-mmio.force-legacy=false"]
Q35 = ["-M", "q35", "-bios", str(QBOOT)]
MMIO_NIC = "virtio-net-device,netdev={id},mac={mac}"
MACHINES = {
    "microvm-dsdt-mmio-v1": (MICROVM, MMIO_NIC),
    "microvm-dsdt-mmio-v2": (MICROVM + MMIO_V2, MMIO_NIC),
    "microvm-cmdline-mmio-v1": (MICROVM_NOACPI, MMIO_NIC),
    "microvm-cmdline-mmio-v2": (MICROVM_NOACPI + MMIO_V2, MMIO_NIC),
    "q35-pci-modern": (Q35, "virtio-net-pci,netdev={id},mac={mac},disable-legacy=on"),
    "q35-pci-legacy": (Q35, "virtio-net-pci,netdev={id},mac={mac},disable-modern=on"),
}
EXPECT = {  # machine -> (bus text in the NIC line, virtio-net header length)
    "microvm-dsdt-mmio-v1": (r"mmio 0x[0-9a-f]+ v1 irq \d+", 10),
    "microvm-dsdt-mmio-v2": (r"mmio 0x[0-9a-f]+ v2 irq \d+", 12),
    "microvm-cmdline-mmio-v1": (r"mmio 0x[0-9a-f]+ v1 irq \d+", 10),
    "microvm-cmdline-mmio-v2": (r"mmio 0x[0-9a-f]+ v2 irq \d+", 12),
    "q35-pci-modern": (r"pci 00:[0-9a-f]{2}\.0 modern", 12),
    "q35-pci-legacy": (r"pci 00:[0-9a-f]{2}\.0 legacy", 10),
}


def mac_of(i: int) -> str:
    return f"52:54:00:12:34:{0x56 + i:02x}"


class Guest:
    def __init__(self, proc: subprocess.Popen, console: Path):
        self.proc = proc
        self.console = console

    def text(self) -> str:
        return self.console.read_text(errors="replace") if self.console.exists() else ""

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match:
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"no /{pattern}/ on the console (qemu rc={self.proc.poll()}):\n{self.text()}")


@contextmanager
def booted(ns: str, taps: list[str], machine: str, kernel: Path, workdir: Path):
    margs, nic = MACHINES[machine]
    console = workdir / f"console-{machine}.log"
    cmd = ["ip", "netns", "exec", ns, QEMU, *margs, "-accel", "tcg", "-m", "128", "-nodefaults",
           "-no-user-config", "-nographic", "-serial", f"file:{console}", "-serial", "null",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", str(kernel), "-append", f"echo.idle_ms={IDLE_MS} echo.max_s=90"]
    for i, t in enumerate(taps):
        cmd += ["-netdev", f"tap,id=n{i},ifname={t},script=no,downscript=no",
                "-device", nic.format(id=f"n{i}", mac=mac_of(i))]
    (workdir / f"qemu-{machine}.cmd").write_text(" ".join(cmd) + "\n")
    err = open(workdir / f"qemu-{machine}.stderr", "w")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
    try:
        yield Guest(proc, console)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err.close()


# Runs inside the namespace: per TAP, one lone frame (latency: the guest is
# halted with interrupts armed), then a burst of varied frames; collect the
# guest's echoes (to the sender's MAC: the guest swapped them); finally the QUIT
# frame.
HELPER = r'''
import json, sys, time
from scapy.all import AsyncSniffer, Ether, IP, UDP, Dot1Q, Raw, sendp
cfg = json.load(open(sys.argv[1]))
mark = bytes.fromhex(cfg["mark"])
res, sniffers, got = {}, {}, {}
for t in cfg["taps"]:
    gm, name = t["guest_mac"], t["name"]
    got[name] = []
    ready = []
    sn = AsyncSniffer(iface=name, store=False,
                      prn=lambda p, l=got[name]: l.append((time.time(), bytes(p))),
                      lfilter=lambda p: p.haslayer(Ether) and p[Ether].dst == "02:00:00:00:00:01" and mark in bytes(p),
                      started_callback=lambda r=ready: r.append(1))
    sn.start()
    t0 = time.time()
    while not ready and time.time() - t0 < 10:
        time.sleep(0.01)
    sniffers[name] = sn

def frames_for(i, gm, n):
    out = []
    for k in range(n):
        size = [60, 64, 100, 512, 1000, 1514][k % 6]
        payload = mark + bytes([i]) + k.to_bytes(4, "big")
        if k % 5 == 3:
            f = Ether(src="02:00:00:00:00:01", dst=gm) / Dot1Q(vlan=10 + k) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + k, dport=2000) / Raw(payload)
        elif k % 7 == 2:
            f = Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff", type=0x88B5) / Raw(payload)
        else:
            f = Ether(src="02:00:00:00:00:01", dst=gm) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + k, dport=2000) / Raw(payload)
        b = bytes(f)
        if len(b) < size:
            b += bytes(size - len(b))
        out.append(b)
    return out

def wait_count(l, n, timeout):
    t0 = time.time()
    while len(l) < n and time.time() - t0 < timeout:
        time.sleep(0.0005)

time.sleep(cfg["settle"])
for i, t in enumerate(cfg["taps"]):
    name, l = t["name"], got[t["name"]]
    frames = frames_for(i, t["guest_mac"], cfg["n"])
    t0 = time.time()
    sendp(frames[0], iface=name, verbose=False)
    wait_count(l, 1, 10)
    rtt = (l[0][0] - t0) if l else None
    for f in frames[1:]:
        sendp(f, iface=name, verbose=False)
        time.sleep(0.002)
    wait_count(l, cfg["n"], 20)
    res[name] = {"sent": [f.hex() for f in frames], "rtt": rtt}
time.sleep(0.5)
for t in cfg["taps"]:
    sniffers[t["name"]].stop()
    res[t["name"]]["got"] = [b.hex() for _, b in got[t["name"]]]
quit = bytes(Ether(src="02:00:00:00:00:01", dst=cfg["taps"][0]["guest_mac"], type=0x88B5) / Raw(b"UKNFV-ECHO-QUIT"))
sendp(quit, iface=cfg["taps"][0]["name"], verbose=False)
print(json.dumps(res))
'''


def swap_macs(f: bytes) -> bytes:
    return f[6:12] + f[0:6] + f[12:]


def run_echo(machine: str, nnics: int, kernel: Path, workdir: Path, nframes: int = 30) -> None:
    with netns_with_taps(nnics) as (ns, taps), booted(ns, taps, machine, kernel, workdir) as g:
        g.wait_for(r"ECHO READY nics=(\d+)", timeout=90)
        text = g.text()
        bus_re, hdr = EXPECT[machine]
        nic_lines = re.findall(r"^NIC (\d+) mac=(\S+) mtu=(\d+) link=(\d) bus=(.+?) hdr=(\d+) "
                               r"rxring=(\d+) txring=(\d+)", text, re.M)
        assert len(nic_lines) == nnics, text
        for i, (idx, mac, mtu, link, bus, h, rxr, txr) in enumerate(nic_lines):
            assert int(idx) == i
            assert mac == mac_of(i), f"NIC {i} is {mac}: discovery order must follow -device order"
            assert re.fullmatch(bus_re, bus), bus
            assert int(h) == hdr and link == "1" and int(mtu) == 1500
            assert int(rxr) == 256 and int(txr) == 256

        cfg = {"mark": MARK.hex(), "n": nframes, "settle": 1.0 + IDLE_MS / 1000,
               "taps": [{"name": t, "guest_mac": mac_of(i)} for i, t in enumerate(taps)]}
        (workdir / "helper.py").write_text(HELPER)
        (workdir / "cfg.json").write_text(json.dumps(cfg))
        res = subprocess.run(["ip", "netns", "exec", ns, sys.executable, str(workdir / "helper.py"),
                              str(workdir / "cfg.json")], capture_output=True, text=True, timeout=180)
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout.strip().splitlines()[-1])

        total = 0
        for t in taps:
            sent = [bytes.fromhex(h) for h in out[t]["sent"]]
            got = [bytes.fromhex(h) for h in out[t]["got"]]
            assert sorted(got) == sorted(swap_macs(f) for f in sent), \
                f"{t}: {len(got)} echoes for {len(sent)} frames"
            assert out[t]["rtt"] is not None and out[t]["rtt"] < IDLE_MS / 1000 / 2, \
                f"{t}: first echo after {out[t]['rtt']} s: the RX interrupt did not wake the guest"
            total += len(sent)

        g.wait_for(r"ECHO EXIT", timeout=30)
        assert g.proc.wait(timeout=30) == 1, g.text()     # uk_exit(0) -> QEMU status 1
        stats = re.findall(r"^STATS (\d+) link=1 rx=(\d+) tx=(\d+) rxdrop=(\d+) txdrop=(\d+) rxerr=(\d+) "
                           r"irqs=(\d+)", g.text(), re.M)
        assert len(stats) == nnics
        for i, (idx, rx, tx, rxd, txd, rxe, irqs) in enumerate(stats):
            want = nframes + (1 if i == 0 else 0)            # NIC 0 also got the QUIT frame
            assert (int(rx), int(tx)) == (want, want), g.text()
            assert int(rxd) == int(txd) == int(rxe) == 0
            assert int(irqs) >= 1


@pytest.mark.parametrize("machine", list(MACHINES))
def test_echo_one_nic(machine, echo_kernel, tmp_path):
    if machine.startswith("q35") and not QBOOT.exists():
        pytest.skip("no qboot.rom")
    run_echo(machine, 1, echo_kernel, tmp_path)


@pytest.mark.parametrize("machine", ["microvm-dsdt-mmio-v1", "microvm-cmdline-mmio-v1",
                                     "q35-pci-modern", "q35-pci-legacy"])
def test_echo_two_nics(machine, echo_kernel, tmp_path):
    if machine.startswith("q35") and not QBOOT.exists():
        pytest.skip("no qboot.rom")
    run_echo(machine, 2, echo_kernel, tmp_path, nframes=20)
