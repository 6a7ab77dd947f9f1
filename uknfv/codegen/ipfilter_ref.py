"""A plain, independent reference model of IPClassifier/IPFilter patterns.

Used by the property tests to check :mod:`uknfv.codegen.ipfilter`.  It
shares no code with the compiler: it has its own tokenizer and parser and
evaluates the original pattern text directly against a packet decoded with
scapy, following the rules of Click's IPClassifier(n) manual page:

* first matching pattern wins; no match drops (-1);
* ``port``, ``tcp opt``, ``icmp type``, ``tcp win`` and ``transp[...]``
  tests need their protocol (``port`` alone: TCP or UDP) and a first fragment;
  the transport header starts at IHL*4;
* ``!=``, ``<`` and ``<=`` are Click's negations of ``==``, ``>=`` and ``>``
  taken over the whole ``src or dst`` / ``src and dst`` test, and still need
  the protocol;
* ``field & MASK == V`` compares ``field & MASK`` with ``V & MASK``;
* a value after ``or``/``and`` with no directive continues the previous one
  (``src port 80 or 81``, ``src host A or B``);
* a test that needs bytes the packet does not have is false.

It is slow and simple on purpose.  Unsupported (rare) syntax raises
``ValueError``.
"""
from __future__ import annotations

import functools
import ipaddress
import re
from typing import Callable, Optional

from scapy.layers.inet import ICMP, IP, TCP, UDP

Test = Callable[["Packet"], bool]

