"""FromDump/ToDump for the unikernel: pcap replay over virtio NICs.

The unikernel has no files.  There, FromDump(FILE) receives its frames from
a logical port ``dump:FILE`` and ToDump(FILE) sends what it writes to a port
``todump:FILE`` (elements/io/dumpport.py).  `uknfv run --target kvm` binds
every such port, without --port, to a virtio NIC backed by a QEMU datagram
netdev over a pair of UNIX sockets (``-netdev dgram,local.type=unix,...``),
and this module serves the host's end:

* each FromDump file (relative to the current directory, as Click reads it)
  is sent frame by frame, in order, at most WINDOW frames ahead of what the
  guest has consumed and of what it has sent back (its FromDump and ToDump
  `count` handlers, read over the control channel).  Nothing is lost: the
  guest's RX ring (256) cannot overflow, nor can its TX rings when the host
  is slow to read (QEMU's TX path stalls when the host socket is full, and
  the guest drops on a full TX ring).  QEMU's own flow control (it stops
  reading the socket while the RX ring has no buffers) is the fallback;
* every frame the guest sends on a todump port is written to the ToDump
  file, in arrival order, with the element's link type (ENCAP) and SNAPLEN;
* once every file was sent, the guest's FromDump counts show all of it was
  consumed, its ToDump counts equal the frames received and no frame came
  for QUIET_S, the replayer writes ``eof`` to each FromDump with STOP true
  (``WRITE stop`` for images without that handler): the guest ends the run
  as a STOP true run ends on Linux, printing its final counters.  With STOP
  false the vNF keeps running until SIGINT, as on Linux.

Differences from FromDump on Linux: packets carry no capture timestamp
(ToDump writes the arrival time), and frames longer than the guest's packet
buffers are skipped by the host (counted in the summary line).
"""
from __future__ import annotations

import os
import select
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, TextIO

from ..diag import UknfvError

DUMP_PREFIX = "dump:"
TODUMP_PREFIX = "todump:"
QUIET_S = 0.3          # no frame out for this long (and counts settled): the run is over
POLL_S = 0.05          # how often the guest's counters are read once everything was sent
WINDOW = 96            # frames in flight: sent but not consumed, or sent by the guest but not
                       # yet received (the guest's TX rings hold 256: a Tee may double a frame)
STALL_S = 5.0          # no progress at all for this long: stop waiting, report the loss
SETTLE_MAX_S = 3.0     # all input consumed, but output never goes quiet (another source): end
DEFAULT_DATAROOM = 2048
ENCAPS = {"ETHER": 1, "IP": 101}
INPUT_LINKTYPES = (1, 101, 12, 14)
_RECV_MAX = 1 << 16


def is_replay_port(name: str) -> bool:
    return name.startswith(DUMP_PREFIX) or name.startswith(TODUMP_PREFIX)


# --------------------------------------------------------------------------- the plan

@dataclass
class ReplayPort:
    """One dump:/todump: port and what the elements on it ask for."""

    name: str                       # the logical port (dump:FILE / todump:FILE)
    file: str                       # FILE
    output: bool                    # todump: (written by the host)
    elements: list[str] = field(default_factory=list)
    stop: list[str] = field(default_factory=list)   # input: elements with STOP true
    timing: bool = False            # input: replay with the capture's timing
    linktype: int = 1               # output: ENCAP
    snaplen: int = 2000             # output: SNAPLEN (0: all)
    qemu_path: str = ""             # QEMU's socket (local.path)
    host_path: str = ""             # ours (remote.path)


def _element_args(cls: str, config: str) -> dict | None:
    """FromDump/ToDump arguments parsed from an IMAGE.json config string (None if not parseable)."""
    from .. import registry
    from ..element import Instance, parse_element_args
    from ..lang import args as argsmod
    spec = registry.lookup(cls)
    if spec is None:
        return None
    inst = Instance(name=cls, spec=spec, config=config, loc=None, index=0)
    try:
        parse_element_args(inst, argsmod.split_args, argsmod.split_keyword, argsmod.arg_loc)
    except Exception:
        return None
    return inst.args


