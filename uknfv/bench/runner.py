"""`uknfv bench`: RFC 2544 searches of a vNF and its baselines, interleaved.

For every frame size, every repetition runs one full search per system
(uknfv's vNF, then each baseline, the order rotating between repetitions),
each in a fresh session (generator and DUT started, warmed up, stopped), so
that a noisy spell of the shared host hits all systems alike.  A system's
figure is the median of its repetitions, with their spread.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..diag import UknfvError
from .search import SearchResult, Trial, gbps_l1, gbps_l2, line_rate_pps, ndr_search
from .wiring import Env, KernelDut, Session, TestpmdDut, Traffic, UknfvDut

RFC2544_SIZES = (64, 128, 256, 512, 1024, 1280, 1518)
BASELINES = ("testpmd", "kernel")


@dataclass
class BenchConfig:
    pipeline: str
    via: str = "dpdk"
    frame_sizes: tuple[int, ...] = RFC2544_SIZES
    duration: float = 2.0
    loss: float = 0.0
    resolution: float = 0.02
    max_trials: int = 12
    repeats: int = 1
    baselines: tuple[str, ...] = ()
    cores: tuple[int | None, int | None] = (None, None)
    latency_at: float = 0.9
    scenario: str | None = None
    defines: dict[str, str] = field(default_factory=dict)
    ports: tuple[str | None, str | None] = (None, None)
    line_gbps: float | None = None
    huge: bool | None = None
    workdir: str | None = None
    opt: str = "O2"
    trex: str | None = None          # a TRex server drives the search instead of uknfv's generator
    trex_ports: tuple[int, int] = (0, 1)


def default_cores() -> tuple[int | None, int | None]:
    """The generator on the first CPU this process may use, the vNF on the second."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = list(range(os.cpu_count() or 1))
    if len(cpus) >= 2:
        return cpus[0], cpus[1]
    return cpus[0], cpus[0]


def parse_cores(text: str | None) -> tuple[int | None, int | None]:
    if not text:
        return default_cores()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise UknfvError(f"--cores: expected GEN,VNF (two CPU numbers, e.g. 0,1), got '{text}'")
    gen, vnf = int(parts[0]), int(parts[1])
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        allowed = set(range(os.cpu_count() or 1))
    for c in (gen, vnf):
        if c not in allowed:
            raise UknfvError(f"--cores: CPU {c} is not available here (allowed: "
                             f"{','.join(map(str, sorted(allowed)))})")
    return gen, vnf


def parse_sizes(text: str) -> tuple[int, ...]:
    out = []
    for p in text.split(","):
        p = p.strip()
        if not p.isdigit() or not 64 <= int(p) <= 9018:
            raise UknfvError(f"--frame-sizes: '{p}' is not a frame size in bytes (64..9018, FCS "
                             f"included, as RFC 2544 counts them)")
        out.append(int(p))
    if not out:
        raise UknfvError("--frame-sizes: give at least one size")
    return tuple(out)


def manifest_ports(pipeline: str) -> tuple[str | None, str | None]:
    """The ingress and egress ports a manifest beside the pipeline names (NAME.toml)."""
    from ..manifest import load_manifest
    toml = Path(pipeline).with_suffix(".toml")
    if not toml.exists():
        return None, None
    m = load_manifest(toml)
    if m.bench is None:
        return None, None
    return m.bench.ingress, m.bench.egress


def default_scenario(pipeline: str) -> str | None:
    from ..traffic import scenarios
    stem = Path(pipeline).stem
    for name in (f"{stem}-flows", f"{stem}-allowed"):
        if name in scenarios.SCENARIOS:
            return name
    return None


