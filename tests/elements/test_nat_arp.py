"""NAT and router building blocks against frames built independently with scapy.

IPRewriter (and its TCP/UDP/address/ping variants), ARPQuerier, ICMPError,
IPFragmenter and IPReassembler.  Each test writes scapy-built frames to a
pcap, runs `FromDump(in.pcap, STOP true) -> ... -> ToDump(...)` through
`uknfv run --stats` on the Linux target, and compares every output frame
byte for byte with the frame scapy builds for the expected result (scapy
computes every checksum from scratch, so the elements' incremental
updates are checked too).

Time: the rewriters and ARPQuerier take the time from the packet's
timestamp annotation (set by FromDump from the pcap record), so the
timeout tests put gaps in the pcap timestamps and need no sleeping.

One test runs a deterministic NAT pipeline on the Linux, DPDK and kvm
targets and requires identical outputs.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, PcapWriter  # noqa: E402

from uknfv.testing import assert_same_frames, check_error, parse_stats, read_pcap, run_pipeline, run_uknfv  # noqa: E402

MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"


# ---------------------------------------------------------------- helpers

def write_pcap(path: Path, frames) -> None:
    """frames: bytes, or (bytes, timestamp seconds)."""
    w = PcapWriter(str(path), linktype=1, sync=True)
    t = 1_700_000_000.0
    for f in frames:
        if isinstance(f, tuple):
            f, t = f
        else:
            t += 0.001
        p = Ether(bytes(f))
        p.time = t
        w.write(p)
    w.close()


def run(tmp_path: Path, config: str, frames):
    """run_pipeline with this file's write_pcap (explicit capture times)."""
    return run_pipeline(tmp_path, config, frames, write=write_pcap)


def E(ip) -> bytes:
    return bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800) / ip)


def udp(src, dst, sport, dport, payload=b"data", **kw) -> bytes:
    return bytes(IP(src=src, dst=dst, **kw) / UDP(sport=sport, dport=dport) / payload)


def tcp(src, dst, sport, dport, flags="S", payload=b"", **kw) -> bytes:
    return bytes(IP(src=src, dst=dst, **kw) / TCP(sport=sport, dport=dport, flags=flags, seq=1000)
                 / payload)


def ip_only(f: bytes) -> bytes:
    return f[14:]


IN = "FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader"


def outs(n: int, el: str = "rw") -> str:
    return "".join(f"{el}[{j}] -> ToDump(out{j}.pcap, ENCAP IP);\n" for j in range(n))


# ---------------------------------------------------------------- IPRewriter

def test_iprewriter_source_nat_tcp_udp_replies_and_reuse(tmp_path):
    PUB = "192.0.2.1"
    frames = [
        E(udp("10.0.0.1", "8.8.8.8", 5000, 53)),            # new flow -> port 1024
        E(tcp("10.0.0.2", "93.184.216.34", 40000, 80)),     # new flow -> port 1025
        E(udp("10.0.0.1", "8.8.8.8", 5000, 53, b"again")),  # reuse -> 1024
        E(udp("10.0.0.3", "8.8.8.8", 5000, 53)),            # same sport other host -> 1026
        E(udp("8.8.8.8", PUB, 53, 1024, b"answer")),        # reply -> 10.0.0.1:5000
        E(tcp("93.184.216.34", PUB, 80, 1025, "SA")),       # reply -> 10.0.0.2:40000
        E(udp("8.8.8.8", PUB, 53, 1026, b"x", )),           # reply -> 10.0.0.3:5000
        E(udp("8.8.8.8", PUB, 53, 4444)),                   # unknown reply (input 1): dropped
        E(bytes(IP(src="10.0.0.1", dst="8.8.8.8") / ICMP())),  # not TCP/UDP: dropped
        E(udp("10.0.0.9", "8.8.4.4", 7, 7, b"nocsum")[:26] + b"\x00\x00" +
          udp("10.0.0.9", "8.8.4.4", 7, 7, b"nocsum")[28:]),   # UDP checksum 0 stays 0
    ]
    r = run(tmp_path, f"{IN} -> c :: IPClassifier(dst host {PUB}, -);\n"
            f"rw :: IPRewriter(pattern {PUB} 1024-65535# - - 0 1, drop);\n"
            "c[0] -> [1]rw; c[1] -> [0]rw;\n" + outs(2), frames)
    nocsum_in = udp("10.0.0.9", "8.8.4.4", 7, 7, b"nocsum")
    nocsum_out = udp(PUB, "8.8.4.4", 1027, 7, b"nocsum")
    assert r.out("out0.pcap") == [
        udp(PUB, "8.8.8.8", 1024, 53),
        tcp(PUB, "93.184.216.34", 1025, 80),
        udp(PUB, "8.8.8.8", 1024, 53, b"again"),
        udp(PUB, "8.8.8.8", 1026, 53),
        nocsum_out[:26] + b"\x00\x00" + nocsum_out[28:],
    ]
    assert nocsum_in != nocsum_out
    assert r.out("out1.pcap") == [
        udp("8.8.8.8", "10.0.0.1", 53, 5000, b"answer"),
        tcp("93.184.216.34", "10.0.0.2", 80, 40000, "SA"),
        udp("8.8.8.8", "10.0.0.3", 53, 5000, b"x"),
    ]
    assert r.n("rw.nmappings") == 4 and r.n("rw.size") == 4
    assert r.n("rw.created") == 4
    assert r.n("rw.drops") == 2
    assert r.n("rw.capacity") == 65536
    assert r.stats["rw.tcp_mappings"] == \
        f"(10.0.0.2, 40000, 93.184.216.34, 80) => ({PUB}, 1025, 93.184.216.34, 80) [0]"
    lines = r.stats["rw.mappings"].splitlines()
    assert f"udp (10.0.0.1, 5000, 8.8.8.8, 53) => ({PUB}, 1024, 8.8.8.8, 53) [0]" in lines
    assert len(lines) == 4


