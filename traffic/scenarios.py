"""Declarative traffic scenarios: what to send, how big, how many flows, how fast.

A :class:`Scenario` is data: a base scapy packet (Ether/IP/UDP unless told
otherwise), a frame size (64..9000 bytes, or an :class:`Imix`), flow ranges
(source/destination address and port ranges that vary ``inc``, ``dec`` or
``random``), a :class:`Rate` and a duration.  Every consumer turns the same
definition into traffic: :meth:`Scenario.frames` builds the concrete frames
(exact sizes, valid checksums) for scapy tests, pcaps and uknfv's own
generator; ``uknfv.traffic.trex`` turns it into TRex stateless streams.

Sizes are Ethernet frame sizes *including* the 4-byte FCS, the way RFC 2544
and TRex count them: a 64-byte frame is 60 bytes of data handed to a NIC.

Each frame's payload starts with an 18-byte stamp (see :data:`STAMP`), the
one uknfv's TrafficGen writes and TrafficSink reads::

    0       2               10              18
    | magic | seq           | timestamp ns  |   all big-endian; magic = 0x2544

so a receiver can count loss and reordering per sequence number and measure
latency from the timestamp; the rest of the frame is zero padding.  It fits
the 18 bytes of payload a 64-byte UDP/IPv4 frame has.

Errors a user can make (a bad range, a frame too small for its headers, two
rates at once...) raise :class:`uknfv.diag.UknfvError` with a message that
names the field and says what is allowed.
"""
from __future__ import annotations

import ipaddress
import math
import random
import re
import struct
from dataclasses import dataclass, field, replace
from typing import Iterator, Union

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from uknfv.diag import UknfvError

MIN_FRAME = 64
MAX_FRAME = 9000
FCS = 4                      # bytes of FCS counted in a frame size, not in the data
L1_OVERHEAD = 20             # preamble + SFD (8) and inter-frame gap (12), per frame
STAMP_MAGIC = 0x2544                # "RFC 2544"
STAMP = struct.Struct("!HQQ")    # magic, sequence number, timestamp (ns)
STAMP_LEN = STAMP.size           # 18
MODES = ("inc", "dec", "random")

# Addresses of pipelines/router.click (its define() defaults).
LAN_HOST_MAC = "02:00:00:00:01:02"
LAN_MAC = "52:54:00:00:01:01"
WAN_HOST_MAC = "02:00:00:00:02:02"
LAN_HOST_IP = "10.0.1.2"
WAN_HOST_IP = "10.0.2.2"


def default_base() -> Packet:
    """Ether/IP/UDP from the router's LAN host towards the WAN host."""
    return (Ether(src=LAN_HOST_MAC, dst=LAN_MAC) /
            IP(src=LAN_HOST_IP, dst=WAN_HOST_IP, ttl=64) /
            UDP(sport=1024, dport=1024))


# --------------------------------------------------------------------------- ranges

def _ip_int(text, what: str) -> int:
    if isinstance(text, int) and not isinstance(text, bool):
        if 0 <= text <= 0xFFFFFFFF:
            return text
        raise UknfvError(f"{what}: {text} is not an IPv4 address")
    try:
        return int(ipaddress.IPv4Address(str(text).strip()))
    except ValueError:
        raise UknfvError(f"{what}: '{text}' is not an IPv4 address (expected a.b.c.d)") from None


def _port_int(text, what: str) -> int:
    try:
        value = int(str(text).strip(), 0) if not isinstance(text, int) else text
    except ValueError:
        raise UknfvError(f"{what}: '{text}' is not a port number (expected 0..65535)") from None
    if isinstance(value, bool) or not 0 <= value <= 65535:
        raise UknfvError(f"{what}: {text} is not a port number (expected 0..65535)")
    return value


