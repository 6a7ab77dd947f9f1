"""The example vNFs of pipelines/, driven by their manifests, on every target.

One harness for all of them.  Each manifest (pipelines/NAME.toml) names a
scapy scenario defined here: the frames to feed each logical port, build-time
define overrides, and the expected behaviour (exact frames where the vNF is
deterministic, counters).  The scenario runs

* on the Linux target through pcap-bound ports, where its checks apply;
* on the DPDK target through net_pcap (`--port NAME=pcap:in=A,out=B`),
  skipped only without libdpdk: every output port and every named
  element's counter must equal the Linux target's;
* in the unikernel (one QEMU boot per vNF): the kvm target binds no pcap
  ports, so the test runs a copy of the config whose FromDevice(P)/ToDevice(P)
  are FromDump(P_in.pcap, STOP true)/ToDump(P_out.pcap), replayed over virtio
  NICs by uknfv/run/pcapreplay.py.  The outputs must equal the Linux
  target's.  An output port fed from two input ports (an ARP reply from one
  side, forwarded frames from the other) gets the two streams in an order
  that depends on how the guest received them, so such ports (a scenario's
  `mixed`) are compared as multisets there; every other port frame by frame.

The load balancer's live `lb.down`/`lb.up` on the Linux target is covered by
tests/elements/test_switches_checks.py::test_lb_and_switch_live_handlers;
here it is done on the DPDK target with TAP ports (needs root and
/dev/net/tun): only the flows of the backend taken down move.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from scapy.all import ARP, ICMP, IP, TCP, UDP, VXLAN, Dot1Q, Ether, IPv6, Raw

from uknfv.manifest import Manifest, list_manifests
from uknfv.pcapfile import read_frames, write_frames
from uknfv.testing import assert_same_frames, interrupt, run_uknfv, stats_of, uknfv_cmd

MANIFESTS = {m.name: m for m in list_manifests()}
QEMU = shutil.which("qemu-system-x86_64")


def _have_dpdk() -> bool:
    return shutil.which("pkg-config") is not None and \
        subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


HAVE_DPDK = _have_dpdk()
needs_dpdk = pytest.mark.skipif(not HAVE_DPDK, reason="needs libdpdk-dev (pkg-config libdpdk)")


# ---------------------------------------------------------------- scenarios

Outputs = dict[str, list[bytes]]
Stats = dict[str, str]


@dataclass
class Scenario:
    inputs: dict[str, list[bytes]]                  # frames per input port
    check: Callable[[Outputs, Stats], None]         # expected behaviour (Linux target)
    defines: dict[str, str] = field(default_factory=dict)   # build-time overrides
    mixed: set[str] = field(default_factory=set)    # output ports fed from several inputs


SCENARIOS: dict[str, Callable[[], Scenario]] = {}


def scenario(name: str):
    def reg(fn):
        SCENARIOS[name] = fn
        return fn
    return reg


def n(stats: Stats, key: str) -> int:
    assert key in stats, f"no handler {key} in {sorted(stats)}"
    return int(stats[key].split()[0])


def ip_sum_ok(ip_hdr: bytes) -> bool:
    s = sum(int.from_bytes(ip_hdr[i:i + 2], "big") for i in range(0, len(ip_hdr), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def bad_ip_checksum(frame: bytes) -> bytes:
    return frame[:24] + bytes([frame[24] ^ 0xFF]) + frame[25:]


def arp_request(src_mac: str, src_ip: str, target_ip: str) -> bytes:
    return bytes(Ether(src=src_mac, dst="ff:ff:ff:ff:ff:ff") /
                 ARP(op=1, hwsrc=src_mac, psrc=src_ip, pdst=target_ip))


def split_arp(frames: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """(ARP frames, the others), each in order: a vNF's own ARP replies leave on a port that
    also forwards frames from the other port, in an order that depends on the RX bursts."""
    return ([f for f in frames if f[12:14] == b"\x08\x06"],
            [f for f in frames if f[12:14] != b"\x08\x06"])


@scenario("firewall")
def firewall_scenario() -> Scenario:
    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    inside = [bytes(p) for p in (
        e / IP(src="10.0.1.10", dst="192.0.2.1") / ICMP(),                       # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / UDP(sport=4000, dport=53),    # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / TCP(sport=4000, dport=443),   # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / TCP(sport=4001, dport=22),    # allowed
        e / IP(src="10.0.1.10", dst="192.0.2.1") / TCP(sport=4000, dport=25),    # denied
        e / IP(src="10.0.1.10", dst="192.0.2.1") / UDP(sport=4000, dport=123),   # denied
    )] + [arp_request("02:00:00:00:00:01", "10.0.1.10", "10.0.1.1"),         # ARP passes
          bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", type=0x86dd) / Raw(bytes(40)))]
    outside = [bytes(p) for p in (
        e / IP(src="192.0.2.1", dst="10.0.1.10") / ICMP(type=0),                 # allowed
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=443, dport=4000),   # allowed
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=5000, dport=22),    # allowed
        e / IP(src="192.0.2.1", dst="10.0.1.11") / TCP(sport=5000, dport=22),    # denied
        e / IP(src="192.0.2.1", dst="10.0.1.10") / ICMP(type=8),                 # denied
    )]
    outside.append(bad_ip_checksum(outside[0]))                                 # bad header

    def check(out: Outputs, stats: Stats) -> None:
        assert out["outside"] == inside[:4] + [inside[6]]
        assert out["inside"] == outside[:3]
        assert n(stats, "egress.drops") == 2 and n(stats, "ingress.drops") == 2
        assert n(stats, "in_other.count") == 1 and n(stats, "out_other.count") == 0

    return Scenario({"inside": inside, "outside": outside}, check)


@scenario("router")
def router_scenario() -> Scenario:
    from uknfv.traffic.demo import LAN_HOST, LAN_MAC, WAN_HOST, WAN_MAC, traffic
    inputs = {port: [f for _, f in frames] for port, frames in traffic().items()}

    def check(out: Outputs, stats: Stats) -> None:
        lan, wan = [Ether(f) for f in out["lan"]], [Ether(f) for f in out["wan"]]
        assert len(lan) == 3 and len(wan) == 3
        assert lan[0].op == 2 and lan[0].psrc == "10.0.1.1" and lan[0].hwsrc == LAN_MAC
        assert lan[1][ICMP].type == 0 and lan[1][IP].src == "10.0.1.1"
        assert lan[2][IP].src == "10.0.2.2" and lan[2][IP].ttl == 63 and lan[2].dst == LAN_HOST
        assert wan[0][UDP].dport == 53 and wan[0][IP].ttl == 63
        assert wan[0].src == WAN_MAC and wan[0].dst == WAN_HOST
        for p in (wan[0], wan[1], lan[2]):
            assert ip_sum_ok(bytes(p[IP])[:20])
        assert wan[2].op == 2 and wan[2].psrc == "10.0.2.1"
        assert n(stats, "expired.count") == 1 and n(stats, "rt.drops") == 1
        assert n(stats, "wan_other.count") == 1

    return Scenario(inputs, check, mixed={"lan", "wan"})


LB = {"vip": "10.0.0.100", "front_mac": "52:54:00:00:10:01", "gw_mac": "02:00:00:00:10:fe",
      "back_ip": "10.0.1.1", "back_mac": "52:54:00:00:11:01",
      "backends": ["02:00:00:00:11:10", "02:00:00:00:11:11", "02:00:00:00:11:12", "02:00:00:00:11:13"]}
CLIENT_MAC = "02:00:00:00:10:fe"


def lb_flow(i: int, tag: bytes = b"") -> bytes:
    """Client flow i to the VIP (TCP for even i, UDP for odd), from the gateway's MAC."""
    ip = IP(src=f"198.51.100.{1 + i % 200}", dst=LB["vip"])
    l4 = TCP(sport=20000 + i, dport=80, flags="S") if i % 2 == 0 else UDP(sport=30000 + i, dport=53)
    return bytes(Ether(src=CLIENT_MAC, dst=LB["front_mac"]) / ip / l4 / Raw(b"flow%d%s" % (i, tag)))