PROTOS = {"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17}
PORTS = {
    "echo": 7, "discard": 9, "daytime": 13, "chargen": 19, "ftp-data": 20, "ftp": 21,
    "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "dns": 53, "bootps": 67,
    "bootpc": 68, "tftp": 69, "finger": 79, "www": 80, "pop3": 110, "sunrpc": 111,
    "auth": 113, "nntp": 119, "ntp": 123, "netbios-ns": 137, "netbios-dgm": 138,
    "netbios-ssn": 139, "snmp": 161, "snmp-trap": 162, "irc": 194, "imap3": 220,
    "https": 443, "rip": 520, "route": 520, "imaps": 993, "pop3s": 995,
}
TCP_FLAGS = {"fin": 1, "syn": 2, "rst": 4, "psh": 8, "ack": 16, "urg": 32}
ICMP_TYPES = {
    "echo-reply": 0, "unreachable": 3, "sourcequench": 4, "redirect": 5, "echo": 8,
    "routeradvert": 9, "routersolicit": 10, "timeexceeded": 11, "parameterproblem": 12,
    "timestamp": 13, "timestamp-reply": 14, "inforeq": 15, "inforeq-reply": 16,
    "maskreq": 17, "maskreq-reply": 18,
}
TCPUDP = "tcpudp"


# ---------------------------------------------------------------------------
# The packet

class Packet:
    """An IPv4 packet: header fields from scapy, transport from ``raw[IHL*4:]``."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.ip: Optional[IP] = None
        if len(raw) >= 20:
            try:
                self.ip = IP(raw)
            except Exception:       # scapy gave up on odd options: use the raw bytes
                self.ip = None
        self.thoff = (raw[0] & 0x0F) * 4 if raw else None
        self.seg = raw[self.thoff:] if self.thoff is not None else b""

    # raw access: None if any byte that the mask selects is missing
    @staticmethod
    def _take(data: bytes, off: int, size: int, mask: int) -> Optional[int]:
        for i in range(size):
            if (mask >> (8 * (size - 1 - i))) & 0xFF and off + i >= len(data):
                return None
        chunk = data[off:off + size].ljust(size, b"\0")
        return int.from_bytes(chunk, "big") & mask

    def ip_bytes(self, off: int, size: int, mask: int) -> Optional[int]:
        return self._take(self.raw, off, size, mask)

    def transp_bytes(self, off: int, size: int, mask: int) -> Optional[int]:
        if self.thoff is None:
            return None
        return self._take(self.seg, off, size, mask)

    # decoded IP header fields -------------------------------------------------
    _IPF = {  # name: (byte offset, size, mask within those bytes, shift)
        "vers": (0, 1, 0xF0, 4), "hl": (0, 1, 0x0F, 0), "tos": (1, 1, 0xFF, 0),
        "dscp": (1, 1, 0xFC, 2), "len": (2, 2, 0xFFFF, 0), "id": (4, 2, 0xFFFF, 0),
        "fragbits": (6, 2, 0x3FFF, 0), "fragoff": (6, 2, 0x1FFF, 0),
        "ttl": (8, 1, 0xFF, 0), "proto": (9, 1, 0xFF, 0),
        "src": (12, 4, 0xFFFFFFFF, 0), "dst": (16, 4, 0xFFFFFFFF, 0),
    }

    def ipf(self, name: str, mask: Optional[int] = None) -> Optional[int]:
        """IP header field ``name`` ANDed with ``mask`` (None: not in the packet)."""
        off, size, fmask, shift = self._IPF[name]
        m = fmask if mask is None else (mask << shift) & fmask
        raw = self.ip_bytes(off, size, m)
        if raw is None:
            return None
        ip = self.ip
        if ip is None:          # shorter than 20 bytes: scapy cannot decode it
            v = raw >> shift
        else:
            v = {
                "vers": lambda: ip.version, "hl": lambda: ip.ihl, "tos": lambda: ip.tos,
                "dscp": lambda: ip.tos >> 2, "len": lambda: ip.len, "id": lambda: ip.id,
                "fragbits": lambda: (int(ip.flags) & 1) << 13 | ip.frag,
                "fragoff": lambda: ip.frag, "ttl": lambda: ip.ttl, "proto": lambda: ip.proto,
                "src": lambda: int(ipaddress.IPv4Address(ip.src)),
                "dst": lambda: int(ipaddress.IPv4Address(ip.dst)),
            }[name]()
        return v & (m >> shift)

    # decoded transport fields -----------------------------------------------
    def transp_field(self, name: str, mask: int) -> Optional[int]:
        spec = {"sport": (0, 2), "dport": (2, 2), "flags": (13, 1), "win": (14, 2),
                "type": (0, 1)}[name]
        off, size = spec
        if self.transp_bytes(off, size, mask) is None:
            return None
        proto = self.ipf("proto")
        seg = self.seg
        v: Optional[int] = None
        try:
            if proto == 6 and len(seg) >= 20:
                t = TCP(seg[:20])
                v = {"sport": t.sport, "dport": t.dport, "flags": int(t.flags) & 0xFF,
                     "win": t.window}.get(name)
            elif proto == 17 and len(seg) >= 8:
                u = UDP(seg[:8])
                v = {"sport": u.sport, "dport": u.dport}.get(name)
            elif proto == 1 and len(seg) >= 8:
                v = {"type": ICMP(seg[:8]).type}.get(name)
        except Exception:           # undecodable: fall back to the raw bytes
            v = None
        if v is None:
            v = self.transp_bytes(off, size, mask)
        assert v is not None
        return v & mask

    def first_fragment(self) -> bool:
        off = self.ipf("fragoff")
        return off == 0


# ---------------------------------------------------------------------------
# Parsing the pattern text

_TOKEN = re.compile(r"\s*(&&|\|\||[!<>=]=|[()\[\]?,;&|!<>=]|[A-Za-z0-9\-./@_:]+)")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"bad character in {text!r} at {pos}")
        out.append(m.group(1))
        pos = m.end()
    return out


def _int(word: str) -> Optional[int]:
    try:
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", word):
            return int(word, 16)
        if re.fullmatch(r"0[0-7]+", word):
            return int(word, 8)
        if re.fullmatch(r"[0-9]+", word):
            return int(word)
    except ValueError:
        pass
    return None


def _addr(word: str) -> Optional[int]:
    try:
        if word.count(".") == 3:
            return int(ipaddress.IPv4Address(word))
    except ValueError:
        pass
    return None


def _prefix(word: str) -> Optional[tuple[int, int]]:
    if "/" not in word:
        return None
    a, _, l = word.partition("/")
    addr = _addr(a)
    if addr is None:
        return None
    if l.isdigit() and int(l) <= 32:
        n = int(l)
        return addr, (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF if n else 0
    m = _addr(l)
    return None if m is None else (addr, m)


def _rel(op: str, a: int, b: int) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b,
            "<=": a <= b, ">=": a >= b}[op]


_NEGATIVE = {"!=": "==", "<": ">=", "<=": ">"}


def _compare(values: list[Optional[int]], combine: str, op: str, target: int) -> bool:
    """Click's relation over one or two fields (``combine`` "or"/"and").

    ``==``, ``>``, ``>=``: combine(field OP target), a missing field is false.
    ``!=``, ``<``, ``<=``: not combine(field COMPLEMENT target), where a
    missing field counts as satisfying the complement (so the test is false).
    """
    comb = any if combine == "or" else all
    if op in _NEGATIVE:
        comp = _NEGATIVE[op]
        return not comb(True if v is None else _rel(comp, v, target) for v in values)
    return comb(False if v is None else _rel(op, v, target) for v in values)


class _Prev:
    def __init__(self, kind: str = "", srcdst: str = "", proto: object = None) -> None:
        self.kind = kind          # "port", "proto", "field:<name>", "host", ...
        self.srcdst = srcdst
        self.proto = proto        # protocol the previous primitive implied


class _Parser:
    def __init__(self, toks: list[str]) -> None:
        self.t = toks
        self.i = 0
        self.prev = _Prev()
        self.bytes_prev: tuple[tuple[int, int], object] = ((0, 1), None)

    def peek(self, k: int = 0) -> Optional[str]:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self) -> str:
        w = self.t[self.i]
        self.i += 1
        return w

    def parse(self) -> Test:
        test = self.expr()
        if self.i != len(self.t):
            raise ValueError(f"garbage at {self.peek()!r}")
        return test

    def expr(self) -> Test:
        c = self.orexpr()
        if self.peek() == "?":
            self.take()
            a = self.expr()
            if self.take() != ":":
                raise ValueError("missing ':'")
            b = self.expr()
            return lambda p: a(p) if c(p) else b(p)
        return c

    def orexpr(self) -> Test:
        parts = [self.andexpr()]
        while self.peek() in ("or", "||"):
            self.take()
            parts.append(self.andexpr())
        return parts[0] if len(parts) == 1 else (lambda p: any(f(p) for f in parts))

    def andexpr(self) -> Test:
        parts = [self.unary()]
        while True:
            w = self.peek()
            if w in ("and", "&&"):
                self.take()
            elif w is None or w in (")", "or", "||", "?", ":"):
                break
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda p: all(f(p) for f in parts))

    def unary(self) -> Test:
        w = self.peek()
        if w in ("not", "!"):
            self.take()
            f = self.unary()
            return lambda p: not f(p)
        if w == "(":
            self.take()
            f = self.expr()
            if self.take() != ")":
                raise ValueError("missing ')'")
            return f
        if w == "true":
            self.take()
            return lambda p: True
        if w == "false":
            self.take()
            return lambda p: False
        return self.primitive()

    # one primitive ---------------------------------------------------------
    def primitive(self) -> Test:
        srcdst = ""
        proto: object = None      # protocol qualifier: int, TCPUDP, or None
        directive = ""
        qualified = False
        while True:
            w = self.peek()
            if w == "src" and self.peek(1) in ("and", "&&", "or", "||") and \
                    self.peek(2) in ("dst", "dest"):
                srcdst = "src and dst" if self.peek(1) in ("and", "&&") else "src or dst"
                self.i += 3
            elif w == "src":
                srcdst = "src"
                self.take()
            elif w in ("dst", "dest"):
                srcdst = "dst"
                self.take()
            elif w == "ip":
                self.take()
            elif w in PROTOS or w == "tcpudp":
                proto = PROTOS.get(w, TCPUDP)
                self.take()
            elif w in ("host", "net", "port", "proto", "opt", "type", "ttl", "tos",
                       "dscp", "len", "id", "vers", "hl", "win", "frag", "unfrag",
                       "ect", "ce", "transp"):
                directive = w
                self.take()
                if w == "transp":
                    directive = ""
                    proto = "transp"
                    break
            else:
                break
            qualified = True
            if directive:
                break

        # ip[...] / tcp[...] / transp[...]
        byte_field: Optional[tuple[int, int]] = None
        if self.peek() == "[":
            self.take()
            inside = ""
            while self.peek() != "]":
                inside += self.take()
            self.take()
            if ":" in inside:
                a, b = inside.split(":")
                byte_field = (int(a, 0), int(b, 0))
            elif "," in inside:              # [POS,END]
                a, b = inside.split(",")
                byte_field = (int(a, 0), int(b, 0) - int(a, 0) + 1)
            else:
                byte_field = (int(inside, 0), 1)

        mask: Optional[int] = None
        if self.peek() == "&":
            self.take()
            mw = self.take()
            mask = _int(mw) if _int(mw) is not None else _addr(mw)
        op = "=="
        if self.peek() in ("==", "=", "!=", "<", ">", "<=", ">="):
            op = self.take()
            if op == "=":
                op = "=="
        value_word = None
        w = self.peek()
        if w is not None and w not in (")", "and", "&&", "or", "||", "?", ":", "not", "!"):
            if (directive or byte_field or not qualified or w in PORTS or w in TCP_FLAGS
                    or w in ICMP_TYPES or _int(w) is not None or _addr(w) is not None
                    or _prefix(w) is not None):
                value_word = self.take()
        net_mask: Optional[int] = None
        if value_word is not None and self.peek() == "mask":
            self.take()
            net_mask = _addr(self.take())

        if qualified:
            self.prev = _Prev()
        return self.meaning(srcdst, proto, directive, byte_field, mask, op, value_word, net_mask)

    def meaning(self, srcdst: str, proto: object, directive: str,
                byte_field: Optional[tuple[int, int]], mask: Optional[int], op: str,
                word: Optional[str], net_mask: Optional[int]) -> Test:
        prev = self.prev
        # work out the directive when it was left out
        if byte_field is not None:
            directive = "bytes"
        elif not directive:
            if word is None:
                if proto is None:
                    raise ValueError("partial directive")
                directive = "proto"
            elif _int(word) is not None:
                if not prev.kind:
                    raise ValueError("bare number")
                directive = prev.kind
                if directive == "port":
                    srcdst = srcdst or prev.srcdst
                    proto = proto if proto is not None else prev.proto
            elif word in PORTS and not (word in ICMP_TYPES and proto == 1):
                if word in ICMP_TYPES and proto is None:
                    raise ValueError(f"ambiguous {word}")
                directive = "port"
                srcdst = srcdst or prev.srcdst
                proto = proto if proto is not None else prev.proto
            elif word in TCP_FLAGS:
                directive = "opt"
            elif word in ICMP_TYPES:
                directive = "type"
                proto = 1
            elif _addr(word) is not None and net_mask is None:
                directive = "host"
                srcdst = srcdst or prev.srcdst
            else:
                directive = "net"
                srcdst = srcdst or prev.srcdst
        else:
            if directive == "proto" and word is None:
                raise ValueError("proto without value")

        if directive == "type" and proto is None:
            proto = 1
        if directive == "win" and proto is None:
            proto = 6
        if directive == "bytes" and byte_field is None:     # "ip[9] 6 or 17"
            byte_field, proto = self.bytes_prev
        srcdst = srcdst or "src or dst"
        value = None
        if word is not None:
            for table in (ICMP_TYPES if directive == "type" else {},
                          PORTS if directive == "port" else {},
                          TCP_FLAGS if directive == "opt" else {},
                          PROTOS if directive == "proto" else {}):
                if word in table:
                    value = table[word]
            if value is None:
                value = _int(word)

        need_proto = proto
        first_frag = False
        test: Test

        if directive in ("host", "net"):
            if directive == "host":
                addr, amask = _addr(word or ""), 0xFFFFFFFF
            elif net_mask is not None:
                addr, amask = _addr(word or ""), net_mask
            else:
                pf = _prefix(word or "")
                if pf is None:
                    raise ValueError(f"bad net {word}")
                addr, amask = pf
            if addr is None:
                raise ValueError(f"bad address {word}")
            if mask is not None:
                amask = mask
            sides = {"src": ["src"], "dst": ["dst"], "src or dst": ["src", "dst"],
                     "src and dst": ["src", "dst"]}[srcdst]
            comb = "or" if srcdst == "src or dst" else "and"
            target = addr & amask

            def test(p: Packet, sides=sides, amask=amask, target=target, comb=comb) -> bool:
                vals = [p.ipf(s, amask) for s in sides]
                return _compare(vals, comb, op, target)
            self.prev = _Prev("host", srcdst, proto)

        elif directive == "port":
            if need_proto is None:
                need_proto = TCPUDP
            first_frag = True
            pmask = 0xFFFF if mask is None else mask
            sides = {"src": ["sport"], "dst": ["dport"], "src or dst": ["sport", "dport"],
                     "src and dst": ["sport", "dport"]}[srcdst]
            comb = "or" if srcdst == "src or dst" else "and"
            assert value is not None
            target = value & pmask if op in ("==", "!=") else value

            def test(p: Packet, sides=sides, pmask=pmask, target=target, comb=comb) -> bool:
                return _compare([p.transp_field(s, pmask) for s in sides], comb, op, target)
            self.prev = _Prev("port", srcdst, need_proto)

        elif directive == "proto":
            if word is None:
                self.prev = _Prev("proto", "", proto)
                test = lambda p: True          # noqa: E731 - only the protocol check below
            else:
                assert value is not None
                pm = 0xFF if mask is None else mask
                tgt = value & pm if op in ("==", "!=") else value
                if op == "==" and pm == 0xFF:
                    need_proto = value
                test = lambda p, pm=pm, tgt=tgt: _compare([p.ipf("proto", pm)], "and", op, tgt)  # noqa: E731
                self.prev = _Prev("proto", "", need_proto if op == "==" and pm == 0xFF else None)

        elif directive == "opt":
            if need_proto is None:
                need_proto = 6
            first_frag = True
            assert value is not None
            test = lambda p, v=value: p.transp_field("flags", v) == v  # noqa: E731
            self.prev = _Prev("opt", "", 6)

        elif directive in ("frag", "unfrag"):
            want_frag = directive == "frag"
            test = lambda p: (p.ipf("fragbits") is not None   # noqa: E731
                              and (p.ipf("fragbits") != 0) == want_frag)
            self.prev = _Prev(directive, "", proto)

        elif directive in ("ect", "ce"):
            if directive == "ce":
                test = lambda p: p.ipf("tos", 3) == 3      # noqa: E731
            elif value is None:
                test = lambda p: p.ipf("tos", 3) not in (None, 0)      # noqa: E731
            else:
                fm = 3 if mask is None else mask
                tgt = value & fm if op in ("==", "!=") else value
                test = lambda p, fm=fm, tgt=tgt: _compare([p.ipf("tos", fm)], "and", op, tgt)  # noqa: E731
            self.prev = _Prev("tos", "", proto)

        elif directive in ("ttl", "tos", "dscp", "len", "id", "vers", "hl", "win", "type"):
            width = {"ttl": 8, "tos": 8, "dscp": 6, "len": 16, "id": 16, "vers": 4, "hl": 4,
                     "win": 16, "type": 8}[directive]
            fm = (1 << width) - 1 if mask is None else mask
            assert value is not None
            tgt = value & fm if op in ("==", "!=") else value
            if directive in ("win", "type"):
                first_frag = True
                name = {"win": "win", "type": "type"}[directive]
                test = lambda p, fm=fm, tgt=tgt, name=name: _compare(  # noqa: E731
                    [p.transp_field(name, fm)], "and", op, tgt)
            else:
                test = lambda p, fm=fm, tgt=tgt, d=directive: _compare(  # noqa: E731
                    [p.ipf(d, fm)], "and", op, tgt)
            self.prev = _Prev(directive, "", need_proto)

        elif directive == "bytes":
            assert byte_field is not None
            pos, ln = byte_field
            fm = (1 << (8 * ln)) - 1 if mask is None else mask
            assert value is not None
            tgt = value & fm if op in ("==", "!=") else value
            transport = proto is not None
            if transport:
                first_frag = True
                if proto == "transp":
                    need_proto = None
            getter = "transp_bytes" if transport else "ip_bytes"
            test = lambda p, fm=fm, tgt=tgt, g=getter: _compare(  # noqa: E731
                [getattr(p, g)(pos, ln, fm)], "and", op, tgt)
            self.prev = _Prev("bytes", "", need_proto)
            self.bytes_prev = (byte_field, proto)

        else:
            raise ValueError(f"unsupported directive {directive!r}")

        def full(p: Packet, test=test, need_proto=need_proto, first_frag=first_frag) -> bool:
            if need_proto is not None and need_proto != "transp":
                pr = p.ipf("proto")
                if pr is None:
                    return False
                if need_proto == TCPUDP:
                    if pr not in (6, 17):
                        return False
                elif pr != need_proto:
                    return False
            if first_frag and not p.first_fragment():
                return False
            return test(p)
        return full


@functools.lru_cache(maxsize=4096)
def _compile_rule(kind: str, index: int, text: str) -> tuple[int, Test]:
    toks = _tokens(text)
    if kind == "IPFilter":
        action = toks.pop(0)
        out = {"allow": 0, "deny": -1, "drop": -1}.get(action)
        if out is None:
            out = int(action)
    else:
        out = index
    if not toks or toks in (["-"], ["any"], ["all"]):
        return out, (lambda p: True)
    return out, _Parser(toks).parse()


def reference_match(rule_texts: list[str], kind: str, ip_bytes: bytes) -> int:
    """The output (or -1 for drop) Click's IPClassifier/IPFilter would choose."""
    pkt = Packet(ip_bytes)
    for i, text in enumerate(rule_texts):
        out, test = _compile_rule(kind, i, text)
        if test(pkt):
            return out
    return -1
