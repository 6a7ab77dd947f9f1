"""pipelines/router.click as a unikernel under QEMU, between two namespace hosts.

    lan 10.0.1.2/24 ── [ 10.0.1.1  router VM  10.0.2.1 ] ── wan 10.0.2.2/24

Real ping, real iperf3, scapy frames from a namespace, counters read
through `uknfv read` over the control channel.
"""
from __future__ import annotations

import os
import subprocess

import pytest
from scapy.all import IP, UDP, Ether, Raw

from uknfv.traffic.vmlab import ROUTER_HOSTS, ROUTER_MACS, qemu_missing, router_lab

pytestmark = [pytest.mark.e2e, pytest.mark.vm,
              pytest.mark.skipif(qemu_missing() is not None, reason=f"{qemu_missing()}")]

LAN, WAN = ROUTER_HOSTS
LAN_MAC, WAN_MAC = ROUTER_MACS["lan"], ROUTER_MACS["wan"]


@pytest.fixture(scope="module")
def vm(kvm_image):
    with router_lab(kvm_image("router")) as lab:
        yield lab


def from_lan(dst: str, ttl: int = 64, tag: bytes = b"") -> bytes:
    return bytes(Ether(src=LAN.mac, dst=LAN_MAC) / IP(src=LAN.ip, dst=dst, ttl=ttl) /
                 UDP(sport=4321, dport=9) / Raw(b"uknfv-e2e" + tag))


def ip_header_ok(pkt) -> bool:
    hdr = bytes(pkt[IP])[:20]
    s = sum(int.from_bytes(hdr[i:i + 2], "big") for i in range(0, 20, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def test_boots_and_reports_ready(vm):
    assert vm.ready_line.startswith("UKNFV READY") and vm.boot_us is not None
    assert "ports=2 nics=2" in vm.ready_line
    assert vm.accel_line.startswith("uknfv: using ")


def test_ping_across_the_router_both_ways_with_ttl_decremented(vm):
    there = vm.ping("lan", WAN.ip)
    back = vm.ping("wan", LAN.ip)
    assert there.received == 3, there.output
    assert back.received == 3, back.output
    # Linux replies with TTL 64; one hop through the router makes it 63.
    assert set(there.ttls) == {63} and set(back.ttls) == {63}


def test_router_answers_arp_and_pings_to_its_own_addresses(vm):
    for host, addr in (("lan", "10.0.1.1"), ("wan", "10.0.2.1"), ("lan", "10.0.2.1")):
        r = vm.ping(host, addr)
        assert r.received == 3, f"{host} -> {addr}:\n{r.output}"
    # The hosts learnt the router's MACs through its ARPResponders.
    assert f"10.0.1.1 dev eth0 lladdr {LAN_MAC}" in vm.run("lan", ["ip", "neigh"]).stdout
    assert f"10.0.2.1 dev eth0 lladdr {WAN_MAC}" in vm.run("wan", ["ip", "neigh"]).stdout


def test_forwarded_frame_has_ttl_minus_one_and_new_ethernet_header(vm):
    with vm.capture("wan", "udp and port 9") as got:
        vm.send("lan", [from_lan(WAN.ip, ttl=5, tag=b"ttl5")])
    pkts = [Ether(f) for f in got if b"ttl5" in f]
    assert len(pkts) == 1, [Ether(f).summary() for f in got]
    p = pkts[0]
    assert p[IP].ttl == 4 and ip_header_ok(p)
    assert p.src == WAN_MAC and p.dst == WAN.mac
    assert p[IP].src == LAN.ip and p[IP].dst == WAN.ip


def test_drops_are_counted_through_the_control_channel(vm):
    before = {h: vm.read_int(h) for h in ("expired.count", "rt.drops", "lan_other.count")}
    frames = [from_lan(WAN.ip, ttl=1, tag=b"ttl1-%d" % i) for i in range(3)]      # expire
    frames.append(from_lan("192.168.9.9", tag=b"noroute"))                        # no route
    frames.append(bytes(Ether(src=LAN.mac, dst=LAN_MAC, type=0x88B5) / Raw(b"x" * 46)))
    with vm.capture("wan") as got:
        vm.send("lan", frames)
    assert not [f for f in got if b"uknfv-e2e" in f], "dropped frames reached the wan host"
    after = {h: vm.read_int(h) for h in before}
    assert after["expired.count"] - before["expired.count"] == 3
    assert after["rt.drops"] - before["rt.drops"] == 1
    assert after["lan_other.count"] - before["lan_other.count"] == 1


def test_uknfv_handlers_lists_and_reads_every_counter(vm):
    res = vm.uknfv("handlers", str(vm.control), "-v")
    assert res.returncode == 0, res.stderr
    values = dict(l.split(": ", 1) for l in res.stdout.splitlines() if ": " in l)
    for h in ("lan_out.count", "wan_out.count", "expired.count", "rt.drops", "lan_ttl.drops"):
        assert values[h].strip().isdigit(), (h, values.get(h))


def test_iperf3_tcp_transfer_completes(vm):
    before = vm.read_int("wan_out.count")
    report = vm.iperf("lan", "wan", nbytes="2M", timeout=90)
    assert "error" not in report, report.get("error")
    sent, received = report["end"]["sum_sent"], report["end"]["sum_received"]
    assert sent["bytes"] == 2 * 1024 * 1024
    # iperf3 stops counting when the sender has written its last byte into its socket, so
    # the receiver's total is what had arrived by then (on a loaded TCG host, as little as
    # a tenth); every byte of it crossed the router.
    assert received["bytes"] > 0
    assert vm.read_int("wan_out.count") - before >= received["bytes"] // 1500


def test_clean_stop_prints_the_final_counters_and_removes_everything(kvm_image):
    with router_lab(kvm_image("router")) as lab:
        assert lab.ping("lan", WAN.ip, count=2).received == 2
        namespaces = [lab.ns(h) for h in ("vm", "lan", "wan")]
        sock, tmp = lab.control, lab.tmp
        assert sock.exists()
        stats = lab.stop()
    assert lab.exit_status == 0, lab.tail()
    assert any(l.startswith("UKNFV EXIT status=0") for l in lab.console)
    assert int(stats["wan_out.count"]) >= 2 and int(stats["lan_out.count"]) >= 2
    assert stats["port.lan.rx"].split()[0] != "0"
    assert "10.0.2.0/24" in stats["rt.table"]
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not [n for n in namespaces if n in listed]
    assert not os.path.exists(tmp) and not sock.exists()


def test_everything_is_removed_when_the_body_fails(kvm_image):
    with pytest.raises(RuntimeError, match="the test failed"):
        with router_lab(kvm_image("router")) as lab:
            namespaces = [lab.ns(h) for h in ("vm", "lan", "wan")]
            pid, tmp = lab.proc.pid, lab.tmp
            raise RuntimeError("the test failed")
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not [n for n in namespaces if n in listed]
    assert not os.path.exists(tmp)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)         # uknfv run (and with it QEMU) is gone
    assert lab.stats.get("port.lan.rx"), "the guest was stopped cleanly, printing its stats"