@scenario("loadbalancer")
def loadbalancer_scenario() -> Scenario:
    flows = [lb_flow(i) for i in range(40)]
    again = [lb_flow(i, b"-again") for i in range(40)]
    front = ([arp_request(CLIENT_MAC, "10.0.0.1", LB["vip"])] + flows + again +
             [bytes(Ether(src=CLIENT_MAC, dst=LB["front_mac"]) /
                    IP(src="198.51.100.9", dst="10.0.0.99") / UDP(sport=1, dport=2)),      # not the VIP
              bytes(Ether(src=CLIENT_MAC, dst=LB["front_mac"], type=0x86dd) / Raw(bytes(40))),
              bad_ip_checksum(lb_flow(99))])
    back_e = Ether(src=LB["backends"][1], dst=LB["back_mac"])
    replies = [bytes(back_e / IP(src=LB["vip"], dst=f"198.51.100.{i + 1}") /
                     TCP(sport=80, dport=20000 + i, flags="SA")) for i in range(3)]
    back = ([arp_request(LB["backends"][0], "10.0.1.10", LB["back_ip"])] + replies +
            [bytes(back_e / IP(src="10.0.1.10", dst="198.51.100.1") / UDP(sport=1, dport=2))])

    def check(out: Outputs, stats: Stats) -> None:
        arps, sent = split_arp(out["back"])
        assert len(arps) == 1
        arp = Ether(arps[0])
        assert arp[ARP].op == 2 and arp[ARP].psrc == LB["back_ip"] and arp[ARP].hwsrc == LB["back_mac"]
        assert len(sent) == 80
        chosen: dict[int, str] = {}
        for i, (want, got) in enumerate(zip(flows + again, sent)):
            g = Ether(got)
            assert got[12:] == want[12:], f"frame {i}: more than the Ethernet addresses changed"
            assert g.src == LB["back_mac"] and g.dst in LB["backends"]
            if i < 40:
                chosen[i] = g.dst
            else:
                assert g.dst == chosen[i - 40], f"flow {i - 40} moved between its packets"
        assert set(chosen.values()) == set(LB["backends"]), "some backend got no flow"
        arps, f = split_arp(out["front"])
        assert len(arps) == 1
        assert Ether(arps[0])[ARP].psrc == LB["vip"] and Ether(arps[0])[ARP].hwsrc == LB["front_mac"]
        assert [x[12:] for x in f] == [r[12:] for r in replies]
        assert all(Ether(x).src == LB["front_mac"] and Ether(x).dst == LB["gw_mac"] for x in f)
        assert n(stats, "lb.count") == 80 and n(stats, "lb.drops") == 0
        assert n(stats, "not_vip.count") == 1 and n(stats, "front_other.count") == 1
        assert n(stats, "front_ip.drops") == 1 and n(stats, "not_from_vip.count") == 1

    return Scenario({"front": front, "back": back}, check, mixed={"front", "back"})


