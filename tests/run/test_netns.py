"""uknfv.run.netns: namespaces, veths, TAPs, bridges; both backends; cleanup always."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from uknfv.run import netns
from uknfv.run.netns import Lab, NetError

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")]

BACKENDS = ["pyroute2", "ip"]


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {l.split()[0] for l in out.splitlines() if l.strip()}


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


UDP_ECHO = ("import socket;s=socket.socket(2,2);s.bind(('{ip}',9));"
            "d,a=s.recvfrom(99);s.sendto(d[::-1],a)")
UDP_ASK = ("import socket;s=socket.socket(2,2);s.settimeout(3);"
           "s.sendto(b'uknfv',('{ip}',9));print(s.recv(99).decode())")


@pytest.mark.parametrize("be", BACKENDS)
def test_two_hosts_on_a_bridge_talk_and_everything_goes_away(be):
    tag = f"{os.getpid() % 10000}"
    br, v1, v2, tap = f"ukb{tag}", f"ukv{tag}a", f"ukv{tag}b", f"ukt{tag}"
    with Lab(be=netns.backend(be)) as lab:
        h1, h2 = lab.netns("h1"), lab.netns("h2")
        lab.bridge(br)
        lab.veth(v1, "eth0", ns_b=h1, mac_b="02:00:00:00:00:01")
        lab.veth("eth0", v2, ns_a=h2)            # either end may be the namespaced one
        lab.attach(v1, br)
        lab.attach(v2, br)
        lab.tap(tap, bridge=br)
        lab.addr("eth0", "10.99.0.1/24", ns=h1)
        lab.addr("eth0", "10.99.0.2/24", ns=h2)
        lab.route("default", via="10.99.0.2", ns=h1)
        lab.route("10.98.0.0/16", via="10.99.0.2", ns=h1)
        lab.neigh("10.99.0.9", "02:00:00:00:00:09", "eth0", ns=h1)
        routes = lab.run(h1, ["ip", "route"]).stdout
        assert "default via 10.99.0.2 dev eth0" in routes and "10.98.0.0/16 via 10.99.0.2" in routes
        assert "10.99.0.9 dev eth0 lladdr 02:00:00:00:00:09 PERMANENT" in lab.run(h1, ["ip", "neigh"]).stdout
        assert "02:00:00:00:00:01" in lab.run(h1, ["cat", "/sys/class/net/eth0/address"]).stdout
        assert Path("/sys/class/net", tap, "tun_flags").exists()
        assert Path("/sys/class/net", tap, "master").resolve().name == br
        lab.popen(h2, [sys.executable, "-c", UDP_ECHO.format(ip="10.99.0.2")])
        time.sleep(0.3)
        res = lab.run(h1, [sys.executable, "-c", UDP_ASK.format(ip="10.99.0.2")])
        assert res.stdout.strip() == "vfnku", res.stderr
        sleeper = lab.popen(h2, ["sleep", "60"])
        mine = {h1, h2}
    assert sleeper.poll() is not None                      # processes killed
    # Our namespaces are gone (others, from unrelated runs, may come and go).
    assert not (mine & namespaces())
    assert not any(link_exists(n) for n in (br, v1, v2, tap))


@pytest.mark.parametrize("be", BACKENDS)
def test_cleanup_after_a_failure(be):
    tag = f"{os.getpid() % 10000}"
    made = []
    with pytest.raises(NetError):
        with Lab(be=netns.backend(be)) as lab:
            made.append(lab.netns("x"))
            lab.tap(f"ukt{tag}c")
            lab.addr("nosuchif0", "10.0.0.1/24")          # fails
    assert made and made[0] not in namespaces()
    assert not link_exists(f"ukt{tag}c")


def test_errors_are_clear():
    be = netns.backend("pyroute2")
    with pytest.raises(NetError, match="no network namespace 'uk-nonexistent'"):
        be.addr("eth0", "10.0.0.1/24", "uk-nonexistent")
    with pytest.raises(NetError, match="unknown network backend"):
        netns.backend("nm")


def test_add_tap_and_delete_link_helpers():
    name = f"ukh{os.getpid() % 100000}"
    netns.add_tap(name)
    try:
        assert Path("/sys/class/net", name, "tun_flags").exists()
        assert int(Path("/sys/class/net", name, "flags").read_text(), 16) & 1
    finally:
        netns.delete_link(name)
    assert not link_exists(name)
    netns.delete_link(name)                                 # already gone: fine


def test_run_in_runs_inside():
    with Lab() as lab:
        ns = lab.netns("r")
        out = netns.run_in(ns, ["ip", "-o", "link"]).stdout
        assert "lo" in out and "eth0" not in out
