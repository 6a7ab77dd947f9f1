"""The example vNFs in pipelines/, through pcap-bound ports of the Linux target."""
from __future__ import annotations

from pathlib import Path

from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw

from uknfv.pcapfile import read_frames, write_frames
from uknfv.testing import REPO, run_uknfv, stats_of
from uknfv.traffic.demo import LAN_HOST, LAN_MAC, WAN_HOST, WAN_MAC, traffic


def ip_header_sum(hdr: bytes) -> int:
    """One's complement sum of an IP header: 0xFFFF when its checksum is right."""
    s = sum(int.from_bytes(hdr[i:i + 2], "big") for i in range(0, len(hdr), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def run_ports(tmp_path: Path, pipeline: str, inputs: dict[str, list[bytes]]) -> tuple[dict, dict]:
    args = ["run", str(REPO / "pipelines" / pipeline), "--stats"]
    for port, frames in inputs.items():
        write_frames(tmp_path / f"{port}_in.pcap", frames)
        args += ["--port", f"{port}=pcap:in={port}_in.pcap,out={port}_out.pcap"]
    res = run_uknfv(*args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return {p: read_frames(tmp_path / f"{p}_out.pcap") for p in inputs}, stats_of(res.stdout)


def test_router_forwards_answers_and_drops(tmp_path):
    inputs = {port: [f for _, f in frames] for port, frames in traffic().items()}
    out, stats = run_ports(tmp_path, "router.click", inputs)
    lan, wan = [Ether(f) for f in out["lan"]], [Ether(f) for f in out["wan"]]
    # LAN side: ARP reply, echo reply from the router, the WAN host's ping routed in.
    assert lan[0].op == 2 and lan[0].psrc == "10.0.1.1" and lan[0].hwsrc == LAN_MAC
    assert lan[1][ICMP].type == 0 and lan[1][IP].src == "10.0.1.1" and lan[1][Raw].load == b"uknfv-demo"
    assert lan[2][IP].src == "10.0.2.2" and lan[2][IP].ttl == 63 and lan[2].dst == LAN_HOST
    # WAN side: UDP and TCP routed out with TTL-1, fresh Ethernet header, valid checksum.
    udp, tcp = wan[0], wan[1]
    assert udp[UDP].dport == 53 and udp[IP].ttl == 63 and udp.src == WAN_MAC and udp.dst == WAN_HOST
    assert tcp[TCP].flags == "S"
    for pkt in (udp, tcp, lan[2]):
        assert ip_header_sum(bytes(pkt[IP])[:20]) == 0xFFFF
    assert wan[2].op == 2 and wan[2].psrc == "10.0.2.1"
    assert len(lan) == 3 and len(wan) == 3
    # Every dropped frame is counted where it was dropped.
    assert stats["expired.count"] == "1"
    assert stats["rt.drops"] == "1"
    assert int(next(v for k, v in stats.items() if k.startswith("CheckIPHeader") and k.endswith(".drops"))) == 2
    assert stats["wan_other.count"] == "1"


def test_firewall_allows_listed_services_only(tmp_path):
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    inside = [
        e / IP(src="10.0.1.10", dst="192.0.2.1") / ICMP(),                       # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / UDP(sport=4000, dport=53),    # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / TCP(sport=4000, dport=443),   # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / TCP(sport=4000, dport=25),    # denied
        e / IP(src="10.0.1.10", dst="192.0.2.1") / UDP(sport=4000, dport=123),   # denied
    ]
    outside = [
        e / IP(src="192.0.2.1", dst="10.0.1.10") / ICMP(type=0),                 # allowed
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=443, dport=4000),   # allowed
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=5000, dport=22),    # allowed
        e / IP(src="192.0.2.1", dst="10.0.1.11") / TCP(sport=5000, dport=22),    # denied
        e / IP(src="192.0.2.1", dst="10.0.1.10") / ICMP(type=8),                 # denied
    ]
    out, stats = run_ports(tmp_path, "firewall.click",
                           {"inside": [bytes(p) for p in inside], "outside": [bytes(p) for p in outside]})
    assert out["outside"] == [bytes(p) for p in inside[:3]]
    assert out["inside"] == [bytes(p) for p in outside[:3]]
    assert stats["egress.drops"] == "2" and stats["ingress.drops"] == "2"
