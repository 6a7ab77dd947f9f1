"""Ethernet, ARP and ICMP elements against frames built independently with scapy.

Each test writes scapy-built frames to a pcap in tmp_path, runs a small
`FromDump(in.pcap, STOP true) -> X -> ToDump(out.pcap)` configuration through
`uknfv run` (a subprocess in tmp_path), and compares every output frame, byte
for byte, with what Click's element would produce, built here with scapy.
Malformed packets must be counted (read with --stats) and never crash the run.
"""
from __future__ import annotations

from pathlib import Path

import pytest

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import ARP, ICMP, IP, TCP, UDP, Dot1Q, Ether  # noqa: E402

from uknfv.testing import check_error, read_pcap, run_uknfv, stats_of, write_pcap  # noqa: E402

ME = "52:54:00:00:00:01"
PEER = "52:54:00:aa:00:01"
BCAST = "ff:ff:ff:ff:ff:ff"
LINK_ETHER, LINK_RAW = 1, 101


# ---------------------------------------------------------------- helpers

def run(tmp_path: Path, config: str, frames, link: int = LINK_ETHER) -> dict[str, str]:
    """Run config over frames (in.pcap); return the --stats handlers."""
    write_pcap(tmp_path / "in.pcap", frames, link)
    (tmp_path / "t.click").write_text(config)
    res = run_uknfv("run", "t.click", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    stats["__stdout__"] = res.stdout
    return stats


def handler_lines(stats: dict[str, str], name: str) -> list[str]:
    """A multi-line handler value from the --stats output."""
    lines = stats["__stdout__"].splitlines()
    i = next(i for i, l in enumerate(lines) if l.startswith(name + ":"))
    first = lines[i][len(name) + 1:].strip()     # "name: value" or "name:" then lines
    value = [first] if first else []
    for l in lines[i + 1:]:
        if not l or ": " in l:
            break
        value.append(l)
    return value


def out(tmp_path: Path, name: str = "out.pcap") -> list[bytes]:
    return read_pcap(tmp_path / name)


def ip_frame(src="10.0.1.5", dst="10.0.1.1", payload=b"data", **kw):
    return Ether(src=PEER, dst=ME) / IP(src=src, dst=dst, **kw) / UDP(sport=1000, dport=2000) / payload


# ---------------------------------------------------------------- EtherEncap

def test_etherencap_prepends_header(tmp_path):
    frames = [ip_frame(payload=b"x" * n) for n in (0, 1, 30, 1400)]
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14)"
                " -> e :: EtherEncap(0x0800, 1:2:3:4:5:6, 0a:0b:0c:0d:0e:0f) -> ToDump(out.pcap);\n",
                frames)
    want = [bytes(Ether(src="01:02:03:04:05:06", dst="0a:0b:0c:0d:0e:0f", type=0x0800)
                  / bytes(f)[14:]) for f in frames]
    assert out(tmp_path) == want
    assert stats["e.src"] == "01-02-03-04-05-06"
    assert stats["e.dst"] == "0A-0B-0C-0D-0E-0F"
    assert stats["e.ethertype"] == "2048"
    assert stats["e.drops"] == "0"


def test_etherencap_keywords_raw_ip_and_empty_packets(tmp_path):
    ip = IP(src="1.2.3.4", dst="5.6.7.8") / ICMP()
    frames = [bytes(ip), bytes(ip)[:3]]
    run(tmp_path, "FromDump(in.pcap, STOP true)"
        " -> EtherEncap(DST 02-00-00-00-00-02, ETHERTYPE 34525, SRC 02-00-00-00-00-01)"
        " -> ToDump(out.pcap);\n", frames, link=LINK_RAW)
    hdr = bytes.fromhex("020000000002" "020000000001" "86dd")
    assert out(tmp_path) == [hdr + f for f in frames]