def test_iprewriter_inputspecs_drop_pass_keep_and_dnat(tmp_path):
    # four inputs, selected by Paint + PaintSwitch-like Classifier on the source
    frames = [
        E(udp("10.0.1.1", "1.2.3.4", 10, 20)),    # input 0: drop
        E(udp("10.0.2.1", "1.2.3.4", 10, 20)),    # input 1: pass 2
        E(udp("10.0.3.1", "1.2.3.4", 10, 20)),    # input 2: keep 0 1
        E(udp("1.2.3.4", "10.0.3.1", 20, 10)),    # reply of the kept flow -> output 1
        E(tcp("10.0.4.1", "192.0.2.1", 999, 80)),  # input 3: DNAT to 10.9.9.9:8080
        E(tcp("10.9.9.9", "10.0.4.1", 8080, 999, "SA")),  # reply -> from 192.0.2.1:80
        E(bytes(IP(src="10.0.2.1", dst="1.2.3.4") / ICMP())),  # non-flow on pass input: out 2
    ]
    cfg = ("FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> c :: IPClassifier("
           "src net 10.0.1.0/24, src net 10.0.2.0/24, src net 10.0.3.0/24, src net 10.0.4.0/24, -);\n"
           "rw :: IPRewriter(drop, pass 2, keep 0 1, pattern - - 10.9.9.9 8080 0 1);\n"
           "c[0] -> [0]rw; c[1] -> [1]rw; c[2] -> [2]rw; c[3] -> [3]rw;\n"
           "c[4] -> rw2 :: IPRewriter(keep 0 1) -> [0]rw; rw2[1] -> [2]rw;\n" + outs(3))
    # replies (src 1.2.3.4 / 10.9.9.9) enter through rw2 -> rw input 0 (drop) or 2:
    # the table lookup comes first, so the input does not matter for them.
    r = run(tmp_path, cfg, frames)
    assert r.out("out0.pcap") == [
        udp("10.0.3.1", "1.2.3.4", 10, 20),
        tcp("10.0.4.1", "10.9.9.9", 999, 8080),
    ]
    assert r.out("out1.pcap") == [
        udp("1.2.3.4", "10.0.3.1", 20, 10),
        tcp("192.0.2.1", "10.0.4.1", 80, 999, "SA"),
    ]
    assert r.out("out2.pcap") == [
        udp("10.0.2.1", "1.2.3.4", 10, 20),
        bytes(IP(src="10.0.2.1", dst="1.2.3.4") / ICMP()),
    ]
    assert r.n("rw.drops") == 1
    assert r.n("rw.nmappings") == 2


def test_iprewriter_timeouts_and_table_full(tmp_path):
    t0 = 1_700_000_000.0
    PUB = "192.0.2.1"
    frames = [
        (E(udp("10.0.0.1", "8.8.8.8", 1, 53)), t0),          # flow A -> 2000
        (E(udp("10.0.0.2", "8.8.8.8", 2, 53)), t0 + 1),      # flow B -> 2001
        (E(udp("10.0.0.3", "8.8.8.8", 3, 53)), t0 + 2),      # table full (CAPACITY 2): dropped
        (E(udp("8.8.8.8", PUB, 53, 2000)), t0 + 4),          # reply to A (A used at t0+4)
        (E(tcp("10.0.0.4", "8.8.8.8", 4, 80, "S")), t0 + 12),  # TCP 2000 (ports per protocol);
                                                             # table full: expired B removed
        (E(udp("8.8.8.8", PUB, 53, 2000)), t0 + 13),         # A still alive (9 s)
        (E(tcp("10.0.0.4", "8.8.8.8", 4, 80, "F")), t0 + 14),  # FIN: TCP done timeout 2 s
        (E(tcp("8.8.8.8", PUB, 80, 2000, "A")), t0 + 17),    # reply after 3 s: expired, dropped
        (E(udp("8.8.8.8", PUB, 53, 2000)), t0 + 24),         # A expired (11 s): dropped
        (E(udp("10.0.0.5", "8.8.8.8", 5, 53)), t0 + 25),     # new flow: next port, 2001
    ]
    r = run(tmp_path, f"{IN} -> c :: IPClassifier(dst host {PUB}, -);\n"
            f"rw :: IPRewriter(pattern {PUB} 2000-2001# - - 0 1, drop, "
            "CAPACITY 2, UDP_TIMEOUT 10, TCP_TIMEOUT 100, TCP_DONE_TIMEOUT 2);\n"
            "c[0] -> [1]rw; c[1] -> [0]rw;\n" + outs(2), frames)
    assert r.out("out0.pcap") == [
        udp(PUB, "8.8.8.8", 2000, 53),
        udp(PUB, "8.8.8.8", 2001, 53),
        tcp(PUB, "8.8.8.8", 2000, 80, "S"),
        tcp(PUB, "8.8.8.8", 2000, 80, "F"),
        udp(PUB, "8.8.8.8", 2001, 53),
    ]
    assert r.out("out1.pcap") == [
        udp("8.8.8.8", "10.0.0.1", 53, 1),
        udp("8.8.8.8", "10.0.0.1", 53, 1),
    ]
    assert r.n("rw.table_full") == 1
    assert r.n("rw.drops") == 3
    assert r.n("rw.created") == 4
    assert r.n("rw.nmappings") == 1