@dataclass(frozen=True)
class FieldRange:
    """A range of values one header field takes, packet after packet.

    ``inc`` walks start, start+step, ... end and wraps; ``dec`` walks from
    end down to start; ``random`` draws uniformly in [start, end].  This is
    the behaviour of a TRex field-engine variable, so the frames uknfv builds
    and the ones TRex sends follow the same sequence (on one TRex core).
    """

    kind: str            # "ip" or "port"
    lo: int
    hi: int
    mode: str = "inc"
    step: int = 1

    @property
    def count(self) -> int:
        return self.hi - self.lo + 1

    def value(self, k: int) -> int:
        """The value for packet ``k`` (``inc``/``dec``; random needs :meth:`draw`)."""
        off = (k * self.step) % self.count
        return self.lo + off if self.mode != "dec" else self.hi - off

    def draw(self, rng: random.Random) -> int:
        return rng.randint(self.lo, self.hi)

    def text(self, v: int) -> str:
        return str(ipaddress.IPv4Address(v)) if self.kind == "ip" else str(v)

    def __str__(self) -> str:
        s = self.text(self.lo) if self.lo == self.hi else f"{self.text(self.lo)}-{self.text(self.hi)}"
        if self.mode != "inc":
            s += f":{self.mode}"
        if self.step != 1:
            s += f"/{self.step}"
        return s


def parse_range(spec, kind: str, what: str) -> FieldRange:
    """``"10.0.2.2-10.0.2.254"``, ``"1024-2047:random"``, ``"53"``, ``(lo, hi)``,
    ``(lo, hi, mode)`` or a FieldRange.  ``"/N"`` at the end sets the step."""
    if isinstance(spec, FieldRange):
        r = spec
        lo, hi, mode, step = r.lo, r.hi, r.mode, r.step
        conv = (lambda v, w: v)
    else:
        conv = _ip_int if kind == "ip" else _port_int
        mode, step = "inc", 1
        if isinstance(spec, (tuple, list)):
            if not 1 <= len(spec) <= 4:
                raise UknfvError(f"{what}: expected (start, end[, mode[, step]]), got {spec!r}")
            lo = spec[0]
            hi = spec[1] if len(spec) > 1 else spec[0]
            mode = spec[2] if len(spec) > 2 else "inc"
            step = spec[3] if len(spec) > 3 else 1
        elif isinstance(spec, (str, int)) and not isinstance(spec, bool):
            text = str(spec).strip()
            m = re.fullmatch(r"([^:/]+?)(?:\s*-\s*([^:/]+))?(?::(\w+))?(?:/(\d+))?", text)
            if not m:
                raise UknfvError(f"{what}: cannot read range '{text}' "
                                 f"(expected START[-END][:inc|dec|random][/STEP])")
            lo, hi = m.group(1), m.group(2) or m.group(1)
            mode = m.group(3) or "inc"
            step = int(m.group(4)) if m.group(4) else 1
        else:
            raise UknfvError(f"{what}: expected a range like 'START-END[:mode]', got {spec!r}")
    lo, hi = conv(lo, f"{what} start"), conv(hi, f"{what} end")
    if mode not in MODES:
        raise UknfvError(f"{what}: unknown mode '{mode}' (expected one of {', '.join(MODES)})")
    if lo > hi:
        raise UknfvError(f"{what}: start {FieldRange(kind, lo, lo).text(lo)} is above end "
                         f"{FieldRange(kind, hi, hi).text(hi)}")
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        raise UknfvError(f"{what}: step must be a positive integer, got {step!r}")
    if step > hi - lo and lo != hi:
        raise UknfvError(f"{what}: step {step} is larger than the range ({hi - lo + 1} values)")
    return FieldRange(kind, lo, hi, mode, step)


@dataclass(frozen=True)
class Flows:
    """Which header fields vary, and how.  ``None`` keeps the base packet's value."""

    src_ip: FieldRange | str | tuple | None = None
    dst_ip: FieldRange | str | tuple | None = None
    src_port: FieldRange | str | tuple | int | None = None
    dst_port: FieldRange | str | tuple | int | None = None

    def __post_init__(self):
        for name, kind in (("src_ip", "ip"), ("dst_ip", "ip"),
                           ("src_port", "port"), ("dst_port", "port")):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, parse_range(v, kind, f"flows.{name}"))

    def ranges(self) -> dict[str, FieldRange]:
        return {n: getattr(self, n) for n in ("src_ip", "dst_ip", "src_port", "dst_port")
                if getattr(self, n) is not None}

    def count(self) -> int:
        """Distinct flows: the product of the range sizes."""
        return math.prod(r.count for r in self.ranges().values()) if self.ranges() else 1

    def __str__(self) -> str:
        return ", ".join(f"{n}={r}" for n, r in self.ranges().items()) or "one flow"


# --------------------------------------------------------------------------- sizes and rates

