"""pipelines/nat44.click as a unikernel under QEMU between a private and a public host.

    inside 10.0.1.2/24 ── [ 10.0.1.1  NAT44 VM  10.0.2.1 ] ── outside 10.0.2.2/24

The outside host has no route to 10.0.1.0/24: everything it sees comes
from 10.0.2.1, and its replies only reach the inside host because the NAT
maps them back.  Real iperf3 over TCP and UDP, real ping, ARP resolved by the
vNF on the inside (the outside host is the upstream gateway, a define), the
flow table read live through the control channel.
"""
from __future__ import annotations

import json
import subprocess
import time

import pytest
from scapy.all import IP, UDP, Ether, Raw

from uknfv.traffic.vmlab import Host, VMLab, qemu_missing

pytestmark = [pytest.mark.e2e, pytest.mark.vm,
              pytest.mark.skipif(qemu_missing() is not None, reason=f"{qemu_missing()}")]

IN_MAC, OUT_MAC = "52:54:00:00:01:01", "52:54:00:00:02:01"
INSIDE = Host("inside", "inside", "10.0.1.2/24", "02:00:00:00:01:02", gateway="10.0.1.1")
OUTSIDE = Host("outside", "outside", "10.0.2.2/24", "02:00:00:00:02:02")
PUBLIC = "10.0.2.1"


@pytest.fixture(scope="module")
def vm(kvm_image):
    with VMLab(kvm_image("nat44"), (INSIDE, OUTSIDE),
               macs={"inside": IN_MAC, "outside": OUT_MAC}) as lab:
        yield lab


def test_ping_through_the_nat(vm):
    r = vm.ping("inside", OUTSIDE.ip, count=3)
    assert r.received == 3, r
    assert "10.0.2.2" in vm.read("ping.mappings")


def test_tcp_iperf3_through_the_nat_is_seen_from_the_public_address(vm):
    rep = vm.iperf("inside", "outside", nbytes="4M")
    assert "error" not in rep, rep
    # iperf3 -n stops counting when the sender has written its last byte; the
    # receiver's total is what had arrived by then, every byte through the NAT.
    assert rep["end"]["sum_sent"]["bytes"] == 4 * 1024 * 1024
    assert rep["end"]["sum_received"]["bytes"] > 0
    conn = rep["start"]["connected"][0]
    assert conn["local_host"] == INSIDE.ip and conn["remote_host"] == OUTSIDE.ip
    # The server's side of the same connection saw the NAT's address.
    table = vm.read("nat.mappings")
    assert f"{PUBLIC}" in table and INSIDE.ip in table, table


def test_udp_iperf3_through_the_nat(vm):
    srv = vm.popen("outside", ["iperf3", "-s", "-1", "-B", OUTSIDE.ip, "-p", "5202", "-J"],
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for _ in range(50):
            res = vm.run("inside", ["iperf3", "-c", OUTSIDE.ip, "-p", "5202", "-u", "-b", "20M",
                                    "-t", "2", "-l", "1200", "-J", "--connect-timeout", "10000"],
                         timeout=60)
            rep = json.loads(res.stdout)
            if "refused" not in str(rep.get("error", "")):
                break
        assert "error" not in rep, rep
        server_side = json.loads(srv.communicate(timeout=30)[0])
    finally:
        if srv.poll() is None:
            srv.kill()
    # UDP datagrams reached the server from the public address, and its
    # control connection's replies came back through the mapping.
    assert server_side["start"]["connected"][0]["remote_host"] == PUBLIC
    got = server_side["end"]["sum"]
    assert got["packets"] > 1000 and got["lost_percent"] < 5, got


def test_replies_are_mapped_back_and_unsolicited_traffic_is_dropped(vm):
    before = vm.read_int("out_unmatched.count")
    # A datagram to the public address that matches no flow: dropped, counted.
    frame = bytes(Ether(src=OUTSIDE.mac, dst=OUT_MAC) / IP(src=OUTSIDE.ip, dst=PUBLIC) /
                  UDP(sport=53, dport=40000) / Raw(b"unsolicited"))
    vm.send("outside", [frame])
    for _ in range(50):
        if vm.read_int("out_unmatched.count") > before:
            break
        time.sleep(0.1)
    assert vm.read_int("out_unmatched.count") == before + 1
    # The vNF learnt the inside host through ARP.
    assert INSIDE.ip in vm.read("in_arp.table")
    assert int(vm.read("nat.nmappings")) >= 1