def dscp_frame(dscp: int, i: int) -> bytes:
    """A 60-byte Ethernet/IPv4/UDP frame with the given DSCP."""
    p = (Ether(src="02:00:00:00:30:01", dst="02:00:00:00:30:02") /
         IP(src="10.0.3.1", dst="10.0.4.1", tos=dscp << 2) / UDP(sport=5000 + i, dport=6000))
    return bytes(p / Raw(bytes(60 - len(p))))


@scenario("ratelimiter")
def ratelimiter_scenario() -> Scenario:
    # Rates for a deterministic test: EF is never limited here (a 2.5 MB burst), AF11 has
    # 80 bytes of burst (4000 B/s: two 60-byte frames, then 10 ms before the next one) and
    # best effort 1 byte/s (its first frame only).  All frames arrive within milliseconds.
    ef = [dscp_frame(46, i) for i in range(10)]
    af = [dscp_frame(10 + 2 * (i % 3), 100 + i) for i in range(10)]
    be = [dscp_frame(0, 200 + i) for i in range(10)]
    inside = [f for triple in zip(ef, af, be) for f in triple]
    inside.append(arp_request("02:00:00:00:30:01", "10.0.3.1", "10.0.3.254"))
    outside = [dscp_frame(0, 300 + i) for i in range(5)]

    def check(out: Outputs, stats: Stats) -> None:
        want = [f for f in inside if f in ef or f in (af[0], af[1], be[0]) or f[12:14] == b"\x08\x06"]
        assert out["outside"] == want
        assert out["inside"] == outside
        assert (n(stats, "ef_pass.count"), n(stats, "ef_drop.count")) == (10, 0)
        assert (n(stats, "af_pass.count"), n(stats, "af_drop.count")) == (2, 8)
        assert (n(stats, "be_pass.count"), n(stats, "be_drop.count")) == (1, 9)
        assert n(stats, "af.count1") == 8

    return Scenario({"inside": inside, "outside": outside}, check,
                    defines={"EF_RATE": "1Gbps", "AF_RATE": "4000", "BE_RATE": "1"})


VX = {"vni": 5000, "vlan": 100, "local_ip": "192.168.50.1", "local_mac": "52:54:00:00:50:01",
      "remote_ip": "192.168.50.2", "remote_mac": "02:00:00:00:50:02"}


def vxlan_packet(inner: bytes, vni: int, dst: str = VX["local_ip"]) -> bytes:
    return bytes(Ether(src=VX["remote_mac"], dst=VX["local_mac"]) /
                 IP(src=VX["remote_ip"], dst=dst) / UDP(sport=50000, dport=4789) /
                 VXLAN(vni=vni, flags=0x08) / Raw(inner))


@scenario("vxlan_gateway")
def vxlan_gateway_scenario() -> Scenario:
    inner = [bytes(Ether(src="02:00:00:00:60:01", dst="02:00:00:00:60:02") /
                   IP(src="172.16.0.1", dst="172.16.0.2") / UDP(sport=7000 + i, dport=7) /
                   Raw(b"inner%d" % i)) for i in range(4)]
    inner.append(arp_request("02:00:00:00:60:01", "172.16.0.1", "172.16.0.2"))

    def tag(f: bytes, vlan: int) -> bytes:
        return f[:12] + b"\x81\x00" + vlan.to_bytes(2, "big") + f[12:]
    lan = [tag(f, VX["vlan"]) for f in inner] + [tag(inner[0], 200), inner[1]]
    back = [bytes(Ether(src="02:00:00:00:60:02", dst="02:00:00:00:60:01") /
                  IP(src="172.16.0.2", dst="172.16.0.1") / UDP(sport=7, dport=7000 + i) /
                  Raw(b"back%d" % i)) for i in range(3)]
    tunnel = ([arp_request(VX["remote_mac"], VX["remote_ip"], VX["local_ip"])] +
              [vxlan_packet(f, VX["vni"]) for f in back] +
              [vxlan_packet(back[0], 42),                                 # wrong VNI
               vxlan_packet(back[0], VX["vni"], dst="192.168.50.9"),      # not for this VTEP
               bytes(Ether(src=VX["remote_mac"], dst=VX["local_mac"], type=0x86dd) / Raw(bytes(40)))])

    def check(out: Outputs, stats: Stats) -> None:
        arps, t = split_arp(out["tunnel"])
        assert len(arps) == 1
        assert Ether(arps[0])[ARP].op == 2 and Ether(arps[0])[ARP].psrc == VX["local_ip"]
        assert len(t) == len(inner)
        for want, got in zip(inner, t):
            p = Ether(got)
            assert p.src == VX["local_mac"] and p.dst == VX["remote_mac"]
            assert p[IP].src == VX["local_ip"] and p[IP].dst == VX["remote_ip"]
            assert ip_sum_ok(bytes(p[IP])[:20])
            assert p[UDP].dport == 4789 and 49152 <= p[UDP].sport <= 65535
            assert p[VXLAN].vni == VX["vni"] and bytes(p[VXLAN].payload) == want
        assert out["lan"] == [tag(f, VX["vlan"]) for f in back]
        assert n(stats, "encap.count") == 5 and n(stats, "decap.count") == 3
        assert n(stats, "decap.drops") == 1 and n(stats, "not_for_us.count") == 1
        assert n(stats, "lan_other_vlan.count") == 1 and n(stats, "lan_untagged.count") == 1
        assert n(stats, "tun_other.count") == 1

    return Scenario({"lan": lan, "tunnel": tunnel}, check, mixed={"tunnel"})