@dataclass(frozen=True)
class Imix:
    """A mix of frame sizes with integer weights; the default is the standard
    simple IMIX, 7:4:1 of 64-, 570- and 1518-byte frames."""

    mix: tuple[tuple[int, int], ...] = ((64, 7), (570, 4), (1518, 1))

    def __post_init__(self):
        mix = tuple((s, w) for s, w in self.mix) if not isinstance(self.mix, str) \
            else Imix.parse(self.mix).mix
        if not mix:
            raise UknfvError("imix: the mix is empty")
        seen = set()
        for size, weight in mix:
            _check_size(size, "imix size")
            if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
                raise UknfvError(f"imix: the weight of {size}-byte frames must be a positive "
                                 f"integer, got {weight!r}")
            if size in seen:
                raise UknfvError(f"imix: size {size} appears twice")
            seen.add(size)
        object.__setattr__(self, "mix", mix)

    @staticmethod
    def parse(text: str) -> "Imix":
        """``"imix"`` or ``"64:7,570:4,1518:1"``."""
        t = text.strip().lower()
        if t in ("imix", "standard", ""):
            return Imix()
        mix = []
        for part in t.split(","):
            m = re.fullmatch(r"\s*(\d+)\s*[:x*]\s*(\d+)\s*", part)
            if not m:
                raise UknfvError(f"imix: cannot read '{part.strip()}' in '{text}' "
                                 f"(expected SIZE:WEIGHT,... like 64:7,570:4,1518:1)")
            mix.append((int(m.group(1)), int(m.group(2))))
        return Imix(tuple(mix))

    @property
    def sizes(self) -> list[int]:
        return [s for s, _ in self.mix]

    @property
    def total_weight(self) -> int:
        return sum(w for _, w in self.mix)

    def mean(self, overhead: int = 0) -> float:
        return sum((s + overhead) * w for s, w in self.mix) / self.total_weight

    def sequence(self) -> list[int]:
        """One period of sizes, spread evenly (smooth weighted round robin)."""
        current = {s: 0 for s, _ in self.mix}
        out = []
        for _ in range(self.total_weight):
            for s, w in self.mix:
                current[s] += w
            best = max(self.mix, key=lambda sw: current[sw[0]])[0]
            current[best] -= self.total_weight
            out.append(best)
        return out

    def __str__(self) -> str:
        return "imix(" + ",".join(f"{s}:{w}" for s, w in self.mix) + ")"


def _check_size(size, what: str) -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise UknfvError(f"{what}: expected an integer number of bytes, got {size!r}")
    if not MIN_FRAME <= size <= MAX_FRAME:
        raise UknfvError(f"{what}: {size} bytes is outside {MIN_FRAME}..{MAX_FRAME} "
                         f"(Ethernet frame size including the 4-byte FCS)")
    return size


RATE_KINDS = ("pps", "bps_l1", "bps_l2", "percent")
_UNITS = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}


