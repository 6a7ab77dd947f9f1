"""IP elements against frames built independently with scapy.

Each test writes scapy-built frames to a pcap in tmp_path, runs a small
`FromDump(in.pcap, STOP true) -> ... -> ToDump(out.pcap)` configuration
through `uknfv run` (a subprocess in tmp_path), and compares every output
frame, byte for byte, with what Click's element produces, built here with
scapy (or, where Click's arithmetic is the point, with Click's formula).
Malformed packets (truncated frames, bad IHL, lengths, checksums, missing
header annotations) must be counted (read with --stats) and dropped, never
crash the run.  Many packets go through each run to keep the suite fast.
"""
from __future__ import annotations


import pytest

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPOption_Router_Alert  # noqa: E402

from uknfv.testing import check_error, run_pipeline, run_uknfv  # noqa: E402

ETH = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x0800))
LINK_ETHER = 1


# ---------------------------------------------------------------- helpers


run = run_pipeline


def udp(src="10.0.0.1", dst="10.0.0.2", payload=b"payload!", **kw) -> bytes:
    return bytes(IP(src=src, dst=dst, **kw) / UDP(sport=1000, dport=53) / payload)


def eth(ip: bytes) -> bytes:
    return ETH + ip


def with_byte(b: bytes, i: int, v: int) -> bytes:
    return b[:i] + bytes([v]) + b[i + 1:]


def with_cksum(b: bytes, c: int) -> bytes:
    return b[:10] + c.to_bytes(2, "big") + b[12:]


def click_dec_ttl(ip: bytes) -> bytes:
    """Click's DecIPTTL arithmetic: TTL-1, checksum ~(~old + 0xFEFF), one fold."""
    c = int.from_bytes(ip[10:12], "big")
    s = (~c & 0xFFFF) + 0xFEFF
    new = ~(s + (s >> 16)) & 0xFFFF
    return with_cksum(with_byte(ip, 8, ip[8] - 1), new)


REASONS = ["tiny packet", "bad IP version", "bad IP header length", "bad IP length",
           "bad IP checksum", "bad source address"]


def details(counts: list[int]) -> str:
    return "\n".join(f"{c}\t{r}" for c, r in zip(counts, REASONS))


# ---------------------------------------------------------------- CheckIPHeader

def test_checkipheader_valid_and_invalid(tmp_path):
    good = udp()
    opts = bytes(IP(src="10.0.0.3", dst="10.0.0.4", options=[IPOption_Router_Alert()])
                 / TCP(sport=5, dport=80))
    assert opts[0] == 0x46
    zero_src = udp(src="0.0.0.0", dst="255.255.255.255")
    bcast_src = udp(src="255.255.255.255")
    frames = [
        eth(good),                                 # valid
        eth(good) + b"\x00" * 20,                  # Ethernet padding: trimmed
        eth(opts) + b"trailer",                    # options, trailing bytes trimmed
        eth(zero_src), eth(bcast_src),             # no source is bad by default
        eth(good[:19]),                            # tiny packet
        ETH,                                       # tiny (empty after Strip)
        ETH[:10],                                  # tiny (Strip(14) empties it)
        eth(with_byte(good, 0, 0x65)),             # bad IP version
        eth(with_byte(good, 0, 0x44)),             # bad IP header length
        eth(udp(len=200)),                         # bad IP length (> bytes present)
        eth(udp(len=19)),                          # bad IP length (< header)
        eth(with_cksum(good, 0x1234)),             # bad IP checksum
        eth(bytes(IP(src="1.1.1.1", dst="2.2.2.2", ihl=15) / (b"x" * 30))),  # hlen > len
    ]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> ch :: CheckIPHeader(VERBOSE true);\n"
            "ch[0] -> ToDump(good.pcap, ENCAP IP);\n"
            "ch[1] -> ToDump(bad.pcap, ENCAP IP);\n", frames)
    assert r.out("good.pcap") == [good, good, opts, zero_src, bcast_src]
    # invalid packets leave unchanged (not trimmed) on output 1
    assert r.out("bad.pcap") == [f[14:] for f in frames[5:]]
    assert r.n("ch.count") == 5
    assert r.n("ch.drops") == 9
    assert r.stats["ch.drop_details"].strip() == details([3, 1, 1, 3, 1, 0])
    # VERBOSE: one line per invalid packet, Click's text
    lines = [x for x in r.stderr.splitlines() if "IP header check failed" in x]
    assert lines == [f"ch: IP header check failed: {why}" for why in
                     ["tiny packet"] * 3 + ["bad IP version", "bad IP header length"]
                     + ["bad IP length"] * 2 + ["bad IP checksum", "bad IP length"]]