def test_iprewriter_port_range_exhausted(tmp_path):
    frames = [E(udp(f"10.0.0.{i}", "8.8.8.8", 100, 53)) for i in range(1, 5)]
    r = run(tmp_path, f"{IN} -> rw :: UDPRewriter(pattern 192.0.2.1 3000-3002 - - 0 0);\n"
            + outs(1), frames)
    assert r.out("out0.pcap") == [udp("192.0.2.1", "8.8.8.8", p, 53) for p in (3000, 3001, 3002)]
    assert r.n("rw.table_full") == 1 and r.n("rw.drops") == 1
    assert r.stats["rw.mappings"].splitlines()[0] == \
        "(10.0.0.1, 100, 8.8.8.8, 53) => (192.0.2.1, 3000, 8.8.8.8, 53) [0]"


def test_tcprewriter_and_address_ranges(tmp_path):
    frames = [
        E(tcp("10.0.0.1", "8.8.8.8", 100, 80)),
        E(tcp("10.0.0.2", "8.8.8.8", 100, 80)),
        E(tcp("10.0.0.3", "8.8.8.8", 100, 80)),
        E(udp("10.0.0.3", "8.8.8.8", 100, 80)),      # not TCP: dropped
        E(tcp("8.8.8.8", "192.0.2.11", 80, 5001, "SA")),
    ]
    r = run(tmp_path, f"{IN} -> c :: IPClassifier(dst net 192.0.2.0/24, -);\n"
            "rw :: TCPRewriter(pattern 192.0.2.10-192.0.2.11 5000-5001 - - 0 1, drop);\n"
            "c[0] -> [1]rw; c[1] -> [0]rw;\n" + outs(2), frames)
    assert r.out("out0.pcap") == [
        tcp("192.0.2.10", "8.8.8.8", 5000, 80),
        tcp("192.0.2.10", "8.8.8.8", 5001, 80),
        tcp("192.0.2.11", "8.8.8.8", 5000, 80),
    ]
    assert r.out("out1.pcap") == []
    assert r.n("rw.drops") == 2     # the UDP packet, the reply to an unused pair


def test_ipaddrrewriter(tmp_path):
    frames = [
        E(udp("10.0.0.1", "8.8.8.8", 1, 2)),
        E(tcp("10.0.0.2", "1.1.1.1", 3, 4)),
        E(bytes(IP(src="10.0.0.1", dst="9.9.9.9") / ICMP(id=7))),
        E(tcp("1.1.1.1", "198.51.100.1", 4, 3, "SA")),
        E(bytes(IP(src="9.9.9.9", dst="198.51.100.0") / ICMP(type=0, id=7))),
        E(tcp("1.1.1.1", "198.51.100.2", 4, 3, "SA")),   # unmapped (input 1: drop)
    ]
    r = run(tmp_path, f"{IN} -> c :: IPClassifier(dst net 198.51.100.0/30, -);\n"
            "rw :: IPAddrRewriter(pattern 198.51.100.0/30 - 0 1, drop);\n"
            "c[0] -> [1]rw; c[1] -> [0]rw;\n" + outs(2), frames)
    # 198.51.100.0/30: the first free address is .0 -- Click's ranges include it too
    assert r.out("out0.pcap") == [
        udp("198.51.100.0", "8.8.8.8", 1, 2),
        tcp("198.51.100.1", "1.1.1.1", 3, 4),
        bytes(IP(src="198.51.100.0", dst="9.9.9.9") / ICMP(id=7)),
    ]
    assert r.out("out1.pcap") == [tcp("1.1.1.1", "10.0.0.2", 4, 3, "SA"),
                                  bytes(IP(src="9.9.9.9", dst="10.0.0.1") / ICMP(type=0, id=7))]
    assert r.n("rw.drops") == 1
    assert r.stats["rw.mappings"].splitlines() == ["10.0.0.1 => 198.51.100.0 [0]",
                                                   "10.0.0.2 => 198.51.100.1 [0]"]


