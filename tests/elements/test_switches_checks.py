"""Switches, samplers, transport checks, VLAN, VXLAN and the consistent-hash LB.

Each test writes scapy-built frames to a pcap in tmp_path, runs a small
`FromDump(in.pcap, STOP true) -> ... -> ToDump(out.pcap)` configuration
through `uknfv run` on the Linux target, and compares the output frames,
byte for byte, with frames built independently with scapy (checksums
computed by scapy, VLAN tags by its Dot1Q layer, VXLAN by its VXLAN layer).
Malformed packets must be counted (read with --stats) and dropped or sent
to output 1, never crash the run.  The live handler writes (Switch, the
load balancer's up/down) go through `--control SOCK`.  The last test runs
one combined pipeline on the Linux, DPDK and unikernel targets and checks
that all three write the same frames.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether,  # noqa: E402
                       RawPcapReader)
from scapy.layers.vxlan import VXLAN  # noqa: E402

from uknfv.testing import (PipelineRun, assert_same_frames, check_error, interrupt, parse_stats,  # noqa: E402
                           read_pcap, run_pipeline, run_uknfv, uknfv_cmd, write_pcap)

LINK_ETHER = 1
MAC_A, MAC_B = "02:00:00:00:00:01", "02:00:00:00:00:02"


# ---------------------------------------------------------------- helpers


run = run_pipeline


def eth(payload, src=MAC_A, dst=MAC_B) -> bytes:
    return bytes(Ether(src=src, dst=dst) / payload)


def udp_frame(i: int, **kw) -> bytes:
    return eth(IP(src=f"10.0.{i // 250}.{i % 250 + 1}", dst=f"10.1.{i % 7}.{i % 13 + 1}")
               / UDP(sport=1000 + i, dport=53, **kw) / f"udp payload {i}".encode())


def tcp_frame(i: int, **kw) -> bytes:
    return eth(IP(src=f"10.2.{i // 250}.{i % 250 + 1}", dst="10.3.0.1")
               / TCP(sport=20000 + i, dport=80, flags="PA", **kw) / f"tcp {i}".encode())


def icmp_frame(i: int) -> bytes:
    return eth(IP(src="10.4.0.1", dst="10.4.0.2") / ICMP(id=7, seq=i) / (b"ping" * (i % 5)))


# ---------------------------------------------------------------- switches

def click_hash(frame: bytes, offset: int, length: int, n: int) -> int:
    """Click's HashSwitch: the byte sum; (d >> 2) % n for n in 2, 4, 8."""
    if len(frame) < offset + length:
        return 0
    d = sum(frame[offset:offset + length])
    return (d >> 2) % n if n in (2, 4, 8) else d % n


def test_switch_staticswitch_roundrobin_hashswitch(tmp_path):
    frames = [udp_frame(i) for i in range(40)] + [eth(b"")[:12]]   # one runt
    cfg = """
    src :: FromDump(in.pcap, STOP true) -> t :: Tee(5);
    t[0] -> sw :: Switch(1); sw[0] -> ToDump(sw0.pcap); sw[1] -> ToDump(sw1.pcap);
    t[1] -> ss :: StaticSwitch(2); ss[0] -> ToDump(ss0.pcap); ss[1] -> ToDump(ss1.pcap);
            ss[2] -> ToDump(ss2.pcap);
    t[2] -> sd :: StaticSwitch(-1) -> ToDump(sd0.pcap);
    t[3] -> rr :: RoundRobinSwitch; rr[0] -> ToDump(rr0.pcap); rr[1] -> ToDump(rr1.pcap);
            rr[2] -> ToDump(rr2.pcap);
    t[4] -> h0 :: Tee(2);
    h0[0] -> hs3 :: HashSwitch(26, 8); hs3[0] -> ToDump(h30.pcap); hs3[1] -> ToDump(h31.pcap);
             hs3[2] -> ToDump(h32.pcap);
    h0[1] -> hs4 :: HashSwitch(OFFSET 30, LENGTH 4); hs4[0] -> ToDump(h40.pcap);
             hs4[1] -> ToDump(h41.pcap); hs4[2] -> ToDump(h42.pcap); hs4[3] -> ToDump(h43.pcap);
    """
    r = run(tmp_path, cfg, frames)
    assert r.out("sw0.pcap") == [] and r.out("sw1.pcap") == frames
    assert r.stats["sw.switch"] == "1" and r.n("sw.drops") == 0
    assert r.out("ss2.pcap") == frames and r.out("ss0.pcap") == r.out("ss1.pcap") == []
    assert r.out("sd0.pcap") == [] and r.n("sd.drops") == len(frames)
    assert r.stats["sd.switch"] == "-1"
    for j in range(3):
        assert r.out(f"rr{j}.pcap") == frames[j::3]
    for n, name, off, ln in ((3, "h3", 26, 8), (4, "h4", 30, 4)):
        for j in range(n):
            want = [f for f in frames if click_hash(f, off, ln, n) == j]
            assert r.out(f"{name}{j}.pcap") == want, (name, j)
        assert all(r.out(f"{name}{j}.pcap") for j in range(n)), "hash spreads nothing"
    assert r.n("hs3.short") == 1 and r.n("hs4.short") == 1