def test_etherencap_click_integer_forms(tmp_path):
    # Click's IntArg: hex, octal (leading 0), binary, '_' between digits
    frames = [bytes(IP() / UDP())]
    for text, value in [("0x88_b5", 0x88B5), ("0104265", 0x88B5), ("0b1000100010110101", 0x88B5)]:
        run(tmp_path, f"FromDump(in.pcap, STOP true) -> EtherEncap({text}, 1:1:1:1:1:1, 2:2:2:2:2:2)"
            " -> ToDump(out.pcap);\n", frames, link=LINK_RAW)
        assert out(tmp_path) == [b"\x02" * 6 + b"\x01" * 6 + value.to_bytes(2, "big") + frames[0]]


def test_etherencap_of_empty_packet(tmp_path):
    run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(100)"
        " -> EtherEncap(0x0806, 1:1:1:1:1:1, 2:2:2:2:2:2) -> ToDump(out.pcap);\n", [ip_frame()])
    assert out(tmp_path) == [bytes(Ether(src="01:01:01:01:01:01", dst="02:02:02:02:02:02",
                                         type=0x0806))]


def test_etherencap_sets_mac_and_network_headers(tmp_path):
    # EtherRewrite writes at the MAC header EtherEncap set; ICMPPingResponder
    # finds the IP header at the network header EtherEncap set.
    req = IP(src="10.0.0.1", dst="10.0.0.2", id=7) / ICMP(type=8, id=1, seq=1) / b"ping"
    run(tmp_path, "FromDump(in.pcap, STOP true)"
        " -> EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2) -> EtherRewrite(3:3:3:3:3:3, 4:4:4:4:4:4)"
        " -> ICMPPingResponder -> ToDump(out.pcap);\n", [req], link=LINK_RAW)
    [got] = out(tmp_path)
    assert got[:14] == bytes.fromhex("040404040404" "030303030303" "0800")
    assert got[14:] == pong(bytes(req))


@pytest.mark.parametrize("config,msgs", [
    ("EtherEncap(0x10000, 1:1:1:1:1:1, 2:2:2:2:2:2)", ["ETHERTYPE", "out of range"]),
    ("EtherEncap(0x0800, 1:1:1:1:1, 2:2:2:2:2:2)", ["SRC", "expected Ethernet address"]),
    ("EtherEncap(0x0800, 1:1:1-1:1:1, 2:2:2:2:2:2)", ["SRC", "expected Ethernet address"]),
    ("EtherEncap(0800, 1:1:1:1:1:1, 2:2:2:2:2:2)", ["ETHERTYPE", "octal"]),
    ("EtherEncap(0x0800, 1:1:1:1:1:1)", ["missing mandatory argument DST"]),
    ("EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2, 3)", ["too many arguments"]),
    ("EtherEncap(0x0800, 1:1:1:1:1:1, 2:2:2:2:2:2, TYPE 3)", ["unknown keyword 'TYPE'"]),
    ("EtherEncap(0x0800, SRC 1:1:1:1:1:1, DST 2:2:2:2:2:2, FOO 1)", ["unknown keyword 'FOO'"]),
    ("EtherRewrite(1:1:1:1:1:1)", ["missing mandatory argument DST"]),
    ("EtherMirror(1)", ["too many arguments"]),
    ("MarkMACHeader(4, 14, 2)", ["too many arguments"]),
    ("MarkMACHeader(OFFSET -1)", ["OFFSET"]),
    ("HostEtherFilter(52:54:00:00:00:01, true, false, 14)", ["too many arguments"]),
    ("HostEtherFilter(52:54:00:00:00:01, DROP_OWN maybe)", ["DROP_OWN", "boolean"]),
    ("HostEtherFilter(DROP_OWN true)", ["missing mandatory argument ETHER"]),
    ("ICMPPingResponder(1)", ["too many arguments"]),
    ("ARPResponder(10.0.0.1)", ["argument 1", "missing ETH"]),
    ("ARPResponder(52:54:00:00:00:01)", ["missing IP/MASK"]),
    ("ARPResponder(10.0.0.1 52:54:00:00:00:01 52:54:00:00:00:02)", ["more than one ETH"]),
    ("ARPResponder(10.0.0.1 52:54:00:00:00:01, 10.0.0.0/40 52:54:00:00:00:02)",
     ["argument 2", "expected IP/MASK ETH"]),
    ("ARPResponder(10.1/24 52:54:00:00:00:01)", ["expected IP/MASK ETH, got '10.1/24'"]),
])
def test_bad_arguments(tmp_path, config, msgs):
    check_error(tmp_path, f"FromDump(in.pcap, STOP true) -> {config} -> Discard;\n", *msgs)


