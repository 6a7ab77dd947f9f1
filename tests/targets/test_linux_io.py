"""The Linux target's live port backends: `if:` (AF_PACKET rings) and `tap:`.

Each end-to-end test makes a fresh network namespace with veth pairs (or
lets the vNF create TAP devices in it), runs a vNF with
`ip netns exec NS uknfv run FILE --port in=... --port out=... --stats`,
sends frames with scapy from inside the namespace and sniffs where they
should come out, then stops the vNF with SIGINT and reads its counters.
Namespaces (and the interfaces in them) and processes are always removed,
even when a test fails.  These tests need root (network namespaces, raw
sockets); they are skipped otherwise.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from uknfv.testing import run_uknfv, stats_of, uknfv_cmd

pytest.importorskip("scapy.all")

IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT or shutil.which("ip") is None,
                                reason="needs root and iproute2 (network namespaces)")

FORWARD = "FromDevice(in) -> c :: Counter -> ToDevice(out);\n"
MARK = b"uknfv-io-test"

# Runs inside the namespace: sniff on one interface, send on another, report.
HELPER = r'''
import json, sys, time
from scapy.all import AsyncSniffer, sendp
send_if, sniff_if, frames_file, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
frames = [bytes.fromhex(h) for h in json.load(open(frames_file))]
mark = bytes.fromhex(sys.argv[5])
ready = []
sn = AsyncSniffer(iface=sniff_if, store=True, lfilter=lambda p: mark in bytes(p),
                  started_callback=lambda: ready.append(1))
sn.start()
t0 = time.time()
while not ready and time.time() - t0 < 10:
    time.sleep(0.01)
time.sleep(0.2)
for f in frames:
    sendp(f, iface=send_if, verbose=False)
time.sleep(wait)
got = sn.stop()
print(json.dumps([bytes(p).hex() for p in got]))
'''


def sh(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, timeout=30)


@pytest.fixture
def make_netns():
    """Makes fresh network namespaces (loopback up, IPv6 off so they stay
    quiet); deletes them, and the interfaces in them, at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"uknfv-t-{uuid.uuid4().hex[:8]}"
        sh("ip", "netns", "add", name)
        made.append(name)
        sh("ip", "-n", name, "link", "set", "lo", "up")
        sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        sh("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        return name

    try:
        yield make
    finally:
        for name in made:
            sh("ip", "netns", "del", name, check=False)


@pytest.fixture
def netns(make_netns):
    return make_netns()


def add_veth(ns: str, a: str, b: str, mtu: int | None = None) -> None:
    sh("ip", "-n", ns, "link", "add", a, "type", "veth", "peer", "name", b)
    for i in (a, b):
        if mtu:
            sh("ip", "-n", ns, "link", "set", i, "mtu", str(mtu))
        sh("ip", "-n", ns, "link", "set", i, "up")


def link_flags(ns: str, ifname: str) -> str:
    res = sh("ip", "-n", ns, "-o", "link", "show", ifname, check=False)
    return res.stdout if res.returncode == 0 else ""


def promiscuous(ns: str, ifname: str) -> bool:
    """Whether an AF_PACKET socket holds ifname in promiscuous mode (the
    vNF's RX port is open); PACKET_MR_PROMISC shows only in `ip -d`."""
    res = sh("ip", "-n", ns, "-d", "-o", "link", "show", ifname, check=False)
    m = re.search(r"promiscuity (\d+)", res.stdout)
    return bool(m and int(m.group(1)) > 0)


def link_stat(ns: str, ifname: str, direction: str, counter: str) -> int:
    res = sh("ip", "-n", ns, "-j", "-s", "link", "show", ifname)
    return int(json.loads(res.stdout)[0]["stats64"][direction][counter])


class Vnf:
    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.stdout = ""
        self.stderr = ""

    @property
    def stats(self) -> dict[str, str]:
        return stats_of(self.stdout)


@contextmanager
def running_vnf(ns: str, workdir: Path, config: str, ports: list[str], ready):
    """Run `uknfv run` inside ns until the block ends, then SIGINT it.

    `ready()` returns True once the vNF's ports are open.  On exit the
    process is always gone (SIGINT, then SIGKILL), and its output is in the
    yielded object.
    """
    (workdir / "vnf.click").write_text(config)
    res = run_uknfv("build", "vnf.click", "-o", "vnf", cwd=workdir)  # warm the build cache
    assert res.returncode == 0, res.stderr
    cmd = ["ip", "netns", "exec", ns, *uknfv_cmd(), "run", "vnf.click", "--stats"]
    for p in ports:
        cmd += ["--port", p]
    vnf = Vnf()
    out = open(workdir / "vnf.stdout", "w+")
    err = open(workdir / "vnf.stderr", "w+")
    vnf.proc = subprocess.Popen(cmd, cwd=workdir, stdout=out, stderr=err)
    try:
        deadline = time.time() + 60
        while not ready():
            if vnf.proc.poll() is not None:
                err.seek(0)
                pytest.fail(f"the vNF exited early ({vnf.proc.returncode}): {err.read()}")
            if time.time() > deadline:
                pytest.fail("the vNF did not open its ports within 60 s")
            time.sleep(0.05)
        time.sleep(0.3)
        yield vnf
    finally:
        if vnf.proc.poll() is None:
            vnf.proc.send_signal(signal.SIGINT)
            try:
                vnf.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                vnf.proc.kill()
                vnf.proc.wait()
        out.seek(0)
        err.seek(0)
        vnf.stdout, vnf.stderr = out.read(), err.read()
        out.close()
        err.close()


def send_and_sniff(ns: str, workdir: Path, send_if: str, sniff_if: str, frames: list[bytes],
                   wait: float = 1.5) -> list[bytes]:
    helper = workdir / "helper.py"
    helper.write_text(HELPER)
    ff = workdir / "frames.json"
    ff.write_text(json.dumps([f.hex() for f in frames]))
    res = subprocess.run(["ip", "netns", "exec", ns, sys.executable, str(helper), send_if, sniff_if,
                          str(ff), str(wait), MARK.hex()],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return [bytes.fromhex(h) for h in json.loads(res.stdout.strip().splitlines()[-1])]


def make_frames(n: int = 40) -> list[bytes]:
    """Varied Ethernet frames carrying MARK: sizes 60..1514, broadcast, 802.1Q."""
    from scapy.all import IP, UDP, Dot1Q, Ether, Raw
    frames = []
    for i in range(n):
        size = [60, 64, 100, 512, 1000, 1514][i % 6]
        payload = MARK + i.to_bytes(4, "big")
        if i % 5 == 3:
            f = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / Dot1Q(vlan=10 + i, prio=i % 8) \
                / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + i, dport=2000) / Raw(payload)
        elif i % 7 == 2:
            f = Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff", type=0x88B5) / Raw(payload)
        else:
            f = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") \
                / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1000 + i, dport=2000) / Raw(payload)
        b = bytes(f)
        frames.append(b + bytes(max(0, size - len(b))))
    return frames




# ---------------------------------------------------------------- if: (AF_PACKET)

@pytest.mark.e2e
@needs_root
def test_afpacket_forwards_frames(netns, tmp_path):
    add_veth(netns, "vA", "pA")
    add_veth(netns, "vB", "pB")
    frames = make_frames()
    with running_vnf(netns, tmp_path, FORWARD, ["in=if:vA", "out=if:vB"],
                     ready=lambda: promiscuous(netns, "vA")) as vnf:
        got = send_and_sniff(netns, tmp_path, "pA", "pB", frames)
    assert got == frames, f"{len(got)} of {len(frames)} frames came out\n{vnf.stderr}"
    s = vnf.stats
    total = sum(len(f) for f in frames)
    assert s["c.count"] == str(len(frames)), vnf.stdout
    assert s["port.in.rx"] == f"{len(frames)} packets, {total} bytes, 0 dropped"
    assert s["port.out.tx"] == f"{len(frames)} packets, {total} bytes, 0 dropped"
    # promiscuous mode is released with the socket
    assert not promiscuous(netns, "vA")


@pytest.mark.e2e
@needs_root
def test_afpacket_ignores_its_own_output(netns, tmp_path):
    # One port, both ways on the same interface: what the vNF sends must not
    # come back in as input (that would loop forever).
    add_veth(netns, "vA", "pA")
    frames = make_frames(12)
    with running_vnf(netns, tmp_path, "FromDevice(x) -> c :: Counter -> ToDevice(x);\n",
                     ["x=if:vA"], ready=lambda: promiscuous(netns, "vA")) as vnf:
        got = send_and_sniff(netns, tmp_path, "pA", "pA", frames)
        time.sleep(0.5)
    # the sniffer on pA sees each frame twice: leaving pA, and coming back
    for f in frames:
        assert got.count(f) == 2, (got.count(f), vnf.stderr)
    assert vnf.stats["c.count"] == str(len(frames))
    assert vnf.stats["port.x.rx"].startswith(f"{len(frames)} packets")


@pytest.mark.e2e
@needs_root
def test_afpacket_counts_frames_too_big_for_the_mtu(netns, tmp_path):
    add_veth(netns, "vA", "pA")
    add_veth(netns, "vB", "pB", mtu=600)
    frames = make_frames(12)
    fits = [f for f in frames if len(f) <= 600 + 14]     # sizes are far from the edge
    with running_vnf(netns, tmp_path, FORWARD, ["in=if:vA", "out=if:vB,qdisc_bypass"],
                     ready=lambda: promiscuous(netns, "vA")) as vnf:
        got = send_and_sniff(netns, tmp_path, "pA", "pB", frames)
    assert got == fits
    assert vnf.stats["c.count"] == str(len(frames))
    tx = vnf.stats["port.out.tx"]
    assert tx.endswith(f"{len(frames) - len(fits)} dropped"), tx


@pytest.mark.e2e
@needs_root
def test_afpacket_generator_and_receiver(netns, tmp_path):
    # A uknfv generator on one end of a veth pair, a uknfv receiver on the
    # other: every frame is either received or counted as dropped.
    add_veth(netns, "vA", "pA")
    gen_dir, rcv_dir = tmp_path / "gen", tmp_path / "rcv"
    gen_dir.mkdir()
    rcv_dir.mkdir()
    n = 20000
    (gen_dir / "gen.click").write_text(
        f"InfiniteSource(\\<020000000002 020000000001 88b5>, LENGTH 64, LIMIT {n}, BURST 32,"
        " STOP true) -> ToDevice(out);\n")
    with running_vnf(netns, rcv_dir, "FromDevice(in) -> c :: Counter -> Discard;\n",
                     ["in=if:pA"], ready=lambda: promiscuous(netns, "pA")) as rcv:
        res = subprocess.run(["ip", "netns", "exec", netns, *uknfv_cmd(), "run", "gen.click",
                              "--port", "out=if:vA", "--stats"],
                             cwd=gen_dir, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        time.sleep(1)
    gen = stats_of(res.stdout)
    assert gen["port.out.tx"].startswith(f"{n} packets")
    sent = n - int(gen["port.out.tx"].rsplit(", ", 1)[1].split()[0])
    rx = rcv.stats["port.in.rx"]
    received = int(rx.split()[0])
    dropped = int(rx.rsplit(", ", 1)[1].split()[0])
    # frames the kernel itself dropped between the two ends (veth backlog)
    lost = link_stat(netns, "vA", "tx", "dropped") + link_stat(netns, "pA", "rx", "dropped")
    assert received + dropped + lost == sent, (rx, gen["port.out.tx"], lost)
    assert received > 0
    assert rcv.stats["c.count"] == str(received)


# Echo server (UDP and TCP) and client, for traffic from real kernel stacks.
ECHO_SERVER = r'''
import socket, sys, threading
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("10.9.0.2", 7007))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("10.9.0.2", 7007))
t.listen(1)
def udp():
    while True:
        data, addr = u.recvfrom(4096)
        u.sendto(data.upper(), addr)
def tcp():
    c, _ = t.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        data = c.recv(4096)
        if not data:
            break
        c.sendall(data.upper())
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
'''

ECHO_CLIENT = r'''
import json, socket
out = {"udp": [], "tcp": []}
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(2)
for i in range(5):
    msg = b"uknfv udp %d " % i + b"x" * (i * 200)
    for attempt in range(3):          # the first one may wait for ARP
        u.sendto(msg, ("10.9.0.2", 7007))
        try:
            data, _ = u.recvfrom(4096)
            out["udp"].append(data == msg.upper())
            break
        except socket.timeout:
            continue
    else:
        out["udp"].append(False)
t = socket.create_connection(("10.9.0.2", 7007), timeout=5)
t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(10):
    msg = b"uknfv tcp %d" % i
    t.sendall(msg)
    data = b""
    while len(data) < len(msg):
        data += t.recv(4096)
    out["tcp"].append(data == msg.upper())
t.close()
print(json.dumps(out))
'''


@pytest.mark.e2e
@needs_root
def test_afpacket_carries_kernel_traffic_between_namespaces(make_netns, tmp_path):
    # Two hosts (namespaces) whose only link goes through the vNF: ARP, UDP
    # and TCP from the kernel's own stacks, whose checksums the kernel
    # leaves for the NIC to finish (the backend completes them).
    host_a, host_b, mid = make_netns(), make_netns(), make_netns()
    sh("ip", "link", "add", "vA", "netns", mid, "type", "veth", "peer", "name", "pA", "netns", host_a)
    sh("ip", "link", "add", "vB", "netns", mid, "type", "veth", "peer", "name", "pB", "netns", host_b)
    for ns, ifname, addr in ((host_a, "pA", "10.9.0.1/24"), (host_b, "pB", "10.9.0.2/24")):
        sh("ip", "-n", ns, "addr", "add", addr, "dev", ifname)
        sh("ip", "-n", ns, "link", "set", ifname, "up")
    for ifname in ("vA", "vB"):
        sh("ip", "-n", mid, "link", "set", ifname, "up")
    (tmp_path / "server.py").write_text(ECHO_SERVER)
    (tmp_path / "client.py").write_text(ECHO_CLIENT)
    config = ("FromDevice(a) -> ca :: Counter -> ToDevice(b);\n"
              "FromDevice(b) -> cb :: Counter -> ToDevice(a);\n")
    server = subprocess.Popen(["ip", "netns", "exec", host_b, sys.executable, str(tmp_path / "server.py")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout.readline().strip() == "ready", server.stderr.read()
        with running_vnf(mid, tmp_path, config, ["a=if:vA", "b=if:vB"],
                         ready=lambda: promiscuous(mid, "vA") and promiscuous(mid, "vB")) as vnf:
            res = subprocess.run(["ip", "netns", "exec", host_a, sys.executable,
                                  str(tmp_path / "client.py")],
                                 capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr + vnf.stderr
        out = json.loads(res.stdout.strip().splitlines()[-1])
        assert out["udp"] == [True] * 5, out
        assert out["tcp"] == [True] * 10, out
        assert int(vnf.stats["ca.count"]) >= 5 + 10
        assert int(vnf.stats["cb.count"]) >= 5 + 10
    finally:
        server.kill()
        server.wait()


# ---------------------------------------------------------------- tap:

@pytest.mark.e2e
@needs_root
@pytest.mark.skipif(not os.path.exists("/dev/net/tun"), reason="no /dev/net/tun")
def test_tap_forwards_frames(netns, tmp_path):
    frames = make_frames()

    def taps_up():
        return all(",UP" in link_flags(netns, t) or "<UP" in link_flags(netns, t)
                   for t in ("uktA", "uktB"))

    with running_vnf(netns, tmp_path, FORWARD, ["in=tap:uktA", "out=tap:uktB"],
                     ready=taps_up) as vnf:
        got = send_and_sniff(netns, tmp_path, "uktA", "uktB", frames)
    assert got == frames, f"{len(got)} of {len(frames)} frames came out\n{vnf.stderr}"
    total = sum(len(f) for f in frames)
    assert vnf.stats["c.count"] == str(len(frames))
    assert vnf.stats["port.in.rx"] == f"{len(frames)} packets, {total} bytes, 0 dropped"
    assert vnf.stats["port.out.tx"] == f"{len(frames)} packets, {total} bytes, 0 dropped"
    # the TAPs the vNF created are gone with it
    assert link_flags(netns, "uktA") == ""


@pytest.mark.e2e
@needs_root
@pytest.mark.skipif(not os.path.exists("/dev/net/tun"), reason="no /dev/net/tun")
def test_tap_attaches_to_an_existing_persistent_tap(netns, tmp_path):
    sh("ip", "-n", netns, "tuntap", "add", "uktP", "mode", "tap")
    frames = make_frames(6)
    with running_vnf(netns, tmp_path, "FromDevice(x) -> c :: Counter -> Discard;\n",
                     ["x=tap:uktP"], ready=lambda: ",UP" in link_flags(netns, "uktP")) as vnf:
        send_and_sniff(netns, tmp_path, "uktP", "lo", frames, wait=0.5)
        time.sleep(0.3)
    assert vnf.stats["c.count"] == str(len(frames))
    assert link_flags(netns, "uktP") != ""       # persistent: still there


# ---------------------------------------------------------------- errors

def test_missing_interface_is_a_clear_error(tmp_path):
    (tmp_path / "f.click").write_text(FORWARD)
    res = run_uknfv("run", "f.click", "--port", "in=if:uknfv-nosuch0", "--port", "out=if:lo",
                    cwd=tmp_path)
    assert res.returncode == 1
    assert "uknfv-nosuch0: no such network interface" in res.stderr, res.stderr
    assert "port 'in'" in res.stderr


def test_bad_if_option_and_usage(tmp_path):
    (tmp_path / "f.click").write_text(FORWARD)
    res = run_uknfv("run", "f.click", "--port", "in=if:lo,turbo", "--port", "out=if:lo",
                    cwd=tmp_path)
    assert res.returncode == 1
    assert "unknown option 'turbo'" in res.stderr, res.stderr
    res = run_uknfv("run", "f.click", "--port", "in=carrier-pigeon:x", "--port", "out=if:lo",
                    cwd=tmp_path)
    assert res.returncode != 0
    assert "if:IFACE" in res.stderr and "tap:NAME" in res.stderr, res.stderr


@pytest.mark.e2e
@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv")
def test_without_privileges_the_error_says_what_is_needed(tmp_path):
    (tmp_path / "f.click").write_text(FORWARD)
    res = run_uknfv("build", "f.click", "-o", "vnf", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    pub = Path(tempfile.mkdtemp(prefix="uknfv-io-"))
    try:
        os.chmod(pub, 0o755)
        shutil.copy(tmp_path / "vnf", pub / "vnf")
        os.chmod(pub / "vnf", 0o755)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  "--inh-caps=-all", "--bounding-set=-all"]
        res = subprocess.run(nobody + [str(pub / "vnf"), "--port", "in=if:lo", "--port", "out=if:lo"],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 1
        assert "needs root or CAP_NET_RAW" in res.stderr, res.stderr
        res = subprocess.run(nobody + [str(pub / "vnf"), "--port", "in=tap:uknfvnp0",
                                       "--port", "out=if:lo"],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 1
        assert "needs root or CAP_NET_ADMIN" in res.stderr, res.stderr
    finally:
        shutil.rmtree(pub, ignore_errors=True)