def test_checkipheader_offset_interfaces_and_dst_anno(tmp_path):
    # INTERFACES 10.0.0.1/24 192.168.1.1: BADSRC = 10.0.0.255 192.168.1.1 0.0.0.0
    # 255.255.255.255, GOODDST = 10.0.0.1 192.168.1.1.  The destination
    # annotation is overwritten from the header (SetIPAddress before it loses).
    pkts = [
        (udp(src="10.0.0.9", dst="10.0.0.2"), "a"),
        (udp(src="10.0.0.255", dst="10.0.0.2"), None),        # bad source
        (udp(src="10.0.0.255", dst="10.0.0.1"), "b"),          # ... but good destination
        (udp(src="255.255.255.255", dst="8.8.8.8"), None),
        (udp(src="0.0.0.0", dst="10.0.0.2"), None),
        (udp(src="192.168.1.1", dst="9.9.9.9"), None),
        (udp(src="192.168.1.1", dst="192.168.1.1"), "b"),
        (with_cksum(udp(src="1.2.3.4", dst="10.0.0.2"), 0xBEEF), "a"),   # CHECKSUM false
        (udp(src="10.0.1.255", dst="7.7.7.7"), "b"),           # other subnet's broadcast
    ]
    frames = [eth(p) + b"\xee" * 6 for p, _ in pkts]          # padding after the IP packet
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> SetIPAddress(10.0.0.2)\n"
            "  -> ch :: CheckIPHeader(14, CHECKSUM false, INTERFACES 10.0.0.1/24 192.168.1.1)\n"
            "  -> lk :: LinearIPLookup(10.0.0.2/32 0, 0/0 1);\n"
            "lk[0] -> ToDump(a.pcap); lk[1] -> ToDump(b.pcap);\n", frames)
    assert r.out("a.pcap") == [eth(p) for p, w in pkts if w == "a"]
    assert r.out("b.pcap") == [eth(p) for p, w in pkts if w == "b"]
    assert r.n("ch.drops") == 4
    assert r.stats["ch.drop_details"].strip() == details([0, 0, 0, 0, 0, 4])
    # not VERBOSE: only the first failure is reported
    assert [x for x in r.stderr.splitlines() if "check failed" in x] == \
        ["ch: IP header check failed: bad source address"]