# ---------------------------------------------------------------- EtherRewrite

def test_etherrewrite_at_mac_header(tmp_path):
    frames = [ip_frame(), Ether(src=PEER, dst=BCAST) / ARP(pdst="10.0.0.1"),
              Ether(src=PEER, dst=ME, type=0x88b5) / (b"\x00" * 2)]
    stats = run(tmp_path, "FromDump(in.pcap, STOP true)"
                " -> r :: EtherRewrite(SRC 02:00:00:00:00:01, DST 02:00:00:00:00:02) -> ToDump(out.pcap);\n",
                frames)
    want = []
    for f in frames:
        g = Ether(bytes(f))
        g.src, g.dst = "02:00:00:00:00:01", "02:00:00:00:00:02"
        want.append(bytes(g))
    assert out(tmp_path) == want
    assert stats["r.bad"] == "0"
    assert stats["r.src"] == "02-00-00-00-00-01"


def test_etherrewrite_header_behind_data(tmp_path):
    # After Strip(14) the MAC header annotation still points at the stripped
    # header: EtherRewrite writes there, Unstrip shows it (as in Click).
    f = ip_frame()
    run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14)"
        " -> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Unstrip(14) -> ToDump(out.pcap);\n", [f])
    g = Ether(bytes(f))
    g.src, g.dst = "01:01:01:01:01:01", "02:02:02:02:02:02"
    assert out(tmp_path) == [bytes(g)]


def test_etherrewrite_malformed_counted(tmp_path):
    # Raw IP capture: FromDump sets no MAC header; and too-short frames.
    ip = bytes(IP() / UDP())
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> r :: EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2)"
                " -> ToDump(out.pcap);\n", [ip, ip], link=LINK_RAW)
    assert out(tmp_path) == []
    assert stats["r.bad"] == "2"
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> r :: EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2)"
                " -> ToDump(out.pcap);\n", [b"\x01" * 11, b"", b"\x02" * 12])
    assert out(tmp_path) == [bytes.fromhex("020202020202" "010101010101")]
    assert stats["r.bad"] == "2"


# ---------------------------------------------------------------- EtherMirror

def test_ethermirror(tmp_path):
    frames = [ip_frame(), Ether(src=PEER, dst=BCAST) / ARP(), b"\xaa" * 6 + b"\xbb" * 6,
              b"\x01" * 11, b"", b"\x01" * 13]
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> m :: EtherMirror -> ToDump(out.pcap);\n",
                frames)
    want = []
    for f in frames:
        b = bytes(f)
        if len(b) >= 12:
            want.append(b[6:12] + b[0:6] + b[12:])
    assert out(tmp_path) == want
    assert stats["m.bad"] == "2"


# ---------------------------------------------------------------- MarkMACHeader

def test_markmacheader_offset(tmp_path):
    ip = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / UDP() / b"abcdefgh")
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> mk :: MarkMACHeader(4)"
                " -> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> ToDump(out.pcap, ENCAP IP);\n",
                [ip, ip[:3], ip[:4]], link=LINK_RAW)
    assert out(tmp_path) == [ip[:4] + b"\x02" * 6 + b"\x01" * 6 + ip[16:]]
    assert stats["mk.bad"] == "1"     # ip[:4] is marked, then too short for EtherRewrite


