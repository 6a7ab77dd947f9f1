"""Running a unikernel image under QEMU: the command line, and the process.

``command(vm)`` turns a :class:`VM` into QEMU's argv; it is pure (no
system access), so tests compare it exactly.  ``run(vm)`` starts QEMU,
streams the guest console to stdout, forwards SIGINT/SIGTERM as a clean
stop over the control channel, and returns the guest's exit status.

Machine layout (both machines):

* COM1 (0x3f8): the console, on QEMU's stdio.
* COM2 (0x2f8, IRQ 3): the control channel, a QEMU socket chardev in server
  mode (``-device isa-serial,index=1``: microvm instantiates only one serial
  port from ``-serial``, so the second is added as a device).
* isa-debug-exit at 0xf4: the guest writes its status; QEMU exits with
  ``(status << 1) | 1``.
* NICs, one per logical port, in the image's port order: on microvm
  virtio-net-device (virtio-mmio; QEMU lists the transports on the kernel
  command line as ``virtio_mmio.device=512@ADDR:IRQ`` in -device order, which
  is *descending* address order, so the guest binds ports in command-line
  order); on q35 virtio-net-pci at 00:02.0, 00:03.0 ... (PCI slot order).
* microvm runs with ``acpi=off``: with ACPI on, QEMU describes the virtio-mmio
  transports in the DSDT instead of the command line.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, TextIO

from ..diag import UknfvError

QEMU = "qemu-system-x86_64"
QBOOT = "/usr/share/qemu/qboot.rom"
MACHINES = ("microvm", "q35")
PORT_KINDS = ("tap", "vhost-user", "bridge")
DEFAULT_MEMORY_MB = 16
DEBUG_EXIT = "isa-debug-exit,iobase=0xf4,iosize=4"
MICROVM_OPTS = "x-option-roms=off,pit=on,pic=off,rtc=off,isa-serial=on,acpi=off"
Q35_OPTS = "sata=off,smbus=off,vmport=off"
FIRST_PCI_SLOT = 2
STOP_TIMEOUT = 5.0

PORT_SYNTAX = ("NAME=tap:TAP[,mac=MAC] | NAME=vhost-user:SOCK[,mac=MAC][,server] | "
               "NAME=bridge:BR[,mac=MAC]")
_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_IFNAME_RE = re.compile(r"^[^\s/:,]{1,15}$")


# --------------------------------------------------------------------------- ports

@dataclass(frozen=True)
class PortBinding:
    """One logical port bound to a host-side backend."""

    name: str
    kind: str                 # tap | vhost-user | bridge
    arg: str                  # TAP name | socket path | bridge name
    mac: str | None = None    # None until resolve_ports() fills in the default
    server: bool = False      # vhost-user only: QEMU listens, the backend connects
    tap: str | None = None    # bridge only: the TAP uknfv creates and attaches to `arg`
    peer: str | None = None   # dgram only (pcap replay, run/pcapreplay.py): the host's socket


def _port_error(spec: str, why: str) -> UknfvError:
    return UknfvError(f"bad --port '{spec}': {why}; expected {PORT_SYNTAX}")


def normalise_mac(mac: str, where: str = "") -> str:
    if not _MAC_RE.match(mac):
        raise UknfvError(f"bad MAC '{mac}'{where}: expected six hex bytes like 52:54:00:12:34:56")
    mac = mac.lower()
    if int(mac[:2], 16) & 1:
        raise UknfvError(f"bad MAC '{mac}'{where}: it is a multicast address (the first byte "
                         f"must be even)")
    return mac


def parse_port(spec: str) -> PortBinding:
    """``NAME=KIND:ARG[,mac=MAC][,server]`` -> PortBinding (mac None if not given)."""
    name, eq, rest = spec.partition("=")
    name = name.strip()
    if not eq or not name:
        raise _port_error(spec, "no NAME=")
    kind, colon, rest = rest.partition(":")
    if not colon:
        raise _port_error(spec, "no KIND: before the backend")
    if kind not in PORT_KINDS:
        if kind in ("pcap", "if", "afpacket"):
            raise _port_error(spec, f"'{kind}:' ports are for the linux target; the kvm target "
                                    f"binds ports to tap:, vhost-user: or bridge:")
        raise _port_error(spec, f"unknown kind '{kind}'")
    # The argument may itself contain commas (a socket path); options are the
    # trailing ",mac=..." / ",server" items.
    items = rest.split(",")
    opts: list[str] = []
    while len(items) > 1 and (items[-1].startswith("mac=") or items[-1] in ("server", "server=on")):
        opts.insert(0, items.pop())
    arg = ",".join(items)
    if not arg:
        raise _port_error(spec, f"{kind}: needs a {'socket path' if kind == 'vhost-user' else 'name'}")
    mac, server = None, False
    for o in opts:
        if o.startswith("mac="):
            mac = normalise_mac(o[4:], f" in --port '{spec}'")
        else:
            if kind != "vhost-user":
                raise _port_error(spec, "'server' applies to vhost-user ports only")
            server = True
    if kind in ("tap", "bridge") and not _IFNAME_RE.match(arg):
        raise _port_error(spec, f"'{arg}' is not a valid interface name (at most 15 characters, "
                                f"no spaces, '/', ':' or ',')")
    return PortBinding(name, kind, arg, mac, server)


def default_mac(image_name: str, index: int) -> str:
    """52:54:00:HH:HH:II: HH:HH from the image name, II the port index; stable across runs."""
    h = zlib.crc32(image_name.encode()) & 0xFFFF
    return f"52:54:00:{h >> 8:02x}:{h & 0xff:02x}:{index & 0xff:02x}"


def resolve_ports(image_ports: list[str], specs: list[str] | tuple[str, ...], image_name: str,
                  image_macs: dict[str, str] | None = None,
                  auto: dict[str, PortBinding] | None = None) -> list[PortBinding]:
    """Bind every logical port of the image from ``--port`` specs, in the image's port order.

    Errors (all reported together): bad syntax, unknown port names, ports bound
    twice, ports left unbound, MACs or TAPs used twice.
    """
    image_macs = image_macs or {}
    auto = auto or {}     # bindings for ports no --port names (dump:/todump: replay ports)
    errors: list[str] = []
    by_name: dict[str, PortBinding] = {}
    mentioned: set[str] = set()      # names in bad specs: not reported again as unbound
    for spec in specs:
        try:
            b = parse_port(spec)
        except UknfvError as e:
            errors.append(e.message)
            mentioned.add(spec.partition("=")[0].strip())
            continue
        if b.name not in image_ports:
            have = ", ".join(image_ports) if image_ports else "none"
            errors.append(f"the image has no port '{b.name}' (its ports: {have})")
        elif b.name in by_name:
            errors.append(f"port '{b.name}' is bound twice")
        else:
            by_name[b.name] = b
    missing = [p for p in image_ports if p not in by_name and p not in mentioned and p not in auto]
    if missing:
        example = " ".join(f"--port {p}=tap:TAP" for p in missing)
        errors.append(f"port{'s' if len(missing) > 1 else ''} {', '.join(missing)} not bound: "
                      f"add {example} (or vhost-user:SOCK, bridge:BR; syntax: {PORT_SYNTAX})")
    out: list[PortBinding] = []
    if not errors:
        for i, name in enumerate(image_ports):
            b = by_name.get(name) or auto[name]
            mac = b.mac or (normalise_mac(image_macs[name], f" for port '{name}' in the image")
                            if image_macs.get(name) else default_mac(image_name, i))
            out.append(replace(b, mac=mac))
        seen: dict[tuple[str, str], str] = {}
        for b in out:
            keys = [("MAC", b.mac or "")]
            if b.kind == "tap":
                keys.append(("TAP", b.arg))
            elif b.kind == "vhost-user":
                keys.append(("vhost-user socket", os.path.abspath(b.arg)))
            for key in keys:
                if key in seen:
                    errors.append(f"ports '{seen[key]}' and '{b.name}' use the same {key[0]} "
                                  f"{key[1]}")
                seen[key] = b.name
    if errors:
        raise UknfvError("\n".join(errors) if len(errors) == 1
                         else "cannot bind the ports:\n" + "\n".join(f"  {e}" for e in errors))
    return out


# --------------------------------------------------------------------------- the VM

@dataclass
class VM:
    """Everything QEMU needs to know to run one image."""

    image: Path
    ports: list[PortBinding] = field(default_factory=list)   # NIC order, MACs resolved
    memory_mb: int = DEFAULT_MEMORY_MB
    machine: str = "microvm"
    accel: str = "tcg"
    control: Path | None = None   # the control socket (COM2); None: no control channel
    console: str = "stdio"        # stdio | none | a file path (COM1)
    append: str = ""              # the kernel command line
    qemu: str = QEMU
    bios: str = QBOOT             # q35 only


def _q(value: str | os.PathLike) -> str:
    """Escape a value for a QEMU option list (commas are doubled)."""
    return str(value).replace(",", ",,")


def uses_vhost_user(vm: VM) -> bool:
    return any(p.kind == "vhost-user" for p in vm.ports)


def command(vm: VM) -> list[str]:
    """The exact QEMU argv for ``vm``."""
    if vm.machine not in MACHINES:
        raise UknfvError(f"unknown machine '{vm.machine}' (choose {' or '.join(MACHINES)})")
    shared = uses_vhost_user(vm)
    mopts = MICROVM_OPTS if vm.machine == "microvm" else Q35_OPTS
    machine = f"{vm.machine},{mopts}" + (",memory-backend=mem" if shared else "")
    argv = [vm.qemu, "-M", machine,
            "-accel", vm.accel, "-cpu", "host" if vm.accel == "kvm" else "max",
            "-m", str(vm.memory_mb),
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot"]
    if vm.machine == "q35":
        argv += ["-bios", vm.bios]
    if shared:
        # vhost-user backends map guest memory: it must be a shareable fd.
        argv += ["-object", f"memory-backend-memfd,id=mem,size={vm.memory_mb}M,share=on"]
    argv += ["-kernel", str(vm.image)]
    if vm.append:
        argv += ["-append", vm.append]
    if vm.console == "stdio":
        argv += ["-serial", "stdio"]
    elif vm.console == "none":
        argv += ["-serial", "null"]
    else:
        argv += ["-serial", f"file:{vm.console}"]
    if vm.control is not None:
        argv += ["-chardev", f"socket,id=ctl,path={_q(vm.control)},server=on,wait=off",
                 "-device", "isa-serial,chardev=ctl,index=1"]
    argv += ["-device", DEBUG_EXIT]
    nic = "virtio-net-device" if vm.machine == "microvm" else "virtio-net-pci"
    for i, p in enumerate(vm.ports):
        nid = f"n{i}"
        if p.kind == "tap" or (p.kind == "bridge" and p.tap):
            ifname = p.arg if p.kind == "tap" else p.tap
            argv += ["-netdev", f"tap,id={nid},ifname={ifname},script=no,downscript=no"]
        elif p.kind == "bridge":
            argv += ["-netdev", f"bridge,id={nid},br={p.arg}"]   # through qemu-bridge-helper
        elif p.kind == "vhost-user":
            cid = f"c{i}"
            argv += ["-chardev", f"socket,id={cid},path={_q(p.arg)}" + (",server=on" if p.server else ""),
                     "-netdev", f"vhost-user,id={nid},chardev={cid}"]
        elif p.kind == "dgram":
            argv += ["-netdev", f"dgram,id={nid},local.type=unix,local.path={_q(p.arg)},"
                                f"remote.type=unix,remote.path={_q(p.peer)}"]
        else:
            raise UknfvError(f"port '{p.name}': unknown kind '{p.kind}'")
        dev = f"{nic},netdev={nid},mac={p.mac or default_mac(Path(vm.image).stem, i)}"
        if vm.machine == "q35":
            dev += f",addr={FIRST_PCI_SLOT + i:#x}"
        argv += ["-device", dev]
    return argv


def guest_status(qemu_status: int) -> int | None:
    """The guest's exit code from QEMU's exit status, or None if the guest did not set one."""
    if qemu_status > 0 and qemu_status & 1:
        return qemu_status >> 1
    return None


# --------------------------------------------------------------------------- images

@dataclass
class Image:
    """A built image and what its IMAGE.json says about it."""

    path: Path
    meta: dict
    label: str = ""     # a name for sockets and MACs (default: the file's stem)

    @property
    def name(self) -> str:
        return self.label or self.path.stem

    @property
    def ports(self) -> list[str]:
        return [p["name"] if isinstance(p, dict) else str(p) for p in self.meta.get("ports", [])]

    @property
    def macs(self) -> dict[str, str]:
        return {p["name"]: p["mac"] for p in self.meta.get("ports", [])
                if isinstance(p, dict) and p.get("mac")}

    @property
    def memory_mb(self) -> int:
        try:
            return int(self.meta.get("memory_mb") or DEFAULT_MEMORY_MB)
        except (TypeError, ValueError):
            return DEFAULT_MEMORY_MB


def is_elf(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def meta_path(image: str | os.PathLike) -> Path | None:
    """IMAGE.json (or IMAGE without its suffix + .json) beside the image, if present."""
    p = Path(image)
    for cand in (Path(str(p) + ".json"), p.with_suffix(".json")):
        if cand != p and cand.is_file():
            return cand
    return None


def load_image(path: str | os.PathLike) -> Image:
    import json
    p = Path(path)
    if not p.exists():
        raise UknfvError(f"{p}: no such file")
    if not is_elf(p):
        raise UknfvError(f"{p}: not an ELF image")
    mp = meta_path(p)
    if mp is None:
        raise UknfvError(f"{p}: no {p}.json beside it describing the image (its ports); build it "
                         f"with `uknfv build PIPELINE --target kvm -o {p}`")
    try:
        meta = json.loads(mp.read_text())
    except (OSError, ValueError) as e:
        raise UknfvError(f"{mp}: cannot read the image description: {e}") from None
    if not isinstance(meta, dict):
        raise UknfvError(f"{mp}: not an image description (expected a JSON object)")
    if meta.get("target", "kvm") != "kvm":
        raise UknfvError(f"{p} was built for the {meta.get('target')} target, not kvm")
    return Image(p, meta)


# --------------------------------------------------------------------------- host checks

def _is_tap(ifname: str) -> bool | None:
    """True: a TAP/TUN; False: some other interface; None: no such interface."""
    base = Path("/sys/class/net") / ifname
    if not base.exists():
        return None
    return (base / "tun_flags").exists()


def preflight(vm: VM) -> None:
    """Check what QEMU would otherwise fail on with a less helpful message."""
    if shutil.which(vm.qemu) is None:
        raise UknfvError(f"{vm.qemu} not found: install QEMU (apt-get install qemu-system-x86)")
    if not Path(vm.image).is_file():
        raise UknfvError(f"{vm.image}: no such image")
    if vm.machine == "q35" and not Path(vm.bios).is_file():
        raise UknfvError(f"{vm.bios} not found (the qboot firmware for --machine q35): install "
                         f"qemu-system-data, or use --machine microvm")
    if vm.memory_mb < 2:
        raise UknfvError(f"--memory {vm.memory_mb}: the guest needs at least 2 MB")
    if vm.control is not None and len(os.fsencode(str(vm.control))) >= 108:
        raise UknfvError(f"control socket path too long for a UNIX socket: {vm.control}")
    root = os.geteuid() == 0
    for p in vm.ports:
        if p.kind == "tap":
            kind = _is_tap(p.arg)
            if kind is False:
                raise UknfvError(f"port '{p.name}': '{p.arg}' exists but is not a TAP device")
            if kind is None and not root:
                raise UknfvError(f"port '{p.name}': TAP '{p.arg}' does not exist and only root can "
                                 f"create it: `sudo ip tuntap add dev {p.arg} mode tap user "
                                 f"{os.environ.get('USER', '$USER')}`, then `ip link set {p.arg} up`")
        elif p.kind == "bridge":
            kind = Path("/sys/class/net", p.arg, "bridge")
            if not Path("/sys/class/net", p.arg).exists():
                raise UknfvError(f"port '{p.name}': no bridge '{p.arg}' (create it with "
                                 f"`ip link add {p.arg} type bridge`)")
            if not kind.exists():
                raise UknfvError(f"port '{p.name}': '{p.arg}' is not a bridge")
            if not root:
                raise UknfvError(f"port '{p.name}': attaching to bridge {p.arg} needs root (uknfv "
                                 f"creates a TAP and enslaves it); or create a TAP yourself, attach "
                                 f"it to {p.arg}, and use --port {p.name}=tap:TAP")
        elif p.kind == "vhost-user":
            sock = Path(p.arg)
            if p.server:
                if not sock.parent.is_dir():
                    raise UknfvError(f"port '{p.name}': directory {sock.parent} does not exist")
            else:
                try:
                    ok = stat.S_ISSOCK(sock.stat().st_mode)
                except OSError:
                    ok = False
                if not ok:
                    raise UknfvError(
                        f"port '{p.name}': no vhost-user backend is listening on {p.arg}: start "
                        f"the backend first (for example `dpdk-testpmd --vdev "
                        f"net_vhost0,iface={p.arg} ...`), or use vhost-user:{p.arg},server to "
                        f"let QEMU listen and the backend connect (DPDK: client=1)")


# --------------------------------------------------------------------------- bridge TAPs

def plan_bridge_taps(ports: list[PortBinding], exists: Callable[[str], bool] | None = None
                     ) -> list[PortBinding]:
    """Give every bridge port the name of a free TAP to create (uk-PORT, uk-PORT1, ...)."""
    exists = exists or (lambda n: Path("/sys/class/net", n).exists())
    taken: set[str] = set()
    out = []
    for p in ports:
        if p.kind != "bridge" or p.tap:
            out.append(p)
            continue
        base = "uk-" + re.sub(r"[^A-Za-z0-9_.-]", "", p.name)
        base = base[:13] or "uk-port"
        name, n = base[:15], 0
        while name in taken or exists(name):
            n += 1
            name = f"{base[:15 - len(str(n))]}{n}"
        taken.add(name)
        out.append(replace(p, tap=name))
    return out


class BridgeTaps:
    """Create the bridge ports' TAPs, attach them to their bridges; delete them on exit."""

    def __init__(self, ports: list[PortBinding]):
        self.ports = [p for p in ports if p.kind == "bridge" and p.tap]
        self.created: list[str] = []

    def __enter__(self) -> "BridgeTaps":
        from .netns import add_tap, delete_link
        try:
            for p in self.ports:
                assert p.tap is not None
                add_tap(p.tap, bridge=p.arg)
                self.created.append(p.tap)
        except Exception:
            for t in reversed(self.created):
                delete_link(t)
            raise
        return self

    def __exit__(self, *exc) -> None:
        from .netns import delete_link
        for t in reversed(self.created):
            delete_link(t)
        self.created.clear()