def test_icmppingrewriter(tmp_path):
    def ping(src, dst, ident, typ=8, seq=1):
        return bytes(IP(src=src, dst=dst) / ICMP(type=typ, id=ident, seq=seq) / b"abcdefgh")
    frames = [
        E(ping("10.0.0.1", "8.8.8.8", 77)),
        E(ping("10.0.0.2", "8.8.8.8", 77)),
        E(ping("10.0.0.1", "8.8.8.8", 77, seq=2)),
        E(ping("8.8.8.8", "192.0.2.1", 501, typ=0)),
        E(ping("8.8.8.8", "192.0.2.1", 500, typ=0, seq=2)),
        E(ping("8.8.8.8", "192.0.2.1", 999, typ=0)),     # unmapped reply: dropped
        E(udp("10.0.0.1", "8.8.8.8", 1, 2)),               # not ICMP: dropped
    ]
    r = run(tmp_path, f"{IN} -> rw :: ICMPPingRewriter(pattern 192.0.2.1 500-600 - - 0 1);\n"
            + outs(2), frames)
    assert r.out("out0.pcap") == [ping("192.0.2.1", "8.8.8.8", 500), ping("192.0.2.1", "8.8.8.8", 501),
                                  ping("192.0.2.1", "8.8.8.8", 500, seq=2)]
    assert r.out("out1.pcap") == [ping("8.8.8.8", "10.0.0.2", 77, typ=0),
                                  ping("8.8.8.8", "10.0.0.1", 77, typ=0, seq=2)]
    assert r.n("rw.drops") == 2
    assert r.stats["rw.mappings"].splitlines()[0] == "(10.0.0.1, 8.8.8.8, 77) => (192.0.2.1, 8.8.8.8, 500) [0]"


@pytest.mark.parametrize("config,fragments", [
    ("Idle -> IPRewriter(pattern 1.2.3.4 1024-65535 - - 0 1, bogus) -> Discard;",
     ["t.click:1:", "unknown INPUTSPEC 'bogus'"]),
    ("Idle -> IPRewriter(pattern 1.2.3.4 70000 - - 0 1) -> Discard;",
     ["t.click:1:36:", "bad port range '70000'"]),
    ("Idle -> IPRewriter(pattern 1.2.3.4 1024 - - 0) -> Discard;",
     ["t.click:1:", "'pattern' takes 6 arguments"]),
    ("Idle -> IPRewriter(keep 0 x) -> Discard;",
     ["t.click:1:", "expected output port number, got 'x'"]),
    ("Idle -> IPRewriter(drop, CAPACITY lots) -> Discard;",
     ["t.click:1:", "CAPACITY"]),
    ("Idle -> IPRewriter(drop, UDP_TIMEOUT soon) -> Discard;",
     ["t.click:1:", "UDP_TIMEOUT", "time interval"]),
    ("Idle -> rw :: IPRewriter(keep 0 1) -> Discard;",
     ["t.click:1:", "output 1 is not connected"]),
    ("Idle -> IPAddrRewriter(pattern 1.2.3.4 5.6.7.8 0 0) -> Discard;",
     ["t.click:1:", "DADDR must be '-'"]),
])
def test_rewriter_argument_errors(tmp_path, config, fragments):
    check_error(tmp_path, config + "\n", *fragments, name="t.click")


# ---------------------------------------------------------------- ARPQuerier

ME_IP, ME_ETH = "10.0.0.1", "02:00:00:00:00:aa"


def arp_query(tpa: str) -> bytes:
    return bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=ME_ETH) /
                 ARP(op=1, hwsrc=ME_ETH, psrc=ME_IP, hwdst="00:00:00:00:00:00", pdst=tpa))


def arp_reply(spa: str, sha: str) -> bytes:
    return bytes(Ether(dst=ME_ETH, src=sha) / ARP(op=2, hwsrc=sha, psrc=spa, hwdst=ME_ETH, pdst=ME_IP))


ARP_CFG = ("aq :: ARPQuerier({args});\n"
           "FromDump(in.pcap, STOP true) -> c :: Classifier(12/0806, -);\n"
           "c[0] -> [1]aq;\n"
           "c[1] -> Strip(14) -> CheckIPHeader -> [0]aq;\n"
           "aq[0] -> ToDump(out.pcap);\n{q}")


def test_arpquerier_queue_release_retry_timeout(tmp_path):
    t0 = 1_700_000_000.0
    H2 = "02:00:00:00:00:02"
    p = [udp(ME_IP, "10.0.0.2", 1, 2, bytes([i]) * 10) for i in range(8)]
    bc = udp(ME_IP, "255.255.255.255", 1, 2)
    sub_bc = udp(ME_IP, "10.0.0.255", 1, 2)
    mc = udp(ME_IP, "224.1.2.3", 1, 2)
    to3 = udp(ME_IP, "10.0.0.3", 1, 2)
    frames = [
        (E(p[0]), t0),                  # unknown: queued, query
        (E(p[1]), t0 + 0.1),            # queued, no query (POLL_TIMEOUT 1 s)
        (E(to3), t0 + 0.2),             # query for .3
        (E(p[2]), t0 + 1.2),            # queued, query again (retry)
        (arp_reply("10.0.0.2", H2), t0 + 1.3),  # releases p0, p1, p2
        (E(p[3]), t0 + 1.4),            # direct
        (E(bc), t0 + 1.5), (E(sub_bc), t0 + 1.5), (E(mc), t0 + 1.6),
        (arp_query("10.0.0.1"), t0 + 1.7),  # not a reply: dropped
        (E(p[4]), t0 + 400),            # entry expired (TIMEOUT 300 s): queued, query
    ]
    r = run(tmp_path, ARP_CFG.format(args=f"{ME_IP}/24, {ME_ETH}, TIMEOUT 300",
                                     q="aq[1] -> ToDump(q.pcap);\n"), frames)

    def enc(ip, dst):
        return bytes(Ether(src=ME_ETH, dst=dst) / IP(ip))
    assert r.out("out.pcap") == [enc(p[0], H2), enc(p[1], H2), enc(p[2], H2), enc(p[3], H2),
                                 enc(bc, "ff:ff:ff:ff:ff:ff"), enc(sub_bc, "ff:ff:ff:ff:ff:ff"),
                                 enc(mc, "01:00:5e:01:02:03")]
    assert r.out("q.pcap") == [arp_query("10.0.0.2"), arp_query("10.0.0.3"),
                               arp_query("10.0.0.2"), arp_query("10.0.0.2")]
    assert r.n("aq.arp_queries") == 4 and r.n("aq.arp_responses") == 1
    assert r.n("aq.broadcasts") == 2
    assert r.n("aq.drops") == 1
    assert r.n("aq.length") == 2 and r.n("aq.count") == 2
    assert sorted(r.stats["aq.table"].splitlines()) == ["10.0.0.2 - 1", "10.0.0.3 - 1"]


