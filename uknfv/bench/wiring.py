"""The benchmark's processes and links: generator, device under test, wiring.

One *session* is one device under test (DUT) wired to uknfv's own traffic
generator, a DPDK-target pipeline (``TrafficGen -> ToDevice(tx)``,
``FromDevice(rx) -> TrafficSink``) in one process, so sending and receiving
share a clock.  Two wirings:

``vhost``  the generator serves two vhost-user sockets (DPDK's net_vhost);
           the DUT attaches to them as a virtio-net front-end: a DPDK
           process (net_virtio_user), a Linux process running the
           unikernel's own virtio-net driver (virtio-user ports), the
           unikernel under QEMU (-netdev vhost-user), or dpdk-testpmd.
``veth``   two veth pairs between a generator namespace and a DUT
           namespace; the generator sends through AF_PACKET; the DUT is a
           Linux-target vNF on AF_PACKET rings, or the kernel forwarding.

The generator and the DUT are pinned to the cores given; every namespace,
link, socket and process a session creates goes when it closes, whatever
happened.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..diag import UknfvError
from ..run.control import ControlClient, ControlError
from ..run.netns import Lab, popen_in, run_in, stop_process
from .search import Trial

# Addresses of the generated traffic: those of pipelines/router.click's
# neighbours (traffic/scenarios.py names them too).
LAN_HOST_MAC = "02:00:00:00:01:02"
LAN_MAC = "52:54:00:00:01:01"
WAN_HOST_MAC = "02:00:00:00:02:02"
# Virtqueue size of every virtio front-end (vNF and testpmd alike): 1024
# descriptors ride out a ~0.5 ms stall of the forwarding core at 2 Mpps,
# which this class of shared host has several times a second.
RING = 4096


@dataclass
class Traffic:
    """What the generator sends: one UDP stream shape and its flow count."""

    src_mac: str = LAN_HOST_MAC
    dst_mac: str = LAN_MAC
    src_ip: str = "10.0.1.2"
    dst_ip: str = "10.0.2.2"
    sport: int = 1024
    dport: int = 1024
    flows: int = 1

    @classmethod
    def from_scenario(cls, sc) -> "Traffic":
        """Addresses and flow count of a traffic/scenarios.py scenario."""
        from scapy.layers.inet import IP, UDP
        from scapy.layers.l2 import Ether
        b = sc.base
        if IP not in b or UDP not in b:
            raise UknfvError(f"scenario '{sc.name}': the benchmark generator sends UDP over IPv4; "
                             f"its base packet is {b.summary()}")
        n = 1
        for r in sc.flows.ranges().values():
            n = max(n, r.count)
        return cls(b[Ether].src, b[Ether].dst, b[IP].src, b[IP].dst, b[UDP].sport, b[UDP].dport,
                   min(n, 65535))


def gen_config(size: int, t: Traffic, burst: int = 32) -> str:
    """The generator pipeline for one frame size (RFC 2544 size, FCS included)."""
    return (f"// uknfv bench generator: {size}-byte frames, {t.flows} flow(s)\n"
            f"gen :: TrafficGen(SRCETH {t.src_mac}, DSTETH {t.dst_mac}, SRCIP {t.src_ip}, "
            f"DSTIP {t.dst_ip}, SPORT {t.sport}, DPORT {t.dport}, LENGTH {size}, FLOWS {t.flows}, "
            f"RATE 0, ACTIVE false, STAMP true, BURST {burst})\n"
            f"  -> ToDevice(tx);\n"
            f"FromDevice(rx) -> sink :: TrafficSink;\n")


def _uknfv_argv() -> list[str]:
    return [sys.executable, "-m", "uknfv.cli"]


def _taskset(core: int | None) -> list[str]:
    return ["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []


# The orchestrating process keeps to the generator's core (runner.run pins
# it) so that nothing but the vNF ever runs on the vNF's core: with both cores
# busy-polling, any other runnable thread would take a scheduler slice (ms)
# from one of them.  DPDK processes start with every CPU of the original
# mask: their EAL pins the lcore itself and puts its control threads on the
# CPUs left over, which is the generator's.
ALL_CPUS: list[int] = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _taskset_all() -> list[str]:
    if not ALL_CPUS or not shutil.which("taskset"):
        return []
    return ["taskset", "-c", ",".join(map(str, ALL_CPUS))]


def _wait_for(cond, timeout: float, what: str, proc: subprocess.Popen | None = None,
              log: Path | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise UknfvError(f"{what}: the process exited with status {proc.returncode}"
                             + _tail(log))
        time.sleep(0.05)
    raise UknfvError(f"{what}: not ready after {timeout:.0f} s" + _tail(log))


def _tail(log: Path | None, n: int = 6) -> str:
    if log is None or not log.exists():
        return ""
    lines = [l for l in log.read_text(errors="replace").splitlines() if l.strip()][-n:]
    return ("\n  " + "\n  ".join(lines)) if lines else ""


# --------------------------------------------------------------------------- sessions

@dataclass
class Env:
    """Where one session lives: its folder, its cores, its namespaces."""

    workdir: Path
    gen_core: int | None
    dut_core: int | None
    huge: bool | None = None
    lab: Lab | None = None
    gen_ns: str | None = None
    dut_ns: str | None = None
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def in_sock(self) -> Path:
        return self.workdir / "in.sock"

    @property
    def out_sock(self) -> Path:
        return self.workdir / "out.sock"

    def log(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def popen(self, name: str, argv: list[str], ns: str | None = None) -> subprocess.Popen:
        f = open(self.log(name), "w")
        p = popen_in(ns, argv, stdin=subprocess.PIPE, stdout=f, stderr=subprocess.STDOUT)
        f.close()
        self.procs.append(p)
        return p


class Dut:
    """A device under test.  ``wiring`` is "vhost" or "veth"."""

    name = "dut"
    wiring = "vhost"
    traffic_override: Traffic | None = None   # the kernel needs frames addressed to it

    def start(self, env: Env) -> None:
        raise NotImplementedError

    def counters(self) -> dict[str, int] | None:
        """Frames it received on its ingress and sent on its egress, if it can tell."""
        return None

    def describe(self) -> dict:
        return {"name": self.name}

    def stop(self) -> None:
        pass


class UknfvDut(Dut):
    """A uknfv vNF: built for the target ``via`` needs, ports ``ingress``/``egress``."""

    TARGET = {"dpdk": "dpdk", "virtio-user": "linux", "linux": "linux", "vm": "kvm"}

    def __init__(self, pipeline: str, via: str, defines: dict[str, str], ingress: str | None,
                 egress: str | None, opt: str = "O2"):
        from ..pipeline import load
        from ..targets import get as get_target
        if via not in self.TARGET:
            raise UknfvError(f"--via {via}: expected one of {', '.join(self.TARGET)}")
        self.via, self.pipeline, self.defines = via, pipeline, dict(defines)
        self.name = "uknfv"
        self.wiring = "veth" if via == "linux" else "vhost"
        target = self.TARGET[via]
        g = load(pipeline, defines, target)
        built = get_target(target).build(g, opt=opt)
        self.binary = Path(built.path)
        ports = [n for n, _ in built.emitted.ports]
        if len(ports) < 2 and not (ingress and egress):
            raise UknfvError(f"{pipeline}: the benchmark needs a pipeline with two ports (ingress "
                             f"and egress); it has {', '.join(ports) or 'none'}")
        self.ingress = ingress or ports[0]
        self.egress = egress or ports[1]
        for p in (self.ingress, self.egress):
            if p not in ports:
                raise UknfvError(f"--ports: {pipeline} has no port '{p}' (its ports: "
                                 f"{', '.join(ports)})")
        if self.ingress == self.egress:
            raise UknfvError("--ports: ingress and egress must be two different ports")
        # Counters of the ingress FromDevice and the egress ToDevice.
        self.rx_handler = self.tx_handler = None
        for i in g.instances:
            arg = i.config.strip().split(",")[0].strip() if i.config else ""
            if i.cls in ("FromDevice", "FromDPDKDevice") and arg == self.ingress:
                self.rx_handler = f"{i.name}.count"
            if i.cls in ("ToDevice", "ToDPDKDevice") and arg == self.egress:
                self.tx_handler = f"{i.name}.count"
        self.target, self.opt = target, opt
        self.proc: subprocess.Popen | None = None
        self.ctl: Path | None = None

    def describe(self) -> dict:
        return {"name": "uknfv", "pipeline": self.pipeline, "via": self.via, "target": self.target,
                "ports": {"ingress": self.ingress, "egress": self.egress}, "opt": self.opt}

    def start(self, env: Env) -> None:
        self.ctl = env.workdir / "vnf.ctl"
        i, e = self.ingress, self.egress
        if self.via == "dpdk":
            argv = _taskset_all() + [str(self.binary), "--port", f"{i}=dpdk:net_virtio_user0,path={env.in_sock},queue_size={RING}",
                    "--port", f"{e}=dpdk:net_virtio_user1,path={env.out_sock},queue_size={RING}",
                    "--busy-poll", "--control", str(self.ctl), "--rxd", str(RING), "--txd", str(RING),
                    "--pool", str(4 * RING + 4096)]
            if env.dut_core is not None:
                argv += ["--cores", str(env.dut_core)]
            if env.huge is False:
                argv.append("--no-huge")
        elif self.via == "virtio-user":
            argv = _taskset(env.dut_core) + [
                str(self.binary), "--port", f"{i}=virtio-user:{env.in_sock},ring={RING}",
                "--port", f"{e}=virtio-user:{env.out_sock},ring={RING}", "--control", str(self.ctl),
                "--pool", str(4 * RING + 4096)]
        elif self.via == "linux":
            argv = _taskset(env.dut_core) + [
                str(self.binary), "--port", f"{i}=if:d0", "--port", f"{e}=if:d1",
                "--control", str(self.ctl)]
        else:   # vm
            argv = _taskset(env.dut_core) + _uknfv_argv() + [
                "run", self.pipeline, *[f"{k}={v}" for k, v in self.defines.items()],
                "--target", "kvm", "--opt", self.opt,
                "--port", f"{i}=vhost-user:{env.in_sock}", "--port", f"{e}=vhost-user:{env.out_sock}",
                "--control", str(self.ctl)]
        self.proc = env.popen("vnf", argv, env.dut_ns if self.via == "linux" else None)
        _wait_for(lambda: self.ctl.exists(), 120 if self.via == "vm" else 30,
                  f"the {self.via} vNF", self.proc, env.log("vnf"))

    def counters(self) -> dict[str, int] | None:
        if not (self.rx_handler and self.tx_handler and self.ctl):
            return None
        try:
            with ControlClient(self.ctl, timeout=5) as c:
                return {"rx": int(c.read(self.rx_handler)), "tx": int(c.read(self.tx_handler))}
        except (ControlError, UknfvError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc is not None:
            if self.ctl and self.ctl.exists():
                try:
                    with ControlClient(self.ctl, timeout=2) as c:
                        c.write("stop")
                    self.proc.wait(timeout=5)
                except (ControlError, UknfvError, subprocess.TimeoutExpired):
                    pass
            stop_process(self.proc)
            self.proc = None


class TestpmdDut(Dut):
    """dpdk-testpmd's io forwarding between two virtio-user ports: the path's limit."""

    name = "testpmd"
    wiring = "vhost"

    def __init__(self) -> None:
        self.exe = shutil.which("dpdk-testpmd")
        if not self.exe:
            raise UknfvError("the testpmd baseline needs dpdk-testpmd: apt-get install dpdk")
        self.proc = None

    def describe(self) -> dict:
        return {"name": "testpmd", "forward_mode": "io", "exe": self.exe}

    def start(self, env: Env) -> None:
        # testpmd forwards on a core of its own; its main lcore only waits for
        # the end (it shares the generator's core, sleeping).
        fwd = env.dut_core if env.dut_core is not None else 0
        main = env.gen_core if env.gen_core is not None and env.gen_core != fwd else None
        lcores = f"{main},{fwd}" if main is not None else f"{fwd}"
        argv = _taskset_all() + [self.exe, "-l", lcores, "--no-pci", "--file-prefix", f"uknfvtp{os.getpid()}",
                "--log-level=error",
                "--vdev", f"net_virtio_user0,path={env.in_sock},queue_size={RING}",
                "--vdev", f"net_virtio_user1,path={env.out_sock},queue_size={RING}"]
        if main is not None:
            argv += ["--main-lcore", str(main)]
        if env.huge is False or not _free_hugepages():
            argv += ["--no-huge", "-m", "1024", "--no-shconf"]
        else:
            argv += ["--single-file-segments", "--in-memory"]
        argv += ["--", "--forward-mode=io", "--auto-start", "--nb-cores=1", f"--rxd={RING}", f"--txd={RING}",
                 "--rxq=1", "--txq=1", "--no-lsc-interrupt"]
        if main is None:
            raise UknfvError("the testpmd baseline needs two cores (its main lcore and a "
                             "forwarding one): give --cores GEN,VNF with two different CPUs")
        if shutil.which("stdbuf"):      # its progress lines, as they come
            argv = ["stdbuf", "-oL"] + argv
        self.proc = env.popen("testpmd", argv)
        _wait_for(lambda: "forwards packets on" in env.log("testpmd").read_text(errors="replace"),
                  30, "dpdk-testpmd", self.proc, env.log("testpmd"))

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.write(b"\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            stop_process(self.proc)
            self.proc = None


class KernelDut(Dut):
    """Linux's own IPv4 forwarding between the two veths of the DUT namespace."""

    name = "kernel"
    wiring = "veth"
    traffic_override = None

    def __init__(self, flows: int = 1) -> None:
        self.traffic_override = Traffic(flows=flows)   # addressed to d0 (the router's LAN MAC)

    def describe(self) -> dict:
        return {"name": "kernel", "forwarding": "IPv4, veth to veth",
                "cpu": "the softirq of the sending CPU (the generator's core)"}

    def start(self, env: Env) -> None:
        lab, ns = env.lab, env.dut_ns
        lab.addr("d0", "10.0.1.1/24", ns)
        lab.addr("d1", "10.0.3.1/24", ns)
        lab.neigh("10.0.3.2", WAN_HOST_MAC, "d1", ns)
        lab.route("10.0.2.0/24", via="10.0.3.2", ns=ns)
        for k in ("net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
                  "net.ipv4.conf.d0.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"):
            run_in(ns, ["sysctl", "-qw", k], check=True)