def test_checkipheader_badsrc_gooddst_keywords(tmp_path):
    # An explicit BADSRC replaces the one INTERFACES implies (Click's Args order).
    pkts = [
        (udp(src="1.1.1.1", dst="2.2.2.2"), False),
        (udp(src="1.1.1.1", dst="10.0.0.1"), True),        # GOODDST from INTERFACES
        (udp(src="3.3.3.3", dst="4.4.4.4"), False),
        (udp(src="3.3.3.3", dst="5.5.5.5"), True),          # explicit GOODDST
        (udp(src="10.0.0.255", dst="4.4.4.4"), True),       # not bad: BADSRC replaced
        (udp(src="0.0.0.0", dst="4.4.4.4"), True),
    ]
    r = run(tmp_path, "FromDump(in.pcap, STOP true)\n"
            "  -> t :: Tee(2);\n"
            "t[0] -> c1 :: CheckIPHeader(OFFSET 14, INTERFACES 10.0.0.1/24, BADSRC 1.1.1.1 3.3.3.3)"
            " -> ToDump(one.pcap);\n"
            "t[1] -> c2 :: CheckIPHeader(OFFSET 14, BADSRC 1.1.1.1 3.3.3.3, GOODDST 5.5.5.5)"
            " -> ToDump(two.pcap);\n", [eth(p) for p, _ in pkts])
    one = [eth(p) for p, ok in pkts if ok and p[16:20] != bytes([5, 5, 5, 5])]
    two = [eth(p) for p, ok in pkts if ok and p[16:20] != bytes([10, 0, 0, 1])]
    assert r.out("one.pcap") == one
    assert r.out("two.pcap") == two
    assert r.n("c1.drops") == 3 and r.n("c2.drops") == 3


# ---------------------------------------------------------------- MarkIPHeader, IPFilter, StripToNetworkHeader

def test_markipheader_ipfilter_striptonetworkheader(tmp_path):
    web = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=999, dport=80, flags="S"))
    ssh = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=999, dport=22))
    dns = udp()
    echo = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(type=8) / b"ping")
    reply = bytes(IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(type=0) / b"pong")
    frag = bytes(IP(src="10.0.0.1", dst="10.0.0.2", proto=6, frag=10) / (b"\x00\x50" * 12))
    frames = [
        eth(web), eth(web) + b"\x00" * 6,     # MarkIPHeader does not trim
        eth(ssh), eth(dns), eth(echo), eth(reply), eth(frag),
        ETH, ETH + b"\x45",                   # no room for the IP header: dropped
        ETH + b"\x4f" + b"\x00" * 40,         # IHL 15 (60 bytes) in 41 bytes: dropped
    ]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> m :: MarkIPHeader(14)\n"
            "  -> f :: IPFilter(allow tcp dst port 80, 1 udp, 2 icmp type echo, deny all);\n"
            "f[0] -> StripToNetworkHeader -> ToDump(web.pcap, ENCAP IP);\n"
            "f[1] -> ToDump(udp.pcap);\n"
            "f[2] -> Strip(20) -> StripToNetworkHeader -> ToDump(icmp.pcap, ENCAP IP);\n", frames)
    assert r.out("web.pcap") == [web, web + b"\x00" * 6]
    assert r.out("udp.pcap") == [eth(dns)]
    assert r.out("icmp.pcap") == [echo]          # pushed back to the network header
    assert r.n("m.drops") == 3
    assert r.n("f.drops") == 3                   # ssh, echo reply, non-first fragment
    assert r.n("f.malformed") == 0
    assert "m: packet too short for its IP header" in r.stderr


def test_ipclassifier_fields_and_short_packets(tmp_path):
    pkts = [
        (udp(ttl=5), 0),
        (bytes(IP(src="192.168.3.4", dst="10.0.0.1", ttl=64) / TCP(dport=443, flags="SA")), 1),
        (bytes(IP(src="192.168.3.4", dst="10.0.0.1", ttl=64) / TCP(dport=443, flags="S")), 2),
        (udp(src="172.16.0.1", ttl=64), 3),
        (bytes(IP(src="10.0.0.1", dst="10.0.0.2", ttl=64) / ICMP(type=3, code=1)), 3),
    ]
    frames = [eth(p) for p, _ in pkts]
    # Truncated after MarkIPHeader: 20 bytes of IP, no transport header. The
    # port test cannot be evaluated (false); "-" takes it.
    short_tcp = bytes(IP(src="192.168.3.4", dst="10.0.0.1", ttl=64, proto=6, len=40))
    frames.append(eth(short_tcp))
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> MarkIPHeader(14)\n"
            "  -> c :: IPClassifier(ip ttl < 10, src net 192.168.0.0/16 and tcp opt ack,"
            " tcp dst port https, -);\n"
            "c[0] -> ToDump(o0.pcap); c[1] -> ToDump(o1.pcap);\n"
            "c[2] -> ToDump(o2.pcap); c[3] -> ToDump(o3.pcap);\n", frames)
    for j in range(4):
        assert r.out(f"o{j}.pcap") == [eth(p) for p, k in pkts if k == j] + \
            ([eth(short_tcp)] if j == 3 else [])
    assert r.n("c.drops") == 0 and r.n("c.malformed") == 0