def test_randomsample_proportions(tmp_path):
    frames = [udp_frame(i % 500) for i in range(4000)]
    cfg = """
    src :: FromDump(in.pcap, STOP true) -> t :: Tee(4);
    t[0] -> a :: RandomSample(0.25); a[0] -> ToDump(a0.pcap); a[1] -> ToDump(a1.pcap);
    t[1] -> b :: RandomSample(DROP 0.9) -> ToDump(b0.pcap);
    t[2] -> c :: RandomSample(SAMPLE 0, ACTIVE false) -> ToDump(c0.pcap);
    t[3] -> d :: RandomSample(50%) -> ToDump(d0.pcap);
    """
    r = run(tmp_path, cfg, frames)
    a0, a1 = r.out("a0.pcap"), r.out("a1.pcap")
    assert len(a0) + len(a1) == 4000 and r.n("a.drops") == len(a1)
    assert 0.20 < len(a0) / 4000 < 0.30
    assert sorted(a0 + a1) == sorted(frames)
    assert 0.06 < len(r.out("b0.pcap")) / 4000 < 0.14
    assert r.n("b.drops") == 4000 - len(r.out("b0.pcap"))
    assert r.out("c0.pcap") == frames and r.n("c.drops") == 0
    assert 0.45 < len(r.out("d0.pcap")) / 4000 < 0.55
    assert r.stats["a.sampling_prob"] == "0.25" and r.stats["a.sample"] == "0.25"
    assert r.stats["a.drop_prob"] == "0.75"
    assert r.stats["b.sampling_prob"] == "0.1" and r.stats["d.sampling_prob"] == "0.5"
    assert r.stats["c.active"] == "0"


def test_settimestamp(tmp_path):
    frames = [udp_frame(i) for i in range(5)]
    write_pcap(tmp_path / "in.pcap", frames)
    (tmp_path / "t.click").write_text(
        "FromDump(in.pcap, STOP true) -> t :: Tee(2);\n"
        "t[0] -> SetTimestamp(1700000000.123456) -> ToDump(fixed.pcap);\n"
        "t[1] -> st :: SetTimestamp -> ToDump(now.pcap);\n")
    t0 = time.time()
    res = run_uknfv("run", "t.click", "--stats", cwd=tmp_path)
    t1 = time.time()
    assert res.returncode == 0, res.stderr
    fixed = list(RawPcapReader(str(tmp_path / "fixed.pcap")))
    assert [d for d, _ in fixed] == frames
    assert all((m.sec, m.usec) == (1700000000, 123456) for _, m in fixed)
    now = list(RawPcapReader(str(tmp_path / "now.pcap")))
    assert all(t0 - 1 <= m.sec + m.usec / 1e6 <= t1 + 1 for _, m in now)
    assert parse_stats(res.stdout)["st.count"] == "5"


# ---------------------------------------------------------------- transport checks

def with_ip_len(frame: bytes, n: int) -> bytes:
    """Frame with a new IP total length and a correct IP checksum."""
    ip = IP(frame[14:])
    ip.len = n
    del ip.chksum
    return frame[:14] + bytes(ip)[:len(frame) - 14]


def corrupt(frame: bytes, off: int) -> bytes:
    return frame[:off] + bytes([frame[off] ^ 0x55]) + frame[off + 1:]