@dataclass(frozen=True)
class Rate:
    """How fast: exactly one of packets/s, L1 bits/s (frame + FCS + 20 bytes
    of preamble and gap), L2 bits/s (frame + FCS) or percent of the line rate.

    ``link_bps`` is the link speed used to turn a percentage (and the line-rate
    check) into packets/s; 10 Gb/s unless given.  TRex applies a percentage to
    its own port speed.
    """

    pps: float | None = None
    bps_l1: float | None = None
    bps_l2: float | None = None
    percent: float | None = None
    link_bps: float | None = None

    def __post_init__(self):
        given = [k for k in RATE_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise UknfvError("rate: give exactly one of pps, bps_l1, bps_l2 or percent"
                             + (f" (got {', '.join(given)})" if given else ""))
        v = getattr(self, given[0])
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise UknfvError(f"rate: {given[0]} must be a positive number, got {v!r}")
        if given[0] == "percent" and v > 100:
            raise UknfvError(f"rate: {v}% is above 100% of the line rate")
        if self.link_bps is not None and (isinstance(self.link_bps, bool) or
                                          not isinstance(self.link_bps, (int, float)) or
                                          not math.isfinite(self.link_bps) or self.link_bps <= 0):
            raise UknfvError(f"rate: link_bps must be a positive number, got {self.link_bps!r}")

    @property
    def kind(self) -> str:
        return next(k for k in RATE_KINDS if getattr(self, k) is not None)

    @property
    def value(self) -> float:
        return float(getattr(self, self.kind))

    @property
    def link(self) -> float:
        return float(self.link_bps) if self.link_bps is not None else 10e9

    def pps_for(self, imix: Imix) -> float:
        """Total packets/s for frames drawn from ``imix``."""
        if self.kind == "pps":
            return self.value
        if self.kind == "bps_l1":
            return self.value / (8 * imix.mean(L1_OVERHEAD))
        if self.kind == "bps_l2":
            return self.value / (8 * imix.mean())
        return self.link * self.value / 100 / (8 * imix.mean(L1_OVERHEAD))

    def __str__(self) -> str:
        unit = {"pps": "pps", "bps_l1": "bps (L1)", "bps_l2": "bps (L2)", "percent": "% of line rate"}
        return f"{_fmt(self.value)} {unit[self.kind]}"


def _fmt(v: float) -> str:
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if v >= scale:
            return f"{v / scale:g}{suffix}"
    return f"{v:g}"


def parse_rate(text: str, link_bps: float | None = None) -> Rate:
    """``"1.5mpps"``, ``"14880952pps"``, ``"10gbps"`` (L2), ``"10gbpsl1"``,
    ``"2.5gbps_l2"``, ``"50%"``."""
    t = str(text).strip().lower().replace(" ", "")
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)(%|([kmgt]?)(pps|bps)(?:_?(l1|l2))?)", t)
    if not m:
        raise UknfvError(f"rate: cannot read '{text}' (expected e.g. 1mpps, 500kpps, "
                         f"10gbps, 10gbpsl1, 50%)")
    v = float(m.group(1))
    if m.group(2) == "%":
        return Rate(percent=v, link_bps=link_bps)
    v *= _UNITS[m.group(3)]
    if m.group(4) == "pps":
        if m.group(5):
            raise UknfvError(f"rate: '{text}': L1/L2 applies to bits per second, not packets")
        return Rate(pps=v, link_bps=link_bps)
    if m.group(5) == "l1":
        return Rate(bps_l1=v, link_bps=link_bps)
    return Rate(bps_l2=v, link_bps=link_bps)


# --------------------------------------------------------------------------- checksums

def inet_checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


# --------------------------------------------------------------------------- scenario

@dataclass(frozen=True)
class Layout:
    """Where things are in a scenario's frames (offsets from the frame start)."""

    ip: int | None           # IPv4 header
    ihl: int                 # its length in bytes
    l4: int | None           # UDP/TCP/ICMP header
    l4_proto: str | None     # "udp", "tcp", "icmp" or None
    stamp: int               # the payload stamp (== length of the base packet)

    @property
    def l4_checksum(self) -> int | None:
        return None if self.l4 is None else self.l4 + {"udp": 6, "tcp": 16, "icmp": 2}[self.l4_proto]

    def field(self, name: str) -> tuple[int, int]:
        """(offset, size) of src_ip/dst_ip/src_port/dst_port/seq/timestamp."""
        table = {"src_ip": (self.ip, 12, 4), "dst_ip": (self.ip, 16, 4),
                 "src_port": (self.l4, 0, 2), "dst_port": (self.l4, 2, 2),
                 "seq": (self.stamp, 2, 8), "timestamp": (self.stamp, 10, 8)}
        base, off, size = table[name]
        return base + off, size