def test_markmacheader_defaults_and_keywords(tmp_path):
    ip = bytes(IP() / UDP())
    run(tmp_path, "FromDump(in.pcap, STOP true) -> MarkMACHeader"
        " -> EtherMirror -> MarkMACHeader(LENGTH 0, OFFSET 0)"
        " -> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> ToDump(out.pcap, ENCAP IP);\n",
        [ip], link=LINK_RAW)
    assert out(tmp_path) == [b"\x02" * 6 + b"\x01" * 6 + ip[12:]]


def test_markmacheader_length_sets_network_header(tmp_path):
    # An 8-byte "link header" then IP: MarkMACHeader(0, 8) marks the IP header
    # for ICMPPingResponder, which leaves the first 8 bytes alone.
    req = IP(src="192.168.1.2", dst="192.168.1.1", id=99, ttl=3) / ICMP(type=8, id=5, seq=6) / (b"x" * 20)
    link = b"LINKHDR!"
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> mk :: MarkMACHeader(0, 8)"
                " -> p :: ICMPPingResponder -> ToDump(out.pcap, ENCAP IP);\n",
                [link + bytes(req), link[:7], link + bytes(req)[:19]], link=LINK_RAW)
    assert out(tmp_path) == [link + pong(bytes(req))]
    # as in Click, MarkMACHeader marks a header that runs past the data;
    # ICMPPingResponder finds the IP header incomplete and counts it
    assert stats["mk.bad"] == "0"
    assert stats["p.bad"] == "2"


# ---------------------------------------------------------------- HostEtherFilter

FILTER_FRAMES = {
    "host": Ether(src=PEER, dst=ME) / IP() / UDP(),
    "bcast": Ether(src=PEER, dst=BCAST) / ARP(),
    "mcast": Ether(src=PEER, dst="01:00:5e:00:00:05") / IP(dst="224.0.0.5") / UDP(),
    "mcast2": Ether(src=PEER, dst="33:33:00:00:00:01") / (b"\x00" * 30),
    "other": Ether(src=PEER, dst="52:54:00:00:00:02") / IP() / UDP(),
    "own": Ether(src=ME, dst="52:54:00:00:00:02") / IP() / UDP(),
    "own_bcast": Ether(src=ME, dst=BCAST) / ARP(),
}
ORDER = list(FILTER_FRAMES)


def _by(names):
    return [bytes(FILTER_FRAMES[n]) for n in ORDER if n in names]


@pytest.mark.parametrize("args,passed", [
    ("", {"host", "bcast", "mcast", "mcast2", "own_bcast"}),
    (", true", {"host", "bcast", "mcast", "mcast2"}),
    (", DROP_OWN true", {"host", "bcast", "mcast", "mcast2"}),
    (", DROP_OTHER false", set(ORDER)),
    (", false, false", set(ORDER)),
    (", DROP_OWN true, DROP_OTHER false", {"host", "bcast", "mcast", "mcast2", "other"}),
    (", yes, no", {"host", "bcast", "mcast", "mcast2", "other"}),
])
def test_hostetherfilter_two_outputs(tmp_path, args, passed):
    frames = [FILTER_FRAMES[n] for n in ORDER]
    stats = run(tmp_path, f"FromDump(in.pcap, STOP true) -> h :: HostEtherFilter({ME}{args});\n"
                "h[0] -> ToDump(out.pcap); h[1] -> ToDump(rej.pcap);\n", frames)
    assert out(tmp_path) == _by(passed)
    assert out(tmp_path, "rej.pcap") == _by(set(ORDER) - passed)
    assert stats["h.drops"] == "0" and stats["h.bad"] == "0"
    assert stats["h.ether"] == "52-54-00-00-00-01"


def test_hostetherfilter_one_output_counts_drops_and_short(tmp_path):
    frames = [FILTER_FRAMES[n] for n in ORDER] + [b"\x52\x54\x00\x00\x00\x01" + b"\x00" * 5, b""]
    stats = run(tmp_path, f"FromDump(in.pcap, STOP true) -> h :: HostEtherFilter({ME}, DROP_OWN true)"
                " -> ToDump(out.pcap);\n", frames)
    assert out(tmp_path) == _by({"host", "bcast", "mcast", "mcast2"})
    assert stats["h.drops"] == "3"
    assert stats["h.bad"] == "2"