def test_check_transport_headers(tmp_path):
    good_udp = [udp_frame(i) for i in range(3)]
    zero_sum = eth(IP(src="10.0.0.9", dst="10.0.0.8") / UDP(sport=1, dport=2, chksum=0) / b"nocsum")
    good_tcp = [tcp_frame(i) for i in range(3)]
    good_icmp = [icmp_frame(i) for i in range(3)]
    u = udp_frame(50)
    bad_udp = {
        "bad UDP checksum": [corrupt(u, len(u) - 1), corrupt(u, 40)],
        # UDP length beyond the IP payload, and below 8
        "bad packet length": [u[:38] + (200).to_bytes(2, "big") + u[40:],
                              u[:38] + (7).to_bytes(2, "big") + u[40:],
                              with_ip_len(u, 20 + 6)],
    }
    t = tcp_frame(60)
    bad_tcp = {
        "bad TCP checksum": [corrupt(t, len(t) - 2)],
        "bad packet length": [t[:46] + bytes([0x40 | (t[46] & 15)]) + t[47:],      # offset 16
                              t[:46] + bytes([0xF0 | (t[46] & 15)]) + t[47:],      # offset 60
                              with_ip_len(t, 20 + 12)],
    }
    c = icmp_frame(3)
    bad_icmp = {
        "bad ICMP checksum": [corrupt(c, 40)],
        "bad packet length": [with_ip_len(c, 20 + 4)],
    }
    frames = (good_udp + [zero_sum] + good_tcp + good_icmp
              + [f for v in bad_udp.values() for f in v]
              + [f for v in bad_tcp.values() for f in v]
              + [f for v in bad_icmp.values() for f in v])
    cfg = """
    FromDump(in.pcap, STOP true) -> MarkIPHeader(14) -> t :: Tee(3);
    t[0] -> cu :: CheckUDPHeader -> ToDump(udp.pcap);
    t[1] -> ct :: CheckTCPHeader(VERBOSE true); ct[0] -> ToDump(tcp.pcap); ct[1] -> ToDump(tcp_bad.pcap);
    t[2] -> ci :: CheckICMPHeader(DETAILS true) -> ToDump(icmp.pcap);
    """
    r = run(tmp_path, cfg, frames)
    assert r.out("udp.pcap") == good_udp + [zero_sum]
    assert r.out("tcp.pcap") == good_tcp
    assert r.out("icmp.pcap") == good_icmp
    assert r.out("tcp_bad.pcap") == [f for f in frames if f not in good_tcp]
    n = len(frames)
    for name, good, bad, proto in (("cu", good_udp + [zero_sum], bad_udp, "UDP"),
                                   ("ct", good_tcp, bad_tcp, "TCP"),
                                   ("ci", good_icmp, bad_icmp, "ICMP")):
        nbad = sum(len(v) for v in bad.values())
        assert r.n(f"{name}.count") == len(good)
        assert r.n(f"{name}.drops") == n - len(good)
        assert r.details(f"{name}.drop_details") == {
            f"not {proto}": n - len(good) - nbad,
            "bad packet length": len(bad["bad packet length"]),
            f"bad {proto} checksum": len(bad[f"bad {proto} checksum"])}
    assert "cu: UDP header check failed: not UDP" in r.stderr
    assert r.stderr.count("ct: TCP header check failed") == n - len(good_tcp)   # VERBOSE


def test_set_udp_tcp_checksum(tmp_path):
    udps = [udp_frame(i, chksum=0x1234) for i in range(5)]
    tcps = [tcp_frame(i, chksum=0xBEEF) for i in range(5)]
    frag = eth(IP(src="1.1.1.1", dst="2.2.2.2", flags="MF") / UDP(sport=1, dport=2) / b"frag")
    u9 = udp_frame(9)
    shortu = u9[:38] + (len(u9) - 34 + 1).to_bytes(2, "big") + u9[40:]   # UDP length past the end
    badtcp = with_ip_len(tcp_frame(9), 20 + 10)                # a 10-byte TCP segment
    cfg = """
    FromDump(in.pcap, STOP true) -> c :: Classifier(23/11, 23/06);
    c[0] -> CheckIPHeader(14) -> su :: SetUDPChecksum; su[0] -> ToDump(udp.pcap); su[1] -> ToDump(ubad.pcap);
    c[1] -> CheckIPHeader(14) -> st :: SetTCPChecksum -> ToDump(tcp.pcap);
    """
    r = run(tmp_path, cfg, udps + tcps + [frag, shortu, badtcp])

    def fixed(f: bytes, layer) -> bytes:
        p = Ether(f)
        del p[layer].chksum
        return bytes(p)
    assert r.out("udp.pcap") == [fixed(f, UDP) for f in udps]
    assert r.out("tcp.pcap") == [fixed(f, TCP) for f in tcps]
    assert r.out("ubad.pcap") == [frag, shortu]
    assert r.n("su.drops") == 2 and r.n("st.drops") == 1
    for f in r.out("udp.pcap") + r.out("tcp.pcap"):       # scapy agrees
        p = Ether(f)
        l4 = p[UDP] if UDP in p else p[TCP]
        want = l4.chksum
        del l4.chksum
        assert Ether(bytes(p))[type(l4)].chksum == want