# --------------------------------------------------------------------------- running

def is_qemu_error(line: str) -> bool:
    """"qemu-system-x86_64: [-option ...: ]message" that is not a warning or an info."""
    if not re.match(r"qemu-system-\S+: ", line):
        return False
    rest = line.split(": ", 1)[1]
    return not (re.search(r"(?:^|: )(?:warning|info): ", rest) or rest.startswith("terminating on signal"))


class _StderrPump(threading.Thread):
    """Copy QEMU's stderr to ours, remembering whether QEMU reported an error."""

    def __init__(self, stream, out: TextIO):
        super().__init__(daemon=True)
        self.stream, self.out = stream, out
        self.errors: list[str] = []

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if is_qemu_error(line):
                self.errors.append(line.rstrip())
            if "terminating on signal" in line:
                continue
            self.out.write(line)
            self.out.flush()


def prepare_control(path: Path) -> None:
    """Make the socket's directory (0700) and refuse a socket another vNF is using."""
    from .control import is_live
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if is_live(path):
            raise UknfvError(f"another vNF is already using the control socket {path}: stop it, or "
                             f"give this one another socket with --control")
        try:
            if stat.S_ISSOCK(path.lstat().st_mode):
                path.unlink()
            else:
                raise UknfvError(f"{path} exists and is not a socket")
        except FileNotFoundError:
            pass