def test_hostetherfilter_offset(tmp_path):
    inner = [FILTER_FRAMES[n] for n in ORDER]
    # 6 bytes after OFFSET are enough without DROP_OWN (only the destination is read)
    frames = [b"\xee" * 4 + bytes(f) for f in inner] + [b"\xee" * 9, b"\xee" * 4 + bytes.fromhex("525400000001")]
    stats = run(tmp_path, f"FromDump(in.pcap, STOP true) -> h :: HostEtherFilter({ME}, OFFSET 4)"
                " -> ToDump(out.pcap);\n", frames)
    assert out(tmp_path) == [b"\xee" * 4 + b for b in _by({"host", "bcast", "mcast", "mcast2",
                                                            "own_bcast"})] + [frames[-1]]
    assert stats["h.drops"] == "2" and stats["h.bad"] == "1"


def test_hostetherfilter_pull(tmp_path):
    # The pull tests read with FromDump BURST 1, so the Queue never holds more
    # than one packet: at the end of the run the drain stops at the first pull
    # that yields nothing, which is what a filtered packet looks like.
    frames = [FILTER_FRAMES[n] for n in ORDER]
    run(tmp_path, f"FromDump(in.pcap, STOP true, BURST 1) -> Queue -> h :: HostEtherFilter({ME})"
        " -> Unqueue -> ToDump(out.pcap); h[1] -> ToDump(rej.pcap);\n", frames)
    assert out(tmp_path) == _by({"host", "bcast", "mcast", "mcast2", "own_bcast"})
    assert out(tmp_path, "rej.pcap") == _by({"other", "own"})


# ---------------------------------------------------------------- ARPResponder

def arp_request(tpa, spa="10.0.1.5", sha=PEER, esrc=None, edst=BCAST, **kw):
    return Ether(src=esrc or sha, dst=edst) / ARP(op=1, hwsrc=sha, psrc=spa, pdst=tpa, **kw)


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _ip(b: bytes) -> str:
    return ".".join(str(x) for x in b)


def arp_reply_for(req, eth) -> bytes:
    """Click's reply: Ethernet dst = the request's *ARP* sender address."""
    b = bytes(req)
    sha, spa, tpa = b[22:28], b[28:32], b[38:42]
    return bytes(Ether(dst=_mac(sha), src=eth, type=0x0806)
                 / ARP(hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=2,
                       hwsrc=eth, psrc=_ip(tpa), hwdst=_mac(sha), pdst=_ip(spa)))


def test_arpresponder_replies(tmp_path):
    reqs = [
        arp_request("10.0.1.1"),
        arp_request("10.0.1.77", sha="02:11:22:33:44:55", esrc="02:99:99:99:99:99", spa="10.0.1.9"),
        arp_request("192.168.7.3", edst=ME),
        arp_request("172.16.5.5") / (b"\x00" * 18),       # padded to 60 bytes: reply is 42
        bytes(arp_request("10.0.1.1"))[:18] + b"\x09\x07" + bytes(arp_request("10.0.1.1"))[20:],
        # (hln/pln are not checked)
    ]
    stats = run(tmp_path, "FromDump(in.pcap, STOP true)"
                " -> ar :: ARPResponder(10.0.1.0/24 52:54:00:00:00:01,"
                " 192.168.7.0/255.255.255.0 172.16.0.0/16 02-00-00-00-00-0b)"
                " -> ToDump(out.pcap);\n", reqs)
    want = [arp_reply_for(reqs[0], ME), arp_reply_for(reqs[1], ME),
            arp_reply_for(reqs[2], "02:00:00:00:00:0b"), arp_reply_for(reqs[3], "02:00:00:00:00:0b"),
            arp_reply_for(reqs[4], ME)]
    got = out(tmp_path)
    assert got == want
    assert all(len(g) == 42 for g in got)
    assert stats["ar.drops"] == "0"
    assert sorted(handler_lines(stats, "ar.table")) == [
        "10.0.1.0/24 52-54-00-00-00-01", "172.16.0.0/16 02-00-00-00-00-0B",
        "192.168.7.0/24 02-00-00-00-00-0B"]


