"""The `uknfv` command."""
from __future__ import annotations

import json
import os
import sys
from functools import wraps

import click

from .diag import UknfvError

TARGETS = ["linux", "kvm", "dpdk"]


def _friendly(fn):
    """Print UknfvError cleanly and exit 1: no traceback for user mistakes."""

    @wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except UknfvError as e:
            click.echo(str(e), err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="uknfv")
def main() -> None:
    """uknfv: compile Click pipelines into specialised network functions."""


target_opt = click.option("--target", "-t", type=click.Choice(TARGETS), default="linux",
                          show_default=True, help="Where the vNF runs.")
defines_arg = click.argument("defines", nargs=-1, metavar="[NAME=VALUE]...")


@main.command()
@click.argument("file")
@defines_arg
@target_opt
@_friendly
def check(file: str, defines: tuple[str, ...], target: str) -> None:
    """Check a configuration: syntax, classes, arguments, ports, push/pull."""
    from .pipeline import load, parse_defines
    g = load(file, parse_defines(defines), target)
    click.echo(f"{file}: ok ({len(g.instances)} elements, {len(g.conns)} connections, "
               f"target {target})")


@main.command()
@click.argument("file")
@defines_arg
@_friendly
def flatten(file: str, defines: tuple[str, ...]) -> None:
    """Print the elaborated configuration (compounds expanded), like click-flatten."""
    from .lang.flatten import unparse
    from .pipeline import load_flat, parse_defines
    click.echo(unparse(load_flat(file, parse_defines(defines))), nl=False)


@main.command()
@click.argument("file")
@defines_arg
@click.option("-o", "--output", required=True, help="x.svg, x.png, x.pdf or x.dot")
@target_opt
@_friendly
def graph(file: str, defines: tuple[str, ...], output: str, target: str) -> None:
    """Draw the element graph with Graphviz, ports labelled."""
    from . import dot
    from .pipeline import load, parse_defines
    dot.write(load(file, parse_defines(defines), target), output)
    click.echo(f"wrote {output}")


def _build(file, defines, target, opt):
    from . import targets
    from .pipeline import load, parse_defines
    g = load(file, parse_defines(defines), target)
    return g, targets.get(target).build(g, opt=opt)


opt_opt = click.option("--opt", type=click.Choice(["O2", "release", "size", "sanitize"]), default="O2",
                       show_default=True,
                       help="O2; release (-O3 -march=native); size (-Os, kvm); sanitize (ASan+UBSan, linux).")


@main.command()
@click.argument("file")
@defines_arg
@target_opt
@click.option("-o", "--output", required=True, help="Where to write the program.")
@opt_opt
@_friendly
def build(file: str, defines: tuple[str, ...], target: str, output: str, opt: str) -> None:
    """Build a standalone vNF program (and OUTPUT.json describing it)."""
    import shutil
    g, built = _build(file, defines, target, opt)
    try:
        shutil.copyfile(built.path, output)
        os.chmod(output, 0o755)
        if getattr(built, "debug", None) is not None:
            shutil.copyfile(built.debug, output + ".dbg")
    except OSError as e:
        raise UknfvError(f"cannot write {output}: {e.strerror}") from None
    meta = {
        "pipeline": file, "target": target, "opt": opt,
        "elements": [{"name": i.name, "class": i.cls, "config": i.config,
                      "inputs": i.in_proc, "outputs": i.out_proc} for i in g.instances],
        "connections": [[c.src.name, c.sport, c.dst.name, c.dport] for c in g.conns],
        "ports": [{"name": n, "rx": bool(b & 1), "tx": bool(b & 2)} for n, b in built.emitted.ports],
        "handlers": [f"{e}.{h}" for e, h in built.emitted.handlers],
        "libraries": built.libs,
        "cflags": built.cflags,
        "size": os.path.getsize(output),
    }
    meta.update(getattr(built, "meta", {}) or {})
    with open(output + ".json", "w") as f:
        json.dump(meta, f, indent=2)
    click.echo(f"wrote {output} ({meta['size']} bytes) and {output}.json")


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("file")
@defines_arg
@target_opt
@click.option("--port", "ports", multiple=True, metavar="NAME=SPEC",
              help="Bind a logical port. linux: NAME=pcap:FILE | if:IFACE | tap:NAME. "
                   "kvm: NAME=tap:TAP[,mac=MAC] | vhost-user:SOCK[,mac=MAC][,server] | "
                   "bridge:BR[,mac=MAC]. dpdk: NAME=dpdk:DEVARGS (net_vhost0,iface=SOCK, "
                   "net_virtio_user0,path=SOCK, net_pcap0,rx_pcap=FILE, net_ring0, a PCI address "
                   "...) | pcap:FILE | if:IFACE | tap:NAME.")
