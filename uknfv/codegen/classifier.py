"""Click's Classifier patterns compiled to C decision code.

A pattern is a list of clauses ``[!]OFFSET/VALUE[%MASK]`` (hex value and
mask, an even number of digits, ``?`` for a don't-care nibble) that must
all hold; ``-`` matches everything.  The first matching pattern names the
output.  A clause that reaches past the end of the packet is false (so its
negation is true), as in Click.

Each clause becomes masked comparisons on 1, 2 or 4-byte loads with
constants folded in; the pattern list becomes one if-chain.  Nothing is
interpreted at run time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..diag import Loc, UknfvError


@dataclass(frozen=True)
class Clause:
    offset: int
    value: bytes
    mask: bytes
    negated: bool


@dataclass(frozen=True)
class Pattern:
    text: str
    clauses: tuple[Clause, ...]   # empty: matches everything ("-")


def _at(loc: Loc | None, off: int) -> Loc | None:
    return replace(loc, col=loc.col + off) if loc is not None else None


def _hex(text: str, what: str, loc: Loc | None) -> tuple[bytes, bytes]:
    """Hex digits with '?' nibbles -> (value, mask from the '?')."""
    if not text or len(text) % 2:
        raise UknfvError(f"Classifier: {what} '{text}' must have an even number of hex digits", loc)
    if not re.fullmatch(r"[0-9a-fA-F?]+", text):
        raise UknfvError(f"Classifier: {what} '{text}' is not hexadecimal", loc)
    val, mask = bytearray(), bytearray()
    for i in range(0, len(text), 2):
        v = m = 0
        for ch in text[i:i + 2]:
            v <<= 4
            m <<= 4
            if ch != "?":
                v |= int(ch, 16)
                m |= 0xF
        val.append(v)
        mask.append(m)
    return bytes(val), bytes(mask)


def parse_pattern(text: str, loc: Loc | None) -> Pattern:
    t = text.strip()
    if t == "-":
        return Pattern(t, ())
    clauses = []
    for m in re.finditer(r"\S+", text):
        word, off = m.group(0), m.start()
        wloc = _at(loc, off)
        neg = word.startswith("!")
        body = word[1:] if neg else word
        cm = re.fullmatch(r"(\d+)/([^%]*)(?:%(.*))?", body)
        if not cm:
            raise UknfvError(f"Classifier: expected OFFSET/VALUE[%MASK], got '{word}'", wloc)
        offset = int(cm.group(1))
        value, vmask = _hex(cm.group(2), "value", wloc)
        if cm.group(3) is not None:
            mask, _ = _hex(cm.group(3), "mask", wloc)
            if len(mask) != len(value):
                raise UknfvError(f"Classifier: mask '{cm.group(3)}' must be as long as value "
                                 f"'{cm.group(2)}'", wloc)
            mask = bytes(a & b for a, b in zip(mask, vmask))
        else:
            mask = vmask
        value = bytes(a & b for a, b in zip(value, mask))
        clauses.append(Clause(offset, value, mask, neg))
    if not clauses:
        raise UknfvError("Classifier: empty pattern (use '-' to match everything)", loc)
    return Pattern(t, tuple(clauses))


def _load(off: int, n: int) -> str:
    return {1: f"d[{off}]", 2: f"rd16(d + {off})", 4: f"rd32(d + {off})"}[n]


def clause_c(c: Clause) -> str:
    """C expression: true when the clause holds for packet bytes d[0..len)."""
    parts = [f"len >= {c.offset + len(c.value)}"]
    i = 0
    while i < len(c.value):
        n = 4 if len(c.value) - i >= 4 else 2 if len(c.value) - i >= 2 else 1
        m = int.from_bytes(c.mask[i:i + n], "big")
        v = int.from_bytes(c.value[i:i + n], "big")
        full = (1 << (8 * n)) - 1
        if m == 0:
            pass
        elif m == full:
            parts.append(f"{_load(c.offset + i, n)} == 0x{v:0{2 * n}x}u")
        else:
            parts.append(f"({_load(c.offset + i, n)} & 0x{m:0{2 * n}x}u) == 0x{v:0{2 * n}x}u")
        i += n
    expr = " && ".join(parts)
    return f"!({expr})" if c.negated else f"({expr})"


def emit_c(patterns: list[Pattern], fname: str) -> str:
    """static inline int FNAME(const uint8_t *d, uint32_t len): output or -1."""
    lines = [f"static inline int {fname}(const uint8_t *d, uint32_t len)", "{"]
    for i, p in enumerate(patterns):
        lines.append(f"\t/* {i}: {p.text.replace('*/', '* /')} */")
        if not p.clauses:
            lines.append(f"\treturn {i};")
            break
        cond = "\n\t    && ".join(clause_c(c) for c in p.clauses)
        lines.append(f"\tif ({cond})\n\t\treturn {i};")
    else:
        lines.append("\treturn -1;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def matches(p: Pattern, data: bytes) -> bool:
    """Python reference semantics of one pattern (for tests)."""
    for c in p.clauses:
        ok = len(data) >= c.offset + len(c.value) and all(
            (data[c.offset + i] & c.mask[i]) == c.value[i] for i in range(len(c.value)))
        if ok == c.negated:
            return False
    return True