def test_arpresponder_unanswered_go_to_output_1(tmp_path):
    req = arp_request("10.0.1.1")
    unanswered = [
        arp_request("10.0.2.1"),                                         # unknown target
        Ether(src=PEER, dst=ME) / ARP(op=2, psrc="10.0.1.5", pdst="10.0.1.1"),   # a reply
        Ether(src=PEER, dst=BCAST) / ARP(op=3, pdst="10.0.1.1"),         # RARP request op
        Ether(src=PEER, dst=BCAST) / ARP(op=1, ptype=0x86dd, pdst="10.0.1.1"),
        Ether(src=PEER, dst=BCAST) / ARP(op=1, hwtype=6, pdst="10.0.1.1"),
        bytes(req)[:41],                                                 # one byte short
        Ether(src=PEER, dst=BCAST, type=0x0800) / bytes(req)[14:],       # not ARP ethertype
        Ether(src=PEER, dst=BCAST) / Dot1Q(vlan=5) / ARP(op=1, pdst="10.0.1.1"),
        b"",
    ]
    frames = [req] + unanswered
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> ar :: ARPResponder(10.0.1.1 52:54:00:00:00:01);\n"
                "ar[0] -> ToDump(out.pcap); ar[1] -> ToDump(rej.pcap);\n", frames)
    assert out(tmp_path) == [arp_reply_for(req, ME)]
    assert out(tmp_path, "rej.pcap") == [bytes(f) for f in unanswered]
    assert stats["ar.drops"] == "0"
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> ar :: ARPResponder(10.0.1.1 52:54:00:00:00:01)"
                " -> ToDump(out.pcap);\n", frames)
    assert out(tmp_path) == [arp_reply_for(req, ME)]
    assert stats["ar.drops"] == str(len(unanswered))


def test_arpresponder_entry_order(tmp_path):
    e = [f"02:00:00:00:00:0{i}" for i in range(1, 8)]
    config = ("FromDump(in.pcap, STOP true) -> ar :: ARPResponder("
              f"10.0.0.0/8 {e[0]}, 10.1.0.0/16 {e[1]}, 10.1.2.3 {e[2]},"
              f" 192.168.0.0/16 {e[3]}, 192.168.0.0/16 {e[4]},"   # same prefix: later wins
              f" 0/0 {e[5]}, 172.16/12 {e[6]}) -> ToDump(out.pcap);\n")
    targets = {"10.1.2.3": e[2], "10.1.9.9": e[1], "10.9.9.9": e[0], "192.168.4.4": e[4],
               "8.8.8.8": e[5], "172.20.0.1": e[6]}
    reqs = [arp_request(t) for t in targets]
    stats = run(tmp_path, config, reqs)
    assert out(tmp_path) == [arp_reply_for(r, eth) for r, eth in zip(reqs, targets.values())]
    table = handler_lines(stats, "ar.table")
    assert "192.168.0.0/16 02-00-00-00-00-05" in table
    assert not any("02-00-00-00-00-04" in l for l in table)
    assert len(table) == 6