def test_arpquerier_capacity_and_single_output(tmp_path):
    H2 = "02:00:00:00:00:02"
    p = [udp(ME_IP, "10.0.0.2", 1, 2, bytes([i]) * 4) for i in range(4)]
    frames = [E(x) for x in p] + [arp_reply("10.0.0.2", H2)]
    r = run(tmp_path, ARP_CFG.format(args=f"{ME_IP}, {ME_ETH}, CAPACITY 2", q=""), frames)
    # one output: the query leaves on output 0, before the released packets
    assert r.out("out.pcap") == [arp_query("10.0.0.2")] + [
        bytes(Ether(src=ME_ETH, dst=H2) / IP(x)) for x in p[:2]]
    assert r.n("aq.drops") == 2
    assert r.stats["aq.table"] == "10.0.0.2 02-00-00-00-00-02"


@pytest.mark.parametrize("config,fragments", [
    ("Idle -> a :: ARPQuerier(10.0.0.1) -> Discard; Idle -> [1]a;",
     ["t.click:1:", "missing mandatory argument ETH"]),
    ("Idle -> a :: ARPQuerier(10.0.0.1/40, 02:00:00:00:00:01) -> Discard; Idle -> [1]a;",
     ["t.click:1:25:", "bad prefix length"]),
    ("Idle -> a :: ARPQuerier(10.0.0.1, 02:00:00:00:00:01, CAPACITY -1) -> Discard; Idle -> [1]a;",
     ["t.click:1:", "CAPACITY"]),
])
def test_arpquerier_argument_errors(tmp_path, config, fragments):
    check_error(tmp_path, config + "\n", *fragments, name="t.click")


# ---------------------------------------------------------------- ICMPError

def icmp_err(src, orig: bytes, typ, code, ident, rest=b"\x00\x00\x00\x00") -> bytes:
    hl = (orig[0] & 15) * 4
    quoted = orig[:hl + 8]
    icmp = bytes([typ, code, 0, 0]) + rest + quoted
    ip = IP(src=src, dst=IP(orig).src, ttl=200, id=ident, proto=1, flags=0) / scapy_all.Raw(icmp)
    b = bytearray(bytes(ip))
    from scapy.utils import checksum
    c = checksum(bytes(b[20:]))
    b[22:24] = c.to_bytes(2, "big")
    return bytes(b)


def test_icmperror_frames(tmp_path):
    R = "10.0.0.254"
    good = udp("10.0.0.1", "10.0.1.1", 1000, 53, b"0123456789abcdef")
    short = udp("10.0.0.1", "10.0.1.1", 1, 2, b"")          # only 8 bytes after the header
    opts = bytes(IP(src="10.0.0.2", dst="10.0.1.1", options=[scapy_all.IPOption_Router_Alert()])
                 / TCP(sport=5, dport=80))
    echo = bytes(IP(src="10.0.0.3", dst="10.0.1.1") / ICMP(type=8) / b"ping")
    frames = [
        E(good), E(short), E(opts), E(echo),
        E(bytes(IP(src="10.0.0.3", dst="10.0.1.1") / ICMP(type=3, code=1) / good)),  # error: none
        E(bytes(IP(src="10.0.0.3", dst="10.0.1.1") / ICMP(type=11) / good)),  # error: none
        E(udp("10.0.0.1", "10.0.1.1", 1, 2, b"x" * 40, frag=10)),            # fragment: none
        E(udp("10.0.0.1", "10.0.1.1", 1, 2, b"x" * 40, flags="MF")),         # first fragment: error
        E(udp("0.0.0.0", "10.0.1.1", 1, 2)),                                # bad source
        E(udp("224.0.0.1", "10.0.1.1", 1, 2)),                              # multicast source
        E(udp("10.0.0.1", "255.255.255.255", 1, 2)),                        # broadcast destination
        E(udp("10.0.0.1", "239.1.1.1", 1, 2)),                              # multicast destination
        E(udp("10.9.9.9", "10.0.1.1", 1, 2)),                               # BADADDRS
    ]
    cfg = (f"{IN} -> t :: Tee(3);\n"
           f"t[0] -> e1 :: ICMPError({R}, timeexceeded, transit, BADADDRS 10.9.9.9) -> ToDump(o1.pcap, ENCAP IP);\n"
           f"t[1] -> e2 :: ICMPError({R}, unreachable, needfrag, MTU 1400) -> ToDump(o2.pcap, ENCAP IP);\n"
           f"t[2] -> e3 :: ICMPError({R}, 12, 0) -> ToDump(o3.pcap, ENCAP IP);\n")
    r = run(tmp_path, cfg, frames)
    firstfrag = udp("10.0.0.1", "10.0.1.1", 1, 2, b"x" * 40, flags="MF")
    sources = [good, short, opts, echo, firstfrag]
    assert r.out("o1.pcap") == [icmp_err(R, o, 11, 0, i) for i, o in enumerate(sources)]
    assert r.out("o2.pcap") == [icmp_err(R, o, 3, 4, i, b"\x00\x00\x05\x78")
                                for i, o in enumerate(sources + [udp("10.9.9.9", "10.0.1.1", 1, 2)])]
    assert len(r.out("o3.pcap")) == 6      # parameter problem: pointer from the annotation (0)
    assert r.n("e1.count") == 5 and r.n("e1.drops") == 8
    assert r.n("e2.count") == 6 and r.n("e2.drops") == 7