@scenario("bridge")
def bridge_scenario() -> Scenario:
    """A learning two-port bridge forwards every frame whose destination is not
    learnt on its ingress port.  The unikernel replays both ports at once, so
    no frame's fate (nor sw.floods) may depend on how they interleave: the
    unicast frames that cross go to hosts that never send (h2, h6: always
    flooded), and the frames that must be dropped go to a host learnt by an
    EARLIER frame of the SAME port."""
    h1, h2, h3, h4, h5, h6 = (f"02:00:00:00:70:0{i}" for i in range(1, 7))
    ea = Ether(src=h1, dst=h2)
    a = [bytes(p) for p in (
        ea / IP(src="10.7.0.1", dst="10.7.0.2") / UDP(sport=1, dport=2) / Raw(b"x" * 300),
        Ether(src=h1, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.7.0.1", pdst="10.7.0.2"),
        ea / IPv6() / UDP(),
        ea / Dot1Q(vlan=7) / IP(dst="10.7.0.2") / ICMP(),
        Ether(src=h1, dst="01:80:c2:00:00:00") / Raw(bytes(40)),   # STP: not forwarded
        Ether(src=h1, dst="01:80:c2:00:00:0e", type=0x88cc) / Raw(bytes(40)),  # LLDP
        Ether(src=h1, dst="01:80:c2:00:00:10") / Raw(bytes(46)),   # forwarded (not link-local)
        Ether(src=h1, dst="01:00:5e:00:00:01") / IP(dst="224.0.0.1") / UDP(),
        Ether(src=h3, dst=h1) / IP(src="10.7.0.3", dst="10.7.0.1") / UDP(),   # h1 is on a: dropped
        Ether(src=h1, dst=h3) / IP(src="10.7.0.1", dst="10.7.0.3") / UDP(),   # h3 is on a: dropped
        ea / IP(src="10.7.0.1", dst="10.7.0.2") / UDP(sport=3, dport=4),
    )]
    b = [bytes(p) for p in (
        Ether(src=h4, dst=h6) / IP(src="10.7.0.4", dst="10.7.0.6") / ICMP(type=0),
        Ether(src=h4, dst="01:80:c2:00:00:01", type=0x8808) / Raw(bytes(46)),  # pause
        Ether(src=h4, dst=h6, type=0x1234) / Raw(bytes(10)),  # short
        Ether(src=h5, dst=h4) / IP(src="10.7.0.5", dst="10.7.0.4") / UDP(),   # h4 is on b: dropped
        Ether(src=h5, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.7.0.5", pdst="10.7.0.1"),
    )]

    def check(out: Outputs, stats: Stats) -> None:
        assert out["b"] == a[:4] + a[6:8] + a[10:]
        assert out["a"] == [b[0], b[2], b[4]]
        assert n(stats, "a_ctl.count") == 2 and n(stats, "b_ctl.count") == 1
        assert n(stats, "a_to_b.count") == 7 and n(stats, "b_to_a.count") == 3
        assert n(stats, "sw.count") == 13 and n(stats, "sw.drops") == 3
        assert n(stats, "sw.floods") == 10 and n(stats, "sw.timeout") == 300

    return Scenario({"a": a, "b": b}, check)


# -- nat44, stateful-firewall, ip-router: frames whose fate does not depend on how
# the two ports' inputs interleave (the unikernel replays both at once); the
# replies that need a flow opened first are checked on the Linux target below,
# where the inside port's burst is read before the outside's.

NAT = {"in_mac": "52:54:00:00:01:01", "out_mac": "52:54:00:00:02:01", "gw_mac": "02:00:00:00:02:02",
       "public": "10.0.2.1", "server": "198.51.100.1"}
H2_MAC, H3_MAC = "02:00:00:00:01:02", "02:00:00:00:01:03"


def arp_reply(src_mac: str, src_ip: str, dst_mac: str, dst_ip: str) -> bytes:
    return bytes(Ether(src=src_mac, dst=dst_mac) /
                 ARP(op=2, hwsrc=src_mac, psrc=src_ip, hwdst=dst_mac, pdst=dst_ip))


def nat_inside() -> list[bytes]:
    e2, e3 = Ether(src=H2_MAC, dst=NAT["in_mac"]), Ether(src=H3_MAC, dst=NAT["in_mac"])
    srv = NAT["server"]
    return [arp_reply(H2_MAC, "10.0.1.2", NAT["in_mac"], "10.0.1.1"),
            arp_reply(H3_MAC, "10.0.1.3", NAT["in_mac"], "10.0.1.1")] + [bytes(p) for p in (
        e2 / IP(src="10.0.1.2", dst=srv) / UDP(sport=5000, dport=53) / Raw(b"q1"),
        e2 / IP(src="10.0.1.2", dst=srv) / UDP(sport=5001, dport=53) / Raw(b"q2"),
        e3 / IP(src="10.0.1.3", dst=srv) / TCP(sport=4000, dport=80, flags="S"),
        e2 / IP(src="10.0.1.2", dst=srv) / UDP(sport=5000, dport=53) / Raw(b"q3"),
        e2 / IP(src="10.0.1.2", dst=srv) / ICMP(type=8, id=7, seq=1),
        e2 / IP(src="10.0.1.2", dst=srv, ttl=1) / UDP(sport=5002, dport=53),
        e2 / IP(src="10.0.1.2", dst="10.0.1.1") / ICMP(type=8, id=9, seq=1),
    )] + [arp_request(H2_MAC, "10.0.1.2", "10.0.1.1")]


@scenario("nat44")
def nat44_scenario() -> Scenario:
    inside = nat_inside()
    eo = Ether(src=NAT["gw_mac"], dst=NAT["out_mac"])
    outside = [bytes(p) for p in (
        eo / IP(src=NAT["server"], dst=NAT["public"]) / UDP(sport=53, dport=40000),   # no flow
        eo / IP(src=NAT["server"], dst=NAT["public"]) / ICMP(type=8, id=3, seq=1),    # to the NAT
    )] + [arp_request(NAT["gw_mac"], "10.0.2.254", NAT["public"])]

    def check(out: Outputs, stats: Stats) -> None:
        arp_out, ip_out = split_arp(out["outside"])
        pk = [Ether(f) for f in ip_out]
        nat = [p for p in pk if p[IP].src == NAT["public"] and p[IP].dst == NAT["server"]
               and not (ICMP in p and p[ICMP].type == 0)]
        assert [(p[IP].proto, (p[UDP].sport if UDP in p else p[TCP].sport if TCP in p else p[ICMP].id))
                for p in nat] == [(17, 1024), (17, 1025), (6, 1026), (17, 1024), (1, 1024)]
        for p in nat:
            assert p.src == NAT["out_mac"] and p.dst == NAT["gw_mac"] and p[IP].ttl == 63
            assert ip_sum_ok(bytes(p[IP])[:20])
            re_ = p.__class__(bytes(p))
            for layer in (UDP, TCP, ICMP):
                if layer in re_:
                    got = re_[layer].chksum
                    del re_[layer].chksum
                    assert Ether(bytes(re_))[layer].chksum == got, p.summary()
        assert nat[0][Raw].load == b"q1" and nat[3][Raw].load == b"q3"
        echo = [p for p in pk if ICMP in p and p[ICMP].type == 0]
        assert len(echo) == 1 and echo[0][IP].src == NAT["public"] and echo[0].dst == NAT["gw_mac"]
        assert len(arp_out) == 1 and Ether(arp_out[0])[ARP].psrc == NAT["public"]
        ins_arp, ins_ip = split_arp(out["inside"])
        assert len(ins_arp) == 1 and Ether(ins_arp[0])[ARP].op == 2
        assert len(ins_ip) == 1 and Ether(ins_ip[0])[ICMP].type == 0 and Ether(ins_ip[0]).dst == H2_MAC
        assert n(stats, "nat.nmappings") == 3 and n(stats, "ping.nmappings") == 1
        assert n(stats, "out_unmatched.count") == 1 and n(stats, "expired.count") == 1

    return Scenario({"inside": inside, "outside": outside}, check, mixed={"outside"})


SF_IN, SF_OUT = "02:00:00:00:01:10", "02:00:00:00:01:20"


def sf_inside() -> list[bytes]:
    e = Ether(src=SF_IN, dst=SF_OUT)
    a, b = "10.0.1.10", "192.0.2.1"
    return [bytes(p) for p in (
        e / IP(src=a, dst=b) / TCP(sport=40000, dport=443, flags="S"),      # allowed: opens
        e / IP(src=a, dst=b) / UDP(sport=40001, dport=53),                  # allowed: opens
        e / IP(src=a, dst=b) / ICMP(type=8, id=7, seq=1),                   # allowed: opens
        e / IP(src=a, dst=b) / TCP(sport=40002, dport=25, flags="S"),       # denied
        e / IP(src=a, dst=b, proto=47) / Raw(bytes(8)),                     # GRE: denied
    )] + [arp_request(SF_IN, a, "10.0.1.1")]


@scenario("stateful_firewall")
def stateful_firewall_scenario() -> Scenario:
    inside = sf_inside()
    e = Ether(src=SF_OUT, dst=SF_IN)
    outside = [bytes(p) for p in (
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=5555, dport=22, flags="S"),  # new: dropped
        e / IP(src="192.0.2.1", dst="10.0.1.10") / ICMP(type=8, id=1, seq=1),              # new: dropped
        e / IP(src="192.0.2.1", dst="10.0.1.10") / UDP(sport=123, dport=40009),             # no flow
    )] + [arp_request(SF_OUT, "192.0.2.1", "10.0.1.10")]

    def check(out: Outputs, stats: Stats) -> None:
        assert out["outside"] == inside[:3] + [inside[5]]
        assert out["inside"] == [outside[3]]
        assert n(stats, "egress.drops") == 2 and n(stats, "out_new.count") == 3
        assert n(stats, "conn.nmappings") == 2 and n(stats, "echo.nmappings") == 1

    return Scenario({"inside": inside, "outside": outside}, check)


IPR = {"lan_mac": "52:54:00:00:01:01", "wan_mac": "52:54:00:00:02:01"}


@scenario("ip_router")
def ip_router_scenario() -> Scenario:
    e2, e3 = Ether(src=H2_MAC, dst=IPR["lan_mac"]), Ether(src=H3_MAC, dst=IPR["lan_mac"])
    lan = [arp_reply(H2_MAC, "10.0.1.2", IPR["lan_mac"], "10.0.1.1"),
           arp_reply(H3_MAC, "10.0.1.3", IPR["lan_mac"], "10.0.1.1")] + [bytes(p) for p in (
        e2 / IP(src="10.0.1.2", dst="10.0.1.3", ttl=9) / UDP(sport=1, dport=2) / Raw(b"hairpin"),
        e2 / IP(src="10.0.1.2", dst="10.0.2.9", ttl=1) / UDP(sport=1, dport=2),     # time exceeded
        e2 / IP(src="10.0.1.2", dst="8.8.8.8") / UDP(sport=1, dport=2),             # unreachable
        e2 / IP(src="10.0.1.2", dst="10.0.1.3", flags="DF") / UDP(sport=1, dport=2) / Raw(bytes(1600)),
        e3 / IP(src="10.0.1.3", dst="10.0.1.2") / UDP(sport=1, dport=2) / Raw(bytes(2000)),  # fragmented
        e2 / IP(src="10.0.1.2", dst="10.0.1.1") / ICMP(type=8, id=4, seq=1),       # ping the router
    )] + [arp_request(H2_MAC, "10.0.1.2", "10.0.1.1")]
    wan = [arp_request("02:00:00:00:02:02", "10.0.2.2", "10.0.2.1"),
           bytes(Ether(src="02:00:00:00:02:02", dst=IPR["wan_mac"], type=0x86dd) / Raw(bytes(40)))]

    def check(out: Outputs, stats: Stats) -> None:
        arp_l, ip_l = split_arp(out["lan"])
        pk = [Ether(f) for f in ip_l]
        hair = pk[0]
        assert hair[Raw].load == b"hairpin" and hair[IP].ttl == 8 and hair.dst == H3_MAC
        assert hair.src == IPR["lan_mac"] and ip_sum_ok(bytes(hair[IP])[:20])
        errs = [p for p in pk if ICMP in p and p[ICMP].type in (3, 11)]
        assert [(p[ICMP].type, p[ICMP].code) for p in errs] == [(11, 0), (3, 0), (3, 4)]
        for p in errs:
            assert p[IP].dst == "10.0.1.2" and p.dst == H2_MAC and ip_sum_ok(bytes(p[IP])[:20])
        assert errs[2][ICMP].nexthopmtu == 1500
        frags = [p for p in pk if p[IP].src == "10.0.1.3"]
        assert len(frags) == 2 and all(len(p[IP]) <= 1500 for p in frags)
        assert sum(len(p[IP].payload) for p in frags) == 8 + 2000
        echo = [p for p in pk if ICMP in p and p[ICMP].type == 0]
        assert len(echo) == 1 and echo[0][IP].src == "10.0.1.1"
        assert len(arp_l) == 1 and Ether(arp_l[0])[ARP].op == 2
        arp_w, ip_w = split_arp(out["wan"])
        assert len(arp_w) == 1 and ip_w == []
        assert n(stats, "wan_other.count") == 1

    return Scenario({"lan": lan, "wan": wan}, check, mixed={"lan"})


def test_nat44_maps_replies_back_on_linux(tmp_path: Path) -> None:
    """Replies need their flow first: on the Linux target the inside burst is read first."""
    m = MANIFESTS["nat44"]
    eo = Ether(src=NAT["gw_mac"], dst=NAT["out_mac"])
    outside = [bytes(p) for p in (
        eo / IP(src=NAT["server"], dst=NAT["public"]) / UDP(sport=53, dport=1025) / Raw(b"r2"),
        eo / IP(src=NAT["server"], dst=NAT["public"]) / TCP(sport=80, dport=1026, flags="SA"),
        eo / IP(src=NAT["server"], dst=NAT["public"]) / ICMP(type=0, id=1024, seq=1),
        eo / IP(src=NAT["server"], dst=NAT["public"]) / UDP(sport=53, dport=1030),       # no flow
    )]
    sc = Scenario({"inside": nat_inside(), "outside": outside}, lambda o, s: None)
    out, stats = run_pcap_ports(m, sc, tmp_path, "linux")
    back = [Ether(f) for f in split_arp(out["inside"])[1] if not (ICMP in Ether(f) and Ether(f)[IP].src == "10.0.1.1")]
    assert [(p[IP].dst, p.dst) for p in back] == [("10.0.1.2", H2_MAC), ("10.0.1.3", H3_MAC), ("10.0.1.2", H2_MAC)]
    assert back[0][UDP].dport == 5001 and back[0][Raw].load == b"r2"
    assert back[1][TCP].dport == 4000 and back[2][ICMP].id == 7
    for p in back:
        assert p[IP].src == NAT["server"] and ip_sum_ok(bytes(p[IP])[:20])
    assert n(stats, "out_unmatched.count") == 1       # the port-1030 datagram


def test_stateful_firewall_lets_replies_in_on_linux(tmp_path: Path) -> None:
    m = MANIFESTS["stateful-firewall"]
    e = Ether(src=SF_OUT, dst=SF_IN)
    outside = [bytes(p) for p in (
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=443, dport=40000, flags="SA"),  # reply
        e / IP(src="192.0.2.1", dst="10.0.1.10") / UDP(sport=53, dport=40001),               # reply
        e / IP(src="192.0.2.1", dst="10.0.1.10") / ICMP(type=0, id=7, seq=1),                # reply
        e / IP(src="192.0.2.1", dst="10.0.1.10") / TCP(sport=443, dport=40002, flags="SA"),  # never opened
    )]
    sc = Scenario({"inside": sf_inside(), "outside": outside}, lambda o, s: None)
    out, stats = run_pcap_ports(m, sc, tmp_path, "linux")
    assert out["inside"] == outside[:3]
    assert n(stats, "out_new.count") == 1


