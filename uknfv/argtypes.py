"""Typed element arguments, parsed at build time with uniform errors.

Each type turns one argument's text into a Python value or raises
:class:`ArgError` with a message a user understands; the caller attaches
the source location.  Types follow Click's argument conventions (cp_*):
booleans are true/false/yes/no/1/0, strings may be quoted, Ethernet
addresses are colon-separated hex, and so on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class ArgError(ValueError):
    """Raised by an argument type; `offset` (within the text) is optional."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


def _unquote_str(text: str) -> str:
    from .lang.args import unquote
    return unquote(text).decode("latin-1")


def _unquote_bytes(text: str) -> bytes:
    from .lang.args import unquote
    return unquote(text)


class ArgType:
    """Base: `parse(text)` returns the value; `name` shows in errors."""

    name = "argument"

    def parse(self, text: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class Int(ArgType):
    """An integer as Click reads it: decimal, 0x hex, leading-0 octal, 0b binary."""

    min: int | None = None
    max: int | None = None
    name: str = "integer"

    def parse(self, text: str) -> int:
        t = text.strip()
        m = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", t)
        if not m:
            hint = " (a leading 0 means octal, as in Click)" if re.fullmatch(r"[+-]?0[0-9]+", t) else ""
            raise ArgError(f"expected {self.name}, got '{text.strip()}'{hint}")
        body = m.group(2)
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
        if self.min is not None and v < self.min:
            raise ArgError(f"{self.name} {v} out of range (minimum {self.min})")
        if self.max is not None and v > self.max:
            raise ArgError(f"{self.name} {v} out of range (maximum {self.max})")
        return v


def UInt(max: int | None = None) -> Int:
    return Int(0, max, "unsigned integer")


@dataclass
class Float(ArgType):
    min: float | None = None
    name: str = "number"

    def parse(self, text: str) -> float:
        try:
            v = float(text.strip())
        except ValueError:
            raise ArgError(f"expected {self.name}, got '{text}'") from None
        if self.min is not None and v < self.min:
            raise ArgError(f"{self.name} {v} out of range (minimum {self.min})")
        return v


class Bool(ArgType):
    name = "boolean"
    _map = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

    def parse(self, text: str) -> bool:
        t = text.strip().lower()
        if t not in self._map:
            raise ArgError(f"expected boolean (true/false), got '{text}'")
        return self._map[t]


class String(ArgType):
    """A string, quoted or not (Click's StringArg)."""

    name = "string"

    def parse(self, text: str) -> str:
        return _unquote_str(text.strip())


class Data(ArgType):
    """Raw bytes: a quoted string with escapes or a \\<hex> literal."""

    name = "data"

    def parse(self, text: str) -> bytes:
        return _unquote_bytes(text.strip())


class Word(ArgType):
    name = "word"

    def parse(self, text: str) -> str:
        t = _unquote_str(text.strip())
        if not t or any(c.isspace() for c in t):
            raise ArgError(f"expected a single word, got '{text}'")
        return t


@dataclass
class Keyword(ArgType):
    """One of a fixed set of words (case-insensitive), returned upper-case."""

    choices: tuple[str, ...] = ()
    name: str = "keyword"

    def parse(self, text: str) -> str:
        t = text.strip().upper()
        if t not in self.choices:
            raise ArgError(f"expected one of {', '.join(self.choices)}, got '{text.strip()}'")
        return t


def parse_ip(text: str) -> int:
    t = text.strip()
    parts = t.split(".")
    if len(parts) != 4 or not all(re.fullmatch(r"[0-9]{1,3}", x) for x in parts):
        raise ArgError(f"expected IP address, got '{t}'")
    vals = [int(x) for x in parts]
    if any(v > 255 for v in vals):
        raise ArgError(f"expected IP address, got '{t}' (byte out of range)")
    return (vals[0] << 24) | (vals[1] << 16) | (vals[2] << 8) | vals[3]


def ip_str(v: int) -> str:
    return ".".join(str((v >> s) & 255) for s in (24, 16, 8, 0))


class IPAddr(ArgType):
    """IPv4 address; value is a host-order int."""

    name = "IP address"

    def parse(self, text: str) -> int:
        return parse_ip(text)


def prefix_to_mask(n: int) -> int:
    return 0 if n == 0 else (0xFFFFFFFF << (32 - n)) & 0xFFFFFFFF


class IPPrefix(ArgType):
    """ADDR/LEN, ADDR/MASK or ADDR MASK; value (addr, mask) host order."""

    name = "IP prefix"

    def parse(self, text: str) -> tuple[int, int]:
        t = text.strip()
        if "/" in t:
            a, m = t.split("/", 1)
        else:
            w = t.split()
            if len(w) == 2:
                a, m = w
            else:
                a, m = t, "32"
        m = m.strip()
        if re.fullmatch(r"[0-9]{1,2}", m):
            n = int(m)
            if n > 32:
                raise ArgError(f"prefix length {n} out of range (0-32)")
            mask = prefix_to_mask(n)
        else:
            mask = parse_ip(m)
        # Click accepts a partial address when the mask covers only the
        # bytes written: 10/8, 172.16/12, 0/0.
        parts = a.strip().split(".")
        if 1 <= len(parts) < 4 and all(re.fullmatch(r"[0-9]{1,3}", x) for x in parts):
            if mask & ((1 << (32 - 8 * len(parts))) - 1):
                raise ArgError(f"address '{a.strip()}' is too short for its mask")
            addr = parse_ip(".".join(parts + ["0"] * (4 - len(parts))))
        else:
            addr = parse_ip(a)
        return addr & mask, mask


class EtherAddr(ArgType):
    """Ethernet address xx:xx:xx:xx:xx:xx (or xx-xx-...); value is 6 bytes."""

    name = "Ethernet address"

    def parse(self, text: str) -> bytes:
        t = text.strip()
        sep = ":" if ":" in t else "-"
        parts = t.split(sep)
        if len(parts) != 6 or not all(re.fullmatch(r"[0-9a-fA-F]{1,2}", x) for x in parts):
            raise ArgError(f"expected Ethernet address (xx:xx:xx:xx:xx:xx), got '{t}'")
        return bytes(int(x, 16) for x in parts)


class Seconds(ArgType):
    """A time interval: number with optional unit s/ms/us/ns; value in ns."""

    name = "time interval"
    _units = {"": 1e9, "s": 1e9, "sec": 1e9, "ms": 1e6, "msec": 1e6,
              "us": 1e3, "usec": 1e3, "ns": 1.0, "nsec": 1.0}

    def parse(self, text: str) -> int:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([a-z]*)\s*", text)
        if not m or m.group(2) not in self._units:
            raise ArgError(f"expected time interval (e.g. 1.5, 10ms), got '{text.strip()}'")
        return int(float(m.group(1)) * self._units[m.group(2)])


@dataclass
class Choice(ArgType):
    """Any of several types, tried in order (first that parses wins)."""

    types: tuple[ArgType, ...] = ()
    name: str = "value"

    def parse(self, text: str) -> Any:
        for t in self.types:
            try:
                return t.parse(text)
            except ArgError:
                continue
        raise ArgError(f"expected {self.name}, got '{text.strip()}'")