@pytest.mark.parametrize("config,fragments", [
    ("Idle -> ICMPError(10.0.0.1, bogus) -> Discard;", ["t.click:1:", "unknown ICMP type 'bogus'"]),
    ("Idle -> ICMPError(10.0.0.1, unreachable, transit) -> Discard;",
     ["t.click:1:42:", "unknown code 'transit' for ICMP type 3"]),
    ("Idle -> ICMPError(10.0.0.1, 8) -> Discard;", ["t.click:1:", "not an error type"]),
    ("Idle -> ICMPError(10.0.0.300, 3) -> Discard;", ["t.click:1:19:", "SRC"]),
    ("Idle -> ICMPError(10.0.0.1, 3, 256) -> Discard;", ["t.click:1:", "out of range"]),
])
def test_icmperror_argument_errors(tmp_path, config, fragments):
    check_error(tmp_path, config + "\n", *fragments, name="t.click")


# ---------------------------------------------------------------- IPFragmenter / IPReassembler

def test_ipfragmenter_reassembler_round_trip(tmp_path):
    from scapy.all import fragment
    big_udp = IP(src="10.0.0.1", dst="10.0.1.1", id=0x1234) / UDP(sport=1, dport=2) / (bytes(
        range(256)) * 5)
    big_tcp = IP(src="10.0.0.2", dst="10.0.1.1", id=7, options=[scapy_all.IPOption_Router_Alert()]) \
        / TCP(sport=3, dport=4, flags="PA") / (b"t" * 1000)
    small = IP(src="10.0.0.3", dst="10.0.1.1") / UDP(sport=5, dport=6) / (b"s" * 548)  # 576 exactly
    df = IP(src="10.0.0.4", dst="10.0.1.1", flags="DF") / UDP(sport=7, dport=8) / (b"d" * 600)
    originals = [bytes(big_udp), bytes(big_tcp), bytes(small), bytes(df)]
    cfg = (f"{IN} -> f :: IPFragmenter(576) -> t :: Tee;\n"
           "t[0] -> ToDump(frags.pcap, ENCAP IP);\n"
           "t[1] -> r :: IPReassembler -> ToDump(re.pcap, ENCAP IP);\n"
           "f[1] -> ICMPError(10.0.0.254, unreachable, needfrag, MTU 576) -> ToDump(err.pcap, ENCAP IP);\n")
    r = run(tmp_path, cfg, [E(o) for o in originals])
    want_frags = [bytes(x) for x in fragment(IP(bytes(big_udp)), fragsize=552)]
    want_frags += [bytes(x) for x in fragment(IP(bytes(big_tcp)), fragsize=552)]   # 576 - 24-byte header
    want_frags += [bytes(small)]
    assert len(want_frags) == 3 + 2 + 1
    assert r.out("frags.pcap") == want_frags
    assert r.out("re.pcap") == originals[:3]
    assert r.out("err.pcap") == [icmp_err("10.0.0.254", bytes(df), 3, 4, 0, b"\x00\x00\x02\x40")]
    assert r.n("f.fragmented") == 2 and r.n("f.fragments") == 5 and r.n("f.df") == 1
    assert r.n("r.reassembled") == 2 and r.n("r.pending") == 0 and r.n("r.memory") == 0