def run(vm: VM, *, stop_timeout: float = STOP_TIMEOUT, log: TextIO | None = None,
        stdout=None) -> int:
    """Run QEMU until the guest exits; SIGINT/SIGTERM stop it cleanly. Returns the guest's status."""
    from .control import ControlClient
    log = log or sys.stderr
    preflight(vm)
    ports = plan_bridge_taps(vm.ports)
    vm = replace(vm, ports=ports)
    if vm.control is not None:
        prepare_control(Path(vm.control))
    # TAPs QEMU will create (it leaves them down): bring them up once they appear.
    new_taps = [p.arg for p in ports if p.kind == "tap" and _is_tap(p.arg) is None]
    stop = {"signal": 0, "count": 0}

    def on_signal(signum, _frame):
        stop["signal"] = stop["signal"] or signum
        stop["count"] += 1

    is_main = threading.current_thread() is threading.main_thread()
    old = {}
    if is_main:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            old[s] = signal.signal(s, on_signal)
    proc = None
    killed = False
    try:
        with BridgeTaps(ports):
            for p in ports:
                if p.kind == "bridge":
                    print(f"uknfv: port {p.name}: TAP {p.tap} attached to bridge {p.arg}", file=log)
                elif p.kind == "vhost-user" and p.server:
                    print(f"uknfv: port {p.name}: QEMU waits for the vhost-user backend to connect "
                          f"to {p.arg}", file=log)
            argv = command(vm)
            sys.stdout.flush()
            try:
                # Own session: the terminal's ^C reaches uknfv only, which stops the guest
                # cleanly; and QEMU dies with uknfv even if uknfv is killed outright.
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout,
                                        stderr=subprocess.PIPE, start_new_session=True,
                                        preexec_fn=_die_with_parent)
            except OSError as e:
                raise UknfvError(f"cannot start {vm.qemu}: {e.strerror}") from None
            pump = _StderrPump(proc.stderr, log)
            pump.start()
            if new_taps:
                threading.Thread(target=_bring_up, args=(new_taps, proc), daemon=True).start()
            sent_stop = False
            stop_result: dict = {}
            deadline = None
            while True:
                try:
                    rc = proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if not stop["signal"]:
                    continue
                now = time.monotonic()
                if not sent_stop:
                    sent_stop = True
                    deadline = now + stop_timeout
                    name = signal.Signals(stop["signal"]).name
                    if vm.control is not None:
                        print(f"uknfv: {name}: asking the guest to stop (again to kill it)", file=log)
                        threading.Thread(target=_send_stop, daemon=True,
                                         args=(ControlClient(vm.control, timeout=stop_timeout),
                                               stop_result)).start()
                    else:
                        deadline = now
                elif (stop["count"] > 1 or "error" in stop_result
                      or (deadline is not None and now >= deadline)):
                    if not killed:
                        if stop["count"] <= 1:
                            why = stop_result.get("error") or f"no exit within {stop_timeout:g} s"
                            print(f"uknfv: the guest did not stop ({why}); killing QEMU", file=log)
                        _kill(proc)
                        killed = True
            pump.join(timeout=2)
    finally:
        if proc is not None and proc.poll() is None:
            _kill(proc)
        if is_main:
            for s, h in old.items():
                signal.signal(s, h)
        if vm.control is not None:
            try:
                if stat.S_ISSOCK(Path(vm.control).lstat().st_mode):
                    Path(vm.control).unlink()
            except OSError:
                pass
    return _exit_status(rc, killed, stop["signal"], pump.errors, log)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except Exception:
        pass