class Progress:
    """One status line on stderr: sessions done, the current search."""

    def __init__(self, total: int, stream=sys.stderr, enabled: bool = True):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = enabled and hasattr(stream, "isatty") and stream.isatty()
        self.enabled = enabled
        self.label = ""

    def start(self, label: str) -> None:
        self.label = label
        self._show("starting")

    def trial(self, n: int, t: Trial, lo: float, hi: float) -> None:
        self._show(f"trial {n}: {t.offered_pps / 1e6:7.3f} Mpps offered, loss {t.loss_ratio:.3%}, "
                   f"NDR in [{lo / 1e6:.3f}, {hi / 1e6:.3f}] Mpps")

    def finish(self, text: str) -> None:
        self.done += 1
        self._show(text, final=True)

    def _show(self, text: str, final: bool = False) -> None:
        if not self.enabled:
            return
        width = 24
        fill = int(width * self.done / max(self.total, 1))
        bar = "#" * fill + "." * (width - fill)
        line = f"[{bar}] {self.done}/{self.total} {self.label}: {text}"
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()


def _median_run(runs: list[dict]) -> dict:
    ordered = sorted(runs, key=lambda r: r["ndr_pps"])
    return ordered[(len(ordered) - 1) // 2]


def _summary(size: int, runs: list[dict]) -> dict:
    ndrs = [r["ndr_pps"] for r in runs]
    med = statistics.median(ndrs)
    mr = _median_run(runs)
    lat: dict[str, float] = {}
    for q in ("p50", "p90", "p99", "p99.9"):
        vals = [r["latency"]["latency_ns"][q] for r in runs
                if r.get("latency") and q in r["latency"].get("latency_ns", {})]
        if vals:
            lat[q] = statistics.median(vals)
    fail = [t for t in mr["trials"] if t["lost"] and t.get("where")]
    # RFC 2889's forwarding rate at maximum offered load: what came back in
    # each search's first trial (offered at the top rate), median over runs.
    fr = [r["trials"][0]["received_pps"] for r in runs if r["trials"]]
    return {
        "frame_size": size,
        "ndr_mpps": med / 1e6,
        "ndr_gbps": gbps_l2(med, size),
        "ndr_gbps_l1": gbps_l1(med, size),
        "loss_at_ndr": mr["at_ndr"]["loss_ratio"] if mr.get("at_ndr") else None,
        "latency_ns": lat,
        "runs_mpps": [n / 1e6 for n in ndrs],
        "spread": {"min": min(ndrs) / 1e6, "max": max(ndrs) / 1e6,
                   "rel": (max(ndrs) - min(ndrs)) / med if med else None},
        "loss_location": fail[-1]["where"] if fail else None,
        "max_load_fr_mpps": statistics.median(fr) / 1e6 if fr else None,
        "bound": mr["bound"],
        "runs": runs,
    }


def _one_search(dut, size: int, traffic: Traffic, cfg: BenchConfig, cores, work: Path,
                progress: Progress) -> dict:
    env = Env(workdir=work, gen_core=cores[0], dut_core=cores[1], huge=cfg.huge)
    work.mkdir(parents=True, exist_ok=True)
    top = line_rate_pps(cfg.line_gbps, size) if cfg.line_gbps else None
    with Session(dut, size, traffic, env, duration=cfg.duration) as s:
        res: SearchResult = ndr_search(s.trial, top, loss=cfg.loss, resolution=cfg.resolution,
                                       max_trials=cfg.max_trials, progress=progress.trial)
        latency = None
        if res.ndr_pps > 0 and cfg.latency_at > 0:
            latency = s.trial(res.ndr_pps * cfg.latency_at)
    return {
        "ndr_pps": res.ndr_pps, "bound": res.bound, "top_pps": res.top_pps,
        "at_ndr": res.at_ndr.to_json() if res.at_ndr else None,
        "latency": latency.to_json() if latency else None,
        "trials": [t.to_json() for t in res.trials],
    }


class TrexSession:
    """Trials driven by a TRex server (``--trex HOST``): TRex port ``tx`` sends
    the scenario at each trial's rate, port ``rx`` counts what the DUT, wired
    between them by the user, forwarded."""

    def __init__(self, host: str, scenario, size: int, ports: tuple[int, int], duration: float):
        self.host, self.ports, self.duration = host, ports, duration
        self.scenario = scenario.with_(frame_size=size)

    def trial(self, rate: float) -> Trial:
        from ..traffic import trex
        from ..traffic.scenarios import Rate
        sc = self.scenario
        if rate > 0:
            sc = sc.with_(rate=Rate(pps=rate))
        else:   # TRex's own maximum: the line rate of its port
            sc = sc.with_(rate=Rate(percent=100.0))
        res = trex.run_trex(self.host, sc, self.duration, (self.ports[0],), (self.ports[1],))
        return Trial(rate, float(res.get("duration_s", self.duration)), int(res["tx_packets"]),
                     int(res["rx_packets"]))


def _trex_search(cfg: BenchConfig, scen, size: int, progress: "Progress") -> dict:
    s = TrexSession(cfg.trex, scen, size, cfg.trex_ports, cfg.duration)
    top = line_rate_pps(cfg.line_gbps, size) if cfg.line_gbps else None
    res = ndr_search(s.trial, top, loss=cfg.loss, resolution=cfg.resolution,
                     max_trials=cfg.max_trials, progress=progress.trial)
    return {"ndr_pps": res.ndr_pps, "bound": res.bound, "top_pps": res.top_pps,
            "at_ndr": res.at_ndr.to_json() if res.at_ndr else None, "latency": None,
            "trials": [t.to_json() for t in res.trials]}


def run(cfg: BenchConfig, progress: bool = True) -> dict:
    """Run the benchmark; returns the result (see the module docstring)."""
    from ..traffic import scenarios
    if cfg.via not in UknfvDut.TARGET:
        raise UknfvError(f"--via {cfg.via}: expected one of {', '.join(UknfvDut.TARGET)}")
    for b in cfg.baselines:
        if b not in BASELINES:
            raise UknfvError(f"--baseline {b}: expected one of {', '.join(BASELINES)}")
    if not 0 <= cfg.loss < 1:
        raise UknfvError(f"--loss: expected a ratio in [0, 1) (e.g. 0 or 0.001), got {cfg.loss}")
    if not 0 < cfg.resolution < 1:
        raise UknfvError(f"--resolution: expected a ratio in (0, 1), got {cfg.resolution}")
    if not cfg.duration > 0:
        raise UknfvError(f"--duration: expected a positive number of seconds, got {cfg.duration}")
    if not 0 <= cfg.latency_at <= 1:
        raise UknfvError(f"--latency-at: expected a fraction of the NDR in [0, 1], got {cfg.latency_at}")
    if cfg.trex:
        return _run_trex(cfg, progress)
    needs_root = cfg.via in ("linux", "vm") or "kernel" in cfg.baselines
    if needs_root and os.geteuid() != 0:
        raise UknfvError("uknfv bench " + ("--baseline kernel" if "kernel" in cfg.baselines else
                                           f"--via {cfg.via}")
                         + " creates network namespaces (or QEMU's vhost-user memory): run as root")
    scen_name = cfg.scenario or default_scenario(cfg.pipeline)
    traffic = Traffic.from_scenario(scenarios.get(scen_name)) if scen_name else Traffic()
    cores = cfg.cores if cfg.cores != (None, None) else default_cores()

    ports = cfg.ports if cfg.ports != (None, None) else manifest_ports(cfg.pipeline)
    vnf = UknfvDut(cfg.pipeline, cfg.via, cfg.defines, ports[0], ports[1], cfg.opt)
    systems: list[tuple[str, object]] = [("uknfv", vnf)]
    for b in cfg.baselines:
        systems.append((b, TestpmdDut() if b == "testpmd" else KernelDut(traffic.flows)))

    pinned = _pin_self(cores[0])
    try:
        return _run_local(cfg, vnf, systems, traffic, scen_name, cores, progress)
    finally:
        if pinned is not None:
            os.sched_setaffinity(0, pinned)


def _pin_self(core: int | None):
    """Keep this process (and what it starts without a CPU of its own) off the vNF's core."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    old = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {core})
    except OSError:
        return None
    return old


def _run_local(cfg: BenchConfig, vnf, systems, traffic, scen_name, cores, progress: bool) -> dict:
    root = Path(cfg.workdir) if cfg.workdir else Path(tempfile.mkdtemp(prefix="uknfv-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    bar = Progress(len(cfg.frame_sizes) * cfg.repeats * len(systems), enabled=progress)
    runs: dict[str, dict[int, list[dict]]] = {n: {s: [] for s in cfg.frame_sizes} for n, _ in systems}
    t_start = time.monotonic()
    for size in cfg.frame_sizes:
        for rep in range(cfg.repeats):
            order = systems[rep % len(systems):] + systems[:rep % len(systems)]
            for name, dut in order:
                bar.start(f"{size} B, {name}, run {rep + 1}/{cfg.repeats}")
                r = _one_search(dut, size, traffic, cfg, cores, root / f"{name}-{size}-{rep}", bar)
                runs[name][size].append(r)
                bar.finish(f"NDR {r['ndr_pps'] / 1e6:.3f} Mpps ({r['bound']})")
    results = []
    for size in cfg.frame_sizes:
        main = _summary(size, runs["uknfv"][size])
        main["baseline"] = {}
        for name, _ in systems[1:]:
            b = _summary(size, runs[name][size])
            b["ratio"] = main["ndr_mpps"] / b["ndr_mpps"] if b["ndr_mpps"] else None
            main["baseline"][name] = b
        results.append(main)
    from ..run.accel import choose_accel
    accel = None
    if cfg.via == "vm":
        accel = choose_accel(None)[1]
    return {
        "pipeline": cfg.pipeline, "via": cfg.via, "scenario": scen_name,
        "traffic": vars(traffic),
        "vnf": vnf.describe(),
        "baselines": list(cfg.baselines),
        "baseline_systems": {n: d.describe() for n, d in systems[1:]},
        "cores": {"generator": cores[0], "vnf": cores[1]},
        "frame_sizes": list(cfg.frame_sizes),
        "duration_s": cfg.duration, "loss": cfg.loss, "resolution": cfg.resolution,
        "max_trials": cfg.max_trials, "repeats": cfg.repeats, "latency_at": cfg.latency_at,
        "line_gbps": cfg.line_gbps,
        "accel": accel,
        "host": {"machine": platform.machine(), "kernel": platform.release(),
                 "cpus": os.cpu_count(), "cpu": _cpu_model()},
        "elapsed_s": time.monotonic() - t_start,
        "workdir": str(root),
        "results": results,
    }


def _run_trex(cfg: BenchConfig, progress: bool) -> dict:
    from ..traffic import scenarios
    if cfg.baselines:
        raise UknfvError("--baseline runs the baselines on uknfv's own wiring; with --trex the DUT "
                         "is wired to the TRex server by you: run the baselines separately")
    scen_name = cfg.scenario or default_scenario(cfg.pipeline) or "udp64"
    scen = scenarios.get(scen_name)
    bar = Progress(len(cfg.frame_sizes), enabled=progress)
    results, t_start = [], time.monotonic()
    for size in cfg.frame_sizes:
        bar.start(f"{size} B via TRex {cfg.trex}")
        r = _trex_search(cfg, scen, size, bar)
        bar.finish(f"NDR {r['ndr_pps'] / 1e6:.3f} Mpps ({r['bound']})")
        s = _summary(size, [r])
        s["baseline"] = {}
        results.append(s)
    return {"pipeline": cfg.pipeline, "via": f"trex:{cfg.trex}", "scenario": scen_name,
            "trex": {"host": cfg.trex, "ports": list(cfg.trex_ports)}, "baselines": [],
            "cores": None, "frame_sizes": list(cfg.frame_sizes), "duration_s": cfg.duration,
            "loss": cfg.loss, "resolution": cfg.resolution, "max_trials": cfg.max_trials,
            "repeats": 1, "latency_at": None, "line_gbps": cfg.line_gbps,
            "host": {"machine": platform.machine(), "kernel": platform.release(),
                     "cpus": os.cpu_count(), "cpu": _cpu_model()},
            "elapsed_s": time.monotonic() - t_start, "results": results}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_json(result: dict, path: str | Path) -> None:
    Path(path).write_text(json.dumps(result, indent=2) + "\n")
