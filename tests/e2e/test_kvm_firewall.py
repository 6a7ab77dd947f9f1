"""pipelines/firewall.click as a unikernel under QEMU: a bump in the wire.

    inside 10.0.1.10/24 ── [ firewall VM ] ── outside 10.0.1.20/24   (one subnet)

Real services listen in the outside namespace on allowed *and* denied ports,
so "denied" means the firewall dropped it, not that nobody answered.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw

from uknfv.traffic.vmlab import FIREWALL_HOSTS, firewall_lab, qemu_missing

pytestmark = [pytest.mark.e2e, pytest.mark.vm,
              pytest.mark.skipif(qemu_missing() is not None, reason=f"{qemu_missing()}")]

INSIDE, OUTSIDE = FIREWALL_HOSTS
TCP_PORTS, UDP_PORTS = (22, 80, 443, 25), (53, 123)
ALLOWED = {"tcp/22", "tcp/80", "tcp/443", "udp/53"}
DENIED = {"tcp/25", "udp/123"}
NOBODY = "02:00:00:00:01:99"      # no host has this MAC: frames to it reach no IP stack

# Services in the outside namespace: TCP says "hello PORT", UDP echoes "echo PORT DATA".
SERVICES = r"""
import selectors, socket, sys
ip, tcp, udp = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
sel = selectors.DefaultSelector()
for p in tcp:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, int(p))); s.listen(16); sel.register(s, selectors.EVENT_READ, ("tcp", p))
for p in udp:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((ip, int(p)))
    sel.register(s, selectors.EVENT_READ, ("udp", p))
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        kind, p = key.data
        if kind == "tcp":
            c, _ = key.fileobj.accept(); c.sendall(b"hello %s\n" % p.encode()); c.close()
        else:
            d, a = key.fileobj.recvfrom(2048); key.fileobj.sendto(b"echo %s " % p.encode() + d, a)
"""

# Clients in the inside namespace: every probe at once, each with its own timeout.
PROBES = r"""
import json, socket, sys, threading
ip, wait, probes = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
out = {}
def probe(spec):
    kind, port = spec.split("/")
    try:
        if kind == "tcp":
            s = socket.create_connection((ip, int(port)), timeout=wait)
            out[spec] = "answered: " + s.recv(64).decode().strip()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(wait)
            s.sendto(b"query", (ip, int(port)))
            out[spec] = "answered: " + s.recv(64).decode().strip()
        s.close()
    except socket.timeout:
        out[spec] = "timeout"
    except OSError as e:
        out[spec] = "error: " + str(e)
threads = [threading.Thread(target=probe, args=(p,)) for p in probes]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def vm(kvm_image):
    with firewall_lab(kvm_image("firewall")) as lab:
        srv = lab.popen("outside", [sys.executable, "-c", SERVICES, OUTSIDE.ip,
                                    ",".join(map(str, TCP_PORTS)), ",".join(map(str, UDP_PORTS))],
                        stdout=subprocess.PIPE)
        try:
            assert srv.stdout.readline().strip() == b"ready", "the services did not start"
            yield lab
        finally:
            srv.stdout.close()


@pytest.fixture(scope="module")
def probes(vm):
    """Every service probed from inside, with the drop counters before and after."""
    before = {h: vm.read_int(h) for h in ("egress.drops", "ingress.drops")}
    res = vm.python("inside", PROBES, OUTSIDE.ip, "3", *sorted(ALLOWED | DENIED), timeout=60)
    assert res.returncode == 0, res.stderr
    after = {h: vm.read_int(h) for h in before}
    return json.loads(res.stdout), before, after


def test_ping_inside_to_outside_passes_unrouted(vm):
    r = vm.ping("inside", OUTSIDE.ip)
    assert r.received == 3, r.output
    assert set(r.ttls) == {64}          # a bump in the wire: no hop, no TTL decrement
    # ARP crossed the firewall both ways: each side knows the other's real MAC.
    assert f"{OUTSIDE.ip} dev eth0 lladdr {OUTSIDE.mac}" in vm.run("inside", ["ip", "neigh"]).stdout
    assert f"{INSIDE.ip} dev eth0 lladdr {INSIDE.mac}" in vm.run("outside", ["ip", "neigh"]).stdout