@dataclass(frozen=True)
class Scenario:
    """One traffic scenario; see the module docstring."""

    name: str
    base: Packet = field(default_factory=default_base)
    frame_size: int | Imix | str = 64
    flows: Flows = field(default_factory=Flows)
    rate: Rate = field(default_factory=lambda: Rate(pps=1_000_000))
    duration: float = 10.0
    stamp: bool = True
    description: str = ""

    def __post_init__(self):
        if isinstance(self.frame_size, str):
            t = self.frame_size.strip().lower()
            object.__setattr__(self, "frame_size",
                               int(t) if t.isdigit() else Imix.parse(self.frame_size))
        if isinstance(self.flows, dict):
            object.__setattr__(self, "flows", Flows(**self.flows))
        if isinstance(self.rate, str):
            object.__setattr__(self, "rate", parse_rate(self.rate))
        self.validate()

    # ---- validation
    def validate(self) -> None:
        what = f"scenario '{self.name}'"
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z0-9][\w.-]*", self.name):
            raise UknfvError(f"scenario name {self.name!r}: use letters, digits, '-', '_' and '.'")
        if not isinstance(self.base, Packet) or not isinstance(self.base, Ether):
            raise UknfvError(f"{what}: the base packet must be a scapy packet starting with Ether(), "
                             f"got {type(self.base).__name__}")
        if not isinstance(self.flows, Flows):
            raise UknfvError(f"{what}: flows must be a Flows(...)")
        if not isinstance(self.rate, Rate):
            raise UknfvError(f"{what}: rate must be a Rate(...)")
        if isinstance(self.frame_size, int) and not isinstance(self.frame_size, bool):
            _check_size(self.frame_size, f"{what}: frame size")
        elif not isinstance(self.frame_size, Imix):
            raise UknfvError(f"{what}: frame size must be {MIN_FRAME}..{MAX_FRAME} or an Imix, "
                             f"got {self.frame_size!r}")
        d = self.duration
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not math.isfinite(d) or d <= 0:
            raise UknfvError(f"{what}: duration must be a positive number of seconds, got {d!r}")
        lay = self.layout
        ranges = self.flows.ranges()
        if ("src_ip" in ranges or "dst_ip" in ranges) and lay.ip is None:
            raise UknfvError(f"{what}: address ranges need an IPv4 header in the base packet "
                             f"({self.base.summary()})")
        if ("src_port" in ranges or "dst_port" in ranges) and lay.l4_proto not in ("udp", "tcp"):
            raise UknfvError(f"{what}: port ranges need a UDP or TCP header in the base packet "
                             f"({self.base.summary()})")
        room = min(self.imix.sizes) - FCS - lay.stamp
        need = STAMP_LEN if self.stamp else 0
        if room < need:
            smallest = min(self.imix.sizes)
            raise UknfvError(
                f"{what}: a {smallest}-byte frame leaves {max(room, 0)} bytes after the "
                f"{lay.stamp}-byte headers ({self.base.summary()}) and the 4-byte FCS"
                + (f", and the sequence/timestamp stamp needs {STAMP_LEN}: use frames of at "
                   f"least {lay.stamp + FCS + STAMP_LEN} bytes or stamp=False" if self.stamp else
                   f": use frames of at least {lay.stamp + FCS} bytes"))
        if self.rate.link_bps is not None:
            line = self.rate.link / (8 * self.imix.mean(L1_OVERHEAD))
            if self.pps > line * (1 + 1e-9):
                raise UknfvError(f"{what}: rate {self.rate} ({self.pps:,.0f} pps) is above the "
                                 f"line rate of a {_fmt(self.rate.link)}b/s link ({line:,.0f} pps)")

    # ---- derived facts
    @property
    def imix(self) -> Imix:
        """The size mix; a single size is a mix of one."""
        return self.frame_size if isinstance(self.frame_size, Imix) else Imix(((self.frame_size, 1),))

    @property
    def is_imix(self) -> bool:
        return isinstance(self.frame_size, Imix)

    @property
    def pps(self) -> float:
        """Total packets per second."""
        return self.rate.pps_for(self.imix)

    @property
    def interval_ns(self) -> float:
        """Gap between two frames' starts at this rate, for exact pacing."""
        return 1e9 / self.pps

    @property
    def layout(self) -> Layout:
        raw = bytes(self._headers())
        pkt = Ether(raw)
        ip = l4 = proto = None
        ihl = 0
        if IP in pkt:
            ip = len(raw) - len(bytes(pkt[IP]))
            ihl = pkt[IP].ihl * 4
            for cls, name in ((UDP, "udp"), (TCP, "tcp"), (ICMP, "icmp")):
                if cls in pkt and pkt[IP].proto == {"udp": 17, "tcp": 6, "icmp": 1}[name]:
                    l4, proto = ip + ihl, name
                    break
        return Layout(ip, ihl, l4, proto, len(raw))

    def describe(self) -> str:
        size = str(self.frame_size) if self.is_imix else f"{self.frame_size} bytes"
        rate = str(self.rate) + (f" ({self.pps:,.0f} pps)" if self.rate.kind != "pps" else "")
        return f"{self.name}: {self.base.summary()}, {size}, {self.flows}, {rate}, {self.duration:g} s"

    def with_(self, **changes) -> "Scenario":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    # ---- frames
    def _headers(self) -> Packet:
        """The base packet with lengths and checksums left for scapy to compute."""
        p = self.base.copy()
        for cls, fields in ((IP, ("len", "chksum")), (UDP, ("len", "chksum")),
                            (TCP, ("chksum",)), (ICMP, ("chksum",))):
            layer = p.getlayer(cls)
            while layer is not None:
                for f in fields:
                    if f in layer.fields:
                        delattr(layer, f)
                layer = layer.payload.getlayer(cls) if layer.payload else None
        return p

    def frame(self, size: int | None = None, values: dict[str, int] | None = None,
              seq: int = 0, timestamp_ns: int = 0) -> bytes:
        """One frame built by scapy: ``size`` bytes including FCS (so ``size - 4``
        returned), header fields from ``values`` (src_ip/dst_ip as ints or
        strings, src_port/dst_port), lengths and checksums computed."""
        if size is None:
            size = self.imix.sizes[0]
        _check_size(size, f"scenario '{self.name}': frame size")
        p = self._headers()
        for name, v in (values or {}).items():
            if name in ("src_ip", "dst_ip"):
                setattr(p[IP], name[:3], str(ipaddress.IPv4Address(v)))
            elif name in ("src_port", "dst_port"):
                setattr(p[UDP] if UDP in p else p[TCP], "sport" if name == "src_port" else "dport",
                        int(v))
            else:
                raise UknfvError(f"frame: unknown field '{name}'")
        head = STAMP.pack(STAMP_MAGIC, seq & 0xFFFFFFFFFFFFFFFF, timestamp_ns & 0xFFFFFFFFFFFFFFFF) \
            if self.stamp else b""
        pad = size - FCS - len(p) - len(head)
        if pad < 0:
            raise UknfvError(f"scenario '{self.name}': a {size}-byte frame is too small for its "
                             f"headers ({len(p) + len(head) + FCS} bytes needed)")
        out = bytes(p / Raw(head + b"\0" * pad)) if head or pad else bytes(p)
        assert len(out) == size - FCS
        return out

    def template(self, size: int | None = None) -> bytes:
        """The first frame of ``size``: flow ranges at their first value, seq 0."""
        return self.frame(size, self.first_values())

    def first_values(self) -> dict[str, int]:
        return {n: r.value(0) if r.mode != "random" else r.lo for n, r in self.flows.ranges().items()}

    def frames(self, count: int, seed: int = 1, timestamp_ns=None) -> Iterator[bytes]:
        """The first ``count`` frames the scenario sends: sizes in the IMIX order
        (:meth:`Imix.sequence`), each flow range stepping once per frame like a
        TRex field-engine variable, sequence numbers 0, 1, 2...  Timestamps are
        0 unless ``timestamp_ns(k)`` gives one.  Built from per-size templates
        by patching fields and checksums, so this is fast enough for pcaps of
        millions of frames; the checksums are the ones scapy computes."""
        if not isinstance(count, int) or count < 0:
            raise UknfvError(f"frames: count must be a non-negative integer, got {count!r}")
        rng = random.Random(seed)
        lay = self.layout
        ranges = self.flows.ranges()
        templates = {s: bytearray(self.template(s)) for s in self.imix.sizes}
        order = self.imix.sequence()
        for k in range(count):
            size = order[k % len(order)]
            f = bytearray(templates[size])
            for name, r in ranges.items():
                v = r.draw(rng) if r.mode == "random" else r.value(k)
                off, width = lay.field(name)
                f[off:off + width] = v.to_bytes(width, "big")
            if self.stamp:
                f[lay.stamp + 2:lay.stamp + STAMP_LEN] = struct.pack(
                    "!QQ", k & (2**64 - 1), (timestamp_ns(k) if timestamp_ns else 0) & (2**64 - 1))
            _fix_checksums(f, lay)
            yield bytes(f)

    def flow_values(self, count: int, seed: int = 1) -> Iterator[dict[str, int]]:
        """The header values of the first ``count`` frames (same walk as :meth:`frames`)."""
        rng = random.Random(seed)
        ranges = self.flows.ranges()
        for k in range(count):
            yield {n: (r.draw(rng) if r.mode == "random" else r.value(k)) for n, r in ranges.items()}