def plan(meta: dict, bound: set[str] | frozenset[str] = frozenset()) -> list[ReplayPort]:
    """The image's dump:/todump: ports (in NIC order) not bound by --port, with their elements."""
    names = [p["name"] if isinstance(p, dict) else str(p) for p in meta.get("ports", [])]
    out: list[ReplayPort] = []
    by_name: dict[str, ReplayPort] = {}
    for n in names:
        if n in bound or not is_replay_port(n):
            continue
        output = n.startswith(TODUMP_PREFIX)
        rp = ReplayPort(n, n[len(TODUMP_PREFIX if output else DUMP_PREFIX):], output)
        out.append(rp)
        by_name[n] = rp
    for e in meta.get("elements", []) or []:
        if not isinstance(e, dict):
            continue
        cls = e.get("class") or ""
        cands = [cls] if cls in ("FromDump", "ToDump") else (["FromDump", "ToDump"] if not cls else [])
        for c in cands:
            args = _element_args(c, e.get("config", ""))
            if not args:
                continue
            prefix = DUMP_PREFIX if c == "FromDump" else TODUMP_PREFIX
            rp = by_name.get(prefix + str(args.get("FILENAME")))
            if rp is None:
                continue
            rp.elements.append(e.get("name", ""))
            if c == "FromDump":
                if args.get("STOP"):
                    rp.stop.append(e.get("name", ""))
                rp.timing = rp.timing or bool(args.get("TIMING"))
            else:
                rp.linktype = ENCAPS.get(args.get("ENCAP", "ETHER"), 1)
                rp.snaplen = int(args.get("SNAPLEN", 2000))
            break
    return out


def _sock_dir() -> str:
    for base in (None, "/tmp"):
        d = tempfile.mkdtemp(prefix="uknfv-replay-", dir=base)
        if len(os.fsencode(d)) < 90:
            return d
        os.rmdir(d)
    raise UknfvError("cannot find a directory for the replay sockets with a short enough path")


def assign_paths(ports: list[ReplayPort], directory: str) -> None:
    for i, p in enumerate(ports):
        p.qemu_path = os.path.join(directory, f"p{i}.qemu")
        p.host_path = os.path.join(directory, f"p{i}.host")


def bindings(ports: list[ReplayPort]) -> dict:
    """PortBinding (kind dgram) for every replay port, by port name."""
    from .qemu import PortBinding
    return {p.name: PortBinding(p.name, "dgram", p.qemu_path, peer=p.host_path) for p in ports}


# --------------------------------------------------------------------------- pcap files

def _pcap_header(path: str) -> tuple[str, bool, int]:
    """(byte order, nanosecond timestamps, link type) of a pcap file; UknfvError if not one."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except FileNotFoundError:
        raise UknfvError(f"{path}: no such file (FromDump reads it relative to the current "
                         f"directory, {os.getcwd()})") from None
    except OSError as e:
        raise UknfvError(f"{path}: {e.strerror}") from None
    magics = {b"\xd4\xc3\xb2\xa1": ("<", False), b"\x4d\x3c\xb2\xa1": ("<", True),
              b"\xa1\xb2\xc3\xd4": (">", False), b"\xa1\xb2\x3c\x4d": (">", True)}
    if len(head) < 24 or head[:4] not in magics:
        raise UknfvError(f"{path}: not a pcap file")
    order, nano = magics[head[:4]]
    link = struct.unpack(order + "I", head[20:24])[0] & 0x0FFFFFFF
    if link not in INPUT_LINKTYPES:
        raise UknfvError(f"{path}: unsupported link type {link} (Ethernet or raw IP expected)")
    return order, nano, link


def read_records(path: str) -> Iterator[tuple[float, bytes]]:
    """(timestamp in seconds, captured bytes) of each record, streamed."""
    order, nano, _ = _pcap_header(path)
    div = 1e9 if nano else 1e6
    with open(path, "rb") as f:
        f.seek(24)
        while True:
            hdr = f.read(16)
            if len(hdr) < 16:
                return
            sec, frac, caplen, _ = struct.unpack(order + "IIII", hdr)
            data = f.read(caplen)
            if len(data) < caplen:
                return          # a truncated last record, as Click's FromDump
            yield sec + frac / div, data


class PcapWriter:
    """A ToDump file on the host: microsecond pcap, the element's link type and snaplen."""

    def __init__(self, path: str, linktype: int, snaplen: int):
        self.path, self.snaplen = path, (snaplen or 65535)
        try:
            self.f = open(path, "wb")
        except OSError as e:
            raise UknfvError(f"{path}: cannot write it: {e.strerror}") from None
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, linktype))
        self.f.flush()
        self.records = 0

    def write(self, frame: bytes, ts: float) -> None:
        cap = frame[:self.snaplen]
        sec = int(ts)
        self.f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(cap), len(frame)))
        self.f.write(cap)
        self.records += 1

    def flush(self) -> None:
        self.f.flush()

    def close(self) -> None:
        self.f.close()