def test_ip_router_resolves_the_next_hop_then_forwards_on_linux(tmp_path: Path) -> None:
    m = MANIFESTS["ip-router"]
    e2 = Ether(src=H2_MAC, dst=IPR["lan_mac"])
    lan = [bytes(e2 / IP(src="10.0.1.2", dst="10.0.2.2") / UDP(sport=1, dport=2) / Raw(b"waits"))]
    wan = [arp_reply("02:00:00:00:02:02", "10.0.2.2", IPR["wan_mac"], "10.0.2.1")]
    sc = Scenario({"lan": lan, "wan": wan}, lambda o, s: None)
    out, stats = run_pcap_ports(m, sc, tmp_path, "linux")
    w = [Ether(f) for f in out["wan"]]
    assert w[0][ARP].op == 1 and w[0][ARP].pdst == "10.0.2.2" and w[0][ARP].psrc == "10.0.2.1"
    assert w[1][Raw].load == b"waits" and w[1].dst == "02:00:00:00:02:02" and w[1][IP].ttl == 63
    assert len(w) == 2


def test_every_manifest_has_a_scenario():
    assert set(MANIFESTS) >= {"firewall", "router", "loadbalancer", "ratelimiter", "vxlan-gateway", "bridge",
                              "nat44", "stateful-firewall", "ip-router"}
    for m in MANIFESTS.values():
        assert m.scenario in SCENARIOS, f"{m.name}: no scenario '{m.scenario}' in {__file__}"
        assert set(SCENARIOS[m.scenario]().inputs) <= set(m.port_names), m.name