def test_no_network_header_annotation(tmp_path):
    # FromDump sets no network header on Ethernet frames: every element that
    # needs one counts the packet and drops it.
    good = udp(ttl=9)
    weird = b"\x40" + b"\x00" * 5            # MarkIPHeader: IHL 0 fits, 6 bytes of "IP"
    frames = [eth(good), ETH + weird]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> t :: Tee(6);\n"
            "t[0] -> c :: IPClassifier(udp) -> ToDump(c.pcap);\n"
            "t[1] -> f :: IPFilter(allow all) -> ToDump(f.pcap);\n"
            "t[2] -> d :: DecIPTTL -> ToDump(d.pcap);\n"
            "t[3] -> s :: StripToNetworkHeader -> ToDump(s.pcap);\n"
            "t[4] -> g :: GetIPAddress(IP dst) -> ToDump(g.pcap);\n"
            "t[5] -> MarkIPHeader(14) -> d2 :: DecIPTTL -> ToDump(d2.pcap);\n", frames)
    for name in "cfdsg":
        assert r.out(f"{name}.pcap") == []
    assert r.n("c.malformed") == 2 and r.n("f.malformed") == 2
    assert r.n("d.malformed") == 2 and r.n("s.drops") == 2 and r.n("g.drops") == 2
    assert r.out("d2.pcap") == [eth(click_dec_ttl(good))]
    assert r.n("d2.malformed") == 1 and r.n("d2.drops") == 0


# ---------------------------------------------------------------- DecIPTTL

def test_decipttl(tmp_path):
    ok = [udp(ttl=64), udp(ttl=2), udp(ttl=255), udp(ttl=100, src="7.7.7.7")]
    bad_sum = [with_cksum(udp(ttl=10), 0x1234), with_cksum(udp(ttl=10), 0xFEFF)]
    expired = [udp(ttl=1), udp(ttl=0)]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader(CHECKSUM false)"
            " -> d :: DecIPTTL;\n"
            "d[0] -> ToDump(ok.pcap, ENCAP IP); d[1] -> ToDump(expired.pcap, ENCAP IP);\n",
            [eth(p) for p in ok + bad_sum + expired])
    # a correct checksum stays correct: compare with scapy's recomputation
    want_ok = []
    for p in ok:
        q = IP(p)
        q.ttl -= 1
        del q.chksum
        want_ok.append(bytes(q))
    # a wrong one keeps being wrong by the same amount (Click's one-fold formula)
    want_bad = [click_dec_ttl(p) for p in bad_sum]
    assert want_bad[1][10:12] == b"\x00\x00"
    assert r.out("ok.pcap") == want_ok + want_bad
    assert r.out("expired.pcap") == expired
    assert r.n("d.drops") == 2 and r.n("d.malformed") == 0
    assert r.stats["d.active"] == "1"


def test_decipttl_multicast_and_active(tmp_path):
    pkts = [udp(dst="224.0.0.5", ttl=1), udp(dst="239.1.2.3", ttl=5), udp(ttl=5), udp(ttl=1)]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader -> t :: Tee(2);\n"
            "t[0] -> m :: DecIPTTL(MULTICAST false) -> ToDump(m.pcap, ENCAP IP);\n"
            "t[1] -> a :: DecIPTTL(ACTIVE false, MULTICAST true) -> ToDump(a.pcap, ENCAP IP);\n",
            [eth(p) for p in pkts])
    assert r.out("m.pcap") == [pkts[0], pkts[1], click_dec_ttl(pkts[2])]
    assert r.n("m.drops") == 1                  # unicast TTL 1, output 1 unconnected
    assert r.out("a.pcap") == pkts
    assert r.n("a.drops") == 0 and r.stats["a.active"] == "0"


