"""Two (or more) namespaces around a unikernel vNF: the live test bench.

``VMLab`` boots a kvm image under QEMU (through ``uknfv run --target kvm``)
with one host namespace wired to each of its NICs, and removes it all on
exit, even when the body fails::

    with router_lab("router.img") as vm:           # hosts "lan" and "wan"
        print(vm.ready_line)                        # UKNFV READY boot_us=...
        r = vm.ping("lan", "10.0.2.2")              # r.received, r.ttls
        vm.read("expired.count")                    # through `uknfv read`
    print(vm.stats["port.lan.rx"])                  # the guest's final counters

Wiring (everything but the control socket lives in namespaces, so nothing
touches the host's own network and parallel labs cannot collide)::

    ns PFX-lan                       ns PFX-vm (QEMU runs here)
    eth0 10.0.1.2 ─veth─ v0 ─ bridge b0 ─ TAP t0 ═╗
                                                 [vNF]
    eth0 10.0.2.2 ─veth─ v1 ─ bridge b1 ─ TAP t1 ═╝
    ns PFX-wan

PFX is unique per lab (``vmlab-PID-RANDOM-``).  IPv6 is switched off in
every namespace, so the vNF sees only the traffic a test sends.  Needs root.

Run as a program, the module is also a small ``ping`` for hosts without
iputils-ping: ``python -m uknfv.traffic.vmlab ping DST [-c N] [-i S] [-W S]``
prints the same lines as ping(8) (``ttl=``, ``N received``).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..diag import UknfvError
from ..run.netns import Lab, stop_process
from ..testing import uknfv_cmd

READY_TIMEOUT = 60.0     # TCG boots in well under a second; generous for loaded CI hosts
STOP_TIMEOUT = 15.0      # SIGINT -> guest prints its stats and exits


class VMLabError(UknfvError):
    pass


# --------------------------------------------------------------------------- plain data

@dataclass(frozen=True)
class Host:
    """A host namespace wired to one of the VM's ports."""

    name: str                     # the namespace's short name ("lan")
    port: str                     # the image's logical port it is wired to
    addr: str                     # its address, CIDR ("10.0.1.2/24")
    mac: str
    gateway: str | None = None    # default route via this address
    ifname: str = "eth0"

    @property
    def ip(self) -> str:
        return self.addr.split("/")[0]


@dataclass
class PingResult:
    transmitted: int
    received: int
    ttls: list[int]
    output: str
    rtts_ms: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.received > 0


# The example vNFs' surroundings (pipelines/router.click, pipelines/firewall.click).
LAN_GW, WAN_GW = "10.0.1.1", "10.0.2.1"          # the router's own addresses
ROUTER_HOSTS = (Host("lan", "lan", "10.0.1.2/24", "02:00:00:00:01:02", gateway=LAN_GW),
                Host("wan", "wan", "10.0.2.2/24", "02:00:00:00:02:02", gateway=WAN_GW))
ROUTER_MACS = {"lan": "52:54:00:00:01:01", "wan": "52:54:00:00:02:01"}
FIREWALL_HOSTS = (Host("inside", "inside", "10.0.1.10/24", "02:00:00:00:01:10"),
                  Host("outside", "outside", "10.0.1.20/24", "02:00:00:00:01:20"))


def parse_stats(lines: Sequence[str]) -> dict[str, str]:
    """The guest's "UKNFV STATS BEGIN" .. "END" block as {handler: value}.

    Multi-line values (tables) start on the line after "name:" and end at a
    blank line; they are returned joined with newlines.
    """
    try:
        begin = max(i for i, l in enumerate(lines) if l.strip() == "UKNFV STATS BEGIN")
    except ValueError:
        return {}
    out: dict[str, str] = {}
    key: str | None = None
    block: list[str] = []
    for line in lines[begin + 1:]:
        line = line.rstrip("\r\n")
        if line.strip() == "UKNFV STATS END":
            break
        if key is not None:
            if line.strip() == "":
                out[key], key = "\n".join(block), None
            else:
                block.append(line)
            continue
        m = re.match(r"^(\S+):(?: (.*))?$", line)
        if not m:
            continue
        if m.group(2):
            out[m.group(1)] = m.group(2)
        else:
            key, block = m.group(1), []
    if key is not None:
        out[key] = "\n".join(block)
    return out


def _ipv4(addr: str) -> bytes:
    return bytes(int(x) for x in addr.split("."))