def _free_hugepages() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Session:
    """Generator + DUT for one frame size; ``trial(rate)`` runs one trial."""

    def __init__(self, dut: Dut, size: int, traffic: Traffic, env: Env, *, duration: float,
                 settle: float = 0.15):
        self.dut, self.size, self.env = dut, size, env
        self.traffic = dut.traffic_override or traffic
        self.duration, self.settle = duration, settle
        self.gen_proc: subprocess.Popen | None = None
        self.ctl = env.workdir / "gen.ctl"

    # -- life cycle ------------------------------------------------------------
    def __enter__(self) -> "Session":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _gen_binary(self) -> Path:
        from ..pipeline import load
        from ..targets import get as get_target
        cfg = self.env.workdir / f"gen{self.size}.click"
        cfg.write_text(gen_config(self.size, self.traffic))
        return Path(get_target("dpdk").build(load(str(cfg), {}, "dpdk")).path)

    def _start(self) -> None:
        env = self.env
        binary = self._gen_binary()
        if self.dut.wiring == "veth":
            if os.geteuid() != 0:
                raise UknfvError(f"the {self.dut.name} DUT runs between network namespaces: "
                                 f"run uknfv bench as root")
            env.lab = Lab(prefix=f"ukb{os.getpid()}-")
            env.gen_ns, env.dut_ns = env.lab.netns("g"), env.lab.netns("d")
            for ns in (env.gen_ns, env.dut_ns):
                run_in(ns, ["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"])
                run_in(ns, ["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"])
            env.lab.veth("g0", "d0", env.gen_ns, env.dut_ns, mac_b=LAN_MAC)
            env.lab.veth("g1", "d1", env.gen_ns, env.dut_ns, mac_a=WAN_HOST_MAC)
            ports = ["--port", "tx=if:g0", "--port", "rx=if:g1"]
        else:
            ports = ["--port", f"tx=dpdk:net_vhost0,iface={env.in_sock},queues=1",
                     "--port", f"rx=dpdk:net_vhost1,iface={env.out_sock},queues=1"]
        argv = _taskset_all() + [str(binary)] + ports + ["--busy-poll", "--control", str(self.ctl),
                                                          "--pool", "16384", "--rxd", str(RING),
                                                          "--txd", str(RING)]
        if env.gen_core is not None:
            argv += ["--cores", str(env.gen_core)]
        if env.huge is False:
            argv.append("--no-huge")
        self.gen_proc = env.popen("gen", argv, env.gen_ns)
        _wait_for(self.ctl.exists, 30, "the traffic generator", self.gen_proc, env.log("gen"))
        if self.dut.wiring == "vhost":
            _wait_for(lambda: env.in_sock.exists() and env.out_sock.exists(), 30,
                      "the generator's vhost-user sockets", self.gen_proc, env.log("gen"))
        self.dut.start(env)
        self._warm_up()

    def _warm_up(self, timeout: float = 60.0) -> None:
        """Wait until frames make it through (links up, the DUT forwarding)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            t = self.trial(10000, duration=0.1)
            if t.received > 0:
                return
            for p in self.env.procs:
                if p.poll() is not None:
                    raise UknfvError(f"{self.dut.name}: a benchmark process exited (status "
                                     f"{p.returncode})" + _tail(self.env.log("vnf"))
                                     + _tail(self.env.log("gen")))
            time.sleep(0.2)
        raise UknfvError(f"{self.dut.name}: no frame came back through the DUT within "
                         f"{timeout:.0f} s (logs in {self.env.workdir})"
                         + _tail(self.env.log("gen")))

    def close(self) -> None:
        try:
            self.dut.stop()
        finally:
            if self.gen_proc is not None:
                try:
                    with ControlClient(self.ctl, timeout=2) as c:
                        c.write("stop")
                    self.gen_proc.wait(timeout=5)
                except (ControlError, UknfvError, subprocess.TimeoutExpired, OSError):
                    pass
            for p in self.env.procs:
                stop_process(p)
            self.env.procs.clear()
            if self.env.lab is not None:
                self.env.lab.close()
                self.env.lab = None
            for s in (self.env.in_sock, self.env.out_sock, self.ctl,
                      self.env.workdir / "vnf.ctl"):
                try:
                    s.unlink()
                except OSError:
                    pass

    # -- trials ----------------------------------------------------------------
    def trial(self, rate: float, duration: float | None = None) -> Trial:
        duration = self.duration if duration is None else duration
        with ControlClient(self.ctl, timeout=10) as c:
            c.write("gen.active", "false")
            c.write("gen.rate", str(int(round(rate))))
            c.write("gen.reset")
            c.write("sink.reset")
            before = self.dut.counters()
            t0 = time.monotonic()
            c.write("gen.active", "true")
            time.sleep(duration)
            c.write("gen.active", "false")
            elapsed = time.monotonic() - t0
            time.sleep(self.settle)
            offered = int(c.read("gen.count"))
            dups = int(c.read("sink.duplicates"))
            received = int(c.read("sink.count")) - dups
            reordered = int(c.read("sink.reordered"))
            lat = {}
            if int(c.read("sink.latency_samples")):
                for q, h in (("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p99.9", "p999")):
                    lat[q] = float(c.read(f"sink.latency_{h}"))
        t = Trial(rate, elapsed, offered, received, reordered, dups, lat)
        after = self.dut.counters()
        if before and after and t.lost:
            rx = after["rx"] - before["rx"]
            tx = after["tx"] - before["tx"]
            t.where = {"before_vnf": max(offered - rx, 0), "in_vnf": max(rx - tx, 0),
                       "after_vnf": max(tx - received, 0)}
        return t