# ---------------------------------------------------------------- SetIPChecksum

def test_setipchecksum(tmp_path):
    good = udp()
    opts = bytes(IP(src="10.0.0.3", dst="10.0.0.4", options=[IPOption_Router_Alert()]) / b"abc")
    broken = [with_cksum(good, 0), with_cksum(opts, 0xFFFF), with_cksum(good, 0x1111) + b"pad"]
    malformed = [
        with_byte(good, 0, 0x44),         # IHL 4
        good[:19],                        # fewer than 20 bytes
        with_byte(good, 0, 0x46)[:22],    # IHL 6, 22 bytes
    ]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> t :: Tee(2);\n"
            "t[0] -> Strip(14) -> s1 :: SetIPChecksum -> ToDump(a.pcap, ENCAP IP);\n"
            "t[1] -> m :: MarkIPHeader(14) -> s2 :: SetIPChecksum -> ToDump(b.pcap);\n",
            [eth(p) for p in broken + malformed])
    fixed = [good, opts, good + b"pad"]
    assert r.out("a.pcap") == fixed
    assert r.out("b.pcap") == [eth(p) for p in fixed]      # header found at the annotation
    assert r.n("s1.drops") == 3
    assert r.n("m.drops") == 2 and r.n("s2.drops") == 1    # MarkIPHeader lets IHL 4 through
    assert r.stderr.count("SetIPChecksum: bad input packet") == 2


# ---------------------------------------------------------------- GetIPAddress, SetIPAddress

def test_getipaddress_setipaddress(tmp_path):
    ten = udp(src="192.168.0.1", dst="10.1.2.3")
    other = udp(src="10.0.0.1", dst="8.8.8.8")
    short = ten[:18]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> t :: Tee(4);\n"
            "t[0] -> g :: GetIPAddress(16) -> l0 :: LinearIPLookup(10.0.0.0/8 0, 0/0 1);\n"
            "l0[0] -> ToDump(g_ten.pcap, ENCAP IP); l0[1] -> ToDump(g_other.pcap, ENCAP IP);\n"
            "t[1] -> m :: MarkIPHeader -> gs :: GetIPAddress(IP src)"
            " -> l1 :: RadixIPLookup(10.0.0.0/8 0, 0/0 1);\n"
            "l1[0] -> ToDump(s_ten.pcap, ENCAP IP); l1[1] -> ToDump(s_other.pcap, ENCAP IP);\n"
            "t[2] -> s :: SetIPAddress(10.5.5.5) -> l2 :: LinearIPLookup(10.5.5.5 0, 0/0 1);\n"
            "l2[0] -> ToDump(set.pcap, ENCAP IP); l2[1] -> ToDump(notset.pcap, ENCAP IP);\n"
            "t[3] -> GetIPAddress(12, DST_IP) -> SetIPAddress(1.1.1.1, ANNO 4)"
            " -> l3 :: LinearIPLookup(192.168.0.0/16 0, 0/0 1);\n"
            "l3[0] -> ToDump(a0.pcap, ENCAP IP); l3[1] -> ToDump(a1.pcap, ENCAP IP);\n",
            [eth(ten), eth(other), eth(short)])
    assert r.out("g_ten.pcap") == [ten] and r.out("g_other.pcap") == [other]
    assert r.n("g.drops") == 1                         # 18 bytes: no room for offset 16
    assert r.out("s_ten.pcap") == [other] and r.out("s_other.pcap") == [ten]
    assert r.n("m.drops") == 1
    assert r.out("set.pcap") == [ten, other, short]    # data untouched
    assert r.out("notset.pcap") == []
    assert r.stats["s.addr"] == "10.5.5.5"
    # the destination annotation holds the source (offset 12); ANNO 4 leaves it alone
    assert r.out("a0.pcap") == [ten, short] and r.out("a1.pcap") == [other]