def parse_ping(output: str) -> PingResult:
    """ping(8) output (or this module's) -> PingResult."""
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", output)
    tx, rx = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return PingResult(tx, rx, [int(t) for t in re.findall(r"\bttl=(\d+)", output)], output,
                      [float(t) for t in re.findall(r"\btime=([\d.]+) ms", output)])


# --------------------------------------------------------------------------- the lab

class VMLab:
    """Boot ``image`` with one host namespace per entry of ``hosts``; tear it all down on exit.

    ``macs``: {port: MAC} for the VM's NICs (the router answers ARP with
    fixed MACs, so its NICs should carry them).  ``echo``: called with each
    console line as it arrives (default: nothing; the console is kept in
    ``console`` and its tail is shown if the boot fails).
    """

    def __init__(self, image: str | os.PathLike, hosts: Sequence[Host], *,
                 macs: dict[str, str] | None = None, accel: str | None = None,
                 machine: str | None = None, ready_timeout: float = READY_TIMEOUT,
                 stop_timeout: float = STOP_TIMEOUT, echo: Callable[[str], None] | None = None):
        self.image = Path(image).absolute()
        self.hosts = {h.name: h for h in hosts}
        self.macs = dict(macs or {})
        self.accel, self.machine = accel, machine
        self.ready_timeout, self.stop_timeout = ready_timeout, stop_timeout
        self.echo = echo
        self.prefix = f"vmlab-{os.getpid()}-{secrets.token_hex(2)}-"
        self.lab: Lab | None = None
        self.tmp: Path | None = None
        self.control: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.console: list[str] = []
        self.ready_line = ""
        self.accel_line = ""
        self.stats: dict[str, str] = {}
        self.exit_status: int | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> "VMLab":
        if os.geteuid() != 0:
            raise VMLabError("VMLab needs root (network namespaces, TAPs)")
        sweep_stale()
        self.tmp = Path(tempfile.mkdtemp(prefix=self.prefix))
        self.control = self.tmp / "ctl.sock"
        self.lab = Lab(prefix=self.prefix)
        try:
            self._wire()
            self._boot()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the VM (its final stats land in ``stats``), then remove everything."""
        try:
            self.stop()
        finally:
            if self.lab is not None:
                self.lab.close()
                self.lab = None
            if self.tmp is not None:
                shutil.rmtree(self.tmp, ignore_errors=True)
                self.tmp = None

    def ns(self, host: str) -> str:
        """The full namespace name of ``host`` (or "vm": where QEMU runs)."""
        return self.prefix + host

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise VMLabError(f"no host '{name}' (hosts: {', '.join(self.hosts)})") from None

    # -- wiring ------------------------------------------------------------------
    def _quiet(self, ns: str) -> None:
        """No IPv6 in ``ns`` (no router solicitations or MLD reports reaching the vNF) and no
        IPv4 forwarding (a new namespace inherits the host's): hosts answer only for themselves."""
        self.lab.run(ns, ["sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward; "
                                       "for f in all default; do "
                                       "echo 1 > /proc/sys/net/ipv6/conf/$f/disable_ipv6; "
                                       "done 2>/dev/null; true"])

    def _wire(self) -> None:
        lab = self.lab
        vm = lab.netns("vm")
        self._quiet(vm)
        for i, h in enumerate(self.hosts.values()):
            ns = lab.netns(h.name)
            self._quiet(ns)
            # No multicast snooping: a snooping bridge joins the all-snoopers group and sends
            # IGMP reports, which the vNF would see (and count as drops).
            lab.bridge(f"b{i}", ns=vm, up=False)
            lab.run(vm, ["ip", "link", "set", f"b{i}", "type", "bridge", "mcast_snooping", "0"],
                    check=True)
            lab.up(f"b{i}", ns=vm)
            lab.veth(f"v{i}", h.ifname, ns_a=vm, ns_b=ns, mac_b=h.mac)
            lab.attach(f"v{i}", f"b{i}", ns=vm)
            lab.tap(f"t{i}", ns=vm, bridge=f"b{i}")
            lab.addr(h.ifname, h.addr, ns=ns)
            if h.gateway:
                lab.route("default", via=h.gateway, ns=ns)

    def _boot(self) -> None:
        argv = uknfv_cmd() + ["run", str(self.image), "--target", "kvm",
                              "--control", str(self.control)]
        for i, h in enumerate(self.hosts.values()):
            mac = self.macs.get(h.port)
            argv += ["--port", f"{h.port}=tap:t{i}" + (f",mac={mac}" if mac else "")]
        if self.accel:
            argv += ["--accel", self.accel]
        if self.machine:
            argv += ["--machine", self.machine]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # If this process dies without closing the lab, `uknfv run` gets SIGTERM (and stops
        # QEMU); the next lab sweeps the namespaces away.
        self.proc = self.lab.popen(self.ns("vm"), argv, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                   preexec_fn=_term_with_parent)
        self._reader = threading.Thread(target=self._read_console, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.ready_timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None:
                self._reader.join(timeout=2)
                raise VMLabError(f"the VM exited (status {self.proc.returncode}) before it was "
                                 f"ready:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise VMLabError(f"the VM was not ready within {self.ready_timeout:g} s:\n"
                                 f"{self.tail()}")

    def _read_console(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.console.append(line)
            if line.startswith("uknfv: using ") and not self.accel_line:
                self.accel_line = line
            if line.startswith("UKNFV READY") and not self.ready_line:
                self.ready_line = line
                self._ready.set()
            if self.echo:
                self.echo(line)

    def tail(self, n: int = 30) -> str:
        return "\n".join("  | " + l for l in self.console[-n:]) or "  (no output)"

    @property
    def boot_us(self) -> int | None:
        m = re.search(r"boot_us=(\d+)", self.ready_line)
        return int(m.group(1)) if m else None

    def stop(self) -> dict[str, str]:
        """SIGINT the VM (a clean stop: the guest prints its counters), wait, kill if need be."""
        p = self.proc
        if p is None:
            return self.stats
        self.proc = None
        try:
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGINT)
                    p.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            stop_process(p)
            if self._reader is not None:
                self._reader.join(timeout=5)
            if p.stdout is not None:
                p.stdout.close()
        self.exit_status = p.returncode
        self.stats = parse_stats(self.console)
        return self.stats

    # -- using the hosts ---------------------------------------------------------
    def run(self, host: str, argv: Sequence[str], *, timeout: float = 60,
            check: bool = False, **kw) -> subprocess.CompletedProcess:
        """Run ``argv`` in ``host``'s namespace and wait (output captured, text)."""
        self.host(host)
        res = self.lab.run(self.ns(host), list(argv), timeout=timeout, **kw)
        if check and res.returncode != 0:
            raise VMLabError(f"{host}: `{' '.join(argv)}` failed ({res.returncode}):\n"
                             f"{res.stdout}{res.stderr}")
        return res

    def popen(self, host: str, argv: Sequence[str], **kw) -> subprocess.Popen:
        """Start ``argv`` in ``host``'s namespace; stopped (at the latest) when the lab closes."""
        self.host(host)
        return self.lab.popen(self.ns(host), list(argv), **kw)

    def python(self, host: str, code: str, *args: str, timeout: float = 60,
               **kw) -> subprocess.CompletedProcess:
        """Run a Python snippet in ``host``'s namespace (sys.argv[1:] = args)."""
        return self.run(host, [sys.executable, "-c", code, *args], timeout=timeout, **kw)

    def ping(self, host: str, dst: str, count: int = 3, *, interval: float = 0.2,
             wait: float = 3.0) -> PingResult:
        """Ping ``dst`` from ``host``: ping(8) if installed, else this module's ICMP ping."""
        if shutil.which("ping"):
            argv = ["ping", "-n", "-c", str(count), "-i", f"{interval:g}", "-W", f"{wait:g}", dst]
        else:
            argv = [sys.executable, "-m", "uknfv.traffic.vmlab", "ping", "-c", str(count),
                    "-i", f"{interval:g}", "-W", f"{wait:g}", dst]
        res = self.run(host, argv, timeout=count * (interval + wait) + 30)
        return parse_ping(res.stdout + res.stderr)

    def send(self, host: str, frames: Sequence[bytes]) -> None:
        """Send raw Ethernet frames out of ``host``'s interface (AF_PACKET)."""
        h = self.host(host)
        code = ("import socket,sys\n"
                "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
                "s.bind((sys.argv[1],0))\n"
                "for f in sys.stdin.read().split():\n"
                "    s.send(bytes.fromhex(f))\n")
        self.python(host, code, h.ifname, input=" ".join(bytes(f).hex() for f in frames),
                    check=True)

    @contextmanager
    def capture(self, host: str, bpf: str = "", *, settle: float = 0.5) -> Iterator[list[bytes]]:
        """Capture frames arriving at ``host`` (tcpdump) while the body runs.

        Yields a list that holds the captured frames once the block ends;
        ``settle`` seconds are left for late frames (TCG is slow)."""
        from ..pcapfile import read_frames
        h = self.host(host)
        assert self.tmp is not None
        pcap = self.tmp / f"cap-{host}-{secrets.token_hex(3)}.pcap"
        # --immediate-mode: hand every frame over at once (not when a ring block fills up).
        argv = ["tcpdump", "-n", "--immediate-mode", "-Q", "in", "-i", h.ifname, "-U",
                "-w", str(pcap)]
        argv += bpf.split() if bpf else []
        p = self.popen(host, argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        frames: list[bytes] = []
        try:
            # tcpdump says "listening on ..." once its socket is open.
            line = p.stderr.readline().decode(errors="replace")
            if "listening on" not in line:
                p.wait(timeout=5)
                raise VMLabError(f"tcpdump in {host} did not start: {line}"
                                 f"{p.stderr.read().decode(errors='replace')}")
            yield frames
            time.sleep(settle)
        finally:
            stop_process(p, timeout=3)
            if p.stderr:
                p.stderr.close()
        if pcap.exists():
            frames.extend(read_frames(pcap))

    def arp(self, host: str, ip: str) -> str | None:
        """Ask "who has ``ip``?" from ``host`` (a raw ARP request): the MAC that answered,
        or None."""
        h = self.host(host)
        mac = bytes.fromhex(h.mac.replace(":", ""))
        request = (b"\xff" * 6 + mac + b"\x08\x06" + b"\x00\x01\x08\x00\x06\x04\x00\x01" + mac +
                   _ipv4(h.ip) + bytes(6) + _ipv4(ip))
        with self.capture(host, "arp") as frames:
            self.send(host, [request])
        for f in frames:
            # An ARP reply (op 2) from ip (sender protocol address at 28..32).
            if len(f) >= 42 and f[12:14] == b"\x08\x06" and f[20:22] == b"\x00\x02" \
                    and f[28:32] == _ipv4(ip):
                return ":".join(f"{b:02x}" for b in f[22:28])
        return None

    def iperf(self, client: str, server: str, *, nbytes: str = "2M", port: int = 5201,
              timeout: float = 60) -> dict:
        """A bounded iperf3 TCP transfer client -> server; iperf3's JSON report (``-J``)."""
        srv_ip = self.host(server).ip
        srv = self.popen(server, ["iperf3", "-s", "-1", "-B", srv_ip, "-p", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while True:
                res = self.run(client, ["iperf3", "-c", srv_ip, "-p", str(port), "-n", nbytes,
                                        "-J", "--connect-timeout", "10000"], timeout=timeout)
                try:
                    report = json.loads(res.stdout)
                except ValueError:
                    raise VMLabError(f"iperf3 gave no report:\n{res.stdout}{res.stderr}") from None
                if "refused" in str(report.get("error", "")) and time.monotonic() < deadline:
                    time.sleep(0.2)     # the server is not listening yet
                    continue
                return report
        finally:
            stop_process(srv)

    # -- the vNF's control channel -------------------------------------------------
    def uknfv(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run the uknfv CLI here (the control socket is a file: no namespace needed)."""
        return subprocess.run(uknfv_cmd() + list(args), capture_output=True, text=True,
                              timeout=timeout)

    def read(self, handler: str) -> str:
        """`uknfv read SOCK HANDLER`."""
        res = self.uknfv("read", str(self.control), handler)
        if res.returncode != 0:
            raise VMLabError(f"uknfv read {handler}: {res.stderr.strip()}")
        return res.stdout.rstrip("\n")

    def read_int(self, handler: str) -> int:
        return int(self.read(handler).split()[0])

    def handlers(self) -> dict[str, str]:
        """`uknfv handlers SOCK -v` as {handler: value} (one-line values)."""
        res = self.uknfv("handlers", str(self.control), "-v")
        if res.returncode != 0:
            raise VMLabError(f"uknfv handlers: {res.stderr.strip()}")
        return dict(l.split(": ", 1) for l in res.stdout.splitlines() if ": " in l)


_STALE = re.compile(r"^vmlab-(\d+)-[0-9a-f]{4}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _term_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)
    except Exception:
        pass


def _stale(path: Path, min_age: float) -> bool:
    """A lab's namespace or folder whose process is gone, untouched for ``min_age`` seconds.

    The age guards against labs of another PID namespace sharing /run/netns, whose
    processes we cannot see."""
    m = _STALE.match(path.name)
    if not m or _alive(int(m.group(1))):
        return False
    try:
        return time.time() - path.lstat().st_mtime >= min_age
    except OSError:
        return False


def sweep_stale(min_age: float = 600.0) -> list[str]:
    """Remove the namespaces and temporary folders of labs whose process died without
    cleaning up (killed outright).  Returns what was removed."""
    from ..run.netns import backend
    removed = []
    try:
        be = backend()
        names = be.netns_list()
    except Exception:
        names, be = [], None
    for name in names:
        if _stale(Path("/run/netns", name), min_age):
            be.netns_del(name)
            removed.append(name)
    for d in Path(tempfile.gettempdir()).glob("vmlab-*"):
        if d.is_dir() and _stale(d, min_age):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(str(d))
    return removed


def router_lab(image: str | os.PathLike, **kw) -> VMLab:
    """pipelines/router.click's surroundings: lan 10.0.1.2/24, wan 10.0.2.2/24."""
    kw.setdefault("macs", ROUTER_MACS)
    return VMLab(image, ROUTER_HOSTS, **kw)


def firewall_lab(image: str | os.PathLike, **kw) -> VMLab:
    """pipelines/firewall.click as a bump in the wire: inside 10.0.1.10, outside 10.0.1.20."""
    return VMLab(image, FIREWALL_HOSTS, **kw)


def build_image(pipeline: str | os.PathLike, output: str | os.PathLike,
                timeout: float = 300) -> Path:
    """`uknfv build PIPELINE --target kvm -o OUTPUT` (and OUTPUT.json)."""
    res = subprocess.run(uknfv_cmd() + ["build", str(pipeline), "--target", "kvm", "-o",
                                        str(output)], capture_output=True, text=True,
                         timeout=timeout)
    if res.returncode != 0:
        raise VMLabError(f"building {pipeline} for kvm failed:\n{res.stdout}{res.stderr}")
    return Path(output)


def qemu_missing() -> str | None:
    """None if this host can run VMLab, else why not."""
    if os.geteuid() != 0:
        return "not running as root (namespaces and TAPs need it)"
    if shutil.which("qemu-system-x86_64") is None:
        return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (no TAP support)"
    for tool in ("tcpdump", "iperf3"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


# --------------------------------------------------------------------------- ping(8), in Python

def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp_ping(dst: str, count: int = 3, interval: float = 1.0, wait: float = 3.0,
              out=sys.stdout) -> int:
    """ICMP echo over a raw socket, printing ping(8)'s lines; 0 if any reply came."""
    import select
    import socket
    import struct
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    payload = b"uknfv-vmlab-ping" + bytes(40)
    received = 0
    print(f"PING {dst} {len(payload)} data bytes", file=out, flush=True)
    for seq in range(1, count + 1):
        hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        pkt = struct.pack("!BBHHH", 8, 0, _checksum(hdr + payload), ident, seq) + payload
        sent = time.monotonic()
        s.sendto(pkt, (dst, 0))
        deadline = sent + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                break
            data, addr = s.recvfrom(65535)
            ihl = (data[0] & 0x0F) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if typ == 0 and rid == ident and rseq == seq and addr[0] == dst:
                ms = (time.monotonic() - sent) * 1000
                print(f"{len(data) - ihl} bytes from {dst}: icmp_seq={seq} ttl={data[8]} "
                      f"time={ms:.1f} ms", file=out, flush=True)
                received += 1
                break
        if seq < count:
            time.sleep(max(0.0, interval - (time.monotonic() - sent)))
    loss = 100 * (count - received) // max(count, 1)
    print(f"\n--- {dst} ping statistics ---\n{count} packets transmitted, {received} received, "
          f"{loss}% packet loss", file=out, flush=True)
    return 0 if received else 1


def _main(argv: list[str]) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m uknfv.traffic.vmlab")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ping", help="ICMP echo, like ping(8)")
    p.add_argument("dst")
    p.add_argument("-c", type=int, default=3)
    p.add_argument("-i", type=float, default=1.0)
    p.add_argument("-W", type=float, default=3.0)
    a = ap.parse_args(argv)
    return icmp_ping(a.dst, a.c, a.i, a.W)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