def test_arpresponder_click_sort_quirk(tmp_path):
    # Click's entry order is a sort with a comparison that is not transitive:
    # with an unrelated entry between them, 10.0.0.0/8 stays ahead of the
    # 10.1.0.0/16 inside it (Click's insertion sort below 7 entries), so
    # Click answers 10.1.2.3 with the /8's address.  uknfv does the same.
    reqs = [arp_request("10.1.2.3"), arp_request("192.168.1.1")]
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> ar :: ARPResponder("
                "10.0.0.0/8 02:00:00:00:00:01, 192.168.0.0/16 02:00:00:00:00:02,"
                " 10.1.0.0/16 02:00:00:00:00:03) -> ToDump(out.pcap);\n", reqs)
    assert out(tmp_path) == [arp_reply_for(reqs[0], "02:00:00:00:00:01"),
                             arp_reply_for(reqs[1], "02:00:00:00:00:02")]
    assert handler_lines(stats, "ar.table") == [
        "10.0.0.0/8 02-00-00-00-00-01", "192.168.0.0/16 02-00-00-00-00-02",
        "10.1.0.0/16 02-00-00-00-00-03"]


def test_arpresponder_no_entries_and_pull(tmp_path):
    req = arp_request("10.0.1.1")
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> ar :: ARPResponder -> ToDump(out.pcap);\n", [req])
    assert out(tmp_path) == [] and stats["ar.drops"] == "1"
    run(tmp_path, "FromDump(in.pcap, STOP true, BURST 1) -> Queue -> ar :: ARPResponder(10.0.1.1 52:54:00:00:00:01)"
        " -> Unqueue -> ToDump(out.pcap); ar[1] -> ToDump(rej.pcap);\n", [req, arp_request("10.0.1.2")])
    assert out(tmp_path) == [arp_reply_for(req, ME)]
    assert out(tmp_path, "rej.pcap") == [bytes(arp_request("10.0.1.2"))]


# ---------------------------------------------------------------- ICMPPingResponder

def pong(req: bytes) -> bytes:
    """The echo reply Click makes from an IP echo request (built with scapy)."""
    ip = IP(req)
    icmp = ICMP(req[ip.ihl * 4:])
    icmp.type, icmp.code = 0, 0
    del icmp.chksum
    return bytes(IP(ihl=ip.ihl, tos=ip.tos, len=ip.len, id=ip.id, flags=0, frag=0, ttl=255,
                    proto=ip.proto, src=ip.dst, dst=ip.src, options=ip.options) / icmp)


def ones_sum(b: bytes) -> int:
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b) - 1, 2))
    if len(b) % 2:
        s += b[-1] << 8
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


ECHO = [
    IP(src="10.0.1.5", dst="10.0.1.1", id=0x1234, ttl=64, flags="DF") / ICMP(type=8, id=1, seq=1) / b"hello",
    IP(src="10.0.2.2", dst="10.0.1.1", ttl=1, tos=0x10, flags="MF", frag=100) / ICMP(type=8, id=7, seq=9),
    IP(src="1.2.3.4", dst="5.6.7.8", options=b"\x01\x01\x01\x00") / ICMP(type=8, code=3) / (b"\xff" * 100),
    IP(src="9.9.9.9", dst="8.8.8.8") / ICMP(type=8, id=0, seq=0),     # all-zero reply: checksum 0xffff
    IP(src="10.0.0.1", dst="10.0.0.2", ttl=255) / ICMP(type=8, id=0xffff, seq=0xfffe) / (b"\x00" * 1000),
]


def test_icmppingresponder_replies(tmp_path):
    frames = [Ether(src=PEER, dst=ME) / p for p in ECHO]
    run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader"
        " -> ICMPPingResponder -> ToDump(out.pcap, ENCAP IP);\n", frames)
    got = out(tmp_path)
    assert got == [pong(bytes(p)) for p in ECHO]
    assert got[3][22:24] == b"\xff\xff"


def test_icmppingresponder_keeps_ethernet_header(tmp_path):
    frames = [Ether(src=PEER, dst=ME) / p for p in ECHO[:2]]
    run(tmp_path, "FromDump(in.pcap, STOP true) -> CheckIPHeader(14)"
        " -> ICMPPingResponder -> ToDump(out.pcap);\n", frames)
    assert out(tmp_path) == [bytes(f)[:14] + pong(bytes(p)) for f, p in zip(frames, ECHO[:2])]