def test_ipreassembler_out_of_order_timeout_and_memory(tmp_path):
    from scapy.all import fragment
    t0 = 1_700_000_000.0
    a = IP(src="10.0.0.1", dst="10.0.1.1", id=1) / UDP(sport=1, dport=2) / (b"a" * 1200)
    b = IP(src="10.0.0.1", dst="10.0.1.1", id=2) / UDP(sport=1, dport=2) / (b"b" * 1200)
    c = IP(src="10.0.0.1", dst="10.0.1.1", id=3) / UDP(sport=1, dport=2) / (b"c" * 100)
    fa = [bytes(x) for x in fragment(a, fragsize=400)]
    fb = [bytes(x) for x in fragment(b, fragsize=400)]
    fc = [bytes(x) for x in fragment(c, fragsize=64)]
    frames = [
        (E(fa[3]), t0), (E(fa[1]), t0), (E(fa[0]), t0 + 1), (E(fa[2]), t0 + 2),   # a: out of order
        (E(fb[0]), t0 + 3), (E(fb[1]), t0 + 3),                                  # b: incomplete ...
        (E(fc[1]), t0 + 40), (E(fc[0]), t0 + 40),                                # ... timed out at 40
        (E(fb[2]), t0 + 41), (E(fb[3]), t0 + 41),                                # late: held, pending
        (E(bytes(c)), t0 + 42),                                                  # not a fragment
    ]
    r = run(tmp_path, f"{IN} -> r :: IPReassembler(TIMEOUT 30) -> ToDump(re.pcap, ENCAP IP);\n", frames)
    assert r.out("re.pcap") == [bytes(a), bytes(c), bytes(c)]
    assert r.n("r.timeouts") == 1 and r.n("r.drops") == 2 and r.n("r.pending") == 1
    # MAX_MEMORY: the oldest incomplete datagram gives way
    frames = [E(fa[0]), E(fb[0]), E(fb[1]), E(fb[2]), E(fb[3])]
    r = run(tmp_path, f"{IN} -> r :: IPReassembler(1300) -> ToDump(re.pcap, ENCAP IP);\n", frames)
    assert r.out("re.pcap") == [bytes(b)]
    assert r.n("r.drops") == 1 and r.n("r.memory") == 0


@pytest.mark.parametrize("config,fragments", [
    ("Idle -> IPFragmenter -> Discard;", ["t.click:1:", "missing mandatory argument MTU"]),
    ("Idle -> IPFragmenter(70000) -> Discard;", ["t.click:1:22:", "out of range"]),
    ("Idle -> IPFragmenter(576, maybe) -> Discard;", ["t.click:1:27:", "HONOR_DF"]),
    ("Idle -> IPReassembler(TIMEOUT never) -> Discard;", ["t.click:1:", "TIMEOUT"]),
])
def test_fragmenter_argument_errors(tmp_path, config, fragments):
    check_error(tmp_path, config + "\n", *fragments, name="t.click")


# ---------------------------------------------------------------- one pipeline, three targets

NAT_PIPELINE = """\
// LAN 10.0.0.0/24 behind 192.0.2.1: source NAT, TTL check, fragmentation, ARP
aq :: ARPQuerier(192.0.2.1/24, 02:00:00:00:00:fe);
rw :: IPRewriter(pattern 192.0.2.1 1024-65535# - - 0 1, drop, CAPACITY 1024);
FromDump(in.pcap, STOP true) -> c :: Classifier(12/0806, 12/0800, -);
c[0] -> [1]aq;
c[2] -> Discard;
c[1] -> Strip(14) -> CheckIPHeader -> ic :: IPClassifier(dst host 192.0.2.1, -);
ic[0] -> [1]rw;
ic[1] -> ttl :: DecIPTTL -> [0]rw;
ttl[1] -> ICMPError(10.0.0.254, timeexceeded, transit) -> ToDump(out_err.pcap, ENCAP IP);
rw[0] -> frag :: IPFragmenter(576) -> [0]aq;
frag[1] -> Discard;
rw[1] -> ToDump(out_lan.pcap, ENCAP IP);
aq -> ToDump(out_wan.pcap);
"""


def nat_inputs() -> list[bytes]:
    wan = "02:00:00:00:00:08"
    frames = []
    for i in range(6):
        frames.append(E(udp(f"10.0.0.{1 + i % 3}", "8.8.8.8", 5000 + i, 53, bytes([i]) * 20)))
    frames.append(E(tcp("10.0.0.1", "8.8.8.8", 40000, 80, "S")))
    frames.append(E(udp("10.0.0.1", "8.8.8.8", 6000, 53, b"L" * 1200)))   # fragmented
    frames.append(E(udp("10.0.0.2", "8.8.8.8", 6001, 53, b"ttl", ttl=1)))  # ICMP error
    frames.append(bytes(Ether(dst="02:00:00:00:00:fe", src=wan) /
                        ARP(op=2, hwsrc=wan, psrc="8.8.8.8", hwdst="02:00:00:00:00:fe",
                            pdst="192.0.2.1")))                              # releases the queue
    for i in range(6):
        frames.append(E(udp("8.8.8.8", "192.0.2.1", 53, 1024 + i, b"r" * (i + 1))))
    frames.append(E(tcp("8.8.8.8", "192.0.2.1", 80, 1030, "SA")))
    frames.append(E(udp("8.8.8.8", "192.0.2.1", 53, 9999)))                 # unknown: dropped
    frames.append(E(udp("10.0.0.1", "8.8.8.8", 5000, 53, b"again")))        # mapped, resolved
    return frames


def _have_dpdk() -> bool:
    return shutil.which("pkg-config") is not None and subprocess.run(
        ["pkg-config", "--exists", "libdpdk"]).returncode == 0


