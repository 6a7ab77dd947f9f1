"""IPv4 route tables: Click route syntax in, flat longest-prefix-match C out.

Covers the IPRouteTable family (LinearIPLookup, StaticIPLookup,
RadixIPLookup, DirectIPLookup, ...).  They all share one configuration
syntax and one lookup semantics, so one compiler serves them all:

* Each configuration argument is one route ``ADDR/MASK [GATEWAY] OUTPUT``
  (Click's ``cp_ip_route``).  ``ADDR/MASK`` is parsed like Click's
  ``IPPrefixArg`` with bare addresses allowed:

  - ``18.26.4.0/24`` -- the prefix length is a base-10 integer 0..32
    (Click's ``IntArg(10)``: an optional ``+``, and ``_`` between digits,
    are accepted);
  - ``18.26.4.0/255.255.255.0`` -- a dotted-quad mask;
  - ``18.26.4/24`` -- trailing address bytes may be left off, but the mask
    may not cover more bits than were written (``18.26/24`` is an error);
  - ``18.26.4.24`` -- a bare address means ``/32``.

  Address parts are decimal 0..255 (leading zeros are decimal, as in
  Click).  Bits of ADDR outside MASK are masked off (``r.addr &= r.mask``).

* GATEWAY is ``-`` (no gateway) or a dotted-quad address; a word that is
  not an address is taken as OUTPUT, exactly as in ``cp_ip_route``.
* OUTPUT is parsed with Click's ``cp_integer`` (base 0: ``0x1f``, ``0b11``,
  octal ``017``, ``1_0``, ``+2``); it must be ``>= 0`` and, when the number
  of outputs is known, ``< noutputs``.
* Nothing may follow OUTPUT.

Deviations, each reported as an error rather than silently accepted:
AddressInfo names are not supported (there is no AddressInfo element at
compile time), and non-contiguous masks (``1.0.0.0/255.0.255.0``) are
rejected: Click's parser accepts them, but only LinearIPLookup gives them a
meaning; RadixIPLookup and DirectIPLookup silently mis-handle them.

Duplicate prefixes: every Click table's ``configure`` calls
``add_route(r, false, ...)``, which returns ``-EEXIST`` for a prefix that is
already present and ``configure`` ignores that result.  So the *first* route
for a prefix wins, later ones are dropped silently, and they do not show up
in the ``table`` handler either.  :func:`parse_routes` keeps them (so the
caller can warn, see :func:`duplicate_routes`); :func:`lookup_ref`,
:func:`build_trie` and :func:`emit_c` apply the first-wins rule.

Lookup is longest-prefix match; the result is the route's output port and
gateway (0 if none), or port -1 when no route matches.

Lookup structure (:func:`emit_c`): a leaf-pushed multibit trie, in one of
two layouts, chosen per table by :func:`build_lookup`:

* **array** (:func:`build_array_trie`, :class:`ArrayTrie`): strides
  8-8-8-8, every node a plain array of 256 ``uint16_t`` entries, each either
  ``0x8000 | next-hop index`` (a leaf) or the offset of a child node in the
  one flat entry array.  A lookup is at most 4 dependent loads, each
  followed by one add (``entry + next address byte``) and one bit test; no
  popcount.  Levels that no prefix reaches are not built or emitted: a table
  whose prefixes are all ``<= /24`` has 3 levels, ``<= /16`` 2, ``<= /8``
  just the root.  Cost: 512 bytes per node, whether it holds one route or
  256, so 16 nodes (one per distinct /8 that holds a longer prefix, /16
  that holds a longer than /16, ...) are already 8 KiB.
* **poptrie** (:func:`build_trie`, :class:`RouteTrie`): strides 8-6-6-6-6
  (14-6-6-6 above 1024 routes), nodes compressed with bitmaps and
  popcounts (Asai & Ohara, SIGCOMM 2015): footprint proportional to the
  number of distinct address ranges (about 31 bytes a route for random
  prefixes), but up to 5 levels of load + bit test + popcount + add on the
  critical path.

``auto`` (the default) takes the array layout when its lookup data (entries
plus the 8-byte next-hop table) is at most :data:`ARRAY_TRIE_MAX_BYTES`
(16 KiB, a third to a half of a typical L1 data cache), else the poptrie.
Why: for small tables the lookup is latency-bound, and the array trie's
shorter dependent chain wins (a 21-route router with /32 host routes, 18
nodes, 9 KiB: 0.65 -> 0.49 s per 20 M packets, BENCHMARKS.md finding 2;
0.34 -> 0.26 s best of 11 with InfiniteSource filling bursts first);
for big tables the array layout needs megabytes (20 k random prefixes:
~15 MB) and the poptrie's compact footprint matters more.  Where every
prefix is ``<= /8`` both layouts are the same 256-entry root array of
next-hop indices.  The size check (:func:`array_trie_nbytes`) counts nodes
from the prefixes without building anything, so it is cheap for big
tables too.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from ..diag import ErrorCollector, Loc, UknfvError

__all__ = [
    "Route", "parse_routes", "noutputs", "emit_c", "lookup_ref",
    "build_trie", "RouteTrie", "build_array_trie", "ArrayTrie",
    "build_lookup", "array_trie_nbytes", "ARRAY_TRIE_MAX_BYTES", "LAYOUTS",
    "duplicate_routes", "format_ip",
]

_ROUTE_SYNTAX = "expected 'ADDR/MASK [GATEWAY] OUTPUT'"
_INT32_MAX = 2**31 - 1


# ---------------------------------------------------------------------------
# The route type


@dataclass
class Route:
    """One route.  All integers are host-order uint32s; ``addr & ~mask == 0``."""

    addr: int
    mask: int
    gw: int
    port: int
    loc: Loc | None = None

    @property
    def prefix_len(self) -> int:
        """The prefix length, or -1 if the mask is not contiguous."""
        return _mask_to_prefix_len(self.mask)

    def unparse(self) -> str:
        """Click's ``IPRoute::unparse`` form, e.g. ``10.0.0.0/8 1.2.3.4 1``."""
        plen = self.prefix_len
        mask = str(plen) if plen >= 0 else format_ip(self.mask)
        gw = format_ip(self.gw) if self.gw else "-"
        return f"{format_ip(self.addr)}/{mask} {gw} {self.port}"