@click.option("--stats", is_flag=True, help="Print every handler at exit (kvm: always).")
@opt_opt
@click.option("--machine", type=click.Choice(["microvm", "q35"]), default=None,
              help="kvm: QEMU machine [default: microvm; q35 boots with qboot].")
@click.option("--accel", type=click.Choice(["auto", "kvm", "tcg"]), default=None,
              help="kvm: accelerator [default: auto: KVM if it is hardware virtualisation].")
@click.option("--memory", type=click.IntRange(2, 1 << 20), default=None, metavar="MB",
              help="kvm: guest memory [default: the image's memory_mb].")
@click.option("--control", default=None, metavar="SOCK",
              help="Control socket for `uknfv handlers/read/write` (Click's ControlSocket "
                   "protocol). kvm: [default: $XDG_RUNTIME_DIR/uknfv/NAME.sock]; linux, dpdk: "
                   "none unless given.")
@click.option("--print-cmd", is_flag=True,
              help="kvm: print the QEMU command line instead of running it (a run also "
                   "passes the wall clock: -append uknfv.epoch_ns=NOW).")
@click.option("--cores", default=None, metavar="LIST",
              help="dpdk: the CPU to run on [default: the first this process may use].")
@click.option("--huge/--no-huge", default=None,
              help="dpdk: use hugepages or not [default: hugepages when enough are free].")
@_friendly
def run(file: str, defines: tuple[str, ...], target: str, ports: tuple[str, ...], stats: bool,
        opt: str, machine: str | None, accel: str | None, memory: int | None,
        control: str | None, print_cmd: bool, cores: str | None, huge: bool | None) -> None:
    """Build (cached) and run a pipeline until its sources stop or SIGINT.

    With --target kvm, FILE is a pipeline or an image built with
    `uknfv build --target kvm` (IMAGE.json beside it); the image runs under
    QEMU, its console on stdout, until it exits or SIGINT/SIGTERM stop it
    cleanly; the exit status is the guest's.  With --target dpdk the vNF is a
    DPDK process (ports: --port NAME=dpdk:DEVARGS, pcap:FILE ...).
    """
    kvm_opts = {"--machine": machine, "--accel": accel, "--memory": memory,
                "--print-cmd": print_cmd or None}
    dpdk_opts = {"--cores": cores, "--huge/--no-huge": huge}
    used = [k for k, v in dpdk_opts.items() if v is not None]
    if used and target != "dpdk":
        raise UknfvError(f"{', '.join(used)}: only for --target dpdk")
    if target == "kvm" or _is_kvm_image(file, target):
        sys.exit(_run_kvm(file, defines, opt, ports, machine or "microvm", accel, memory, control,
                          print_cmd))
    used = [k for k, v in kvm_opts.items() if v is not None]
    if used:
        raise UknfvError(f"{', '.join(used)}: only for --target kvm")
    _, built = _build(file, defines, target, opt)
    argv = [str(built.path)]
    for p in ports:
        argv += ["--port", p]
    if stats:
        argv.append("--stats")
    if cores is not None:
        argv += ["--cores", cores]
    if huge is not None:
        argv.append("--huge" if huge else "--no-huge")
    if control is not None:
        argv += ["--control", control]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