# ---------------------------------------------------------------- LinearIPLookup, RadixIPLookup

@pytest.mark.parametrize("cls,msg", [("LinearIPLookup", "LinearIPLookup: no route for"),
                                     ("RadixIPLookup", "IPRouteTable: no route for")])
def test_route_lookup(tmp_path, cls, msg):
    routes = ("10.0.0.0/8 0, 10.1.0.0/16 10.9.9.9 1, 10.1.2.0/24 2, 10.1.2.3/32 - 3,"
              " 192.168.77.0/255.255.0.0 4, 10.1.0.0/16 5")
    dsts = {  # destination -> (output, gateway set)
        "10.200.0.1": 0, "10.1.7.7": 1, "10.1.2.4": 2, "10.1.2.3": 3, "192.168.1.1": 4,
        "10.1.255.255": 1,
    }
    unroutable = [f"8.8.8.{i}" for i in range(7)]
    pkts = [udp(dst=d) for d in list(dsts) + unroutable]
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> Strip(14) -> CheckIPHeader\n"
            f"  -> lk :: {cls}({routes});\n"
            "lk[0] -> ToDump(o0.pcap, ENCAP IP);\n"
            "lk[1] -> gw :: LinearIPLookup(10.9.9.9/32 0, 0/0 1);\n"
            "gw[0] -> ToDump(o1.pcap, ENCAP IP); gw[1] -> ToDump(o1_nogw.pcap, ENCAP IP);\n"
            "lk[2] -> ToDump(o2.pcap, ENCAP IP); lk[3] -> ToDump(o3.pcap, ENCAP IP);\n"
            "lk[4] -> ToDump(o4.pcap, ENCAP IP); lk[5] -> ToDump(o5.pcap, ENCAP IP);\n",
            [eth(p) for p in pkts])
    for j in range(6):
        assert r.out(f"o{j}.pcap") == [udp(dst=d) for d, k in dsts.items() if k == j], j
    assert r.out("o1_nogw.pcap") == []                # the gateway became the annotation
    assert r.n("lk.drops") == 7
    assert [x for x in r.stderr.splitlines() if "no route" in x] == \
        [f"{msg} {d}" for d in unroutable[:5]]        # Click reports the first five
    # the table handler, in Click's format; the duplicate 10.1.0.0/16 5 is ignored
    assert r.stats["lk.table"].strip("\n") == (
        "10.0.0.0/8\t\t-\t\t0\n"
        "10.1.0.0/16\t\t10.9.9.9\t1\n"
        "10.1.2.0/24\t\t-\t\t2\n"
        "10.1.2.3/32\t\t-\t\t3\n"
        "192.168.0.0/16\t\t-\t\t4")


def test_route_lookup_no_annotation_is_zero_address(tmp_path):
    # Without CheckIPHeader/GetIPAddress the annotation is 0.0.0.0: only a
    # default route matches it (as in Click).
    r = run(tmp_path, "FromDump(in.pcap, STOP true) -> lk :: RadixIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1);\n"
            "lk[0] -> ToDump(a.pcap); lk[1] -> ToDump(b.pcap);\n"
            "FromDump(in.pcap, STOP true) -> l2 :: LinearIPLookup(10.0.0.0/8 0) -> Discard;\n",
            [eth(udp(dst="10.0.0.1"))])
    assert r.out("a.pcap") == [] and r.out("b.pcap") == [eth(udp(dst="10.0.0.1"))]
    assert r.n("l2.drops") == 1
    assert "LinearIPLookup: no route for 0.0.0.0" in r.stderr


