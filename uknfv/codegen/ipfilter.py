"""IPClassifier / IPFilter: the tcpdump-like pattern language, compiled to C.

The language and its meaning follow Click's ``IPClassifier(n)`` and
``IPFilter(n)`` manual pages and, where the manual is silent, Click's
``elements/ip/ipfilter.cc``:

* ``IPClassifier(P0, ..., Pn-1)``: pattern *i* sends to output *i*; the first
  matching pattern wins; a packet that matches none is dropped.
* ``IPFilter(ACTION PATTERN, ...)``: ACTION is ``allow`` (= ``0``), ``deny`` or
  ``drop`` (drop the packet) or an output number.
* A pattern that is only ``-``, ``any`` or ``all`` matches everything (so does
  an IPFilter action with no pattern at all).

Primitives (with Click's abbreviations and its "previous primitive"
continuation, as in ``src host 1.0.0.1 or 1.0.0.2`` / ``dst port 53 or 80``),
``and``/``&&``/juxtaposition, ``or``/``||``, ``not``/``!``, parentheses and the
ternary ``a ? b : c`` are parsed into a small AST (:class:`Rule`).
:func:`emit_c` turns the rules into one straight-line C function of folded
constant comparisons; :func:`eval_rules` evaluates the same AST in Python.

Semantics worth knowing (all Click's):

* ``port``, ``tcp opt``, ``icmp type``, ``tcp win`` and ``transp[..]`` tests
  need the IP protocol they imply (``port`` alone means TCP or UDP) and only
  match first fragments (fragment offset 0).  The transport header starts at
  IHL*4 bytes.
* A qualifier protocol constrains any primitive: ``tcp host 1.2.3.4`` means
  ``tcp and host 1.2.3.4``.
* ``DIRECTIVE != V`` (and ``<``, ``>``, ... ) is *not* ``not (DIRECTIVE V)``: it
  still requires the protocol (``src tcp port != 5`` does not match UDP).
  For two-address directives the negation covers the pair:
  ``port != 80`` means neither port is 80, ``port < 1024`` means both ports
  are below 1024 (Click rewrites ``<`` as the negation of ``>``), while
  ``port > 1023`` and ``port >= 1024`` mean either port.
* ``DIRECTIVE & MASK == V`` compares ``field & MASK`` with ``V & MASK``.
* A test whose bytes are not in the packet is false (``not`` of it is true).
  Inside a negated two-address test a missing half counts as matching, so
  ``src or dst host != X`` is false when the destination address is cut off.

Where uknfv differs from Click (always for configurations Click handles
badly): integer protocols above 255 and negated ``tcpudp``/``transp`` are
rejected; ``ether host`` is rejected (the generated code sees only the IP
header); port names come from Click's built-in list only (no
``/etc/services``); an integer mask on ``host``/``net`` is read as a
big-endian address (``0xFF000000`` = ``255.0.0.0``); every load is checked
against the real packet length, also for ``ip[POS]`` beyond the header.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Callable, Union

from uknfv.diag import Loc, UknfvError

__all__ = [
    "Rule", "Expr", "Const", "Not", "And", "Or", "Cond", "Prim", "Cmp",
    "parse_rules", "noutputs", "emit_c", "eval_rules",
    "PORT_NAMES", "PROTO_NAMES", "TCP_OPT_NAMES", "ICMP_TYPE_NAMES",
]

# ---------------------------------------------------------------------------
# Name tables (Click's elements/ip/ipnameinfo.cc and ipfilter.cc)

IP_PROTO_TCP_OR_UDP = 256
IP_PROTO_TRANSP = 258
IP_PROTO_DCCP = 33

PROTO_NAMES: dict[str, int] = {
    "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "udp": 17,
    "tcpudp": IP_PROTO_TCP_OR_UDP, "transp": IP_PROTO_TRANSP,
}
PORT_NAMES: dict[str, int] = {
    "auth": 113, "bootpc": 68, "bootps": 67, "chargen": 19, "daytime": 13,
    "discard": 9, "dns": 53, "domain": 53, "echo": 7, "finger": 79,
    "ftp": 21, "ftp-data": 20, "https": 443, "imap3": 220, "imaps": 993,
    "irc": 194, "netbios-dgm": 138, "netbios-ns": 137, "netbios-ssn": 139,
    "nntp": 119, "ntp": 123, "pop3": 110, "pop3s": 995, "rip": 520,
    "route": 520, "smtp": 25, "snmp": 161, "snmp-trap": 162, "ssh": 22,
    "sunrpc": 111, "telnet": 23, "tftp": 69, "www": 80,
}
TCP_OPT_NAMES: dict[str, int] = {
    "fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20,
}
ICMP_TYPE_NAMES: dict[str, int] = {
    "echo-reply": 0, "unreachable": 3, "sourcequench": 4, "redirect": 5,
    "echo": 8, "routeradvert": 9, "routersolicit": 10, "timeexceeded": 11,
    "parameterproblem": 12, "timestamp": 13, "timestamp-reply": 14,
    "inforeq": 15, "inforeq-reply": 16, "maskreq": 17, "maskreq-reply": 18,
}


@dataclass(frozen=True)
class _Field:
    """A header field: protocol (0 = the IP header itself), bit offset, bit length."""

    proto: int
    bit_offset: int
    bits: int

    def name(self) -> str:
        for word, f in _TYPE_FIELDS.items():
            if f == self:
                return ("tcp " if word == "win" else "icmp " if word == "type" else "ip ") + word
        base = "ip" if self.proto == 0 else _proto_name(self.proto)
        return f"{base}[{self.bit_offset // 8}:{(self.bits + 7) // 8}]"


F_IPLEN = _Field(0, 16, 16)
F_ID = _Field(0, 32, 16)
F_VERSION = _Field(0, 0, 4)
F_HL = _Field(0, 4, 4)
F_TOS = _Field(0, 8, 8)
F_DSCP = _Field(0, 8, 6)
F_TTL = _Field(0, 64, 8)
F_TCP_WIN = _Field(6, 112, 16)
F_ICMP_TYPE = _Field(1, 0, 8)

_TYPE_FIELDS = {"len": F_IPLEN, "id": F_ID, "vers": F_VERSION, "hl": F_HL, "tos": F_TOS,
                "dscp": F_DSCP, "ttl": F_TTL, "win": F_TCP_WIN, "type": F_ICMP_TYPE}

# Primitive types (strings) besides _Field.
_SYNTAX = "syntax"
_TypeT = Union[str, _Field]
_TYPE_ENTRIES: dict[str, _TypeT] = {
    "ce": "ipce", "dest": _SYNTAX, "dst": _SYNTAX, "ect": "ipect", "ether": _SYNTAX,
    "frag": "ipfrag", "host": "host", "ip": _SYNTAX, "net": "net", "not": _SYNTAX,
    "opt": "tcpopt", "port": "port", "proto": "proto", "src": _SYNTAX,
    "unfrag": "ipunfrag", **_TYPE_FIELDS,
}

SD_SRC, SD_DST, SD_AND, SD_OR = 1, 2, 3, 4


def _proto_name(p: int) -> str:
    for k, v in PROTO_NAMES.items():
        if v == p:
            return k
    return f"ip proto {p}"


def _type_name(t: _TypeT) -> str:
    if isinstance(t, _Field):
        return t.name()
    return {"host": "ip host", "net": "ip net", "proto": "proto", "port": "port",
            "tcpopt": "tcp opt", "ipfrag": "ip frag", "ipunfrag": "ip unfrag",
            "ipect": "ip ect", "ipce": "ip ce"}.get(t, str(t))


# ---------------------------------------------------------------------------
# The AST

@dataclass(frozen=True)
class Cmp:
    """One comparison on packet bytes: ``((BE(bytes) >> shift) & mask) OP value``.

    ``base`` is ``"ip"`` (offsets from the IP header) or ``"transp"`` (from
    IHL*4).  ``op`` is ``"=="``, ``">"`` or ``"any"`` (true whatever the
    value).  Only the bytes where the mask is nonzero are read; a zero mask
    (``net 0.0.0.0/0``, ``tcp opt 0``) reads nothing and is always true.
    """

    base: str
    offset: int
    nbytes: int
    shift: int
    mask: int
    op: str
    value: int

    def eff_mask(self) -> int:
        """The mask over the ``nbytes`` big-endian bytes."""
        return (self.mask << self.shift) & ((1 << (8 * self.nbytes)) - 1)

    def needed(self) -> list[int]:
        """Indices (0..nbytes-1) of the bytes this comparison reads."""
        eff = self.eff_mask()
        return [i for i in range(self.nbytes)
                if (eff >> (8 * (self.nbytes - 1 - i))) & 0xFF]

    def last_byte(self) -> int:
        """Offset (from the base) of the last byte read; -1 if none."""
        need = self.needed()
        return self.offset + need[-1] if need else -1


@dataclass(frozen=True)
class Prim:
    """A primitive test: ``[proto guard] and [first fragment] and BODY``.

    BODY is true when ``cmps`` is empty; otherwise the comparisons are
    combined with ``combine`` (``"and"``/``"or"``), each false when its bytes
    are missing.  If ``negated`` BODY is ``not combine(...)`` where a
    comparison whose bytes are missing counts as true (Click's short-packet
    rule for negated relations: the test is false).
    ``proto`` is None, an IP protocol number, or 256 for "TCP or UDP".
    """

    text: str
    proto: int | None
    first_frag: bool
    cmps: tuple[Cmp, ...]
    combine: str = "and"
    negated: bool = False


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Not:
    expr: "Expr"


@dataclass(frozen=True)
class And:
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Expr", ...]


@dataclass(frozen=True)
class Cond:
    test: "Expr"
    then: "Expr"
    orelse: "Expr"


Expr = Union[Const, Not, And, Or, Cond, Prim]


@dataclass
class Rule:
    """One parsed pattern: where matching packets go, and the test."""

    output: int          # output port, or -1 to drop
    expr: Expr
    text: str = ""       # the pattern's source text (for comments)
    loc: Loc | None = None


# ---------------------------------------------------------------------------
# Tokens and locations

@dataclass(frozen=True)
class _Tok:
    text: str
    offset: int          # offset of the first character in the original argument


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./@_:")


def _loc_at(base: Loc | None, text: str, offset: int) -> Loc | None:
    if base is None:
        return None
    offset = max(0, min(offset, len(text)))
    before = text[:offset]
    nl = before.count("\n")
    if nl == 0:
        return dataclasses.replace(base, col=base.col + offset)
    start = before.rfind("\n") + 1
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    return dataclasses.replace(base, line=base.line + nl, col=offset - start + 1,
                               source_line=text[start:end])


def _unquote(text: str) -> tuple[str, list[int]]:
    """Remove comments and quotes (as Click's argument parsing does).

    Returns the cleaned text and, for each of its characters, the offset of
    the character in ``text`` it came from.
    """
    out: list[str] = []
    where: list[int] = []
    i, n = 0, len(text)
    quote = ""
    while i < n:
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
                i += 1
                continue
            if quote == '"' and c == "\\" and i + 1 < n:
                esc = text[i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(esc, esc))
                where.append(i)
                i += 2
                continue
            out.append(c)
            where.append(i)
            i += 1
            continue
        if c in "\"'":
            quote = c
            i += 1
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" ")
            where.append(i)
            i = j
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(" ")
            where.append(i)
            i = j
            continue
        out.append(c)
        where.append(i)
        i += 1
    return "".join(out), where


def _tokenize(text: str) -> list[_Tok]:
    """Split a pattern into words exactly as Click's ``separate_text``."""
    s, where = _unquote(text)
    toks: list[_Tok] = []
    pos, n = 0, len(s)
    while pos < n:
        c = s[pos]
        if c.isspace():
            pos += 1
            continue
        if c in "&|":
            ln = 2 if pos + 1 < n and s[pos + 1] == c else 1
        elif c in "<>!=":
            ln = 2 if pos + 1 < n and s[pos + 1] == "=" else 1
        elif c in "()[],;?":
            ln = 1
        else:
            end = pos
            while end < n and s[end] in _WORD_CHARS:
                end += 1
            ln = max(1, end - pos)
        toks.append(_Tok(s[pos:pos + ln], where[pos]))
        pos += ln
    return toks


# ---------------------------------------------------------------------------
# Scalars (Click's IntArg / IPAddressArg / IPPrefixArg)

_INT_RE = re.compile(r"([+-]?)(0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|0[bB][01](?:_?[01])*|"
                     r"0(?:_?[0-7])*|[1-9](?:_?[0-9])*)")


def _parse_int(word: str, signed: bool = True) -> int | None:
    """Click's IntArg with base 0 (0x hex, 0b binary, 0 octal, decimal)."""
    m = _INT_RE.fullmatch(word)
    if not m or (m.group(1) == "-" and not signed):
        return None
    body = m.group(2).replace("_", "")
    if body[:2] in ("0x", "0X"):
        v = int(body[2:], 16)
    elif body[:2] in ("0b", "0B"):
        v = int(body[2:], 2)
    elif body.startswith("0") and len(body) > 1:
        v = int(body[1:], 8)
    else:
        v = int(body, 10)
    if m.group(1) == "-":
        v = -v
    lo, hi = (-(1 << 31), (1 << 31) - 1) if signed else (0, (1 << 32) - 1)
    return v if lo <= v <= hi else None


def _ip_parts(text: str) -> list[int] | None:
    if not text:
        return None
    parts = text.split(".")
    if len(parts) > 4 or any(not p.isdigit() or not p.isascii() for p in parts):
        return None
    vals = [int(p) for p in parts]
    return vals if all(v <= 255 for v in vals) else None


def _parse_ip(word: str) -> int | None:
    parts = _ip_parts(word)
    if parts is None or len(parts) != 4:
        return None
    return (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]


def _prefix_mask(length: int) -> int:
    return 0 if length == 0 else (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF


def _parse_prefix(word: str) -> tuple[int, int] | None:
    """``ADDR/LEN`` or ``ADDR/MASK`` (ADDR may be partial if LEN allows)."""
    slash = word.rfind("/")
    if slash <= 0 or slash == len(word) - 1:
        return None
    parts = _ip_parts(word[:slash])
    if parts is None:
        return None
    tail = word[slash + 1:]
    if tail.isdigit() and tail.isascii() and int(tail) <= 32:
        mask = _prefix_mask(int(tail))
    else:
        m = _parse_ip(tail)
        if m is None:
            return None
        mask = m
    if len(parts) < 4 and (mask & _prefix_mask(8 * len(parts))) != mask:
        return None
    addr = 0
    for i, p in enumerate(parts):
        addr |= p << (24 - 8 * i)
    return addr, mask


_ETHER_RE = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}|[0-9a-fA-F]{1,4}(\.[0-9a-fA-F]{1,4}){2}")


# ---------------------------------------------------------------------------
# Parsing (mirrors Click's IPFilter::Parser)

class _P:
    """A primitive under construction (Click's IPFilter::Primitive)."""

    def __init__(self) -> None:
        self.type: _TypeT | int = 0      # 0 = not given
        self.data: _TypeT = "none"       # none | int | host | net | proto | port | tcpopt | _Field
        self.op = "eq"                   # eq | gt | lt
        self.negated = False             # op negation (!=, <=, >=)
        self.srcdst = 0
        self.transp: int | None = None
        self.u = 0                       # value (u32)
        self.mask = 0                    # comparison mask
        self.from_name = False


_Err = Callable[[str, int], UknfvError]


class _Parser:
    def __init__(self, toks: list[_Tok], err: _Err, text: str) -> None:
        self.toks = toks
        self.words = [t.text for t in toks]
        self.n = len(toks)
        self.err = err
        self.text = text
        self.prev = _P()

    # helpers ---------------------------------------------------------------
    def off(self, pos: int) -> int:
        if pos < self.n:
            return self.toks[pos].offset
        if self.toks:
            last = self.toks[-1]
            return last.offset + len(last.text)
        return 0

    def fail(self, msg: str, pos: int) -> UknfvError:
        return self.err(msg, self.off(pos))

    def word(self, pos: int) -> str | None:
        return self.words[pos] if pos < self.n else None

    # grammar ---------------------------------------------------------------
    #   expr   ::= orexpr | orexpr ? expr : expr
    #   orexpr ::= term (or|'||' term)*
    #   term   ::= factor ((and|'&&')? factor)*
    #   factor ::= (not|!) factor | ( expr ) | test
    def parse(self) -> Expr:
        pos, e = self.expr(0)
        if pos < self.n:
            raise self.fail(f"garbage after expression at '{self.words[pos]}'", pos)
        assert e is not None
        return e

    def expr(self, pos: int) -> tuple[int, Expr | None]:
        start = pos
        pos, c = self.orexpr(pos)
        if pos == start or self.word(pos) != "?":
            return pos, c
        assert c is not None
        qpos = pos
        pos, t = self.expr(pos + 1)
        if t is None or self.word(pos) != ":":
            raise self.fail("missing ':' in ternary expression", pos if t is not None else qpos)
        pos, e = self.expr(pos + 1)
        if e is None:
            raise self.fail("missing expression after ':'", pos)
        return pos, Cond(c, t, e)

    def orexpr(self, pos: int) -> tuple[int, Expr | None]:
        pos, t = self.term(pos)
        if t is None:
            return pos, None
        items = [t]
        while self.word(pos) in ("or", "||"):
            pos, t = self.term(pos + 1)
            if t is None:
                raise self.fail("missing expression", pos)
            items.append(t)
        return pos, items[0] if len(items) == 1 else Or(tuple(items))

    def term(self, pos: int) -> tuple[int, Expr | None]:
        pos, f = self.factor(pos)
        if f is None:
            raise self.fail("missing expression", pos)
        items = [f]
        while True:
            if self.word(pos) in ("and", "&&"):
                pos, f = self.factor(pos + 1)
                if f is None:
                    raise self.fail("missing expression", pos)
            else:
                pos, f = self.factor(pos)
                if f is None:
                    break
            items.append(f)
        return pos, items[0] if len(items) == 1 else And(tuple(items))

    def factor(self, pos: int) -> tuple[int, Expr | None]:
        w = self.word(pos)
        if w in ("not", "!"):
            npos, f = self.factor(pos + 1)
            if f is None:
                raise self.fail(f"missing expression after '{w}'", pos + 1)
            return npos, Not(f)
        if w == "(":
            npos, e = self.expr(pos + 1)
            if e is None:
                raise self.fail("missing expression after '('", pos + 1)
            if self.word(npos) != ")":
                raise self.fail("missing ')'", npos)
            return npos + 1, e
        return self.test(pos)

    # tests -----------------------------------------------------------------
    def lookup(self, word: str, type_: _TypeT | int, proto: int | None, pos: int,
               quiet: bool) -> tuple[str | None, object]:
        """Click's IPFilter::lookup: what kind of word ``word`` is.

        Returns ("type", type) for a type word, (kind, value) for a name
        (kind "proto", "port", "tcpopt" or F_ICMP_TYPE), ("bad", None) for an
        ambiguous or meaningless name (raised unless ``quiet``), (None, None)
        otherwise.
        """
        if type_ == 0 and word in _TYPE_ENTRIES:
            t = _TYPE_ENTRIES[word]
            return (None, None) if t == _SYNTAX else ("type", t)
        dbs: list[tuple[str, dict[str, int]]] = [
            ("proto", PROTO_NAMES), ("port", PORT_NAMES), ("port", PORT_NAMES),
            ("tcpopt", TCP_OPT_NAMES), ("icmp", ICMP_TYPE_NAMES)]
        got = [word in db for _, db in dbs]
        if not any(got):
            return None, None
        tcpish = (None, 6, IP_PROTO_TCP_OR_UDP)
        udpish = (None, 17, IP_PROTO_TCP_OR_UDP)
        tgot = [
            got[0] and type_ in (0, "proto"),
            got[1] and type_ in (0, "port") and proto in tcpish,
            got[2] and type_ in (0, "port") and proto in udpish,
            got[3] and type_ in (0, "tcpopt") and proto in tcpish,
            got[4] and type_ in (0, F_ICMP_TYPE) and proto in (None, 1),
        ]
        if tgot[1] and tgot[2]:
            tgot[2] = False         # same value for TCP and UDP
        if sum(tgot) == 1:
            i = tgot.index(True)
            kind = ["proto", "port", "port", "tcpopt", F_ICMP_TYPE][i]
            return kind, dbs[i][1][word]                # type: ignore[return-value]
        if not quiet:
            tries = []
            for i, g in enumerate(got):
                if g:
                    label = ["proto", "port", "port", "tcp opt", "icmp type"][i]
                    s = f"'{label} {word}'"
                    if s not in tries:
                        tries.append(s)
            what = "ambiguous" if sum(tgot) > 1 else "meaningless"
            ctx = " ".join(x for x in (_type_name(type_) if type_ else "",
                                       _proto_name(proto) if proto is not None else "") if x)
            shown = f"{ctx} {word}" if ctx else word
            raise self.fail(f"'{shown}' is {what}; try {', '.join(tries)}", pos)
        return "bad", None

    def test(self, pos: int) -> tuple[int, Expr | None]:
        if pos >= self.n:
            return pos, None
        first_word = self.words[pos]
        if first_word in (")", "||", "or", "?", ":"):
            return pos, None
        if first_word == "true":
            return pos + 1, Const(True)
        if first_word == "false":
            return pos + 1, Const(False)

        first = pos
        p = _P()
        header = ""
        negated = False
        words, n = self.words, self.n

        # qualifiers
        while pos < n:
            wd = words[pos]
            kind, val = self.lookup(wd, 0, None, pos, quiet=True)
            if kind == "type":
                assert isinstance(val, (str, _Field))
                if p.type:
                    raise self.fail("type specified twice", pos)
                p.type = val
                if isinstance(val, _Field) and val.proto:
                    self.set_transp(p, val.proto, pos)
            elif kind == "proto":
                assert isinstance(val, int)
                self.set_transp(p, val, pos)
            elif kind is not None:
                break
            elif wd == "src":
                sd = SD_SRC
                if pos + 2 < n and words[pos + 2] in ("dst", "dest"):
                    if words[pos + 1] in ("and", "&&"):
                        sd = SD_AND
                    elif words[pos + 1] in ("or", "||"):
                        sd = SD_OR
                self.set_srcdst(p, sd, pos)
                if sd != SD_SRC:
                    pos += 2
            elif wd in ("dst", "dest"):
                self.set_srcdst(p, SD_DST, pos)
            elif wd in ("ip", "ether"):
                if header:
                    break
                header = wd
            elif wd in ("not", "!"):
                negated = not negated
            else:
                break
            pos += 1

        if pos != first:
            self.prev = _P()
        if header == "ether":
            raise self.fail("'ether' tests are not supported: IPClassifier code sees only "
                            "the IP header", first)

        def peek(i: int) -> str | None:      # Click ignores the very last word here
            return words[i] if i < n - 1 else None

        # optional [POS:LEN]
        wd = peek(pos)
        if wd == "[" and pos > first and p.type == 0:
            pos = self.brackets(p, pos)
            wd = peek(pos)

        # optional & MASK
        mask_dt = ""
        provided = 0
        if wd == "&" and pos < n - 1:
            mpos = pos + 1
            iv = _parse_int(words[mpos], signed=False)
            if iv is not None:
                mask_dt, provided = "int", iv
            else:
                ip = _parse_ip(words[mpos])
                if ip is None:
                    raise self.fail(f"bad mask '{words[mpos]}'", mpos)
                mask_dt, provided = "host", ip
            if provided == 0:
                raise self.fail("zero mask ignored", mpos)
            pos += 2
            wd = peek(pos)

        # optional relational operator
        op_pos = pos
        pos += 1
        if wd in ("=", "=="):
            pass
        elif wd == "!=":
            p.negated = True
        elif wd == ">":
            p.op = "gt"
        elif wd == "<":
            p.op = "lt"
        elif wd == ">=":
            p.op, p.negated = "lt", True
        elif wd == "<=":
            p.op, p.negated = "gt", True
        else:
            pos -= 1

        # the data
        data_pos = pos
        if pos < n:
            wd = words[pos]
            kind, val = self.lookup(wd, p.type, p.transp, pos, quiet=False)
            pos += 1
            if kind is not None and kind != "type":
                assert isinstance(val, int)
                p.data = kind  # type: ignore[assignment]
                p.u = val
                p.from_name = True
            elif (iv := _parse_int(wd)) is not None:
                p.data = "int"
                p.u = iv & 0xFFFFFFFF
            elif (ip := _parse_ip(wd)) is not None:
                mask = _parse_ip(words[pos + 1]) if pos < n - 1 and words[pos] == "mask" else None
                if mask is not None:
                    pos += 2
                    p.data, p.u, p.mask = "net", ip, mask
                else:
                    p.data, p.u = "host", ip
            elif (pf := _parse_prefix(wd)) is not None:
                p.data = "net"
                p.u, p.mask = pf
            elif _ETHER_RE.fullmatch(wd):
                raise self.fail("Ethernet addresses are not supported: IPClassifier code sees "
                                "only the IP header", pos - 1)
            else:
                if p.op != "eq" or p.negated:
                    raise self.fail(f"dangling operator near '{wd}'", op_pos)
                pos -= 1

        if pos == first:
            raise self.fail(f"empty term near '{self.word(pos) or ''}'", pos)

        self.check(p, mask_dt, provided, first, data_pos)
        text = self.text[self.toks[first].offset:self.off(pos - 1) + len(words[pos - 1])]
        node: Expr = self.compile(p, " ".join(text.split()))
        self.prev = p
        return pos, (Not(node) if negated else node)

    def set_transp(self, p: _P, proto: int, pos: int) -> None:
        if p.transp is not None and p.transp != proto:
            raise self.fail("transport protocol specified twice", pos)
        p.transp = proto

    def set_srcdst(self, p: _P, sd: int, pos: int) -> None:
        if p.srcdst:
            raise self.fail("'src' or 'dst' specified twice", pos)
        p.srcdst = sd

    def brackets(self, p: _P, pos: int) -> int:
        """``[POS]``, ``[POS:LEN]`` or ``[POS,END]``; returns the position after ``]``."""
        lb = pos
        pos += 1
        parts: list[str] = []
        while pos < self.n and self.words[pos] != "]":
            parts.append(self.words[pos])
            pos += 1
        if pos >= self.n:
            raise self.fail("missing ']'", lb)
        pos += 1
        combo = "".join(parts)
        fieldpos: int | None = None
        length: int | None = 1
        if ":" in combo[:-1]:
            a, b = combo.split(":", 1)
            fieldpos, length = _parse_int(a), _parse_int(b)
        elif "," in combo[:-1]:
            a, b = combo.split(",", 1)
            fieldpos, end = _parse_int(a), _parse_int(b)
            length = None if fieldpos is None or end is None else end - fieldpos + 1
        else:
            fieldpos = _parse_int(combo)
        if fieldpos is None or length is None:
            raise self.fail("syntax error after '[', expected '[POS]' or '[POS:LEN]'", lb)
        if length < 1 or length > 4:
            raise self.fail("LEN in '[POS:LEN]' out of range, should be between 1 and 4", lb)
        if fieldpos < 0 or fieldpos * 8 >= 0x10000:
            raise self.fail(f"POS in '[POS:LEN]' out of range, should be between 0 and "
                            f"{0x10000 // 8 - 1}", lb)
        if fieldpos // 4 != (fieldpos + length - 1) // 4:
            raise self.fail(f"field [{fieldpos}:{length}] does not fit in a single word", lb)
        if p.type:
            raise self.fail("type specified twice", lb)
        p.type = _Field(p.transp if p.transp is not None else 0, fieldpos * 8, length * 8)
        return pos

    # semantic check (Click's Primitive::check) --------------------------------
    def check(self, p: _P, mask_dt: str, provided: int, first: int, data_pos: int) -> None:
        prev = self.prev

        def err(msg: str, at: int = first) -> UknfvError:
            return self.fail(msg, at)

        def type_err(msg: str, at: int = first) -> UknfvError:
            return err(f"'{_type_name(p.type)}': {msg}", at)  # type: ignore[arg-type]

        if not p.type:
            data = p.data
            while True:
                if data in ("host", "net", "tcpopt"):
                    p.type = data
                    if not p.srcdst:
                        p.srcdst = prev.srcdst
                elif data == "proto":
                    p.type = "proto"
                elif data == "port":
                    p.type = "port"
                    if not p.srcdst:
                        p.srcdst = prev.srcdst
                    if p.transp is None:
                        p.transp = prev.transp
                elif data == "int":
                    if not (isinstance(prev.type, _Field) or prev.type in ("proto", "port")):
                        raise err("specify header field or 'port'")
                    data = p.data = prev.type  # type: ignore[assignment]
                    continue
                elif data == "none":
                    if p.transp is None:
                        raise err("partial directive")
                    p.type = "proto"
                elif isinstance(data, _Field):
                    p.type = data
                    if data.proto and p.transp is None:
                        p.transp = data.proto
                else:
                    raise err(f"unknown type '{data}'")
                break

        t = p.type
        if t in ("host", "net"):
            if p.data != t:
                raise type_err("address missing", data_pos)
            if p.op != "eq":
                raise type_err("operator not supported")
            if t == "host":
                p.mask = 0xFFFFFFFF
            p.type = "host"
            if mask_dt:
                p.mask = provided
        elif t == "proto":
            if p.data in ("int", "proto"):
                if p.transp is not None and p.transp != p.u:
                    raise type_err("specified twice")
                if not p.from_name and p.u > 255:
                    raise type_err(f"protocol {p.u} out of range, bound 255", data_pos)
            elif p.data == "none" and p.transp is not None:
                p.u = p.transp
            else:
                raise type_err("value missing", data_pos)
            p.data = "none"
            p.transp = None
            if p.u >= 256:
                if p.op != "eq" or p.negated or mask_dt:
                    raise err(f"'{_proto_name(p.u)}': operator or mask not supported")
                p.mask = 0xFF
            else:
                if mask_dt and mask_dt != "int":
                    raise type_err("bad mask")
                self.set_mask(p, 0xFF, provided, first)
            if p.op == "eq" and p.mask == 0xFF and not p.negated:
                p.transp = p.u
        elif t == "port":
            if p.data == "int":
                p.data = "port"
            if p.data != "port":
                raise type_err("value missing", data_pos)
            if p.transp is None:
                p.transp = IP_PROTO_TCP_OR_UDP
            elif p.transp not in (6, 17, IP_PROTO_TCP_OR_UDP, IP_PROTO_DCCP):
                raise err(f"'port': bad protocol {p.transp}")
            if mask_dt and mask_dt != "int":
                raise type_err("bad mask")
            self.set_mask(p, 0xFFFF, provided, first)
        elif t == "tcpopt":
            if p.data == "int":
                p.data = "tcpopt"
            if p.data != "tcpopt":
                raise type_err("value missing", data_pos)
            if p.transp is None:
                p.transp = 6
            elif p.transp != 6:
                raise err(f"'tcp opt': bad protocol {p.transp}")
            if p.op != "eq" or p.negated or mask_dt:
                raise type_err("operator or mask not supported")
            if p.u > 255:
                raise err(f"'tcp opt': value {p.u if p.u < 1 << 31 else p.u - (1 << 32)} "
                          f"out of range", data_pos)
            p.mask = p.u
        elif t == "ipect":
            if p.data not in ("none", "int"):
                raise type_err("value missing", data_pos)
            if mask_dt and mask_dt != "int":
                raise type_err("bad mask")
            if p.data == "none":
                p.u, p.negated, p.op = 0, True, "eq"
            self.set_mask(p, 0x3, provided, first)
            p.type = F_TOS
        elif t == "ipce":
            if p.data != "none" or mask_dt:
                raise type_err("value not supported", data_pos)
            p.mask, p.u, p.type = 0x3, 0x3, F_TOS
        elif t in ("ipfrag", "ipunfrag"):
            if p.data != "none" or mask_dt:
                raise type_err("value not supported", data_pos)
            if t == "ipunfrag":
                p.negated = True
                p.type = "ipfrag"
        elif isinstance(t, _Field):
            if p.data != "int" and p.data != t:
                raise type_err("value missing", data_pos)
            if mask_dt and mask_dt != "int":
                raise type_err("bad mask")
            self.set_mask(p, (1 << t.bits) - 1, provided, first)
        else:   # pragma: no cover - every type is handled above
            raise err(f"unknown type '{t}'")

        if p.type in ("host", "port") and not p.srcdst:
            p.srcdst = SD_OR

    def set_mask(self, p: _P, full: int, provided: int, pos: int) -> None:
        """Click's Primitive::set_mask: range checks and relational rewriting."""
        data = p.u & 0xFFFFFFFF
        this_mask = provided or full
        if this_mask & full != this_mask:
            raise self.fail(f"'{_type_name(p.type)}': mask out of range, bound 0x{full:X}",  # type: ignore[arg-type]
                            pos)
        if p.op in ("gt", "lt"):
            if (p.op == "lt" and (data == 0 or data > this_mask)) or \
                    (p.op == "gt" and data >= this_mask):
                # Always true or always false over the field's range.  Click
                # turns this into "(x & 0) == 0", possibly negated; uknfv keeps
                # reading the field ("any" value), so that like every other
                # test it is false when the field is not in the packet.
                will_be = (not p.negated) if (p.op == "lt" and data > this_mask) else p.negated
                p.u, p.mask, p.negated, p.op = 0, this_mask, not will_be, "any"
                return
            if p.op == "lt":        # x < V  ==  !(x > V-1)
                p.u = data - 1
                p.negated = not p.negated
                p.op = "gt"
            p.mask = this_mask
            return
        if data > full:
            raise self.fail(f"'{_type_name(p.type)}': out of range, bound {full}", pos)  # type: ignore[arg-type]
        p.u = data
        p.mask = this_mask

    # compile to the AST (Click's Primitive::compile) ---------------------------
    @staticmethod
    def compile(p: _P, text: str) -> Prim:
        t = p.type
        proto = p.transp
        if proto == IP_PROTO_TRANSP:
            proto = None
        first_frag = t in ("port", "tcpopt") or (isinstance(t, _Field) and t.proto != 0)
        op = {"gt": ">", "eq": "==", "any": "any"}[p.op]
        cmps: list[Cmp] = []
        combine = "and"
        negated = p.negated
        if t == "host":
            if p.srcdst in (SD_SRC, SD_AND, SD_OR):
                cmps.append(Cmp("ip", 12, 4, 0, p.mask, "==", p.u & p.mask))
            if p.srcdst in (SD_DST, SD_AND, SD_OR):
                cmps.append(Cmp("ip", 16, 4, 0, p.mask, "==", p.u & p.mask))
            combine = "or" if p.srcdst == SD_OR else "and"
        elif t == "port":
            v = p.u & p.mask if op == "==" else p.u
            if p.srcdst in (SD_SRC, SD_AND, SD_OR):
                cmps.append(Cmp("transp", 0, 2, 0, p.mask, op, v))
            if p.srcdst in (SD_DST, SD_AND, SD_OR):
                cmps.append(Cmp("transp", 2, 2, 0, p.mask, op, v))
            combine = "or" if p.srcdst == SD_OR else "and"
        elif t == "proto":
            if p.op == "eq" and p.mask == 0xFF and not p.negated:
                cmps = []          # the protocol guard is the whole test
                negated = False
            else:
                v = p.u & p.mask if op == "==" else p.u
                cmps.append(Cmp("ip", 9, 1, 0, p.mask, op, v))
        elif t == "ipfrag":
            cmps.append(Cmp("ip", 6, 2, 0, 0x3FFF, "==", 0))
            negated = not p.negated        # "frag" = not unfragmented
        elif t == "tcpopt":
            cmps.append(Cmp("transp", 13, 1, 0, p.mask, "==", p.u & p.mask))
            negated = False
        elif isinstance(t, _Field):
            b0 = t.bit_offset // 8
            b1 = (t.bit_offset + t.bits - 1) // 8
            nbytes = b1 - b0 + 1
            shift = (b1 + 1) * 8 - (t.bit_offset + t.bits)
            v = p.u & p.mask if op == "==" else p.u
            cmps.append(Cmp("ip" if t.proto == 0 else "transp", b0, nbytes, shift,
                            p.mask, op, v))
        else:   # pragma: no cover
            raise AssertionError(t)
        return Prim(text, proto, first_frag, tuple(cmps), combine, negated)


# ---------------------------------------------------------------------------
# Public API: parsing

def parse_rules(kind: str, args: list[tuple[str, Loc | None]]) -> list[Rule]:
    """Parse the configuration arguments of an IPClassifier or IPFilter."""
    if kind not in ("IPClassifier", "IPFilter"):
        raise ValueError(f"unknown classifier kind {kind!r}")
    rules: list[Rule] = []
    for argno, (text, loc) in enumerate(args):
        def err(msg: str, offset: int, _text: str = text, _loc: Loc | None = loc,
                _n: int = argno) -> UknfvError:
            return UknfvError(f"{kind} pattern {_n}: {msg}", _loc_at(_loc, _text, offset))

        toks = _tokenize(text)
        if kind == "IPFilter":
            if not toks:
                raise err("empty pattern", 0)
            action = toks[0].text
            if action == "allow":
                output = 0
            elif action in ("deny", "drop"):
                output = -1
            else:
                slot = _parse_int(action)
                if slot is None:
                    raise err(f"unknown slot ID '{action}' (expected 'allow', 'deny', "
                              f"'drop' or an output number)", toks[0].offset)
                if slot < 0:
                    raise err(f"slot '{action}' out of range", toks[0].offset)
                output = slot
            toks = toks[1:]
        else:
            output = argno
        pattern_text = text[toks[0].offset:].strip() if toks else ""
        if not toks or (len(toks) == 1 and toks[0].text in ("-", "any", "all")):
            expr: Expr = Const(True)
        else:
            try:
                expr = _simplify(_Parser(toks, err, text).parse())
            except RecursionError:
                raise err("expression nested too deeply", toks[0].offset) from None
        rules.append(Rule(output, expr, " ".join(pattern_text.split()) or "-", loc))
    return rules


def noutputs(kind: str, rules: list[Rule]) -> int:
    """How many outputs the element has."""
    if kind == "IPClassifier":
        return len(rules)
    return max([0] + [r.output for r in rules]) + 1


# ---------------------------------------------------------------------------
# Simplification (constant folding, flattening)

def _simplify(e: Expr) -> Expr:
    if isinstance(e, Not):
        inner = _simplify(e.expr)
        if isinstance(inner, Const):
            return Const(not inner.value)
        if isinstance(inner, Not):
            return inner.expr
        return Not(inner)
    if isinstance(e, (And, Or)):
        is_and = isinstance(e, And)
        items: list[Expr] = []
        for sub in e.items:
            s = _simplify(sub)
            if isinstance(s, Const):
                if s.value != is_and:          # false in and / true in or decides
                    return Const(s.value)
                continue
            if isinstance(s, type(e)):
                items.extend(s.items)          # type: ignore[union-attr]
            else:
                items.append(s)
        if not items:
            return Const(is_and)
        if len(items) == 1:
            return items[0]
        return And(tuple(items)) if is_and else Or(tuple(items))
    if isinstance(e, Cond):
        c, t, o = _simplify(e.test), _simplify(e.then), _simplify(e.orelse)
        if isinstance(c, Const):
            return t if c.value else o
        return Cond(c, t, o)
    return e


# ---------------------------------------------------------------------------
# Evaluation in Python (same semantics as the generated C)

def _read(cmp: Cmp, data: bytes) -> int | None:
    """The compared value, or None if a needed byte is missing."""
    need = cmp.needed()
    if not need:
        return 0
    if cmp.base == "ip":
        start = 0
    else:
        if not data:
            return None
        start = (data[0] & 0x0F) * 4
    if start + cmp.offset + need[-1] >= len(data):
        return None
    eff = cmp.eff_mask()
    raw = int.from_bytes(data[start + cmp.offset:start + cmp.offset + need[-1] + 1], "big")
    raw <<= 8 * (cmp.nbytes - 1 - need[-1])
    return ((raw & eff) >> cmp.shift) & cmp.mask


def _eval_cmp(cmp: Cmp, data: bytes, short: bool) -> bool:
    if cmp.mask == 0:
        return True
    v = _read(cmp, data)
    if v is None:
        return short
    if cmp.op == "any":
        return True
    return v == cmp.value if cmp.op == "==" else v > cmp.value


def _eval_prim(p: Prim, data: bytes) -> bool:
    if p.proto is not None:
        if len(data) < 10:
            return False
        if p.proto == IP_PROTO_TCP_OR_UDP:
            if data[9] not in (6, 17):
                return False
        elif data[9] != p.proto:
            return False
    if p.first_frag:
        if len(data) < 8 or (data[6] & 0x1F) or data[7]:
            return False
    if not p.cmps:
        return True
    comb = any if p.combine == "or" else all
    if p.negated:
        return not comb(_eval_cmp(c, data, True) for c in p.cmps)
    return comb(_eval_cmp(c, data, False) for c in p.cmps)


def _eval(e: Expr, data: bytes) -> bool:
    if isinstance(e, Const):
        return e.value
    if isinstance(e, Prim):
        return _eval_prim(e, data)
    if isinstance(e, Not):
        return not _eval(e.expr, data)
    if isinstance(e, And):
        return all(_eval(x, data) for x in e.items)
    if isinstance(e, Or):
        return any(_eval(x, data) for x in e.items)
    if isinstance(e, Cond):
        return _eval(e.then, data) if _eval(e.test, data) else _eval(e.orelse, data)
    raise TypeError(e)


def eval_rules(rules: list[Rule], ip_bytes: bytes) -> int:
    """Classify ``ip_bytes`` (starting at the IP header) like the generated C."""
    for r in rules:
        if _eval(r.expr, ip_bytes):
            return r.output
    return -1


# ---------------------------------------------------------------------------
# C emission

class _CEmitter:
    """Builds C expressions; helper variables (toff, tl, proto, ff) are
    declared afterwards for those the final code mentions."""

    def byte(self, base: str, index: int) -> str:
        if base == "ip":
            return f"nh[{index}]"
        return "nh[toff]" if index == 0 else f"nh[toff + {index}]"

    def avail(self, base: str, last: int, present: bool) -> str:
        var = "nlen" if base == "ip" else "tl"
        return f"{var} > {last}" if present else f"{var} <= {last}"

    def cmp_parts(self, c: Cmp, negate: bool) -> tuple[str, str] | None:
        """(availability check, test) for a comparison; None if it reads nothing.

        With ``negate`` the test is the comparison's negation.
        """
        need = c.needed()
        if c.mask == 0 or not need:
            return None
        last = c.offset + need[-1]
        avail = self.avail(c.base, last, True)
        if c.op == "any":
            return avail, "0" if negate else "1"
        eff = c.eff_mask()
        nb = c.nbytes
        if c.op == "==" and len(need) == 1:
            # a single byte: compare it directly
            sh = 8 * (nb - 1 - need[0])
            bmask = (eff >> sh) & 0xFF
            bval = (((c.value & c.mask) << c.shift) >> sh) & 0xFF
            b = self.byte(c.base, c.offset + need[0])
            lhs = b if bmask == 0xFF else f"({b} & {_hex(bmask)})"
            return avail, f"{lhs} {'!=' if negate else '=='} {_hex(bval)}"
        terms = []
        for i in need:
            b = self.byte(c.base, c.offset + i)
            sh = 8 * (nb - 1 - i)
            terms.append(f"(uint32_t){b} << {sh}" if sh else f"(uint32_t){b}")
        read = terms[0] if len(terms) == 1 else "(" + " | ".join(terms) + ")"
        full_read = 0
        for i in need:
            full_read |= 0xFF << (8 * (nb - 1 - i))
        if c.op == "==":
            want = (c.value & c.mask) << c.shift
            lhs = read if eff == full_read else f"({read} & {_hex(eff)})"
            return avail, f"{lhs} {'!=' if negate else '=='} {_hex(want)}"
        val = read
        if c.shift:
            val = f"({val} >> {c.shift})"
        if not (c.shift == 0 and eff == full_read):
            val = f"({val} & {_hex(c.mask)})"
        return avail, f"{val} {'<=' if negate else '>'} {c.value}u"

    def cmp(self, c: Cmp, short: bool) -> str:
        """A comparison; when its bytes are missing it is ``short``."""
        parts = self.cmp_parts(c, False)
        if parts is None:
            return "1"
        avail, test = parts
        if short:
            avail = avail.replace(" > ", " <= ")
            return f"({avail} || {test})" if test != "1" else "1"
        return f"({avail} && {test})" if test != "1" else f"({avail})"

    def prim(self, p: Prim) -> str:
        return self.join(self.prim_parts(p), " && ")

    def conj_parts(self, e: Expr) -> list[str]:
        """The conjuncts of ``e`` (primitives and ands are flattened)."""
        if isinstance(e, Prim):
            return self.prim_parts(e)
        if isinstance(e, And):
            return [x for item in e.items for x in self.conj_parts(item)]
        return [self.expr(e)]

    def prim_parts(self, p: Prim) -> list[str]:
        parts: list[str] = []
        if p.proto is not None:
            if p.proto == IP_PROTO_TCP_OR_UDP:
                parts.append("(proto == 6 || proto == 17)")
            else:
                parts.append(f"proto == {p.proto}")
        if p.first_frag:
            parts.append("ff")
        if len(p.cmps) == 1 and p.negated:
            # not (x OP v), false when x is missing: x is there and x !OP v
            parts_ = self.cmp_parts(p.cmps[0], True)
            if parts_ is None:
                parts.append("0")
            else:
                avail, test = parts_
                parts.append(f"({avail})" if test == "1" else
                             "0" if test == "0" else f"({avail} && {test})")
        elif p.cmps:
            joiner = " || " if p.combine == "or" else " && "
            body = self.join([self.cmp(c, p.negated) for c in p.cmps], joiner)
            if p.negated:
                body = {"0": "1", "1": "0"}.get(body) or (
                    f"!{body}" if body.startswith("(") else f"!({body})")
            parts.append(body)
        return parts

    @staticmethod
    def join(items: list[str], joiner: str) -> str:
        """Join C conditions with && or ||, folding constants and duplicates."""
        unit, zero = ("1", "0") if joiner == " && " else ("0", "1")
        seen: list[str] = []
        for x in items:
            if x == zero:
                return zero
            if x != unit and x not in seen:
                seen.append(x)
        if not seen:
            return unit
        return seen[0] if len(seen) == 1 else "(" + joiner.join(seen) + ")"

    def expr(self, e: Expr) -> str:
        if isinstance(e, Const):
            return "1" if e.value else "0"
        if isinstance(e, Prim):
            return self.prim(e)
        if isinstance(e, Not):
            inner = self.expr(e.expr)
            if inner in ("0", "1"):
                return "1" if inner == "0" else "0"
            return f"!{inner}" if inner.startswith("(") or inner.isidentifier() else f"!({inner})"
        if isinstance(e, And):
            parts = self.conj_parts(e)
            if any(x in ("proto == 6", "proto == 17") for x in parts):
                parts = [x for x in parts if x != "(proto == 6 || proto == 17)"]
            return self.join(parts, " && ")
        if isinstance(e, Or):
            return self.join([self.expr(x) for x in e.items], " || ")
        if isinstance(e, Cond):
            test, then, orelse = self.expr(e.test), self.expr(e.then), self.expr(e.orelse)
            if test in ("0", "1"):
                return then if test == "1" else orelse
            return f"({test} ? {then} : {orelse})"
        raise TypeError(e)


def _hex(v: int) -> str:
    return f"0x{v:x}u" if v > 9 else f"{v}u"


def _c_comment(text: str) -> str:
    text = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return " ".join(text.split())


def _wrap_top(expr: str, indent: str) -> str:
    """Break a long top-level conjunction/disjunction over several lines."""
    if len(expr) < 90 or not expr.startswith("(") or not expr.endswith(")"):
        return expr
    inner = expr[1:-1]
    depth = 0
    pieces: list[str] = []
    start = 0
    i = 0
    joiner = ""
    while i < len(inner):
        ch = inner[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return expr
        elif depth == 0 and inner.startswith((" && ", " || "), i):
            j = inner[i:i + 4]
            if joiner and j != joiner:
                return expr
            joiner = j
            pieces.append(inner[start:i])
            start = i + 4
            i += 4
            continue
        i += 1
    if depth != 0 or not pieces:
        return expr
    pieces.append(inner[start:])
    op = joiner.strip()
    return ("\n" + indent + op + " ").join(pieces)


def emit_c(rules: list[Rule], fname: str) -> str:
    """C source for ``static inline int FNAME(const uint8_t *nh, int32_t nlen)``.

    ``nh`` points at the IPv4 header and ``nlen`` is the number of bytes from
    there to the end of the packet.  Returns the output port or -1 (drop).
    Needs ``<stdint.h>``.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", fname):
        raise ValueError(f"bad C function name {fname!r}")
    em = _CEmitter()
    body: list[str] = []
    done = False
    for i, r in enumerate(rules):
        action = f"return {r.output};" if r.output >= 0 else "return -1; /* drop */"
        where = "drop" if r.output < 0 else f"output {r.output}"
        comment = f"\t/* pattern {i} -> {where}: {_c_comment(r.text)} */"
        if done:
            body.append(comment[:-3] + " (unreachable) */")
            continue
        body.append(comment)
        cond = em.expr(r.expr)
        if cond == "1":
            body.append(f"\t{action}")
            done = True
        elif cond == "0":
            body.append("\t/* never matches */")
        else:
            body.append(f"\tif ({_wrap_top(cond, chr(9) * 2)})\n\t\t{action}")
    if not done:
        body.append("\treturn -1; /* no pattern matched: drop */")

    code = re.sub(r"/\*.*?\*/", "", "\n".join(body))     # code only, not comments
    uses = {name: re.search(rf"\b{name}\b", code) is not None
            for name in ("toff", "tl", "proto", "ff")}
    head = [f"/* IP classifier: {len(rules)} pattern(s), first match wins. */",
            "static inline int",
            f"{fname}(const uint8_t *nh, int32_t nlen)",
            "{"]
    if uses["toff"] or uses["tl"]:
        head.append("\t/* transport header offset (IHL * 4) and the bytes available there */")
        head.append("\tconst int32_t toff = nlen > 0 ? (int32_t)(nh[0] & 0x0f) * 4 : 0;")
        if uses["tl"]:
            head.append("\tconst int32_t tl = nlen - toff;")
    if uses["proto"]:
        head.append("\tconst int proto = nlen > 9 ? nh[9] : -1; /* IP protocol, -1 if missing */")
    if uses["ff"]:
        head.append("\t/* first fragment (fragment offset 0) */")
        head.append("\tconst int ff = nlen > 7 && (nh[6] & 0x1f) == 0 && nh[7] == 0;")
    head.append("\t(void)nh;")
    head.append("\t(void)nlen;")
    return "\n".join(head + body + ["}", ""])