# --- kvm: running images under QEMU, and the control channel (uknfv/run/) ---------------

def _is_kvm_image(file: str, target: str) -> bool:
    """FILE is a kvm image and --target was not given explicitly."""
    ctx = click.get_current_context()
    if ctx.get_parameter_source("target") != click.core.ParameterSource.DEFAULT:
        return False
    from .run.qemu import is_elf, meta_path
    mp = meta_path(file) if is_elf(file) else None
    if mp is None:
        return False
    try:
        return json.loads(mp.read_text()).get("target") == "kvm"
    except (OSError, ValueError, AttributeError):
        return False


def _run_kvm(file: str, defines: tuple[str, ...], opt: str, ports: tuple[str, ...], machine: str,
             accel: str | None, memory: int | None, control: str | None, print_cmd: bool) -> int:
    from pathlib import Path

    from .run import qemu
    from .run.accel import choose_accel
    from .run.control import default_socket
    if qemu.is_elf(file):
        if defines:
            raise UknfvError(f"{file} is a built image: NAME=VALUE defines apply to pipelines")
        image = qemu.load_image(file)
    else:
        g, built = _build(file, defines, "kvm", opt)
        meta = dict(getattr(built, "meta", None) or {})
        meta.setdefault("ports", [{"name": n} for n, _ in built.emitted.ports])
        meta.setdefault("elements", [{"name": i.name, "class": i.cls, "config": i.config}
                                     for i in g.instances])
        image = qemu.Image(Path(built.path), meta, label=Path(file).stem)
    # FromDump/ToDump ports (dump:FILE, todump:FILE) not bound by --port: replayed from and
    # written to the pcap files by uknfv (run/pcapreplay.py) over datagram-socket NICs.
    from .run import pcapreplay
    replay = pcapreplay.plan(image.meta, {p.partition("=")[0].strip() for p in ports})
    replayer = pcapreplay.Replayer(replay, None) if replay else None
    try:
        bindings = qemu.resolve_ports(image.ports, ports, image.name, image.macs,
                                      auto=replayer.bindings() if replayer else None)
    except BaseException:
        if replayer:
            replayer.close()
        raise
    acc, why = choose_accel(accel)
    sock = Path(control).absolute() if control else default_socket(image.name)
    if replayer:
        replayer.control = str(sock)
        replayer.dataroom = int(image.meta.get("options", {}).get("kconfig", {})
                                .get("PKT_DATAROOM", pcapreplay.DEFAULT_DATAROOM))
    if memory is None:
        from .targets.kvm import memory_mb as kvm_memory_mb
        memory = max(image.memory_mb, kvm_memory_mb(len(bindings)))
    vm = qemu.VM(image=Path(image.path).absolute(), ports=bindings, memory_mb=memory,
                 machine=machine, accel=acc, control=sock)
    click.echo(f"uknfv: {why}", err=True)
    if print_cmd:
        vm.ports = qemu.plan_bridge_taps(vm.ports)
        for p in vm.ports:
            if p.kind == "bridge":
                click.echo(f"uknfv: note: port {p.name} runs on TAP {p.tap}, which `uknfv run` "
                           f"creates and attaches to {p.arg}: first `ip tuntap add dev {p.tap} "
                           f"mode tap && ip link set {p.tap} master {p.arg} up`", err=True)
        sock.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        click.echo(qemu.shell_command(qemu.command(vm)))
        if replayer:
            replayer.close()
            click.echo(f"uknfv: note: ports {', '.join(p.name for p in replay)} are pcap replay "
                       f"ports: only `uknfv run` serves their sockets", err=True)
        return 0
    click.echo(f"uknfv: control socket {sock} (`uknfv handlers {sock}`, "
               f"`uknfv read {sock} ELEMENT.HANDLER`)", err=True)
    vm.append = qemu.guest_cmdline(vm.accel)
    if not replayer:
        return qemu.run(vm)
    with replayer:
        rc = qemu.run(vm)
    bad = replayer.report()
    return rc or bad


