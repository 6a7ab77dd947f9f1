"""Network plumbing for running vNFs and testing them: namespaces, veths, TAPs, bridges.

Two interchangeable backends do the work: pyroute2 (netlink, the default) and
the ``ip`` command (the fallback when pyroute2 is missing; force it with
``UKNFV_NET=ip``).  Everything needs CAP_NET_ADMIN (root).

``Lab`` is the context manager the end-to-end tests and the demo use: it
records everything it creates and removes it all on exit, in reverse order,
even when the body fails: processes (their whole process groups), links,
namespaces::

    with Lab() as lab:
        h1 = lab.netns("h1")
        lab.tap("uktap0")                               # the VM's side
        lab.veth("uk-h1", "eth0", ns_b=h1)
        lab.addr("eth0", "10.0.1.2/24", ns=h1)
        lab.route("default", via="10.0.1.1", ns=h1)
        lab.neigh("10.0.1.1", "52:54:00:00:01:01", "eth0", ns=h1)
        lab.run(h1, ["ping", "-c1", "10.0.2.2"])
"""
from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
from typing import Sequence

from ..diag import UknfvError


class NetError(UknfvError):
    pass


# --------------------------------------------------------------------------- backends

class IpBackend:
    """Runs the iproute2 ``ip`` command."""

    name = "ip"

    def __init__(self) -> None:
        self.ip = shutil.which("ip") or "/usr/sbin/ip"
        if not os.path.exists(self.ip):
            raise NetError("the 'ip' command is not installed (apt-get install iproute2)")

    def _ip(self, ns: str | None, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        argv = [self.ip] + (["-n", ns] if ns else []) + list(args)
        res = subprocess.run(argv, capture_output=True, text=True)
        if check and res.returncode != 0:
            raise NetError(f"`{' '.join(argv)}` failed: {res.stderr.strip()}")
        return res

    def netns_add(self, ns: str) -> None:
        self._ip(None, "netns", "add", ns)

    def netns_del(self, ns: str) -> None:
        self._ip(None, "netns", "del", ns, check=False)

    def netns_list(self) -> list[str]:
        res = self._ip(None, "netns", "list", check=False)
        return [l.split()[0] for l in res.stdout.splitlines() if l.strip()]

    def exists(self, ifname: str, ns: str | None = None) -> bool:
        return self._ip(ns, "link", "show", "dev", ifname, check=False).returncode == 0

    def veth(self, a: str, b: str, ns_a: str | None, ns_b: str | None) -> None:
        args = ["link", "add", a]
        if ns_a:
            args += ["netns", ns_a]
        args += ["type", "veth", "peer", "name", b]
        if ns_b:
            args += ["netns", ns_b]
        self._ip(None, *args)

    def tap(self, name: str, ns: str | None) -> None:
        self._ip(ns, "tuntap", "add", "dev", name, "mode", "tap")

    def bridge(self, name: str, ns: str | None) -> None:
        self._ip(ns, "link", "add", name, "type", "bridge")

    def set(self, ifname: str, ns: str | None, *, up: bool | None = None, master: str | None = None,
            mac: str | None = None, mtu: int | None = None) -> None:
        args = ["link", "set", "dev", ifname]
        if mac:
            args += ["address", mac]
        if mtu:
            args += ["mtu", str(mtu)]
        if master:
            args += ["master", master]
        if up is not None:
            args.append("up" if up else "down")
        self._ip(ns, *args)

    def delete(self, ifname: str, ns: str | None) -> None:
        self._ip(ns, "link", "del", "dev", ifname, check=False)

    def addr(self, ifname: str, cidr: str, ns: str | None) -> None:
        self._ip(ns, "addr", "add", cidr, "dev", ifname)

    def route(self, dst: str, via: str | None, dev: str | None, ns: str | None) -> None:
        v6 = ":" in dst or (via is not None and ":" in via)
        args = (["-6"] if v6 else []) + ["route", "replace", dst]
        if via:
            args += ["via", via]
        if dev:
            args += ["dev", dev]
        self._ip(ns, *args)

    def neigh(self, ip: str, mac: str, dev: str, ns: str | None) -> None:
        self._ip(ns, "neigh", "replace", ip, "lladdr", mac, "dev", dev, "nud", "permanent")


class Pyroute2Backend:
    """Netlink through pyroute2."""

    name = "pyroute2"

    def __init__(self) -> None:
        import pyroute2  # noqa: F401 (ImportError selects the ip backend)
        from pyroute2 import IPRoute, NetlinkError, netns
        self.IPRoute, self.NetlinkError, self.pnetns = IPRoute, NetlinkError, netns

    def _ipr(self, ns: str | None):
        if ns and ns not in self.pnetns.listnetns():
            raise NetError(f"no network namespace '{ns}'")
        return self.IPRoute(netns=ns) if ns else self.IPRoute()

    def _index(self, ipr, ifname: str) -> int:
        idx = ipr.link_lookup(ifname=ifname)
        if not idx:
            raise NetError(f"no interface '{ifname}'")
        return idx[0]

    def _do(self, what: str, fn):
        try:
            return fn()
        except self.NetlinkError as e:
            raise NetError(f"{what}: {os.strerror(e.code) if e.code else e}") from None

    def netns_add(self, ns: str) -> None:
        self._do(f"create namespace {ns}", lambda: self.pnetns.create(ns))

    def netns_del(self, ns: str) -> None:
        try:
            self.pnetns.remove(ns)
        except OSError:
            pass

    def netns_list(self) -> list[str]:
        return list(self.pnetns.listnetns())

    def exists(self, ifname: str, ns: str | None = None) -> bool:
        with self._ipr(ns) as ipr:
            return bool(ipr.link_lookup(ifname=ifname))

    def veth(self, a: str, b: str, ns_a: str | None, ns_b: str | None) -> None:
        # Each end is created directly in its namespace, so names only need to be
        # unique there (every namespace may have its eth0).
        peer: dict = {"ifname": b}
        if ns_b:
            peer["net_ns_fd"] = ns_b
        elif ns_a:
            peer["net_ns_pid"] = os.getpid()
        with self._ipr(ns_a) as ipr:
            self._do(f"create veth {a}/{b}",
                     lambda: ipr.link("add", ifname=a, kind="veth", peer=peer))

    def tap(self, name: str, ns: str | None) -> None:
        with self._ipr(ns) as ipr:
            self._do(f"create TAP {name}",
                     lambda: ipr.link("add", ifname=name, kind="tuntap", mode="tap"))

    def bridge(self, name: str, ns: str | None) -> None:
        with self._ipr(ns) as ipr:
            self._do(f"create bridge {name}", lambda: ipr.link("add", ifname=name, kind="bridge"))

    def set(self, ifname: str, ns: str | None, *, up: bool | None = None, master: str | None = None,
            mac: str | None = None, mtu: int | None = None) -> None:
        with self._ipr(ns) as ipr:
            idx = self._index(ipr, ifname)
            kw: dict = {}
            if mac:
                kw["address"] = mac
            if mtu:
                kw["mtu"] = mtu
            if master:
                kw["master"] = self._index(ipr, master)
            if kw:
                self._do(f"configure {ifname}", lambda: ipr.link("set", index=idx, **kw))
            if up is not None:
                self._do(f"set {ifname} {'up' if up else 'down'}",
                         lambda: ipr.link("set", index=idx, state="up" if up else "down"))

    def delete(self, ifname: str, ns: str | None) -> None:
        try:
            with self._ipr(ns) as ipr:
                idx = ipr.link_lookup(ifname=ifname)
                if idx:
                    ipr.link("del", index=idx[0])
        except (self.NetlinkError, NetError, OSError):
            pass

    def addr(self, ifname: str, cidr: str, ns: str | None) -> None:
        iface = ipaddress.ip_interface(cidr)
        with self._ipr(ns) as ipr:
            idx = self._index(ipr, ifname)
            self._do(f"add address {cidr} to {ifname}",
                     lambda: ipr.addr("add", index=idx, address=str(iface.ip),
                                      prefixlen=iface.network.prefixlen))

    def route(self, dst: str, via: str | None, dev: str | None, ns: str | None) -> None:
        with self._ipr(ns) as ipr:
            kw: dict = {}
            if dst == "default":
                v6 = via is not None and ":" in via
                kw["dst"] = "::/0" if v6 else "0.0.0.0/0"
            else:
                kw["dst"] = str(ipaddress.ip_network(dst, strict=False))
            if via:
                kw["gateway"] = via
            if dev:
                kw["oif"] = self._index(ipr, dev)
            self._do(f"add route {dst}", lambda: ipr.route("replace", **kw))

    def neigh(self, ip: str, mac: str, dev: str, ns: str | None) -> None:
        with self._ipr(ns) as ipr:
            idx = self._index(ipr, dev)
            self._do(f"add neighbour {ip}",
                     lambda: ipr.neigh("replace", dst=ip, lladdr=mac, ifindex=idx, state=0x80))


def backend(name: str | None = None):
    """The pyroute2 backend, or the ``ip`` one if asked (UKNFV_NET=ip) or pyroute2 is missing."""
    name = name or os.environ.get("UKNFV_NET") or "pyroute2"
    if name == "pyroute2":
        try:
            return Pyroute2Backend()
        except ImportError:
            return IpBackend()
    if name == "ip":
        return IpBackend()
    raise NetError(f"unknown network backend '{name}' (pyroute2 or ip)")


# --------------------------------------------------------------------------- one-shot helpers

def add_tap(name: str, bridge: str | None = None, ns: str | None = None, up: bool = True,
            be=None) -> None:
    """Create a persistent TAP (optionally enslaved to ``bridge``) and bring it up."""
    be = be or backend()
    be.tap(name, ns)
    try:
        be.set(name, ns, master=bridge, up=up)
    except Exception:
        be.delete(name, ns)
        raise


def delete_link(name: str, ns: str | None = None, be=None) -> None:
    """Delete an interface; no error if it is already gone."""
    (be or backend()).delete(name, ns)


def _ns_argv(ns: str | None, argv: Sequence[str]) -> list[str]:
    if not ns:
        return list(argv)
    ip = shutil.which("ip") or "/usr/sbin/ip"
    return [ip, "netns", "exec", ns] + list(argv)


def run_in(ns: str | None, argv: Sequence[str], *, check: bool = False, timeout: float | None = 60,
           **kw) -> subprocess.CompletedProcess:
    """Run ``argv`` inside namespace ``ns`` (None: here) and wait; text output captured."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(_ns_argv(ns, argv), check=check, timeout=timeout, **kw)


def popen_in(ns: str | None, argv: Sequence[str], **kw) -> subprocess.Popen:
    """Start ``argv`` inside ``ns`` in its own process group (so it can be killed as a whole)."""
    kw.setdefault("start_new_session", True)
    return subprocess.Popen(_ns_argv(ns, argv), **kw)


def stop_process(p: subprocess.Popen, timeout: float = 3.0) -> None:
    """SIGTERM the process group, then SIGKILL after ``timeout``."""
    if p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                return
        try:
            p.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- Lab

class Lab:
    """Namespaces, links and processes that are all removed on exit, whatever happens."""

    def __init__(self, prefix: str | None = None, be=None):
        self.prefix = prefix if prefix is not None else f"uk{os.getpid()}-"
        self.be = be or backend()
        self._namespaces: list[str] = []
        self._links: list[tuple[str, str | None]] = []   # root-namespace links (others go with their ns)
        self._procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- creation --------------------------------------------------------------
    def netns(self, name: str) -> str:
        """Create namespace PREFIX+name (with lo up); returns its full name."""
        full = self.prefix + name
        self.be.netns_add(full)
        self._namespaces.append(full)
        self.be.set("lo", full, up=True)
        return full

    def _track(self, ifname: str, ns: str | None) -> None:
        if ns is None:
            self._links.append((ifname, None))

    def veth(self, a: str, b: str, ns_a: str | None = None, ns_b: str | None = None, *,
             mac_a: str | None = None, mac_b: str | None = None, mtu: int | None = None,
             up: bool = True) -> None:
        self.be.veth(a, b, ns_a, ns_b)
        # Deleting one end deletes the pair; ends inside our namespaces go with them.
        if ns_a is None:
            self._track(a, None)
        elif ns_b is None:
            self._track(b, None)
        for name, ns, mac in ((a, ns_a, mac_a), (b, ns_b, mac_b)):
            self.be.set(name, ns, mac=mac, mtu=mtu, up=up)

    def tap(self, name: str, ns: str | None = None, *, bridge: str | None = None,
            mac: str | None = None, up: bool = True) -> str:
        self.be.tap(name, ns)
        self._track(name, ns)
        self.be.set(name, ns, mac=mac, master=bridge, up=up)
        return name

    def bridge(self, name: str, ns: str | None = None, up: bool = True) -> str:
        self.be.bridge(name, ns)
        self._track(name, ns)
        if up:
            self.be.set(name, ns, up=True)
        return name

    def attach(self, ifname: str, bridge: str, ns: str | None = None) -> None:
        self.be.set(ifname, ns, master=bridge, up=True)

    def up(self, ifname: str, ns: str | None = None) -> None:
        self.be.set(ifname, ns, up=True)

    def addr(self, ifname: str, cidr: str, ns: str | None = None) -> None:
        self.be.addr(ifname, cidr, ns)

    def route(self, dst: str, via: str | None = None, dev: str | None = None,
              ns: str | None = None) -> None:
        self.be.route(dst, via, dev, ns)

    def neigh(self, ip: str, mac: str, dev: str, ns: str | None = None) -> None:
        self.be.neigh(ip, mac, dev, ns)

    def exists(self, ifname: str, ns: str | None = None) -> bool:
        return self.be.exists(ifname, ns)

    # -- processes ---------------------------------------------------------------
    def run(self, ns: str | None, argv: Sequence[str], **kw) -> subprocess.CompletedProcess:
        return run_in(ns, argv, **kw)

    def popen(self, ns: str | None, argv: Sequence[str], **kw) -> subprocess.Popen:
        p = popen_in(ns, argv, **kw)
        self._procs.append(p)
        return p

    # -- teardown ------------------------------------------------------------------
    def close(self) -> None:
        errors = []
        for p in reversed(self._procs):
            try:
                stop_process(p)
            except Exception as e:   # keep tearing down
                errors.append(str(e))
        self._procs.clear()
        for name, ns in reversed(self._links):
            self.be.delete(name, ns)
        self._links.clear()
        for ns in reversed(self._namespaces):
            self.be.netns_del(ns)
        self._namespaces.clear()