# ---------------------------------------------------------------- VLAN

def test_vlan_encap_decap_anno(tmp_path):
    frames = [udp_frame(i) for i in range(6)] + [tcp_frame(1)]
    cfg = """
    FromDump(in.pcap, STOP true) -> t :: Tee(6);
    t[0] -> e1 :: VLANEncap(VLAN_ID 10, VLAN_PCP 3) -> ToDump(tag10.pcap);
    t[1] -> VLANEncap(0x2005) -> d :: VLANDecap -> VLANEncap(ANNO) -> ToDump(retag.pcap);
    t[2] -> VLANEncap(VLAN_ID 0) -> ToDump(native.pcap);
    t[3] -> VLANEncap(VLAN_ID 0, NATIVE_VLAN -1, ETHERTYPE 0x88a8) -> ToDump(qinq0.pcap);
    t[4] -> SetVLANAnno(VLAN_ID 7, VLAN_PCP 1) -> VLANEncap(ANNO, VLAN_PCP 6) -> ToDump(anno.pcap);
    t[5] -> VLANEncap(VLAN_ID 9) -> VLANDecap(ANNO false) -> VLANDecap -> VLANEncap(ANNO, NATIVE_VLAN -1)
         -> ToDump(untagged.pcap);
    """
    r = run(tmp_path, cfg, frames)

    def tag(f: bytes, prio: int, vlan: int, tpid: int = 0x8100) -> bytes:
        p = Ether(f)
        inner = p.payload
        typ = p.type
        out = Ether(src=p.src, dst=p.dst, type=tpid) / Dot1Q(prio=prio, vlan=vlan, type=typ) / inner
        return bytes(out)
    assert r.out("tag10.pcap") == [tag(f, 3, 10) for f in frames]
    assert r.out("retag.pcap") == [tag(f, 1, 5) for f in frames]
    assert r.n("d.count") == len(frames)
    assert r.out("native.pcap") == frames
    assert r.out("qinq0.pcap") == [tag(f, 0, 0, 0x88a8) for f in frames]
    assert r.out("anno.pcap") == [tag(f, 6, 7) for f in frames]
    assert r.out("untagged.pcap") == [tag(f, 0, 0) for f in frames]  # anno 0 after untagged decap
    assert r.stats["e1.vlan_tci"] == str(3 << 13 | 10)
    assert r.stats["e1.vlan_id"] == "10" and r.stats["e1.vlan_pcp"] == "3"
    for f in r.out("tag10.pcap"):
        assert Ether(f)[Dot1Q].vlan == 10 and Ether(f)[Dot1Q].prio == 3


# ---------------------------------------------------------------- StaticIPLookup

def test_staticiplookup(tmp_path):
    dsts = ["10.1.2.3", "10.1.9.9", "192.168.5.5", "8.8.8.8"]
    frames = [eth(IP(src="1.1.1.1", dst=d) / UDP() / b"x") for d in dsts]
    cfg = """
    FromDump(in.pcap, STOP true) -> CheckIPHeader(14)
      -> lk :: StaticIPLookup(10.1.2.0/24 0, 10.1.0.0/16 1.2.3.4 1, 192.168.0.0/16 2);
    lk[0] -> ToDump(o0.pcap); lk[1] -> ToDump(o1.pcap); lk[2] -> ToDump(o2.pcap);
    """
    r = run(tmp_path, cfg, frames)
    assert [r.out(f"o{j}.pcap") for j in range(3)] == [[frames[0]], [frames[1]], [frames[2]]]
    assert r.n("lk.drops") == 1
    assert r.stats["lk.table"].strip().split("\n")[:3] == ["10.1.2.0/24\t\t-\t\t0", "10.1.0.0/16\t\t1.2.3.4\t\t1",
                                                  "192.168.0.0/16\t\t-\t\t2"]
    assert "StaticIPLookup: no route for 8.8.8.8" in r.stderr


# ---------------------------------------------------------------- VXLAN

VTEP = dict(src="192.168.0.1", dst="192.168.0.2")


def vxlan(inner: bytes, vni: int, sport: int) -> bytes:
    return bytes(Ether(src="02:00:00:00:00:aa", dst="02:00:00:00:00:bb")
                 / IP(id=0, flags=0, ttl=64, **VTEP) / UDP(sport=sport, dport=4789, chksum=0)
                 / VXLAN(flags=0x08, vni=vni) / Ether(inner))