def _looks_like_socket(arg: str) -> bool:
    return "/" in arg or arg.endswith(".sock") or os.path.exists(arg)


timeout_opt = click.option("--timeout", type=click.FloatRange(0.1, 600), default=5.0,
                           show_default=True, help="Seconds to wait for the vNF's answer.")


@main.command("handlers")
@click.argument("sock", required=False)
@click.option("--values", "-v", is_flag=True, help="Also read every readable handler.")
@timeout_opt
@_friendly
def handlers_cmd(sock: str | None, values: bool, timeout: float) -> None:
    """List the handlers of a running vNF (SOCK: its control socket; optional if only one runs)."""
    from .run.control import ControlClient, ControlError, find_socket
    with ControlClient(find_socket(sock), timeout=timeout) as c:
        names = c.list()
        for n in names:
            if not values:
                click.echo(n)
                continue
            try:
                v = c.read(n)
            except ControlError:
                continue        # write-only
            click.echo(f"{n}: {v.rstrip(chr(10))}")


@main.command("read")
@click.argument("args", nargs=-1, required=True, metavar="[SOCK] ELEMENT.HANDLER")
@timeout_opt
@_friendly
def read_cmd(args: tuple[str, ...], timeout: float) -> None:
    """Read a handler of a running vNF (a counter, a table ...)."""
    from .run.control import ControlClient, find_socket
    if len(args) > 2:
        raise UknfvError("usage: uknfv read [SOCK] ELEMENT.HANDLER")
    sock, handler = (None, args[0]) if len(args) == 1 else args
    data = ControlClient(find_socket(sock), timeout=timeout).read(handler)
    click.echo(data, nl=not data.endswith("\n"))


@main.command("write")
@click.argument("args", nargs=-1, required=True, metavar="[SOCK] ELEMENT.HANDLER [VALUE]")
@timeout_opt
@_friendly
def write_cmd(args: tuple[str, ...], timeout: float) -> None:
    """Write a handler of a running vNF (`stop` stops it)."""
    from .run.control import ControlClient, find_socket
    args_l = list(args)
    sock = args_l.pop(0) if len(args_l) > 1 and _looks_like_socket(args_l[0]) else None
    handler, value = args_l[0], " ".join(args_l[1:])
    ControlClient(find_socket(sock), timeout=timeout).write(handler, value)


@main.command("top")
@click.argument("sock", required=False)
@click.option("--interval", "-d", type=click.FloatRange(0.05, 3600), default=1.0,
              show_default=True, metavar="S", help="Seconds between refreshes.")
@click.option("--once", is_flag=True, help="Print one snapshot and exit.")
@click.option("--iterations", "-n", type=click.IntRange(1), default=None, metavar="N",
              help="Print N snapshots (rates from the second on), then exit.")
@click.option("--filter", "globs", multiple=True, metavar="GLOB",
              help="Only handlers whose ELEMENT.HANDLER (or ELEMENT) matches; repeatable.")
@timeout_opt
@_friendly
def top_cmd(sock: str | None, interval: float, once: bool, iterations: int | None,
            globs: tuple[str, ...], timeout: float) -> None:
    """Watch a running vNF's numeric handlers, with per-second rates of its counters."""
    from .run.control import find_socket
    from .run.top import run_top
    try:
        run_top(str(find_socket(sock)), interval=interval, once=once, globs=globs,
                iterations=iterations, timeout=timeout)
    except KeyboardInterrupt:
        pass


@main.command("metrics")
@click.argument("sock", required=False)
@click.option("--listen", default=None, metavar="[HOST:]PORT",
              help="Serve GET /metrics over HTTP (HOST defaults to 127.0.0.1; 0.0.0.0:PORT "
                   "for every interface), reading the vNF on each scrape (503 while it is "
                   "gone).  The vNF must be running at start.")
@click.option("--image", default=None, metavar="IMAGE",
              help="The vNF's image (its IMAGE.json): adds a `class` label and handler docs.")