# ---------------------------------------------------------------- running a vNF

def _write_inputs(d: Path, sc: Scenario) -> None:
    # Capture times of now: elements with timeouts (ARPQuerier, the rewriters)
    # run on packet timestamps, and packets the vNF makes itself (ping
    # replies, ICMP errors) carry the current time, as in Click.
    t0 = time.time()
    for port, frames in sc.inputs.items():
        write_frames(d / f"{port}_in.pcap", frames, t0=t0)


def _outputs(d: Path, m: Manifest) -> Outputs:
    out = {}
    for port in m.port_names:
        f = d / f"{port}_out.pcap"
        out[port] = read_frames(f) if f.exists() else []
    return out


def run_pcap_ports(m: Manifest, sc: Scenario, d: Path, target: str) -> tuple[Outputs, Stats]:
    """The vNF with every port bound to pcap files (Linux or DPDK target)."""
    d.mkdir(parents=True, exist_ok=True)
    _write_inputs(d, sc)
    args = ["run", str(m.config), *m.define_args(**sc.defines), "--target", target, "--stats"]
    for port in m.port_names:
        if port in sc.inputs:
            args += ["--port", f"{port}=pcap:in={port}_in.pcap,out={port}_out.pcap"]
        else:
            args += ["--port", f"{port}=pcap:{port}_out.pcap"]
    res = run_uknfv(*args, cwd=d, timeout=180)
    assert res.returncode == 0, f"{target}: {res.stderr}"
    return _outputs(d, m), stats_of(res.stdout)