# --------------------------------------------------------------------------- the replayer

class Replayer:
    """Serves the replay ports of one run: start() before QEMU, close() after it."""

    def __init__(self, ports: list[ReplayPort], control: Path | str | None,
                 log: TextIO | None = None, dataroom: int = DEFAULT_DATAROOM,
                 quiet: float = QUIET_S, directory: str | None = None, window: int = WINDOW):
        self.ports = ports
        self.inputs = [p for p in ports if not p.output]
        self.outputs = [p for p in ports if p.output]
        self.control = str(control) if control is not None else None
        self.log = log or sys.stderr
        self.dataroom = dataroom
        self.quiet = quiet
        self.window = window
        # Windowed only when the guest's counts of every input can be read (else: QEMU's
        # flow control alone, which bounds the RX side but not the guest's TX rings).
        self.windowed = bool(self.inputs) and all(p.elements for p in self.inputs)
        self._cv = threading.Condition()
        self._own_dir = directory is None
        self.directory = directory or _sock_dir()
        assign_paths(ports, self.directory)
        self.abort = threading.Event()
        self.ready = threading.Event()      # the guest answers: start sending
        self.finished = threading.Event()   # the replay is over (eof/stop written)
        self.socks: dict[str, socket.socket] = {}
        self.writers: dict[str, PcapWriter] = {}
        self.sent = {p.name: 0 for p in self.inputs}
        self.skipped = {p.name: 0 for p in self.inputs}
        self.received = {p.name: 0 for p in self.outputs}
        self.sent_all = {p.name: False for p in self.inputs}
        self.last_rx = time.monotonic()
        self.guest_in: dict[str, int] = {}
        self.guest_out: dict[str, int] = {}
        self.errors: list[str] = []
        self.lost = False
        self.cut_short = False          # the VM went away before the whole input was sent
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.waiting = False            # a sender waits for the window to open

    # -- setup ------------------------------------------------------------------
    def bindings(self) -> dict:
        return bindings(self.ports)

    def open(self) -> "Replayer":
        """Check the inputs, create the outputs (as ToDump does at start) and the sockets."""
        try:
            for p in self.inputs:
                _pcap_header(p.file)
            for p in self.outputs:
                self.writers[p.name] = PcapWriter(p.file, p.linktype, p.snaplen)
            for p in self.ports:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                s.bind(p.host_path)
                if p.output:
                    s.setblocking(False)
                self.socks[p.name] = s
        except Exception:
            self.close()
            raise
        return self

    def start(self) -> None:
        for target, args in [(self._control_loop, ()), (self._receive_loop, ())] + \
                [(self._send_loop, (p,)) for p in self.inputs]:
            t = threading.Thread(target=target, args=args, daemon=True)
            t.start()
            self._threads.append(t)

    def __enter__(self) -> "Replayer":
        self.open()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _say(self, msg: str) -> None:
        print(f"uknfv: {msg}", file=self.log)
        self.log.flush()

    # -- threads ----------------------------------------------------------------
    def _connect_all(self) -> bool:
        """Connect each socket to QEMU's end once QEMU created it (then the guest's output
        is not limited by the receiver's short datagram queue, and send() needs no address)."""
        pending = list(self.ports)
        while pending and not self.abort.is_set():
            for p in list(pending):
                try:
                    self.socks[p.name].connect(p.qemu_path)
                    pending.remove(p)
                except (FileNotFoundError, ConnectionRefusedError):
                    pass
            if pending:
                self.abort.wait(0.01)
        return not pending

    def _wait_guest(self) -> bool:
        """The guest runs its loop once its control channel answers."""
        from .control import ControlClient
        probe = next((p.elements[0] for p in self.inputs if p.elements), None)
        while not self.abort.is_set():
            try:
                c = ControlClient(self.control, timeout=1.0)
                if probe:
                    c.read(f"{probe}.count")
                else:
                    c.list()
                return True
            except UknfvError:
                self.abort.wait(0.05)
        return False

    def _send_loop(self, p: ReplayPort) -> None:
        s = self.socks[p.name]
        s.settimeout(0.2)
        if not self.ready.wait() or self.abort.is_set():
            return
        t0 = c0 = None
        try:
            for ts, frame in read_records(p.file):
                if not frame or len(frame) > self.dataroom:
                    self.skipped[p.name] += 1
                    continue
                if p.timing:
                    if t0 is None:
                        t0, c0 = time.monotonic(), ts
                    delay = (ts - c0) - (time.monotonic() - t0)
                    if delay > 0 and self.abort.wait(delay):
                        return
                if self.windowed:
                    with self._cv:
                        while self._in_flight() >= self.window and not self.abort.is_set():
                            self.waiting = True
                            self._cv.wait(0.05)
                        self.waiting = False
                while True:
                    if self.abort.is_set():
                        return
                    try:
                        s.send(frame)
                        break
                    except (socket.timeout, BlockingIOError, InterruptedError):
                        continue
                with self._cv:
                    self.sent[p.name] += 1
        except UknfvError as e:
            self.errors.append(e.message)
        except (ConnectionRefusedError, FileNotFoundError, BrokenPipeError):
            self.cut_short = True       # the VM is gone (stopped by SIGINT, or by itself)
        except OSError as e:
            if not self.abort.is_set():
                self.errors.append(f"{p.file}: replay failed: {e.strerror or e}")
        finally:
            self.sent_all[p.name] = True

    def _in_flight(self) -> int:
        """Frames sent and not yet consumed, plus the largest backlog the guest has sent
        on a todump port and we have not received.  Conservative with stale counts: the
        guest only sends what it consumed, and those frames were in flight then."""
        ins = sum(self.sent[p.name] - self.guest_in.get(p.name, 0) for p in self.inputs)
        outs = [self.guest_out.get(p.name, 0) - self.received[p.name]
                for p in self.outputs if p.elements]
        return ins + max(outs + [0])

    def _drain_outputs(self) -> int:
        n = 0
        for p in self.outputs:
            s, w = self.socks[p.name], self.writers[p.name]
            while True:
                try:
                    frame = s.recv(_RECV_MAX)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    break
                w.write(frame, time.time())
                self.received[p.name] += 1
                n += 1
        if n:
            self.last_rx = time.monotonic()
        return n

    def _receive_loop(self) -> None:
        socks = [self.socks[p.name] for p in self.outputs]
        if not socks:
            return
        while not self.abort.is_set():
            try:
                r, _, _ = select.select(socks, [], [], 0.05)
            except (OSError, ValueError):
                return
            if r:
                with self._lock:
                    n = self._drain_outputs()
                    for w in self.writers.values():
                        w.flush()       # readable as it grows (STOP false runs), like a live capture
                if n and self.waiting:
                    with self._cv:
                        self._cv.notify_all()

    def _read_counts(self) -> bool:
        from .control import ControlClient
        try:
            with ControlClient(self.control, timeout=2.0) as c:
                gin = {p.name: sum(int(c.read(f"{e}.count").strip() or 0) for e in p.elements)
                       for p in self.inputs}
                gout = {p.name: sum(int(c.read(f"{e}.count").strip() or 0) for e in p.elements)
                        for p in self.outputs}
        except (UknfvError, ValueError):
            return False
        with self._cv:
            self.guest_in, self.guest_out = gin, gout
            self._cv.notify_all()
        return True

    def _control_loop(self) -> None:
        if not self._connect_all():
            return
        if self.control is None or not self._wait_guest():
            self.ready.set()
            return
        self.ready.set()
        if not self.inputs:
            return              # only ToDump ports: runs until the guest stops or SIGINT
        last_state, last_change, consumed_at = None, time.monotonic(), None
        while not self.abort.wait(0.002 if self.waiting else POLL_S):
            if not all(self.sent_all.values()):
                last_change = time.monotonic()
                if self.windowed:
                    self._read_counts()
                continue
            if not self._read_counts():
                continue
            now = time.monotonic()
            state = (dict(self.guest_in), dict(self.guest_out), dict(self.received))
            if state != last_state:
                last_state, last_change = state, now
            consumed = all(self.guest_in.get(p.name, 0) >= self.sent[p.name] for p in self.inputs)
            settled = all(self.guest_out.get(p.name, 0) == self.received[p.name]
                          for p in self.outputs)
            quiet = now - self.last_rx >= self.quiet and now - last_change >= self.quiet
            if consumed:
                consumed_at = consumed_at or now
                if (settled and quiet) or now - consumed_at >= SETTLE_MAX_S:
                    break
            else:
                consumed_at = None
            if now - last_change >= STALL_S:
                self.lost = True
                break
        else:
            return
        self._end_of_input()

    def _end_of_input(self) -> None:
        from .control import ControlClient, ControlError
        summary = ", ".join(f"{p.file}: {self.sent[p.name]} frames" for p in self.inputs)
        stoppers = [e for p in self.inputs for e in p.stop]
        if not stoppers:
            self._say(f"replay done ({summary}); FromDump has STOP false: the vNF runs until "
                      f"SIGINT (^C)")
            self.finished.set()
            return
        try:
            with ControlClient(self.control, timeout=5.0) as c:
                try:
                    for e in stoppers:
                        c.write(f"{e}.eof")
                except ControlError as err:
                    if err.code != 511:
                        raise
                    c.write("stop")     # an image without the eof handler
        except UknfvError as e:
            self.errors.append(f"cannot end the replay: {e.message}")
        self.finished.set()

    # -- the end ------------------------------------------------------------------
    def close(self) -> None:
        """Stop the threads, write the last frames, close the files and sockets."""
        self.abort.set()
        self.ready.set()
        for t in self._threads:
            t.join(timeout=2)
        with self._lock:
            if self.writers:
                try:
                    self._drain_outputs()
                except Exception:
                    pass
        for s in self.socks.values():
            s.close()
        self.socks.clear()
        for w in self.writers.values():
            w.close()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def report(self) -> int:
        """Print what was replayed and written, and any loss; 0 if complete."""
        parts = []
        for p in self.inputs:
            extra = f" ({self.skipped[p.name]} skipped: empty or longer than {self.dataroom} " \
                    f"bytes)" if self.skipped[p.name] else ""
            parts.append(f"{p.file}: {self.sent[p.name]} frames in{extra}")
        for p in self.outputs:
            parts.append(f"{p.file}: {self.received[p.name]} frames out")
        if self.cut_short:
            parts.append("cut short: the vNF stopped before the end of the input")
        if parts:
            self._say("replay: " + ", ".join(parts))
        bad = False
        for e in self.errors:
            self._say(f"error: {e}")
            bad = True
        if self.finished.is_set() or self.lost:
            for p in self.inputs:
                got = self.guest_in.get(p.name)
                if got is not None and got < self.sent[p.name]:
                    self._say(f"error: {p.file}: the vNF received {got} of the "
                              f"{self.sent[p.name]} frames sent")
                    bad = True
            for p in self.outputs:
                want = self.guest_out.get(p.name)
                if want is not None and want > self.received[p.name]:
                    self._say(f"error: {p.file}: the vNF sent {want} frames, "
                              f"{self.received[p.name]} arrived")
                    bad = True
        return 1 if bad else 0