@timeout_opt
@_friendly
def metrics_cmd(sock: str | None, listen: str | None, image: str | None, timeout: float) -> None:
    """A running vNF's numeric handlers in Prometheus text format."""
    from .run.control import find_socket
    from .run.metrics import Collector, load_classes, parse_listen, serve
    if listen is not None:
        parse_listen(listen)        # a bad spec fails before anything else
    classes = load_classes(image) if image else None
    collector = Collector(str(find_socket(sock)), timeout=timeout, classes=classes)
    text = collector.collect()      # with --listen too: a wrong socket fails at once
    if listen is None:
        click.echo(text, nl=False)
        return
    serve(collector, listen)


@main.command()
@click.argument("name", required=False)
@_friendly
def elements(name: str | None) -> None:
    """List the element library, or show one element's documentation."""
    from . import registry
    from .docs import element_doc
    lib = registry.library()
    if name is None:
        width = max(len(n) for n in lib)
        for n in sorted(lib):
            spec = lib[n]
            summary = (spec.doc.strip().splitlines() or [""])[0]
            click.echo(f"{n:<{width}}  {spec.group:<9} {summary}")
        return
    spec = registry.lookup(name)
    if spec is None:
        raise UknfvError(f"no element class '{name}' (see `uknfv elements` for the list)")
    click.echo(element_doc(spec))


def _pipeline_libs(file: str, defines: tuple[str, ...], target: str):
    from . import targets
    from .pipeline import load, parse_defines
    return targets.get(target).libraries(load(file, parse_defines(defines), target))


@main.command()
@click.argument("file")
@defines_arg
@target_opt
@_friendly
def menuconfig(file: str, defines: tuple[str, ...], target: str) -> None:
    """Change the build options of the libraries a pipeline links (saved as NAME.config)."""
    from . import kconfig
    saved = kconfig.menuconfig(_pipeline_libs(file, defines, target), file)
    click.echo(f"options saved in {saved}" if saved.exists() else "no options saved")


@main.command("config")
@click.argument("file")
@defines_arg
@target_opt
@click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
              help="Set a build option (saved next to the pipeline).")
@_friendly
def config_cmd(file: str, defines: tuple[str, ...], target: str, assignments: tuple[str, ...]) -> None:
    """Show (or --set) the build options in force for a pipeline and target."""
    from . import kconfig
    libs_ = _pipeline_libs(file, defines, target)
    if assignments:
        pairs = {}
        for a in assignments:
            if "=" not in a:
                raise UknfvError(f"--set expects NAME=VALUE, got '{a}'")
            k, v = a.split("=", 1)
            pairs[k] = v
        click.echo(f"saved {kconfig.set_options(libs_, file, pairs)}")
    opts = kconfig.options(libs_, file)
    for name, value in sorted(opts.values.items()):
        click.echo(f"CONFIG_{name}={value}")


@main.command()
@click.option("--linux", is_flag=True,
              help="Run the Linux-target demo over pcap files (no root or QEMU needed) instead "
                   "of booting the unikernel.")
def demo(linux: bool) -> None:
    """The main job: build the example router, push traffic through it, show the result.

    As root with QEMU: the router as a unikernel under QEMU with a network
    namespace on each side (ARP, ping, iperf3, counters). Otherwise, or with
    --linux: the Linux target over pcap files."""
    from .traffic.demo import main as demo_main
    sys.exit(demo_main(["--linux"] if linux else []))


@main.command("libs")
def libs_cmd() -> None:
    """List the C micro-libraries."""
    from . import libs
    for n in libs.available():
        lib = libs.load(n)
        deps = f" (needs {', '.join(lib.depends)})" if lib.depends else ""
        click.echo(f"{n:<10} {lib.summary}{deps}")


@main.group("trex")
def trex_cmd() -> None:
    """TRex stateless profiles from uknfv's traffic scenarios, and runs on a TRex server."""


_trex_size_opt = click.option("--size", default=None, metavar="BYTES|imix|SIZE:W,...",
                              help="Override the frame size: 64..9000, imix, or a mix like "
                                   "64:7,570:4,1518:1.")