def _fix_checksums(f: bytearray, lay: Layout) -> None:
    if lay.ip is None:
        return
    ip, ihl = lay.ip, lay.ihl
    f[ip + 10:ip + 12] = b"\0\0"
    f[ip + 10:ip + 12] = inet_checksum(bytes(f[ip:ip + ihl])).to_bytes(2, "big")
    if lay.l4 is None:
        return
    total = int.from_bytes(f[ip + 2:ip + 4], "big")
    seg_end = ip + total
    ck = lay.l4_checksum
    f[ck:ck + 2] = b"\0\0"
    seg = bytes(f[lay.l4:seg_end])
    if lay.l4_proto == "icmp":
        c = inet_checksum(seg)
    else:
        proto = 17 if lay.l4_proto == "udp" else 6
        pseudo = bytes(f[ip + 12:ip + 20]) + struct.pack("!BBH", 0, proto, len(seg))
        c = inet_checksum(pseudo + seg)
        if lay.l4_proto == "udp" and c == 0:
            c = 0xFFFF
    f[ck:ck + 2] = c.to_bytes(2, "big")


# --------------------------------------------------------------------------- named scenarios

def _named() -> dict[str, Scenario]:
    router_lan = Ether(src=LAN_HOST_MAC, dst=LAN_MAC) / IP(src=LAN_HOST_IP, dst=WAN_HOST_IP, ttl=64)
    # firewall.click is a bump in the wire: frames keep their MACs end to end.
    fw = Ether(src=LAN_HOST_MAC, dst=WAN_HOST_MAC) / IP(src=LAN_HOST_IP, dst=WAN_HOST_IP, ttl=64)
    out = [
        Scenario("udp64", default_base(), 64, Flows(), Rate(pps=1_000_000), 10.0,
                 description="64-byte UDP frames, one flow, 10.0.1.2 -> 10.0.2.2"),
        Scenario("imix", default_base(), Imix(), Flows(), Rate(bps_l1=1e9), 10.0,
                 description="simple IMIX (7:4:1 of 64/570/1518-byte frames), one flow"),
        Scenario("router-flows", router_lan / UDP(sport=1024, dport=1024), 64,
                 Flows(dst_ip="10.0.2.2-10.0.2.254"), Rate(pps=1_000_000), 10.0,
                 description="pipelines/router.click: LAN host 10.0.1.2 to 253 WAN hosts "
                             "10.0.2.2..254, 64-byte UDP"),
        Scenario("firewall-allowed", fw / UDP(sport=1024, dport=53), 64,
                 Flows(src_port="1024-65535:random", dst_ip="10.0.2.2-10.0.2.254"),
                 Rate(pps=1_000_000), 10.0,
                 description="pipelines/firewall.click: DNS queries (UDP to port 53) from "
                             "10.0.1.2 that the egress rules allow"),
        Scenario("nat44-flows", router_lan / UDP(sport=1024, dport=53), 64,
                 Flows(src_port="1024-2047"), Rate(pps=1_000_000), 10.0,
                 description="pipelines/nat44.click: 1024 UDP flows from inside host 10.0.1.2 "
                             "(source ports 1024..2047), each one NAT mapping"),
        Scenario("stateful-firewall-allowed", fw / UDP(sport=1024, dport=53), 64,
                 Flows(src_port="1024-2047"), Rate(pps=1_000_000), 10.0,
                 description="pipelines/stateful-firewall.click: 1024 DNS flows opened from the "
                             "inside, each one tracked connection"),
        Scenario("firewall-denied", fw / UDP(sport=1024, dport=9), 64,
                 Flows(src_port="1024-65535:random"), Rate(pps=1_000_000), 10.0,
                 description="pipelines/firewall.click: UDP to port 9, which the rules drop"),
    ]
    return {s.name: s for s in out}


SCENARIOS: dict[str, Scenario] = _named()

ScenarioLike = Union[Scenario, str]


def names() -> list[str]:
    return list(SCENARIOS)


def get(name: ScenarioLike) -> Scenario:
    """A named scenario (or the Scenario itself)."""
    if isinstance(name, Scenario):
        return name
    try:
        return SCENARIOS[name]
    except (KeyError, TypeError):
        raise UknfvError(f"unknown scenario '{name}' (known: {', '.join(SCENARIOS)})") from None
