"""The main job: build the example router vNF, push traffic through it,
print what came out of each port.

Traffic is made with scapy and fed through pcap-bound ports of the Linux
target, so the demo runs anywhere without privileges.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
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