_trex_rate_opt = click.option("--rate", default=None, metavar="RATE",
                              help="Override the rate: 1mpps, 500kpps, 10gbps (L2), 10gbpsl1, 50%.")
_trex_macs_opt = click.option("--macs", type=click.Choice(["packet", "port"]), default="packet",
                              show_default=True,
                              help="MAC addresses from the frames, or from TRex's port config.")
_trex_latency_opt = click.option("--latency-pps", type=click.FloatRange(min=0), default=0,
                                 metavar="PPS", help="Add a TRex latency stream at this rate.")


@trex_cmd.command("list")
@_friendly
def trex_list_cmd() -> None:
    """List the named traffic scenarios."""
    from .traffic import scenarios
    for sc in scenarios.SCENARIOS.values():
        click.echo(sc.describe())
        if sc.description:
            click.echo(f"    {sc.description}")


@trex_cmd.command("profile")
@click.argument("scenario_names", nargs=-1, required=True, metavar="SCENARIO...")
@click.option("-o", "--output", required=True, metavar="FILE.py",
              help="The profile to write; load it with trex-console's start -f FILE.py.")
@_trex_size_opt
@_trex_rate_opt
@_trex_macs_opt
@_trex_latency_opt
@_friendly
def trex_profile_cmd(scenario_names: tuple[str, ...], output: str, size: str | None,
                     rate: str | None, macs: str, latency_pps: float) -> None:
    """Write a standalone TRex stateless profile for SCENARIO(s) (the first is the default)."""
    from .traffic import trex
    scs = [trex.customise(n, size=size, rate=rate) for n in scenario_names]
    path = trex.write_profile(scs, output, macs=macs, latency_pps=latency_pps)
    streams = sum(len(trex.stream_specs(s, latency_pps=latency_pps)) for s in scs)
    click.echo(f"wrote {path}: {', '.join(s.name for s in scs)} ({streams} streams)")
    click.echo(f"  trex-console> start -f {path.name} -p 0 -t scenario={scs[0].name}")


@trex_cmd.command("run")
@click.argument("host")
@click.argument("scenario")
@click.option("--duration", type=float, default=None, metavar="S",
              help="Seconds of traffic (default: the scenario's).")
@click.option("--port", "ports", type=int, multiple=True, metavar="N",
              help="TRex port(s) to send from (default 0).")
@click.option("--rx-port", "rx_ports", type=int, multiple=True, metavar="N",
              help="TRex port(s) that receive (default: each sending port's pair).")
@_trex_size_opt
@_trex_rate_opt
@_trex_macs_opt
@_trex_latency_opt
@click.option("--sync-port", type=int, default=4501, show_default=True, help="TRex RPC port.")
@click.option("--async-port", type=int, default=4500, show_default=True,
              help="TRex publisher port.")
@click.option("--timeout", type=float, default=10.0, show_default=True, metavar="S",
              help="Seconds to wait for the server to answer.")
@click.option("--client", type=click.Choice(["auto", "legacy", "current"]), default="auto",
              show_default=True,
              help="legacy: trex-stl-lib; current: a TRex release's client (--trex-client) or "
                   "lbr-trex-client; auto: current if present.")