def test_vxlan_encap_decap(tmp_path):
    inner = [udp_frame(i) for i in range(8)] + [tcp_frame(i) for i in range(8)]
    encap = [vxlan(f, 42, 5555) for f in inner]
    other_vni = vxlan(inner[0], 43, 5555)
    no_i_flag = encap[1][:42] + b"\x00" + encap[1][43:]
    plain = udp_frame(99)
    with_csum = Ether(src="02:00:00:00:00:aa", dst="02:00:00:00:00:bb") / IP(**VTEP) \
        / UDP(sport=777, dport=4789) / VXLAN(vni=42) / Ether(inner[2])
    good_csum = bytes(with_csum)
    bad_csum = corrupt(good_csum, len(good_csum) - 1)
    truncated = with_ip_len(encap[3], 20 + 8 + 4)
    cfg = """
    src :: FromDump(in.pcap, STOP true) -> c :: Classifier(36/12b5, -);
    c[0] -> d :: VXLANDecap(42); d[0] -> ToDump(inner.pcap); d[1] -> ToDump(refused.pcap);
    c[1] -> t :: Tee(2);
    t[0] -> e :: VXLANEncap(42, 192.168.0.1, 192.168.0.2, SRCPORT 5555,
                           ETHSRC 02:00:00:00:00:aa, ETHDST 02:00:00:00:00:bb) -> ToDump(encap.pcap);
    t[1] -> VXLANEncap(VNI 7, SRC 10.9.9.1, DST 10.9.9.2, TTL 9) -> ToDump(auto.pcap, ENCAP IP);
    """
    frames = encap + [other_vni, no_i_flag, good_csum, bad_csum, truncated] + inner + [plain]
    r = run(tmp_path, cfg, frames)
    assert r.out("encap.pcap") == encap + [vxlan(plain, 42, 5555)]
    for f in r.out("encap.pcap"):
        p = Ether(f)
        assert p[VXLAN].vni == 42 and bytes(p[VXLAN].payload) in inner + [plain]
        ip = IP(bytes(p[IP]))
        c = ip.chksum
        del ip.chksum
        assert IP(bytes(ip)).chksum == c
    assert r.out("inner.pcap") == inner + [inner[2]]
    assert r.out("refused.pcap") == [other_vni, no_i_flag, bad_csum, truncated]
    assert r.details("d.drop_details") == {"not VXLAN": 0, "bad length": 1, "bad UDP checksum": 1,
                                           "bad VXLAN flags": 1, "wrong VNI": 1}
    assert r.n("d.count") == len(inner) + 1 and r.n("d.drops") == 4
    # SRCPORT 0: a hash of the inner flow in 49152-65535, the same for the same flow
    auto = r.out("auto.pcap")
    assert len(auto) == len(inner) + 1
    ports = {}
    for f, i in zip(auto, inner + [plain]):
        p = IP(f)
        assert (p.src, p.dst, p.ttl, p[UDP].dport, p[VXLAN].vni) == ("10.9.9.1", "10.9.9.2", 9, 4789, 7)
        assert bytes(p[VXLAN].payload) == i
        assert 49152 <= p[UDP].sport <= 65535
        ports[i] = p[UDP].sport
    assert len(set(ports.values())) > 4


# ---------------------------------------------------------------- ConsistentHashLB

def flow_frames(nflows: int, tag: str) -> list[bytes]:
    out = []
    for i in range(nflows):
        l4 = TCP(sport=1024 + i, dport=443) if i % 2 else UDP(sport=2048 + i, dport=53)
        out.append(eth(IP(src=f"172.16.{i // 200}.{i % 200 + 1}", dst="10.10.10.10") / l4
                       / f"{tag}:{i:04d}".encode()))
    return out


def flow_of(frame: bytes) -> tuple[str, int]:
    tag, _, i = bytes(Ether(frame)[IP].payload.payload).decode().partition(":")
    return tag, int(i)


def assignment(r_or_dir, nb: int, name: str = "b") -> dict[tuple[str, int], int]:
    d = r_or_dir.tmp_path if isinstance(r_or_dir, PipelineRun) else r_or_dir
    out = {}
    for j in range(nb):
        for f in read_pcap(d / f"{name}{j}.pcap"):
            out[flow_of(f)] = j
    return out


LB_OUTS = "".join(f"lb[{j}] -> ToDump(b{j}.pcap);\n" for j in range(4))