# ---------------------------------------------------------------- configuration errors

@pytest.mark.parametrize("config,msgs", [
    ("CheckIPHeader(1.2.3.4)", ["OFFSET"]),
    ("CheckIPHeader(14, 15)", ["too many arguments"]),
    ("CheckIPHeader(BADSRC 1.2.3)", ["BADSRC", "IP address"]),
    ("CheckIPHeader(INTERFACES 10.0.0.1/33)", ["INTERFACES", "out of range"]),
    ("CheckIPHeader(CHECKSUM maybe)", ["CHECKSUM", "boolean"]),
    ("CheckIPHeader(14, FOO 1)", ["unknown keyword 'FOO'"]),
    ("MarkIPHeader(-1)", ["OFFSET"]),
    ("MarkIPHeader(14, 2)", ["too many arguments"]),
    ("GetIPAddress()", ["set one of OFFSET, IP"]),
    ("GetIPAddress(16, IP dst)", ["set one of OFFSET, IP"]),
    ("GetIPAddress(IP foo)", ["bad IP"]),
    ("GetIPAddress(16, ANNO 46)", ["ANNO"]),
    ("SetIPAddress()", ["missing mandatory argument IPADDR"]),
    ("SetIPAddress(1.2.3.4, 5)", ["too many arguments"]),
    ("SetIPAddress(1.2.3.400)", ["IPADDR"]),
    ("DecIPTTL(MULTICAST maybe)", ["MULTICAST", "boolean"]),
    ("DecIPTTL(TTL 3)", ["unknown keyword 'TTL'"]),
    ("SetIPChecksum(1)", ["too many arguments"]),
    ("StripToNetworkHeader(1)", ["too many arguments"]),
    ("LinearIPLookup(10.0.0.0/8 1)", ["uses output 1", "only 1 output"]),
    ("RadixIPLookup(10.0.0.0/40 0)", ["mask"]),
    ("LinearIPLookup(10.0.0.0/8 foo 0)", ["gateway"]),
    ("IPFilter(3 tcp)", ["output 3", "only 1 output"]),
    ("IPFilter(allow tcp port nonsense)", ["IPFilter"]),
    ("IPClassifier(tcp, udp)", ["output 1 is not connected"]),
])
def test_bad_arguments(tmp_path, config, msgs):
    check_error(tmp_path, f"FromDump(in.pcap, STOP true) -> {config} -> Discard;\n", *msgs)


@pytest.mark.parametrize("config", [
    "CheckIPHeader(14)", "CheckIPHeader(OFFSET 14, DETAILS true, VERBOSE false)",
    "CheckIPHeader(INTERFACES 10.0.0.1/255.255.255.0 2.2.2.2, GOODDST 3.3.3.3)",
    "GetIPAddress(16, DST_IP)", "GetIPAddress(IP src, ANNO 8)",
    "SetIPAddress(IPADDR 1.2.3.4, ANNO DST_IP)", "DecIPTTL(ACTIVE false)",
    "RadixIPLookup(0/0 0)", "LinearIPLookup(1.2.3.4 - 0, 2.0.0.0/8 3.3.3.3 0)",
    "IPFilter(drop ip frag, allow all)", "IPClassifier(-)",
])
def test_good_arguments(tmp_path, config):
    (tmp_path / "ok.click").write_text(f"FromDump(in.pcap, STOP true) -> {config} -> Discard;\n")
    res = run_uknfv("check", "ok.click", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("name", [
    "CheckIPHeader", "MarkIPHeader", "GetIPAddress", "SetIPAddress", "DecIPTTL",
    "SetIPChecksum", "StripToNetworkHeader", "IPClassifier", "IPFilter",
    "LinearIPLookup", "RadixIPLookup",
])
def test_documented(name):
    res = run_uknfv("elements", name)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{name}  (ip)")
    assert "Handlers:" in res.stdout