def dump_wrapped(m: Manifest) -> str:
    """The config with FromDevice(P) -> FromDump(P_in.pcap, STOP true), ToDevice(P) -> ToDump(P_out.pcap)."""
    text = m.config.read_text()
    for port in m.port_names:
        q = re.escape(port)
        text, nin = re.subn(rf"\bFromDevice\(\s*{q}\s*\)", f"FromDump({port}_in.pcap, STOP true)", text)
        text, nout = re.subn(rf"\bToDevice\(\s*{q}\s*\)", f"ToDump({port}_out.pcap)", text)
        assert nin == 1 and nout == 1, f"{m.name}: port {port}: {nin} FromDevice, {nout} ToDevice"
    return text


def run_kvm(m: Manifest, sc: Scenario, d: Path) -> tuple[Outputs, Stats]:
    """One boot of the vNF's unikernel, its ports replayed from/to pcap files."""
    d.mkdir(parents=True, exist_ok=True)
    _write_inputs(d, sc)
    for port in m.port_names:
        if port not in sc.inputs:
            write_frames(d / f"{port}_in.pcap", [])
    (d / f"{m.name}.click").write_text(dump_wrapped(m))
    ctl = tempfile.mkdtemp(prefix="uknfv-vnf-")
    try:
        argv = uknfv_cmd() + ["run", f"{m.name}.click", *m.define_args(**sc.defines), "--target", "kvm",
                              "--memory", str(m.memory_mb), "--control", str(Path(ctl) / "ctl.sock")]
        proc = subprocess.Popen(argv, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=os.environ.copy())
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            out, err = interrupt(proc)
            pytest.fail(f"{m.name} on kvm did not end\nstdout:\n{out}\nstderr:\n{err}")
        except BaseException:
            interrupt(proc)
            raise
    finally:
        shutil.rmtree(ctl, ignore_errors=True)
    assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
    assert "UKNFV STATS END" in out, out
    return _outputs(d, m), stats_of(out)


def named_counters(stats: Stats) -> dict[str, str]:
    """Handlers of the config's named elements (not ports, pools, anonymous elements, rates)."""
    return {k: v for k, v in stats.items()
            if "." in k and "@" not in k and not k.startswith(("port.", "pool."))
            and not k.endswith(("rate", "time")) and re.fullmatch(r"[A-Za-z_][\w/]*\.[\w.]+", k)}


def same_outputs(m: Manifest, sc: Scenario, want_dir: Path, got_dir: Path, what: str,
                 exact_order: bool = True) -> None:
    for port in m.port_names:
        w, g = want_dir / f"{port}_out.pcap", got_dir / f"{port}_out.pcap"
        if exact_order or port not in sc.mixed:
            if not w.exists():
                assert not g.exists() or read_frames(g) == [], f"{what}: {port} has frames"
                continue
            assert_same_frames(w, g, f"{m.name}/{port} ({what})")
        else:
            assert sorted(read_frames(g)) == sorted(read_frames(w)), f"{m.name}/{port} ({what})"