def test_lb_sticky_and_down_keyword(tmp_path):
    n = 400
    frames = flow_frames(n, "A") + flow_frames(n, "A")     # every flow twice
    a_dir, b_dir = tmp_path / "all", tmp_path / "down"
    a_dir.mkdir()
    b_dir.mkdir()
    ra = run(a_dir, "FromDump(in.pcap, STOP true) -> lb :: ConsistentHashLB(BACKENDS web0 web1 web2 web3);\n"
             + LB_OUTS, frames)
    rb = run(b_dir, "FromDump(in.pcap, STOP true) -> lb :: ConsistentHashLB(web0 web1 web2 web3, DOWN web2);\n"
             + LB_OUTS, frames)
    a, b = assignment(ra, 4), assignment(rb, 4)
    # every packet of a flow on one backend; all backends used, roughly evenly
    for r in (ra, rb):
        seen = {}
        for j in range(4):
            for f in r.out(f"b{j}.pcap"):
                assert seen.setdefault(flow_of(f), j) == j
    counts = [sum(1 for v in a.values() if v == j) for j in range(4)]
    assert all(60 < c < 140 for c in counts), counts
    assert rb.out("b2.pcap") == [] and len(b) == n
    moved = [k for k in a if a[k] != b[k]]
    assert moved and all(a[k] == 2 for k in moved)           # only web2's flows move ...
    assert all(a[k] == b[k] for k in a if a[k] != 2)         # ... the others stay
    assert len({b[k] for k in moved}) == 3                   # spread over the rest
    assert "web2\tdown" in rb.stats["lb.backends"] and rb.n("lb.nup") == 3
    assert ra.n("lb.count") == 2 * n and ra.n("lb.drops") == 0


@pytest.fixture
def control_sock():
    d = tempfile.mkdtemp(prefix="uknfv-sw-")
    yield str(Path(d) / "ctl.sock")
    shutil.rmtree(d, ignore_errors=True)