def test_icmppingresponder_bad_checksum_stays_bad(tmp_path):
    req = bytearray(bytes(ECHO[0]))
    req[10:12] = b"\x12\x34"                      # wrong IP header checksum
    run(tmp_path, "FromDump(in.pcap, STOP true) -> CheckIPHeader(CHECKSUM false)"
        " -> ICMPPingResponder -> ToDump(out.pcap, ENCAP IP);\n", [bytes(req)], link=LINK_RAW)
    [got] = out(tmp_path)
    want = pong(bytes(ECHO[0]))
    assert got[:10] == want[:10] and got[12:] == want[12:]
    # incremental update: the header's one's-complement sum (the error) is kept
    assert ones_sum(got[:20]) == ones_sum(bytes(req[:20])) != 0xFFFF


def test_icmppingresponder_non_echo(tmp_path):
    others = [
        IP(src="10.0.1.5", dst="10.0.1.1") / ICMP(type=0, id=1, seq=1),        # echo reply
        IP(src="10.0.1.5", dst="10.0.1.1") / ICMP(type=13),                    # timestamp
        IP(src="10.0.1.5", dst="10.0.1.1") / UDP(sport=8, dport=8),
        IP(src="10.0.1.5", dst="10.0.1.1") / TCP(),
        IP(src="10.0.1.5", dst="10.0.1.1", proto=1) / b"\x08\x00\x00\x00",     # ICMP part < 8 bytes
        IP(src="10.0.1.5", dst="10.0.1.1", proto=1),                           # no ICMP at all
    ]
    frames = [ECHO[0]] + others
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> CheckIPHeader -> p :: ICMPPingResponder;\n"
                "p[0] -> ToDump(out.pcap, ENCAP IP); p[1] -> ToDump(rej.pcap, ENCAP IP);\n",
                frames, link=LINK_RAW)
    assert out(tmp_path) == [pong(bytes(ECHO[0]))]
    assert out(tmp_path, "rej.pcap") == [bytes(p) for p in others]
    assert stats["p.drops"] == "0" and stats["p.bad"] == "0"
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> CheckIPHeader -> p :: ICMPPingResponder"
                " -> ToDump(out.pcap, ENCAP IP);\n", frames, link=LINK_RAW)
    assert out(tmp_path) == [pong(bytes(ECHO[0]))]
    assert stats["p.drops"] == str(len(others))


def test_icmppingresponder_without_ip_header_is_counted(tmp_path):
    frames = [Ether(src=PEER, dst=ME) / p for p in ECHO] + [b"", b"\x45"]
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> p :: ICMPPingResponder"
                " -> ToDump(out.pcap, ENCAP IP);\n", frames)
    assert out(tmp_path) == []
    assert stats["p.bad"] == str(len(frames))


def test_icmppingresponder_pull(tmp_path):
    frames = [ECHO[0], IP() / UDP()]
    run(tmp_path, "FromDump(in.pcap, STOP true, BURST 1) -> CheckIPHeader -> Queue -> p :: ICMPPingResponder"
        " -> Unqueue -> ToDump(out.pcap, ENCAP IP); p[1] -> ToDump(rej.pcap, ENCAP IP);\n",
        frames, link=LINK_RAW)
    assert out(tmp_path) == [pong(bytes(ECHO[0]))]
    assert out(tmp_path, "rej.pcap") == [bytes(frames[1])]


# ---------------------------------------------------------------- docs

@pytest.mark.parametrize("name", ["MarkMACHeader", "EtherEncap", "EtherRewrite", "EtherMirror",
                                  "HostEtherFilter", "ARPResponder", "ICMPPingResponder"])
def test_documented(name):
    res = run_uknfv("elements", name)
    assert res.returncode == 0, res.stderr
    assert name in res.stdout and len(res.stdout.splitlines()) > 8
    listing = run_uknfv("elements").stdout
    line = next(l for l in listing.splitlines() if l.startswith(name + " "))
    assert len(line.split(None, 2)[2]) > 10