def _linux(m: Manifest, sc: Scenario, tmp_path: Path) -> tuple[Outputs, Stats]:
    out, stats = run_pcap_ports(m, sc, tmp_path / "linux", "linux")
    sc.check(out, stats)
    return out, stats


PARAMS = [pytest.param(name, id=name) for name in sorted(MANIFESTS)]


@pytest.mark.parametrize("name", PARAMS)
def test_vnf_on_linux(name: str, tmp_path: Path) -> None:
    m = MANIFESTS[name]
    _linux(m, SCENARIOS[m.scenario](), tmp_path)


@pytest.mark.e2e
@needs_dpdk
@pytest.mark.parametrize("name", PARAMS)
def test_vnf_dpdk_same_as_linux(name: str, tmp_path: Path) -> None:
    m = MANIFESTS[name]
    sc = SCENARIOS[m.scenario]()
    _, lstats = _linux(m, sc, tmp_path)
    _, dstats = run_pcap_ports(m, sc, tmp_path / "dpdk", "dpdk")
    same_outputs(m, sc, tmp_path / "linux", tmp_path / "dpdk", "dpdk vs linux")
    lc = named_counters(lstats)
    assert lc and {k: dstats.get(k) for k in lc} == lc


@pytest.mark.e2e
@pytest.mark.vm
@pytest.mark.skipif(QEMU is None, reason="needs qemu-system-x86_64 (apt-get install qemu-system-x86)")
@pytest.mark.parametrize("name", PARAMS)
def test_vnf_kvm_same_as_linux(name: str, tmp_path: Path) -> None:
    m = MANIFESTS[name]
    sc = SCENARIOS[m.scenario]()
    _, lstats = _linux(m, sc, tmp_path)
    _, kstats = run_kvm(m, sc, tmp_path / "kvm")
    same_outputs(m, sc, tmp_path / "linux", tmp_path / "kvm", "kvm vs linux", exact_order=False)
    lc = {k: v for k, v in named_counters(lstats).items() if k in kstats}
    assert len(lc) >= 3, sorted(kstats)
    assert {k: kstats[k] for k in lc} == lc


# ---------------------------------------------------------------- live health changes (DPDK, TAPs)

def _tap_socket(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((ifname, 0))
    s.settimeout(0.2)
    return s


def _wait_link(ifname: str, deadline: float) -> None:
    while not Path(f"/sys/class/net/{ifname}").exists():
        assert time.monotonic() < deadline, f"{ifname} did not appear"
        time.sleep(0.1)
    subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
    Path(f"/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6").write_text("1\n")


@pytest.mark.e2e
@needs_dpdk
@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/dev/net/tun"),
                    reason="needs root and /dev/net/tun (DPDK's TAP ports)")
def test_loadbalancer_live_down_up_on_dpdk(tmp_path: Path) -> None:
    """`lb.down K` on a running DPDK vNF moves only backend K's flows; `lb.up K` brings them back."""
    from uknfv.run.control import ControlClient
    m = MANIFESTS["loadbalancer"]
    suffix = f"{os.getpid() % 10000}"
    front, back = f"ukf{suffix}", f"ukb{suffix}"
    ctl_dir = tempfile.mkdtemp(prefix="uknfv-lb-")
    ctl = str(Path(ctl_dir) / "ctl.sock")
    argv = uknfv_cmd() + ["run", str(m.config), "--target", "dpdk", "--control", ctl, "--stats",
                          "--port", f"front=tap:{front}", "--port", f"back=tap:{back}"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    mac_index = {mac: i for i, mac in enumerate(LB["backends"])}
    socks: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(ctl):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no control socket"
            time.sleep(0.1)
        _wait_link(front, deadline)
        _wait_link(back, deadline)
        tx, rx = _tap_socket(front), _tap_socket(back)
        socks += [tx, rx]

        def phase(tag: bytes) -> dict[int, int]:
            """Send one packet of each of 32 flows; return {flow: backend index}."""
            while True:                      # drain anything left over
                try:
                    rx.recv(65535)
                except socket.timeout:
                    break
            for i in range(32):
                tx.send(lb_flow(i, tag))
            got: dict[int, int] = {}
            end = time.monotonic() + 10
            while len(got) < 32 and time.monotonic() < end:
                try:
                    f = rx.recv(65535)
                except socket.timeout:
                    continue
                p = Ether(f)
                if p.src != LB["back_mac"] or Raw not in p or not p[Raw].load.endswith(tag):
                    continue
                i = int(re.match(rb"flow(\d+)", p[Raw].load).group(1))
                got[i] = mac_index[p.dst]
            assert len(got) == 32, f"{tag!r}: {len(got)} of 32 flows came out"
            return got

        before = phase(b"-p1")
        k = max(set(before.values()), key=lambda b: sum(1 for v in before.values() if v == b))
        with ControlClient(ctl) as c:
            c.write("lb.down", str(k))
            assert c.read("lb.nup").strip() == "3"
        during = phase(b"-p2")
        for i, b in before.items():
            if b == k:
                assert during[i] != k, f"flow {i} still on backend {k}"
            else:
                assert during[i] == b, f"flow {i} moved from backend {b} although {k} went down"
        with ControlClient(ctl) as c:
            c.write("lb.up", str(k))
            assert c.read("lb.nup").strip() == "4"
        after = phase(b"-p3")
        assert after == before
    finally:
        for s in socks:
            s.close()
        out, err = interrupt(proc)
        shutil.rmtree(ctl_dir, ignore_errors=True)
    assert proc.returncode == 0, err
    assert "lb.count" in out