@click.option("--trex-client", "client_path", default=None, metavar="DIR",
              help="A TRex release's automation/trex_control_plane/interactive directory "
                   "(or set UKNFV_TREX_CLIENT).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_friendly
def trex_run_cmd(host: str, scenario: str, duration: float | None, ports: tuple[int, ...],
                 rx_ports: tuple[int, ...], size: str | None, rate: str | None, macs: str,
                 latency_pps: float, sync_port: int, async_port: int, timeout: float,
                 client: str, client_path: str | None, as_json: bool) -> None:
    """Send SCENARIO from a TRex server at HOST and report rates and loss."""
    from .traffic import trex
    sc = trex.customise(scenario, size=size, rate=rate)
    res = trex.run_trex(host, sc, duration, ports or (0,), rx_ports or None, macs=macs,
                        latency_pps=latency_pps, sync_port=sync_port, async_port=async_port,
                        timeout=timeout, client=client, client_path=client_path)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(f"TRex {host}:{sync_port} ({res.get('client', '?')}): {res['scenario']} at "
               f"{res['rate']} for {res['duration_s']:g} s, ports "
               f"{','.join(map(str, res['ports']))} -> {','.join(map(str, res['rx_ports']))}")
    click.echo(f"  tx {res['tx_packets']:,} packets  {res['tx_pps']:,.0f} pps  "
               f"{res['tx_bps_l1'] / 1e9:.3f} Gb/s L1")
    click.echo(f"  rx {res['rx_packets']:,} packets  {res['rx_pps']:,.0f} pps")
    click.echo(f"  lost {res['lost_packets']:,} ({100 * res['loss_ratio']:.4f}%)")
    if "latency_us" in res:
        lat = res["latency_us"]
        click.echo(f"  latency avg {lat['average']:.1f} us  max {lat['max']:.1f} us  "
                   f"jitter {lat['jitter']:.1f} us")


@main.command()
@click.argument("file")
@defines_arg
@click.option("--via", type=click.Choice(["dpdk", "virtio-user", "vm", "linux"]), default="dpdk",
              show_default=True,
              help="How the vNF runs: dpdk (DPDK process, virtio_user ports), virtio-user (Linux "
                   "process with the unikernel's virtio-net driver), vm (the unikernel under "
                   "QEMU, vhost-user NICs), linux (Linux process on AF_PACKET veths).")
@click.option("--frame-sizes", default="64,128,256,512,1024,1280,1518", show_default=True,
              metavar="LIST", help="Frame sizes in bytes, FCS included (RFC 2544).")
@click.option("--duration", type=float, default=2.0, show_default=True, metavar="S",
              help="Length of one trial.")
@click.option("--loss", type=float, default=0.0, show_default=True, metavar="RATIO",
              help="Loss tolerated in a passing trial (0: RFC 2544 zero loss; 0.001 = 0.1%).")
@click.option("--resolution", type=float, default=0.02, show_default=True, metavar="RATIO",
              help="Stop the search when the NDR is known to this relative precision.")
@click.option("--max-trials", type=click.IntRange(2, 100), default=12, show_default=True,
              help="Trials per search at most.")
@click.option("--repeat", "repeats", type=click.IntRange(1, 50), default=1, show_default=True,
              help="Searches per system and frame size (interleaved; medians reported).")
@click.option("--baseline", "baseline", is_flag=True,
              help="Also measure the baselines on the same wiring, interleaved with the vNF: "
                   "dpdk-testpmd's io forwarding (the path's limit) and Linux forwarding between "
                   "veths; reported next to uknfv's as ratios.")
@click.option("--baselines", "baselines", default=None, metavar="LIST",
              help="Which baselines (implies --baseline): testpmd, kernel or both "
                   "[default: testpmd,kernel].")
@click.option("--cores", default=None, metavar="GEN,VNF",
              help="CPUs of the generator and of the vNF [default: the first two available].")
@click.option("--latency-at", type=float, default=0.9, show_default=True, metavar="FRACTION",
              help="Measure latency at this fraction of the zero-loss rate (0: skip).")
@click.option("--scenario", default=None,
              help="Traffic addresses and flows from a scenario (`uknfv trex list`) "
                   "[default: PIPELINE-flows or PIPELINE-allowed if one exists].")
@click.option("--ports", "port_names", default=None, metavar="IN,OUT",
              help="The vNF's ingress and egress ports [default: its first two].")
@click.option("--line-rate", "line_gbps", type=float, default=None, metavar="GBPS",
              help="Upper bound of the search as a link speed [default: the generator's maximum].")
@click.option("--huge/--no-huge", default=None, help="DPDK processes with or without hugepages.")
@click.option("--trex", default=None, metavar="HOST",
              help="Drive a TRex server at HOST instead (the vNF wired to its ports by you).")
@click.option("--trex-ports", default="0,1", show_default=True, metavar="TX,RX")
@click.option("-o", "--output", default=None, metavar="FILE.json", help="Write the result as JSON.")
@click.option("--plot", default=None, metavar="FILE.png",
              help="Write the plot [default: next to -o, as FILE.png].")
@click.option("--markdown", is_flag=True, help="Print the table in Markdown.")
@click.option("--workdir", default=None, metavar="DIR",
              help="Keep sockets and logs in DIR [default: a temporary folder, removed after].")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_friendly
def bench(file: str, defines: tuple[str, ...], via: str, frame_sizes: str, duration: float,
          loss: float, resolution: float, max_trials: int, repeats: int, baseline: bool,
          baselines: str | None, cores: str | None, latency_at: float, scenario: str | None,
          port_names: str | None, line_gbps: float | None, huge: bool | None, trex: str | None,
          trex_ports: str, output: str | None, plot: str | None, markdown: bool,
          workdir: str | None, quiet: bool) -> None:
    """RFC 2544 throughput (zero-loss rate per frame size) and latency of a vNF.

    Wires uknfv's traffic generator (a DPDK pipeline) to the vNF through
    vhost-user sockets (or veths for --via linux), binary-searches the
    highest rate without loss for each frame size, measures latency at a
    fraction of it, and prints a table; -o writes JSON and a PNG plot.
    """
    import shutil
    from pathlib import Path

    from .bench import report, runner
    from .pipeline import parse_defines
    if not os.path.exists(file):
        raise UknfvError(f"{file}: no such file")
    ports = (None, None)
    if port_names:
        parts = [p.strip() for p in port_names.split(",")]
        if len(parts) != 2 or not all(parts):
            raise UknfvError(f"--ports: expected IN,OUT (two port names), got '{port_names}'")
        ports = (parts[0], parts[1])
    tp = [p.strip() for p in trex_ports.split(",")]
    if len(tp) != 2 or not all(p.isdigit() for p in tp):
        raise UknfvError(f"--trex-ports: expected TX,RX (two TRex port numbers), got '{trex_ports}'")
    chosen: tuple[str, ...] = ()
    if baselines is not None:
        chosen = tuple(dict.fromkeys(b.strip() for b in baselines.split(",") if b.strip()))
        for b in chosen:
            if b not in runner.BASELINES:
                raise UknfvError(f"--baselines: unknown baseline '{b}' (expected "
                                 f"{', '.join(runner.BASELINES)})")
    elif baseline:
        chosen = runner.BASELINES
    cfg = runner.BenchConfig(
        pipeline=file, via=via, frame_sizes=runner.parse_sizes(frame_sizes), duration=duration,
        loss=loss, resolution=resolution, max_trials=max_trials, repeats=repeats,
        baselines=chosen, cores=runner.parse_cores(cores), latency_at=latency_at,
        scenario=scenario, defines=parse_defines(defines), ports=ports, line_gbps=line_gbps,
        huge=huge, workdir=workdir, trex=trex, trex_ports=(int(tp[0]), int(tp[1])))
    if line_gbps is not None and not line_gbps > 0:
        raise UknfvError(f"--line-rate: expected a positive link speed in Gbit/s, got {line_gbps}")
    if via == "vm" and not trex:
        from .run.accel import choose_accel
        click.echo(f"uknfv: {choose_accel(None)[1]}", err=True)
    result = runner.run(cfg, progress=not quiet)
    click.echo(report.markdown(result) if markdown else report.table(result))
    if output:
        runner.write_json(result, output)
        png = plot or str(Path(output).with_suffix(".png"))
        report.plot(result, png)
        click.echo(f"wrote {output} and {png}")
    elif plot:
        report.plot(result, plot)
        click.echo(f"wrote {plot}")
    bad = report.check(result)
    for b in bad:
        click.echo(f"uknfv: warning: {b}", err=True)
    if not workdir and result.get("workdir"):
        shutil.rmtree(result["workdir"], ignore_errors=True)


if __name__ == "__main__":
    main()