def _bring_up(taps: list[str], proc: subprocess.Popen, timeout: float = 10.0) -> None:
    from .netns import backend
    try:
        be = backend()
    except UknfvError:
        return
    pending, deadline = list(taps), time.monotonic() + timeout
    while pending and proc.poll() is None and time.monotonic() < deadline:
        for t in list(pending):
            if _is_tap(t):
                try:
                    be.set(t, None, up=True)
                except Exception:
                    pass
                pending.remove(t)
        time.sleep(0.02)


def _send_stop(client, result: dict) -> None:
    try:
        client.write("stop")
        result["ok"] = True
    except UknfvError as e:
        result["error"] = e.message


def _kill(proc: subprocess.Popen) -> None:
    try:
        proc.terminate()
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except OSError:
        pass


def _exit_status(rc: int, killed: bool, signum: int, errors: list[str], log: TextIO) -> int:
    code = guest_status(rc)
    if code is not None and not (rc == 1 and errors):
        return code
    if killed:
        return 128 + (signum or signal.SIGTERM)
    if rc < 0:
        print(f"uknfv: QEMU died of signal {-rc}", file=log)
        return 128 - rc
    if rc == 0:
        print("uknfv: the guest reset or powered off without an exit status (a crash? see the "
              "console output above)", file=log)
        return 1
    print(f"uknfv: QEMU failed (exit status {rc})", file=log)
    return 1


def shell_command(argv: list[str]) -> str:
    return shlex.join(argv)


def guest_cmdline(accel: str) -> str:
    """The kernel command line `uknfv run` gives a guest: the wall clock and,
    under TCG (where the guest's TSC runs at the host's rate), the host's TSC
    frequency, which spares the guest its PIT calibration at boot."""
    import time
    parts = [f"uknfv.epoch_ns={time.time_ns()}"]
    if accel == "tcg":
        from .tsc import host_tsc_khz
        khz = host_tsc_khz()
        if khz:
            parts.append(f"uk.tsc_khz={khz}")
    return " ".join(parts)
