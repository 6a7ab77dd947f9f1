"""A corpus of malformed and edge-case frames, for robustness tests.

Every frame here must be counted and dropped (or forwarded if it is in fact
valid) by any pipeline, never crash it or make it read out of bounds.
"""
from __future__ import annotations

import random

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, IPOption_RR, Raw


def _valid() -> list[bytes]:
    e = Ether(src="02:00:00:00:00:01", dst="52:54:00:00:00:01")
    return [bytes(p) for p in (
        e / IP(src="10.0.1.2", dst="10.0.2.2") / UDP(sport=1000, dport=53) / Raw(b"x" * 20),
        e / IP(src="10.0.1.2", dst="10.0.2.2") / TCP(sport=1000, dport=80, flags="S"),
        e / IP(src="10.0.1.2", dst="10.0.1.1") / ICMP() / Raw(b"ping"),
        e / IP(src="10.0.1.2", dst="10.0.2.2", options=[IPOption_RR()]) / UDP(),
        e / IP(src="10.0.1.2", dst="10.0.2.2", flags="MF", frag=0) / UDP() / Raw(b"a" * 16),
        e / IP(src="10.0.1.2", dst="10.0.2.2", frag=3) / Raw(b"b" * 16),
        Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") /
        ARP(op=1, hwsrc="02:00:00:00:00:01", psrc="10.0.1.2", pdst="10.0.1.1"),
    )]


def malformed_frames(seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    out: list[bytes] = []
    valid = _valid()
    # Every truncation of every valid frame, including the empty frame.
    for f in valid:
        out.extend(f[:n] for n in range(0, len(f)))
    e = bytes(Ether(src="02:00:00:00:00:01", dst="52:54:00:00:00:01", type=0x0800))
    ip = bytes(IP(src="10.0.1.2", dst="10.0.2.2") / UDP(sport=1, dport=2) / Raw(b"z" * 8))
    for ihl in range(0, 16):          # every IHL, checksum left stale
        out.append(e + bytes([0x40 | ihl]) + ip[1:])
    for ver in (0, 6, 15):
        out.append(e + bytes([(ver << 4) | 5]) + ip[1:])
    for tlen in (0, 1, 19, 20, 21, len(ip) - 1, len(ip) + 1, 1500, 65535):
        out.append(e + ip[:2] + tlen.to_bytes(2, "big") + ip[4:])
    out.append(e + ip[:10] + b"\x12\x34" + ip[12:])          # bad checksum
    out.append(e + ip[:9] + b"\x06" + ip[10:28])             # TCP with a short header
    out.append(e + ip[:9] + b"\x01" + ip[10:20])             # ICMP with no ICMP header
    # Random bytes after valid Ethernet/IP heads, and fully random frames.
    for _ in range(200):
        head = rng.choice([e, e + ip[:20], b""])
        out.append(head + bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 80))))
    # An oversized (jumbo) frame.
    out.append(e + ip[:2] + (9000).to_bytes(2, "big") + ip[4:] + b"j" * 9000)
    return out