def test_lb_and_switch_live_handlers(tmp_path, control_sock):
    """--control on the Linux target: phases of the same flows, with `down`/`up` between."""
    from uknfv.run.control import ControlClient
    n = 300
    for ph in "ABC":
        write_pcap(tmp_path / f"{ph}.pcap", flow_frames(n, ph))
    cfg = ("pa :: FromDump(A.pcap, ACTIVE false); pb :: FromDump(B.pcap, ACTIVE false);\n"
           "pc :: FromDump(C.pcap, ACTIVE false);\n"
           "lb :: ConsistentHashLB(4, BUCKETS 1024);\n"
           "pa -> t :: Tee(2); pb -> t; pc -> t;\n"
           "t[0] -> lb; t[1] -> sw :: Switch(0); sw[0] -> ToDump(s0.pcap); sw[1] -> ToDump(s1.pcap);\n"
           + LB_OUTS)
    (tmp_path / "lb.click").write_text(cfg)
    proc = subprocess.Popen(uknfv_cmd() + ["run", "lb.click", "--target", "linux", "--control",
                                           control_sock, "--stats"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(control_sock):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no control socket"
            time.sleep(0.1)
        with ControlClient(control_sock) as c:
            def phase(src: str, total: int) -> None:
                c.write(f"{src}.active", "true")
                end = time.monotonic() + 30
                while int(c.read("lb.count")) < total:
                    assert time.monotonic() < end, c.read("lb.backends")
                    time.sleep(0.05)
            phase("pa", n)
            assert c.read("lb.nup").strip() == "4"
            c.write("lb.down", "1")
            c.write("sw.switch", "1")
            assert c.read("sw.switch").strip() == "1"
            assert "1\t1\tdown" in c.read("lb.backends")
            phase("pb", 2 * n)
            c.write("lb.up", "1")
            c.write("sw.switch", "5")                      # out of range: -1 drops
            assert c.read("sw.switch").strip() == "-1"
            phase("pc", 3 * n)
            with pytest.raises(Exception):
                c.write("lb.down", "nosuch")
            c.write("stop")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            interrupt(proc)
    assert proc.returncode == 0, err
    got = assignment(tmp_path, 4)
    a = {i: got[("A", i)] for i in range(n)}
    b = {i: got[("B", i)] for i in range(n)}
    c_ = {i: got[("C", i)] for i in range(n)}
    assert set(a.values()) == {0, 1, 2, 3}
    assert all(b[i] == a[i] for i in range(n) if a[i] != 1)   # only backend 1's flows moved
    assert all(b[i] != 1 for i in range(n))
    assert c_ == a                                            # and came back on `up`
    assert [flow_of(f)[0] for f in read_pcap(tmp_path / "s0.pcap")] == ["A"] * n
    assert [flow_of(f)[0] for f in read_pcap(tmp_path / "s1.pcap")] == ["B"] * n
    st = parse_stats(out)
    assert st["sw.drops"] == str(n) and st["lb.count"] == str(3 * n)


# ---------------------------------------------------------------- argument errors

@pytest.mark.parametrize("config,msgs", [
    ("Switch(x)", ["OUTPUT", "expected integer"]),
    ("Switch(3)", ["OUTPUT 3", "not a connected output"]),
    ("StaticSwitch()", ["missing mandatory argument K"]),
    ("HashSwitch(14)", ["missing mandatory argument LENGTH"]),
    ("HashSwitch(14, 0)", ["LENGTH", "out of range"]),
    ("RandomSample(1.5)", ["P", "out of range"]),
    ("RandomSample(0.5, DROP 0.1)", ["only one of P, SAMPLE and DROP"]),
    ("CheckUDPHeader(VERBOSE maybe)", ["VERBOSE", "boolean"]),
    ("CheckTCPHeader(3)", ["too many arguments"]),
    ("SetUDPChecksum(1)", ["too many arguments"]),
    ("SetTimestamp(yesterday)", ["TIMESTAMP", "expected timestamp"]),
    ("SetTimestamp(FIRST true)", ["FIRST true is not supported"]),
    ("VLANEncap(VLAN_ID 5000)", ["VLAN_ID", "out of range"]),
    ("VLANEncap(VLAN_PCP 3)", ["missing VLAN_TCI or VLAN_ID"]),
    ("VLANEncap(5, VLAN_ID 5)", ["VLAN_TCI or VLAN_ID, not both"]),
    ("VLANDecap(ETHERTYPE 0800)", ["ETHERTYPE", "octal"]),
    ("SetVLANAnno(ANNO)", ["ANNO makes no sense"]),
    ("StaticIPLookup(10.0.0.0/8 3)", ["uses output 3"]),
    ("VXLANEncap(16777216, 1.1.1.1, 2.2.2.2)", ["VNI", "out of range"]),
    ("VXLANEncap(1, 1.1.1.1, 2.2.2)", ["DST", "IP address"]),
    ("VXLANEncap(1, 1.1.1.1, 2.2.2.2, ETHSRC 02:00:00:00:00:01)", ["both ETHSRC and ETHDST"]),
    ("VXLANDecap(VNI -2)", ["VNI", "out of range"]),
    ("ConsistentHashLB(2)", ["2 backends but 1 connected output"]),
    ("ConsistentHashLB(a a)", ["backend 'a' given twice"]),
    ("ConsistentHashLB(1, BUCKETS 1000)", ["BUCKETS 1000 is not a power of two"]),
    ("ConsistentHashLB(1, DOWN zz)", ["DOWN: no backend 'zz'"]),
])
def test_bad_arguments(tmp_path, config, msgs):
    check_error(tmp_path, f"FromDump(in.pcap, STOP true)\n  -> {config} -> Discard;\n",
                "bad.click:2:", *msgs)


def test_error_points_at_the_argument(tmp_path):
    check_error(tmp_path, "FromDump(in.pcap, STOP true)\n  -> VLANEncap(VLAN_ID 5000) -> Discard;\n",
                "bad.click:2:24:", "VLAN_ID: integer 5000 out of range (maximum 4095)")
    check_error(tmp_path, "FromDump(in.pcap, STOP true)\n  -> HashSwitch(14, LENGTH 0) -> Discard;\n",
                "bad.click:2:28:", "LENGTH")


def test_docs_complete():
    from uknfv import registry
    lib = registry.library()
    for name in ("Switch", "StaticSwitch", "RoundRobinSwitch", "HashSwitch", "RandomSample",
                 "CheckUDPHeader", "CheckTCPHeader", "CheckICMPHeader", "SetUDPChecksum",
                 "SetTCPChecksum", "SetTimestamp", "VLANEncap", "VLANDecap", "SetVLANAnno",
                 "StaticIPLookup", "VXLANEncap", "VXLANDecap", "ConsistentHashLB"):
        spec = lib[name]
        assert len(spec.doc.strip().splitlines()) > 3, name
        assert all(a.doc for a in spec.args), name
        assert all(h.doc for h in spec.handlers), name
    assert lib["VXLANEncap"].group == "nfv" and lib["VLANEncap"].group == "ethernet"


# ---------------------------------------------------------------- one pipeline, three targets

COMBINED = """
src :: FromDump(in.pcap, STOP true) -> VLANDecap -> vx :: VXLANDecap(42);
vx[1] -> ip :: CheckIPHeader(14) -> cl :: Classifier(23/11, 23/06, 23/01, -);
vx[0] -> ip;
cl[0] -> cu :: CheckUDPHeader -> SetUDPChecksum -> hs :: HashSwitch(26, 8);
hs[0] -> VLANEncap(VLAN_TCI ANNO, NATIVE_VLAN -1) -> ToDump(out_a.pcap);
hs[1] -> VXLANEncap(7, 192.168.0.1, 192.168.0.2,
                    ETHSRC 02:00:00:00:00:aa, ETHDST 02:00:00:00:00:bb) -> ToDump(out_b.pcap);
cl[1] -> ct :: CheckTCPHeader -> SetTCPChecksum -> lb :: ConsistentHashLB(3);
lb[0] -> ToDump(out_c.pcap);
lb[1] -> StaticSwitch(0) -> d :: ToDump(out_d.pcap);
lb[2] -> sw :: Switch(1); sw[0] -> Discard; sw[1] -> d;
cl[2] -> ci :: CheckICMPHeader -> rr :: RoundRobinSwitch; rr[0] -> VLANEncap(VLAN_ID 5) -> e :: ToDump(out_e.pcap);
rr[1] -> e;
cl[3] -> Discard;
"""


def combined_input() -> list[bytes]:
    frames = []
    for i in range(30):
        frames.append(udp_frame(i, chksum=0 if i % 3 == 0 else None) if i % 3 else udp_frame(i))
        frames.append(tcp_frame(i))
        if i % 5 == 0:
            frames.append(icmp_frame(i))
    tagged = [bytes(Ether(src=MAC_A, dst=MAC_B) / Dot1Q(vlan=30 + i, prio=i % 8)
                    / Ether(f).payload) for i, f in enumerate(frames[:10])]
    bad = [corrupt(udp_frame(90), 45), corrupt(tcp_frame(91), 55), with_ip_len(icmp_frame(2), 22)]
    vx = [vxlan(udp_frame(200 + i), 42, 6000 + i) for i in range(5)] + [vxlan(tcp_frame(300), 41, 1)]
    return frames + tagged + bad + vx + [bytes(Ether(src=MAC_A, dst=MAC_B, type=0x86dd) / (b"\x60" + bytes(50)))]


OUTS = ("out_a.pcap", "out_b.pcap", "out_c.pcap", "out_d.pcap", "out_e.pcap")


def _have_dpdk() -> bool:
    return shutil.which("pkg-config") is not None and \
        subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


@pytest.mark.e2e
@pytest.mark.vm
def test_combined_pipeline_same_on_linux_dpdk_kvm(tmp_path):
    frames = combined_input()
    lin = tmp_path / "linux"
    lin.mkdir()
    r = run(lin, COMBINED, frames)
    for o in OUTS:
        assert r.out(o), f"{o} is empty on linux"
    assert r.n("cu.drops") >= 1 and r.n("ct.drops") >= 1 and r.n("ci.drops") >= 1
    assert r.n("vx.count") == 5
    for f in r.out("out_b.pcap"):
        assert Ether(f)[VXLAN].vni == 7
    for f in r.out("out_a.pcap"):
        assert Dot1Q in Ether(f)
    done = []
    if _have_dpdk():
        dp = tmp_path / "dpdk"
        dp.mkdir()
        run(dp, COMBINED, frames, target="dpdk")
        for o in OUTS:
            assert_same_frames(lin / o, dp / o, f"{o} (dpdk vs linux)")
        done.append("dpdk")
    if shutil.which("qemu-system-x86_64"):
        kv = tmp_path / "kvm"
        kv.mkdir()
        write_pcap(kv / "in.pcap", frames)
        (kv / "t.click").write_text(COMBINED)
        d = tempfile.mkdtemp(prefix="uknfv-sw-")
        try:
            proc = subprocess.Popen(uknfv_cmd() + ["run", "t.click", "--target", "kvm", "--control",
                                                   str(Path(d) / "ctl.sock")],
                                    cwd=kv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=os.environ.copy())
            try:
                out, err = proc.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                out, err = interrupt(proc)
                pytest.fail(f"kvm run did not end\nstdout:\n{out}\nstderr:\n{err}")
            assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
        finally:
            shutil.rmtree(d, ignore_errors=True)
        for o in OUTS:
            assert_same_frames(lin / o, kv / o, f"{o} (kvm vs linux)")
        done.append("kvm")
    if not done:
        pytest.skip("neither libdpdk nor qemu-system-x86_64: only the Linux target ran")