@pytest.mark.e2e
@pytest.mark.vm
def test_nat_pipeline_same_on_linux_dpdk_kvm(tmp_path):
    frames = nat_inputs()
    outs_ = ("out_wan.pcap", "out_lan.pcap", "out_err.pcap")
    dirs = {}
    for target in ("linux", "dpdk", "kvm"):
        d = tmp_path / target
        d.mkdir()
        write_pcap(d / "in.pcap", frames)
        (d / "nat.click").write_text(NAT_PIPELINE)
        dirs[target] = d
    lin = run_uknfv("run", "nat.click", "--stats", cwd=dirs["linux"])
    assert lin.returncode == 0, lin.stderr
    st = parse_stats(lin.stdout)
    wan = read_pcap(dirs["linux"] / "out_wan.pcap")
    # the ARP query, then 7 + 2 fragments released in order, then the late one
    assert wan[0] == bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:fe") /
                           ARP(op=1, hwsrc="02:00:00:00:00:fe", psrc="192.0.2.1",
                               hwdst="00:00:00:00:00:00", pdst="8.8.8.8"))
    assert len(wan) == 1 + 6 + 1 + 3 + 1
    assert wan[1] == bytes(Ether(dst="02:00:00:00:00:08", src="02:00:00:00:00:fe") /
                           IP(udp("192.0.2.1", "8.8.8.8", 1024, 53, bytes([0]) * 20, ttl=63)))
    assert len(read_pcap(dirs["linux"] / "out_lan.pcap")) == 7
    assert len(read_pcap(dirs["linux"] / "out_err.pcap")) == 1
    assert st["rw.drops"] == "1" and st["aq.arp_queries"] == "1"

    targets = ["linux"]
    if _have_dpdk():
        res = run_uknfv("run", "nat.click", "--target", "dpdk", "--stats", cwd=dirs["dpdk"],
                        timeout=300)
        assert res.returncode == 0, res.stderr
        targets.append("dpdk")
    if shutil.which("qemu-system-x86_64"):
        import tempfile
        ctl = Path(tempfile.mkdtemp(prefix="uknfv-n-")) / "ctl.sock"
        try:
            res = run_uknfv("run", "nat.click", "--target", "kvm", "--control", str(ctl),
                            cwd=dirs["kvm"], timeout=300)
        finally:
            shutil.rmtree(ctl.parent, ignore_errors=True)
        assert res.returncode == 0, f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}"
        targets.append("kvm")
    for target in targets[1:]:
        for name in outs_:
            assert_same_frames(dirs["linux"] / name, dirs[target] / name, f"{target}/{name}")
    if len(targets) < 3:
        pytest.skip(f"ran on {', '.join(targets)} only (no libdpdk or no QEMU)")


# ---------------------------------------------------------------- write handlers, live

def test_write_handlers_clear_and_insert(tmp_path):
    """`clear` (rewriter, ARPQuerier) and `insert` (ARPQuerier) on a running Linux vNF."""
    import os
    import tempfile
    import time
    from uknfv.run.control import ControlClient, ControlError
    from uknfv.testing import uknfv_cmd

    frames = [E(udp("10.0.0.1", "8.8.8.8", 1, 53)), E(udp("10.0.0.2", "8.8.8.8", 2, 53))]
    write_pcap(tmp_path / "in.pcap", frames)
    (tmp_path / "t.click").write_text(
        "aq :: ARPQuerier(192.0.2.1, 02:00:00:00:00:fe);\n"
        "Idle -> [1]aq;\n"
        "FromDump(in.pcap) -> Strip(14) -> CheckIPHeader\n"
        "  -> rw :: IPRewriter(pattern 192.0.2.1 1024-2000# - - 0 1);\n"
        "rw[0] -> aq -> ToDump(out.pcap);\nrw[1] -> Discard;\n")
    d = Path(tempfile.mkdtemp(prefix="uknfv-nat-"))
    sock = d / "c.sock"
    proc = subprocess.Popen(uknfv_cmd() + ["run", "t.click", "--control", str(sock)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    try:
        deadline = time.monotonic() + 60
        c = None
        while time.monotonic() < deadline:
            try:
                c = ControlClient(sock).connect()
                if c.read("rw.nmappings").strip() == "2" and c.read("aq.length").strip() == "2":
                    break
            except Exception:
                pass
            time.sleep(0.1)
        assert c is not None
        assert c.read("rw.nmappings").strip() == "2"
        assert c.read("aq.table").strip() == "8.8.8.8 - 2"
        c.write("aq.insert", "8.8.8.8 02:00:00:00:00:08")     # releases the two packets
        assert c.read("aq.table").strip() == "8.8.8.8 02-00-00-00-00-08"
        assert c.read("aq.length").strip() == "0"
        with pytest.raises(ControlError):
            c.write("aq.insert", "8.8.8 zz")
        c.write("rw.clear")
        assert c.read("rw.nmappings").strip() == "0"
        assert c.read("rw.mappings").strip() == ""
        c.write("aq.clear")
        assert c.read("aq.count").strip() == "0"
        c.write("stop")
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        shutil.rmtree(d, ignore_errors=True)
    assert read_pcap(tmp_path / "out.pcap")[1:] == [
        bytes(Ether(src="02:00:00:00:00:fe", dst="02:00:00:00:00:08") / IP(udp("192.0.2.1", "8.8.8.8", p, 53)))
        for p in (1024, 1025)]