def test_ping_outside_to_inside_is_dropped_and_counted(vm):
    before = vm.read_int("ingress.drops")
    r = vm.ping("outside", INSIDE.ip, count=2, wait=1)
    assert r.received == 0, r.output
    assert vm.read_int("ingress.drops") - before >= 2


def test_allowed_services_answer(probes):
    results, _, _ = probes
    for spec in sorted(ALLOWED):
        kind, port = spec.split("/")
        word = "hello" if kind == "tcp" else "echo"
        assert results[spec].startswith(f"answered: {word} {port}"), (spec, results[spec])


def test_denied_services_get_no_answer_although_they_listen(probes):
    results, before, after = probes
    for spec in sorted(DENIED):
        assert results[spec] == "timeout", (spec, results[spec])
    # At least the first TCP 25 SYN and the UDP 123 datagram, dropped going out.
    assert after["egress.drops"] - before["egress.drops"] >= 2


def test_scapy_frames_pass_or_drop_exactly_as_the_rules_say(vm):
    def frame(src_mac, src, dst, l4, tag):
        return bytes(Ether(src=src_mac, dst=NOBODY) / IP(src=src, dst=dst) / l4 /
                     Raw(b"uknfv-fw-" + tag.encode()))
    far = "10.0.1.99"       # nobody's address: nothing answers, nothing else is counted
    out_going = {           # inside -> outside
        "icmp-echo": (ICMP(type=8), True),
        "udp-53": (UDP(sport=5353, dport=53), True),
        "tcp-22": (TCP(sport=40000, dport=22, flags="S"), True),
        "tcp-80": (TCP(sport=40000, dport=80, flags="S"), True),
        "tcp-443": (TCP(sport=40000, dport=443, flags="S"), True),
        "tcp-25": (TCP(sport=40000, dport=25, flags="S"), False),
        "udp-123": (UDP(sport=123, dport=123), False),
    }
    in_coming = {           # outside -> inside (to 10.0.1.10)
        "echo-reply": (ICMP(type=0), True),
        "from-443": (TCP(sport=443, dport=40000, flags="SA"), True),
        "ssh-to-10": (TCP(sport=50000, dport=22, flags="S"), True),
        "echo": (ICMP(type=8), False),
        "tcp-8080": (TCP(sport=50000, dport=8080, flags="S"), False),
    }
    before = {h: vm.read_int(h) for h in ("egress.drops", "ingress.drops")}
    with vm.capture("outside", "ip") as at_outside, vm.capture("inside", "ip") as at_inside:
        vm.send("inside", [frame(INSIDE.mac, INSIDE.ip, far, l4, tag)
                           for tag, (l4, _) in out_going.items()])
        vm.send("outside", [frame(OUTSIDE.mac, far, INSIDE.ip, l4, tag)
                            for tag, (l4, _) in in_coming.items()])
    after = {h: vm.read_int(h) for h in before}

    def tags(frames):
        return {m.group(1).decode() for f in frames
                for m in [re.search(rb"uknfv-fw-([a-z0-9-]+)", f)] if m}
    assert tags(at_outside) == {t for t, (_, ok) in out_going.items() if ok}
    assert tags(at_inside) == {t for t, (_, ok) in in_coming.items() if ok}
    # The firewall forwards the frames it allows unchanged.
    sent = {frame(INSIDE.mac, INSIDE.ip, far, l4, t) for t, (l4, ok) in out_going.items() if ok}
    assert sent <= set(at_outside)
    assert after["egress.drops"] - before["egress.drops"] == 2
    assert after["ingress.drops"] - before["ingress.drops"] == 2
