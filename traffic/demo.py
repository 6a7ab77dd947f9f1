"""The main job: build the example router vNF, push traffic through it,
print the result.

As root with QEMU installed (``uknfv demo``): the router is built as a
unikernel, booted under QEMU (KVM, or TCG where KVM is not hardware
virtualisation) with a host namespace on each of its NICs, and it carries
ARP, pings and an iperf3 TCP transfer; its counters are read over the
control channel while it runs, and its final stats when it stops.

Otherwise, or with ``uknfv demo --linux``: scapy-made frames go through
pcap-bound ports of the Linux target, which needs no privileges.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw  # noqa: F401 (scapy layers)

from ..pcapfile import read_frames, write_frames
from ..testing import stats_of, uknfv_cmd

LAN_MAC, WAN_MAC = "52:54:00:00:01:01", "52:54:00:00:02:01"
LAN_HOST, WAN_HOST = "02:00:00:00:01:02", "02:00:00:00:02:02"
DISCARDS = ("lan_other", "wan_other", "local_other", "expired")


def router_path() -> Path:
    return Path(str(resources.files("uknfv.pipelines") / "router.click"))


def traffic() -> dict[str, list[tuple[str, bytes]]]:
    """Named input frames for each port."""
    lan = [
        ("ARP who-has 10.0.1.1", Ether(src=LAN_HOST, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=LAN_HOST, psrc="10.0.1.2", pdst="10.0.1.1")),
        ("ping 10.0.1.1 (the router)", Ether(src=LAN_HOST, dst=LAN_MAC) /
         IP(src="10.0.1.2", dst="10.0.1.1") / ICMP(id=7, seq=1) / Raw(b"uknfv-demo")),
        ("UDP 10.0.1.2 -> 10.0.2.2:53", Ether(src=LAN_HOST, dst=LAN_MAC) /
         IP(src="10.0.1.2", dst="10.0.2.2", ttl=64) / UDP(sport=5353, dport=53) / Raw(b"q")),
        ("TCP SYN 10.0.1.2 -> 10.0.2.2:80", Ether(src=LAN_HOST, dst=LAN_MAC) /
         IP(src="10.0.1.2", dst="10.0.2.2") / TCP(sport=40000, dport=80, flags="S")),
        ("TTL 1 (expires here)", Ether(src=LAN_HOST, dst=LAN_MAC) /
         IP(src="10.0.1.2", dst="10.0.2.2", ttl=1) / UDP(sport=1, dport=2)),
        ("bad IP checksum", Ether(src=LAN_HOST, dst=LAN_MAC) /
         IP(src="10.0.1.2", dst="10.0.2.2", chksum=0x1234) / UDP(sport=1, dport=2)),
        ("no route to 192.168.9.9", Ether(src=LAN_HOST, dst=LAN_MAC) /
         IP(src="10.0.1.2", dst="192.168.9.9") / UDP(sport=1, dport=2)),
        ("truncated IPv4 header", bytes(Ether(src=LAN_HOST, dst=LAN_MAC, type=0x0800)) + b"\x45\x00\x00"),
    ]
    wan = [
        ("ARP who-has 10.0.2.1", Ether(src=WAN_HOST, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=WAN_HOST, psrc="10.0.2.2", pdst="10.0.2.1")),
        ("ping 10.0.1.2 from the WAN", Ether(src=WAN_HOST, dst=WAN_MAC) /
         IP(src="10.0.2.2", dst="10.0.1.2") / ICMP(id=9, seq=1)),
        ("IPv6 (not routed)", Ether(src=WAN_HOST, dst=WAN_MAC, type=0x86DD) / Raw(b"\x60" + b"\0" * 39)),
    ]
    return {port: [(label, bytes(f)) for label, f in frames]
            for port, frames in (("lan", lan), ("wan", wan))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="uknfv demo")
    ap.add_argument("--linux", action="store_true",
                    help="the Linux-target demo over pcap files (no root, no QEMU needed)")
    args = ap.parse_args(argv if argv is not None else [])
    if args.linux:
        return pcap_demo()
    from .vmlab import qemu_missing
    why = qemu_missing()
    if why:
        print(f"uknfv demo: cannot boot the unikernel here: {why}.\n"
              f"uknfv demo: running the Linux-target demo over pcap files instead "
              f"(as root with QEMU, `uknfv demo` boots the vNF under QEMU).\n")
        return pcap_demo()
    return vm_demo()


# --------------------------------------------------------------------------- the unikernel

def _row(what: str, text: str) -> None:
    print(f"{what:<8}{text}", flush=True)


def _ping_text(r) -> str:
    if not r.received:
        return f"{r.received}/{r.transmitted} replies"
    ttl = "/".join(str(t) for t in sorted(set(r.ttls)))
    rtt = f", rtt avg {sum(r.rtts_ms) / len(r.rtts_ms):.1f} ms" if r.rtts_ms else ""
    return f"{r.received}/{r.transmitted} replies, ttl {ttl}{rtt}"


def vm_demo() -> int:
    """Build router.click for kvm, boot it between two namespaces, send traffic, print it all."""
    from ..diag import UknfvError
    from .vmlab import LAN_GW, ROUTER_HOSTS, WAN_GW, build_image, router_lab
    pipeline = router_path()
    lan, wan = ROUTER_HOSTS
    print(f"uknfv demo: {pipeline.name} as a unikernel under QEMU, a namespace on each side\n\n"
          f"    lan {lan.ip} ── [ {LAN_GW}  router VM  {WAN_GW} ] ── wan {wan.ip}\n")
    with tempfile.TemporaryDirectory(prefix="uknfv-demo-") as tmp:
        try:
            t0 = time.monotonic()
            image = build_image(pipeline, Path(tmp) / "router.img")
            _row("build", f"{pipeline.name} -> {image.name}, {image.stat().st_size} bytes "
                          f"({time.monotonic() - t0:.1f} s)")
            t0 = time.monotonic()
            with router_lab(image) as vm:
                _row("qemu", vm.accel_line.removeprefix("uknfv: "))
                _row("boot", f"{vm.ready_line}  ({time.monotonic() - t0:.1f} s from launch)")
                for host, gw in (("lan", LAN_GW), ("wan", WAN_GW)):
                    mac = vm.arp(host, gw)
                    _row("arp", f"{host}: who has {gw}? " +
                         (f"{gw} is at {mac}" if mac else "no answer"))
                for src, dst, label in (("lan", wan.ip, "lan -> wan"),
                                        ("wan", lan.ip, "wan -> lan"),
                                        ("lan", LAN_GW, "lan -> router")):
                    _row("ping", f"{label} {dst}: {_ping_text(vm.ping(src, dst))}")
                rep = vm.iperf("lan", "wan", nbytes="8M")
                if "error" in rep:
                    _row("iperf3", f"failed: {rep['error']}")
                else:
                    sent, recv = rep["end"]["sum_sent"], rep["end"]["sum_received"]
                    _row("iperf3", f"TCP lan -> wan: {sent['bytes'] / 2**20:.0f} MiB sent, "
                                   f"{recv['bytes'] / 2**20:.1f} MiB received in "
                                   f"{recv['seconds']:.2f} s, {recv['bits_per_second'] / 1e6:.0f} "
                                   f"Mbit/s, retransmits {sent.get('retransmits', 0)}")
                before = vm.read_int("expired.count")
                vm.send("lan", [bytes(Ether(src=LAN_HOST, dst=LAN_MAC) /
                                      IP(src=lan.ip, dst=wan.ip, ttl=1) / UDP(sport=1, dport=2))
                                for _ in range(3)])
                time.sleep(0.3)
                _row("ttl=1", f"3 frames from lan: expired.count {before} -> "
                              f"{vm.read_int('expired.count')}")
                print(f"\ncounters read from the running vNF (uknfv handlers {vm.control} -v):")
                for k, v in vm.handlers().items():
                    if k.endswith(".count") or (k.endswith(".drops") and v.strip() != "0"):
                        print(f"  {k}: {v}")
            print("\nfinal stats (SIGINT -> the guest prints them and exits):")
            for k, v in vm.stats.items():
                if k.startswith(("port.", "pool.")):
                    print(f"  {k}: {v}")
            print()
            _row("exit", f"guest status {vm.exit_status}; namespaces, bridges and TAPs removed")
            return 0 if vm.exit_status == 0 else 1
        except (UknfvError, subprocess.TimeoutExpired) as e:
            print(f"uknfv demo: {e}", file=sys.stderr)
            return 1


# --------------------------------------------------------------------------- pcap files

def pcap_demo() -> int:
    pipeline = router_path()
    with tempfile.TemporaryDirectory(prefix="uknfv-demo-") as tmp:
        d = Path(tmp)
        inputs = traffic()
        print(f"uknfv demo: {pipeline.name} on the linux target, ports bound to pcap files\n")
        for port, frames in inputs.items():
            write_frames(d / f"{port}_in.pcap", [f for _, f in frames])
            print(f"in  {port}: {len(frames)} frames")
            for label, _ in frames:
                print(f"      - {label}")
        cmd = uknfv_cmd() + ["run", str(pipeline), "--stats"]
        for port in inputs:
            cmd += ["--port", f"{port}=pcap:in={d / (port + '_in.pcap')},out={d / (port + '_out.pcap')}"]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=d)
        if res.returncode != 0:
            print(res.stderr, file=sys.stderr)
            return 1
        print()
        for port in inputs:
            frames = read_frames(d / f"{port}_out.pcap")
            print(f"out {port}: {len(frames)} frames")
            for f in frames:
                print(f"      - {Ether(f).summary()}")
        stats = stats_of(res.stdout)
        print("\ndrops, by the element that counted them:")
        for k, v in stats.items():
            if (k.endswith(".drops") or k.split(".")[0] in DISCARDS) and v not in ("0", ""):
                print(f"  {k}: {v}")
        print("\nports:")
        for k, v in stats.items():
            if k.startswith("port."):
                print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