def format_ip(a: int) -> str:
    return f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}"


def _make_prefix(plen: int) -> int:
    return (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0


def _mask_to_prefix_len(mask: int) -> int:
    plen = 32 - ((~mask & 0xFFFFFFFF).bit_length())
    return plen if _make_prefix(plen) == mask else -1


# ---------------------------------------------------------------------------
# Click's scalar parsers (lib/ipaddress.cc, lib/args.cc)


def _ip_basic_parse(s: str) -> tuple[int, int, int]:
    """``IPAddressArg::basic_parse``: up to four dot-separated decimal bytes.

    Returns (value, nbytes, characters consumed).  Missing bytes are 0.
    """
    value = [0, 0, 0, 0]
    pos = 0
    d = 0
    n = len(s)
    while d < 4 and pos < n and (d == 0 or s[pos] == "."):
        t = pos + (1 if d else 0)
        if t >= n or not s[t].isdigit() or not s[t].isascii():
            break
        part = ord(s[t]) - 48
        t += 1
        while t < n and s[t].isascii() and s[t].isdigit() and part <= 255:
            part = part * 10 + ord(s[t]) - 48
            t += 1
        if part > 255:
            break
        pos = t
        value[d] = part
        d += 1
    v = value[0] << 24 | value[1] << 16 | value[2] << 8 | value[3]
    return v, d, pos


def _parse_ip(s: str) -> int | None:
    """``IPAddressArg::parse`` without AddressInfo: a full dotted quad."""
    v, nbytes, used = _ip_basic_parse(s)
    if nbytes == 4 and used == len(s):
        return v
    return None


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _parse_int(s: str, base: int = 0, signed: bool = True) -> int | None:
    """Click's ``IntArg(base).parse`` of a whole string; None if malformed.

    Range is not checked here (callers do, with better messages).
    """
    i, n = 0, len(s)
    neg = False
    if i < n and ((signed and s[i] == "-") or s[i] == "+"):
        neg = s[i] == "-"
        i += 1
    b = base
    if b in (0, 16) and i + 2 < n and s[i] == "0" and s[i + 1] in "xX":
        i += 2
        b = 16
    elif b == 0 and i + 2 < n and s[i] == "0" and s[i + 1] in "bB":
        i += 2
        b = 2
    elif b == 0 and i < n and s[i] == "0":
        b = 8
    elif b == 0:
        b = 10
    valid = _DIGITS[:b]
    digits = []
    last_was_digit = False
    j = i
    while j < n:
        c = s[j]
        if c == "_" and last_was_digit and j + 1 < n and s[j + 1].lower() in valid:
            last_was_digit = False
            j += 1
            continue
        if c.lower() in valid and c.isascii() and c.isalnum():
            digits.append(c)
            last_was_digit = True
            j += 1
            continue
        break
    if j != n or not digits:
        # "0x" / "0b" with nothing valid after: Click parses just the "0",
        # which is never the whole string, so it is malformed either way.
        return None
    v = int("".join(digits), b)
    return -v if neg else v


# ---------------------------------------------------------------------------
# Parsing routes


_WORD = re.compile(r"[^ \t\n\r\f\v]+")


def _word_loc(loc: Loc | None, text: str, offset: int) -> Loc | None:
    """The Loc of ``text[offset]`` given that ``text`` starts at ``loc``."""
    if loc is None:
        return None
    nl = text.rfind("\n", 0, offset)
    if nl < 0:
        return dataclasses.replace(loc, col=loc.col + offset)
    # The argument spans lines: count lines, column restarts at 1.
    end = text.find("\n", offset)
    line_text = text[nl + 1:end if end >= 0 else len(text)]
    return dataclasses.replace(loc, line=loc.line + text.count("\n", 0, offset),
                               col=offset - nl, source_line=line_text)


class _RouteError(Exception):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


def _parse_prefix(word: str) -> tuple[int, int]:
    """``IPPrefixArg(true).parse``; raises _RouteError at offset 0."""
    slash = word.rfind("/")
    if slash > 0 and slash + 1 < len(word):
        addr_s, mask_s = word[:slash], word[slash + 1:]
        addr, nbytes, used = _ip_basic_parse(addr_s)
        if used != len(addr_s):
            raise _RouteError(f"bad address '{addr_s}' in route; "
                              + _ROUTE_SYNTAX, 0)
        plen = _parse_int(mask_s, base=10)
        if plen is not None and 0 <= plen <= 32:
            mask = _make_prefix(plen)
        else:
            m = _parse_ip(mask_s)
            if m is None:
                raise _RouteError(
                    f"bad mask '{mask_s}' in route: expected a prefix length "
                    "0-32 or a dotted-quad mask", 0)
            mask = m
        if nbytes < 4 and mask & ~_make_prefix(nbytes * 8) & 0xFFFFFFFF:
            raise _RouteError(
                f"mask of '{word}' is longer than the {nbytes * 8} address "
                f"bits given (write the address in full, e.g. "
                f"'{format_ip(addr)}/{mask_s}')", 0)
        if _mask_to_prefix_len(mask) < 0:
            raise _RouteError(
                f"non-contiguous mask '{mask_s}' is not supported (route "
                "tables match prefixes; use a mask of leading one bits)", 0)
        return addr & mask, mask
    if slash >= 0 and slash + 1 == len(word) and slash > 0:
        raise _RouteError(f"missing mask after '/' in '{word}'", 0)
    a = _parse_ip(word)
    if a is None:
        if slash == 0:
            raise _RouteError(f"missing address before '/' in '{word}'", 0)
        raise _RouteError(f"bad address or prefix '{word}' in route; "
                          + _ROUTE_SYNTAX, 0)
    return a, 0xFFFFFFFF


def _parse_one(text: str, noutputs_hint: int | None) -> tuple[int, int, int, int, int]:
    """Parse one route argument -> (addr, mask, gw, port, first-word offset)."""
    words = [(m.group(), m.start()) for m in _WORD.finditer(text)]
    if not words:
        raise _RouteError("empty route; " + _ROUTE_SYNTAX, 0)
    pfx, pfx_off = words[0]
    try:
        addr, mask = _parse_prefix(pfx)
    except _RouteError as e:
        raise _RouteError(e.message, pfx_off) from None

    gw = 0
    k = 1
    if k < len(words):
        w, off = words[k]
        if w == "-":
            k += 1
        else:
            g = _parse_ip(w)
            if g is not None:
                gw = g
                k += 1
            elif _parse_int(w) is None and ("." in w or k + 1 < len(words)):
                # Click would try it as OUTPUT and fail; say what it looks like.
                raise _RouteError(f"bad gateway address '{w}'; "
                                  + _ROUTE_SYNTAX, off)
    if k >= len(words):
        last, last_off = words[-1]
        raise _RouteError("missing output port in route; " + _ROUTE_SYNTAX,
                          last_off + len(last))
    w, off = words[k]
    port = _parse_int(w)
    if port is None:
        raise _RouteError(f"bad output port '{w}'; " + _ROUTE_SYNTAX, off)
    if port < 0:
        raise _RouteError(f"output port {w} is negative", off)
    if port > _INT32_MAX:
        raise _RouteError(f"output port {w} is out of range", off)
    if noutputs_hint is not None and port >= noutputs_hint:
        n = noutputs_hint
        raise _RouteError(f"output port {port} out of range: element has "
                          f"{n} output{'s' if n != 1 else ''}", off)
    if k + 1 < len(words):
        w, off = words[k + 1]
        raise _RouteError(f"unexpected '{w}' after output port; "
                          + _ROUTE_SYNTAX, off)
    return addr, mask, gw, port, pfx_off


def parse_routes(args: list[tuple[str, Loc | None]],
                 noutputs_hint: int | None = None) -> list[Route]:
    """Parse Click route arguments, one route per configuration argument.

    ``args`` are the element's configuration arguments (already split at
    commas and uncommented), each with the Loc of its first character.
    Every malformed argument is reported; all errors are raised together as
    one :class:`UknfvError` whose locations point at the offending word.
    Duplicate prefixes are kept in the result (first wins at lookup).
    """
    errs = ErrorCollector()
    routes: list[Route] = []
    for text, loc in args:
        try:
            addr, mask, gw, port, off = _parse_one(text, noutputs_hint)
        except _RouteError as e:
            errs.add(e.message, _word_loc(loc, text, e.offset))
            continue
        routes.append(Route(addr, mask, gw, port, _word_loc(loc, text, off)))
    errs.raise_if_any()
    return routes


def duplicate_routes(routes: list[Route]) -> list[tuple[Route, Route]]:
    """(ignored route, the earlier route that wins) for each duplicate prefix."""
    seen: dict[tuple[int, int], Route] = {}
    out = []
    for r in routes:
        key = (r.addr & r.mask, r.mask)
        if key in seen:
            out.append((r, seen[key]))
        else:
            seen[key] = r
    return out


def _effective(routes: list[Route]) -> list[Route]:
    """Routes Click actually installs: masked, first route per prefix."""
    seen: set[tuple[int, int]] = set()
    out = []
    for r in routes:
        if _mask_to_prefix_len(r.mask) < 0:
            raise ValueError(f"route {r.unparse()}: non-contiguous mask")
        if r.port < 0:
            raise ValueError(f"route {r.unparse()}: negative port")
        key = (r.addr & r.mask, r.mask)
        if key not in seen:
            seen.add(key)
            out.append(r if r.addr & ~r.mask & 0xFFFFFFFF == 0
                       else dataclasses.replace(r, addr=r.addr & r.mask))
    return out


def noutputs(routes: list[Route]) -> int:
    """Number of output ports the routes use: 1 + the largest port (0 if none)."""
    return 1 + max((r.port for r in routes), default=-1)


def lookup_ref(routes: list[Route], dst: int) -> tuple[int, int]:
    """Reference longest-prefix match: (port, gw), or (-1, 0) if no route.

    Among routes for the same prefix the first one wins, as in Click.
    """
    best: Route | None = None
    best_len = -1
    for r in routes:
        if dst & r.mask == r.addr & r.mask:
            plen = bin(r.mask).count("1")
            if plen > best_len:
                best, best_len = r, plen
    if best is None:
        return -1, 0
    return best.port, best.gw


# ---------------------------------------------------------------------------
# The lookup structure


_NODE_STRIDE = 6          # 64-entry nodes: one uint64_t bitmap each
_NODE_BYTES = 24          # struct { uint64_t vec, leafvec; uint32_t base0, base1; }
_SMALL_TABLE = 1024       # up to this many routes use an 8-bit root


def _strides_for(nroutes: int) -> list[int]:
    root = 8 if nroutes <= _SMALL_TABLE else 14
    strides = [root]
    left = 32 - root
    while left > 0:
        s = min(_NODE_STRIDE, left)
        strides.append(s)
        left -= s
    return strides


@dataclass
class RouteTrie:
    """A built lookup structure (see :func:`build_trie`).

    ``root`` has ``1 << strides[0]`` entries: ``leaf_flag | nexthop`` or a
    node index.  Node ``i`` is ``nodes[i] = (vec, leafvec, base0, base1)``.
    ``nexthops[i] = (port, gw)``; nexthop 0 is "no route" ``(-1, 0)``.
    """

    strides: list[int]
    root: list[int]
    nodes: list[tuple[int, int, int, int]]
    leaves: list[int]
    nexthops: list[tuple[int, int]]
    depth: int                       # node levels below the root actually used
    routes: list[Route] = field(default_factory=list)   # effective routes

    kind = "poptrie"

    @property
    def leaf_flag(self) -> int:
        return 1 << (self.root_bits - 1)

    @property
    def root_bits(self) -> int:
        """Width of a root entry: 16 or 32 bits, or 8/16/32 when the root
        holds next-hop indices only (no nodes)."""
        if not self.nodes:
            return _uint_bits(len(self.nexthops) - 1)
        if max(len(self.nodes), len(self.nexthops)) < 1 << 15:
            return 16
        return 32

    @property
    def leaf_bits(self) -> int:
        return _uint_bits(len(self.nexthops) - 1)

    @property
    def nbytes(self) -> int:
        """Bytes of lookup data (root, nodes, leaves, next hops)."""
        n = len(self.root) * self.root_bits // 8
        if self.nodes:
            n += len(self.nodes) * _NODE_BYTES + len(self.leaves) * self.leaf_bits // 8
        return n + len(self.nexthops) * 8

    def lookup(self, dst: int) -> tuple[int, int]:
        """Python model of the emitted C lookup (for tests and debugging)."""
        shift = 32 - self.strides[0]
        e = self.root[dst >> shift]
        if not self.nodes:
            return self.nexthops[e]
        if e & self.leaf_flag:
            return self.nexthops[e & (self.leaf_flag - 1)]
        for s in self.strides[1:]:
            shift -= s
            vec, leafvec, base0, base1 = self.nodes[e]
            bit = 1 << ((dst >> shift) & ((1 << s) - 1))
            if not vec & bit:
                nh = self.leaves[base0 + bin(leafvec & (2 * bit - 1)).count("1") - 1]
                return self.nexthops[nh]
            e = base1 + bin(vec & (bit - 1)).count("1")
        raise AssertionError("trie deeper than 32 bits")


def _uint_bits(maxval: int) -> int:
    return 8 if maxval < 1 << 8 else 16 if maxval < 1 << 16 else 32


class _Node:
    __slots__ = ("entries",)

    def __init__(self, entries: list):
        self.entries = entries      # each an int (nexthop) or a _Node


def _build_level(routes: list[tuple[int, int, int]], depth: int,
                 strides: list[int], level: int, default: int) -> list:
    """Leaf-pushed entries of one node.

    ``routes`` are (addr, plen, nexthop) with ``plen > depth`` that share the
    node's ``depth``-bit prefix, sorted by plen (so painting longer prefixes
    later makes them win).  ``default`` is the nexthop pushed down from the
    enclosing prefix.
    """
    s = strides[level]
    size = 1 << s
    end = depth + s
    shift = 32 - end
    vals = [default] * size
    deeper: dict[int, list[tuple[int, int, int]]] = {}
    for r in routes:
        addr, plen, nh = r
        slot = (addr >> shift) & (size - 1)
        if plen <= end:
            span = 1 << (end - plen)
            vals[slot:slot + span] = [nh] * span
        else:
            deeper.setdefault(slot, []).append(r)
    entries: list = vals
    for slot, sub in deeper.items():
        entries[slot] = _Node(_build_level(sub, end, strides, level + 1, vals[slot]))
    return entries


_Prepared = tuple[list[Route], list[tuple[int, int, int]], list[tuple[int, int]]]


def _prepare(routes: list[Route]) -> _Prepared:
    """(effective routes, (addr, plen, nexthop) sorted by plen, next hops).

    Next hop 0 is "no route" ``(-1, 0)``; the others are the distinct
    (port, gateway) pairs in order of first use.
    """
    eff = _effective(routes)
    nh_index: dict[tuple[int, int], int] = {(-1, 0): 0}
    triples = []
    for r in eff:
        nh = nh_index.setdefault((r.port, r.gw), len(nh_index))
        triples.append((r.addr, r.prefix_len, nh))
    triples.sort(key=lambda t: t[1])          # stable: by prefix length
    nexthops = [(-1, 0)] * len(nh_index)
    for key, idx in nh_index.items():
        nexthops[idx] = key
    return eff, triples, nexthops


def _root_entries(triples: list[tuple[int, int, int]], strides: list[int]) -> list:
    """The leaf-pushed root (nested _Nodes below it) for sorted ``triples``.

    Routes no longer than the root stride are painted in directly; a /0
    route is the default that every slot starts from.
    """
    return _build_level([t for t in triples if t[1] > 0], 0, strides, 0,
                        next((t[2] for t in triples if t[1] == 0), 0))


def build_trie(routes: list[Route]) -> RouteTrie:
    """Build the poptrie layout for ``routes`` (see the module docstring)."""
    return _build_poptrie(*_prepare(routes))


def _build_poptrie(eff: list[Route], triples: list[tuple[int, int, int]],
                   nexthops: list[tuple[int, int]]) -> RouteTrie:
    strides = _strides_for(len(eff))

    root_entries = _root_entries(triples, strides)

    # Lay nodes out breadth first so each node's children are contiguous.
    nodes: list[tuple[int, int, int, int]] = []
    leaves: list[int] = []
    pending: list[tuple[_Node, int]] = []      # (node, level below root)
    root: list[object] = []
    for e in root_entries:
        if isinstance(e, _Node):
            root.append(len(pending))
            pending.append((e, 1))
        else:
            root.append(("leaf", e))
    depth = 0
    for node, level in pending:                 # grows while iterating
        depth = level
        vec = leafvec = 0
        base0 = len(leaves)
        base1 = len(pending)
        prev_leaf = None
        for j, e in enumerate(node.entries):
            if isinstance(e, _Node):
                vec |= 1 << j
                pending.append((e, level + 1))
            elif e != prev_leaf:
                leafvec |= 1 << j
                leaves.append(e)
                prev_leaf = e
        nodes.append((vec, leafvec, base0, base1 if vec else 0))

    trie = RouteTrie(strides, [], nodes, leaves, nexthops, depth, eff)
    flag = trie.leaf_flag if nodes else 0
    if nodes and len(nexthops) >= flag:
        raise ValueError("too many distinct next hops")
    trie.root = [e[1] | flag if isinstance(e, tuple) else e for e in root]
    return trie


# ---------------------------------------------------------------------------
# The array layout (plain 8-8-8-8 multibit trie) and the choice of layout


ARRAY_TRIE_MAX_BYTES = 16 * 1024   # "auto" takes the array layout up to this
LAYOUTS = ("auto", "array", "poptrie")

_ARRAY_STRIDES = [8, 8, 8, 8]
_ARRAY_LEAF = 0x8000               # tag of a leaf entry; else a child offset
_ARRAY_MAX_NODES = _ARRAY_LEAF >> 8    # child offsets 256 * i must stay < the tag


@dataclass
class ArrayTrie:
    """The array layout (see :func:`build_array_trie`).

    ``entries`` is every node's 256 entries back to back; node ``i`` is
    ``entries[256 * i:256 * (i + 1)]`` and node 0 is the root.  With nodes
    below the root (``depth > 0``) an entry is ``LEAF | nexthop``
    (``LEAF = 0x8000``) or the offset ``256 * i`` of child node ``i``; a
    root-only trie holds plain next-hop indices.  ``nexthops[i] = (port,
    gw)``; next hop 0 is "no route" ``(-1, 0)``.
    """

    entries: list[int]
    nexthops: list[tuple[int, int]]
    depth: int                       # node levels below the root
    routes: list[Route] = field(default_factory=list)   # effective routes

    kind = "array"

    @property
    def strides(self) -> list[int]:
        """Strides of the levels that exist (8 each)."""
        return _ARRAY_STRIDES[:1 + self.depth]

    @property
    def nnodes(self) -> int:
        return len(self.entries) >> 8

    @property
    def leaf_flag(self) -> int:
        return _ARRAY_LEAF if self.depth else 0

    @property
    def entry_bits(self) -> int:
        return 16 if self.depth else _uint_bits(len(self.nexthops) - 1)

    @property
    def nbytes(self) -> int:
        """Bytes of lookup data (entries and next hops)."""
        return len(self.entries) * self.entry_bits // 8 + len(self.nexthops) * 8

    def lookup(self, dst: int) -> tuple[int, int]:
        """Python model of the emitted C lookup (for tests and debugging)."""
        e = self.entries[dst >> 24]
        if not self.depth:
            return self.nexthops[e]
        shift = 24
        while not e & _ARRAY_LEAF:
            shift -= 8
            e = self.entries[e + ((dst >> shift) & 255)]
        return self.nexthops[e & (_ARRAY_LEAF - 1)]


def _array_nnodes(triples: list[tuple[int, int, int]], limit: int) -> int:
    """Nodes of the array layout (root included), or more than ``limit``.

    There is one node below the root per distinct 8-, 16- or 24-bit prefix
    that a longer route extends; counted without building anything, and
    given up as soon as ``limit`` is exceeded.
    """
    keys: set[tuple[int, int]] = set()
    for addr, plen, _ in triples:
        for level in (1, 2, 3):
            if plen <= 8 * level:
                break
            keys.add((level, addr >> (32 - 8 * level)))
        if len(keys) >= limit:
            break
    return 1 + len(keys)


def _array_nbytes(nnodes: int, nnexthops: int) -> int:
    ebits = 16 if nnodes > 1 else _uint_bits(nnexthops - 1)
    return nnodes * 256 * ebits // 8 + nnexthops * 8


def array_trie_nbytes(routes: list[Route]) -> int:
    """Bytes of lookup data the array layout would need for ``routes``.

    Computed from the prefixes alone, so it is cheap even for big tables
    (counting stops at 65536 nodes, 32 MiB: far past any useful size).
    """
    _, triples, nexthops = _prepare(routes)
    return _array_nbytes(_array_nnodes(triples, 1 << 16), len(nexthops))


def build_array_trie(routes: list[Route]) -> ArrayTrie:
    """Build the array layout (leaf-pushed 8-8-8-8 trie) for ``routes``.

    Raises ValueError when the table needs more than 128 nodes (64 KiB) or
    32768 distinct next hops, which 16-bit entries cannot address.
    """
    return _build_array(*_prepare(routes))


def _build_array(eff: list[Route], triples: list[tuple[int, int, int]],
                 nexthops: list[tuple[int, int]]) -> ArrayTrie:
    n = _array_nnodes(triples, _ARRAY_MAX_NODES + 1)
    if n > _ARRAY_MAX_NODES:
        raise ValueError(f"route table too big for the array layout: more "
                         f"than {_ARRAY_MAX_NODES} nodes of 256 entries")
    if len(nexthops) > _ARRAY_LEAF:
        raise ValueError("route table too big for the array layout: more "
                         f"than {_ARRAY_LEAF} distinct next hops")
    root = _root_entries(triples, _ARRAY_STRIDES)
    # Leaves are tagged only when there are nodes to tell them from.
    leaf = _ARRAY_LEAF if n > 1 else 0
    # Lay nodes out breadth first; a child entry is its node's offset.
    pending: list[tuple[list, int]] = [(root, 0)]
    entries: list[int] = []
    depth = 0
    for node_entries, level in pending:         # grows while iterating
        depth = level
        for e in node_entries:
            if isinstance(e, _Node):
                entries.append(len(pending) << 8)
                pending.append((e.entries, level + 1))
            else:
                entries.append(leaf | e)
    assert len(pending) == n
    return ArrayTrie(entries, nexthops, depth, eff)


def build_lookup(routes: list[Route], layout: str = "auto") -> RouteTrie | ArrayTrie:
    """The lookup structure :func:`emit_c` compiles: ``layout`` is
    ``"array"``, ``"poptrie"`` or ``"auto"`` (the array layout when its
    lookup data fits in :data:`ARRAY_TRIE_MAX_BYTES`, else the poptrie)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown route table layout {layout!r} "
                         f"(expected one of {', '.join(LAYOUTS)})")
    prepared = _prepare(routes)
    if layout == "poptrie":
        return _build_poptrie(*prepared)
    if layout == "auto":
        _, triples, nexthops = prepared
        # Each node is at least 512 bytes: stop counting once past the budget.
        nnodes = _array_nnodes(triples, ARRAY_TRIE_MAX_BYTES // 512 + 1)
        if _array_nbytes(nnodes, len(nexthops)) > ARRAY_TRIE_MAX_BYTES:
            return _build_poptrie(*prepared)
    return _build_array(*prepared)


# ---------------------------------------------------------------------------
# C emission


_C_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _c_array(values: list[str], per_line: int) -> str:
    lines = []
    for i in range(0, len(values), per_line):
        lines.append("    " + ", ".join(values[i:i + per_line]) + ",")
    return "\n".join(lines)


def emit_c(routes: list[Route], fname: str, layout: str = "auto") -> str:
    """C text for a longest-prefix-match lookup over ``routes``.

    Defines (all ``static``, names prefixed with ``fname``)::

        static inline int FNAME(uint32_t dst, uint32_t *gw);
        static const struct FNAME_route { uint32_t addr, mask, gw; int32_t port; }
            FNAME_table[];           /* installed routes, configuration order */
        static const unsigned FNAME_nroutes;

    ``dst`` is in host byte order; the function returns the output port and
    sets ``*gw`` to the route's gateway (0 if none), or returns -1 and sets
    ``*gw = 0`` when no route matches.  Needs only ``<stdint.h>``.

    ``layout`` picks the data structure (see the module docstring and
    :func:`build_lookup`): ``"auto"`` (default) emits the plain 8-8-8-8
    array trie when its lookup data fits in 16 KiB, else the poptrie;
    ``"array"`` and ``"poptrie"`` force one (``"array"`` raises ValueError
    for tables it cannot address).  Either way the lookup has no loop: the
    levels are unrolled, and only the levels the table uses are emitted.

    Array layout: one flat ``uint16_t`` array of 256-entry nodes, the root
    first.  Each level is one load indexed by ``entry + next address
    byte`` and one test of the leaf tag (``0x8000``); the leaf's low 15 bits
    index the next-hop table.  At most 4 dependent loads, plus the next hop.

    Poptrie layout: a leaf-pushed multibit trie whose inner nodes are
    compressed with bitmaps and population counts (the Poptrie scheme,
    Asai & Ohara, SIGCOMM 2015).  The first ``k`` bits of the address index
    a direct root array (``k = 8`` for up to 1024 routes, else ``k = 14``);
    the remaining bits are consumed 6 at a time by nodes of 64 slots.  A
    node is 24 bytes: ``vec`` has a bit per slot that holds a child node,
    ``leafvec`` a bit per slot where a run of equal leaves begins; children
    are stored contiguously from ``base1`` and the runs' next-hop indices
    from ``base0``, so a slot's child or leaf is found with one popcount of
    the bits below it.  Leaves hold indices into a deduplicated
    (port, gateway) table, so adjacent ranges with the same next hop cost one
    byte or two in total.  The popcount is ``__builtin_popcountll`` where
    the target has the instruction (``-mpopcnt``/``-march=...``, aarch64),
    else a branch-free SWAR sequence, so no libgcc helper is needed.

    Why not the array layout always: it stores every slot of every node
    (256 entries even when one route lives there), so for 20 k random
    prefixes it needs ~15 MB (and a 16-8-8 variant 256 KB before the first
    route).  Bitmap compression makes the footprint proportional to the
    number of distinct address ranges: 1.4 KB for 20 random routes, 615 KB
    (31 bytes a route) for 20 k and 2.3 MB for 100 k uniformly random
    prefixes (the worst case for tries; real tables, whose prefixes cluster,
    compress better).  A poptrie lookup is at most ``1 + ceil((32 - k) /
    6)`` dependent reads of the root and of nodes (5 for small tables, 4
    for large ones) plus one leaf and one next-hop read.
    """
    if not _C_IDENT.match(fname):
        raise ValueError(f"not a C identifier: {fname!r}")
    trie = build_lookup(routes, layout)
    F = fname
    out: list[str] = []
    w = out.append
    w(f"/* {F}: longest-prefix-match route table, {len(trie.routes)} routes "
      f"({len(routes) - len(trie.routes)} duplicate prefixes ignored).")
    if isinstance(trie, ArrayTrie):
        w(f" * Array trie, strides {'-'.join(map(str, trie.strides))}; "
          f"{trie.nnodes} nodes of 256 entries, {len(trie.nexthops)} next hops; "
          f"{trie.nbytes} bytes of lookup data. */")
    else:
        w(f" * Poptrie, strides {'-'.join(map(str, trie.strides))} (levels used: "
          f"{1 + trie.depth}); {len(trie.nodes)} nodes, {len(trie.leaves)} leaves, "
          f"{len(trie.nexthops)} next hops; {trie.nbytes} bytes of lookup data. */")
    w("#include <stdint.h>")
    w("")
    # Next hops.
    w(f"struct {F}_nexthop {{ int32_t port; uint32_t gw; }};")
    w(f"static const struct {F}_nexthop {F}_nh[{len(trie.nexthops)}] = {{")
    w(_c_array([f"{{{p}, 0x{g:08x}u}}" for p, g in trie.nexthops], 6))
    w("};")
    if isinstance(trie, ArrayTrie):
        _emit_array(trie, F, w)
    else:
        _emit_poptrie(trie, F, w)
    w("    *gw = r->gw;")
    w("    return r->port;")
    w("}")
    w("")
    # The route table, for handlers.
    n = len(trie.routes)
    w(f"struct {F}_route {{ uint32_t addr, mask, gw; int32_t port; }};")
    w(f"static const struct {F}_route {F}_table[{max(n, 1)}] "
      "__attribute__((unused)) = {")
    if n:
        w(_c_array([f"{{0x{r.addr:08x}u, 0x{r.mask:08x}u, 0x{r.gw:08x}u, {r.port}}}"
                    for r in trie.routes], 2))
    else:
        w("    {0, 0, 0, 0},")
    w("};")
    w(f"static const unsigned {F}_nroutes __attribute__((unused)) = {n};")
    return "\n".join(out) + "\n"


def _uint_fmt(bits: int) -> str:
    return "0x{:02x}u" if bits == 8 else "0x{:04x}u" if bits == 16 else "0x{:08x}u"


def _emit_array(trie: ArrayTrie, F: str, w) -> None:
    """The array layout's table and the lookup function up to ``r``."""
    ebits = trie.entry_bits
    efmt = _uint_fmt(ebits)
    if trie.depth:
        w(f"/* node i is {F}_trie[256 * i ...], node 0 the root; an entry is "
          f"0x{_ARRAY_LEAF:x} | next hop, or the offset of a child node */")
    w(f"static const uint{ebits}_t {F}_trie[{len(trie.entries)}] = {{")
    w(_c_array([efmt.format(e) for e in trie.entries], 16 if ebits < 32 else 8))
    w("};")
    w("")
    w(f"static inline int {F}(uint32_t dst, uint32_t *gw)")
    w("{")
    if not trie.depth:
        w(f"    const struct {F}_nexthop *r = &{F}_nh[{F}_trie[dst >> 24]];")
        return
    w(f"    uint32_t e = {F}_trie[dst >> 24];")
    shift = 24
    for _ in range(trie.depth):
        shift -= 8
        byte = f"((dst >> {shift}) & 255)" if shift else "(dst & 255)"
        w(f"    if (e & 0x{_ARRAY_LEAF:x}u)")
        w("        goto found;")
        w(f"    e = {F}_trie[e + {byte}];")
    w("found:;")
    w(f"    const struct {F}_nexthop *r = &{F}_nh[e & 0x{_ARRAY_LEAF - 1:x}u];")


def _emit_poptrie(trie: RouteTrie, F: str, w) -> None:
    """The poptrie layout's tables and the lookup function up to ``r``."""
    # Root.
    rbits = trie.root_bits
    rfmt = _uint_fmt(rbits)
    w(f"static const uint{rbits}_t {F}_root[{len(trie.root)}] = {{")
    w(_c_array([rfmt.format(e) for e in trie.root], 12 if rbits < 32 else 8))
    w("};")
    if trie.nodes:
        w(f"struct {F}_node {{ uint64_t vec, leafvec; uint32_t base0, base1; }};")
        w(f"static const struct {F}_node {F}_nodes[{len(trie.nodes)}] = {{")
        w(_c_array([f"{{0x{v:x}ull, 0x{lv:x}ull, {b0}u, {b1}u}}"
                    for v, lv, b0, b1 in trie.nodes], 2))
        w("};")
        lbits = trie.leaf_bits
        w(f"static const uint{lbits}_t {F}_leaves[{len(trie.leaves)}] = {{")
        w(_c_array([str(x) for x in trie.leaves], 20))
        w("};")
        w("")
        w(f"static inline unsigned {F}_pop(uint64_t x)")
        w("{")
        w("#if defined(__GNUC__) && (defined(__POPCNT__) || defined(__aarch64__))")
        w("    return (unsigned)__builtin_popcountll(x);")
        w("#else")
        w("    x = x - ((x >> 1) & 0x5555555555555555ull);")
        w("    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);")
        w("    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;")
        w("    return (unsigned)((x * 0x0101010101010101ull) >> 56);")
        w("#endif")
        w("}")
    w("")
    # The lookup function.
    k = trie.strides[0]
    w(f"static inline int {F}(uint32_t dst, uint32_t *gw)")
    w("{")
    if not trie.nodes:
        w(f"    const struct {F}_nexthop *r = &{F}_nh[{F}_root[dst >> {32 - k}]];")
        return
    flag = trie.leaf_flag
    w(f"    uint32_t e = {F}_root[dst >> {32 - k}];")
    w("    const struct " + F + "_node *n;")
    w("    uint64_t bit;")
    w("    uint32_t nh;")
    w(f"    if (e & 0x{flag:x}u) {{")
    w(f"        nh = e & 0x{flag - 1:x}u;")
    w("        goto found;")
    w("    }")
    shift = 32 - k
    for level in range(1, trie.depth + 1):
        s = trie.strides[level]
        shift -= s
        last = level == trie.depth
        w(f"    n = &{F}_nodes[e];")
        w(f"    bit = (uint64_t)1 << ((dst >> {shift}) & {(1 << s) - 1});")
        leaf = (f"nh = {F}_leaves[n->base0 + {F}_pop(n->leafvec & "
                f"((bit << 1) - 1)) - 1];")
        if last:
            w(f"    {leaf}")
        else:
            w("    if (!(n->vec & bit)) {")
            w(f"        {leaf}")
            w("        goto found;")
            w("    }")
            w(f"    e = n->base1 + {F}_pop(n->vec & (bit - 1));")
    w("found:;")
    w(f"    const struct {F}_nexthop *r = &{F}_nh[nh];")
