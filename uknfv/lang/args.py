"""Configuration strings the Click way: splitting, keywords, words, unquoting.

These follow Click's ``lib/confparse.cc``:

* :func:`split_args` is ``cp_argvec``: commas split arguments, comments
  become a single space, surrounding whitespace is trimmed, a final empty
  argument is dropped (so a trailing comma is allowed).  One deliberate
  difference: a comma inside a *matched* pair of ``()``, ``[]`` or ``{}``
  does not split (Click splits at every unquoted comma).  An opening bracket
  that is never closed protects nothing, so such configs split as in Click.
* :func:`split_words` is ``cp_spacevec``: split at unquoted whitespace.
* :func:`unquote` is ``cp_unquote``: remove one level of quoting and expand
  backslash escapes inside double quotes and ``\\<hex>`` data anywhere.
* :func:`split_keyword` recognises ``KEYWORD value`` arguments.

None of these functions raises: a configuration string has already been
checked by the lexer, and whatever is odd in it (an unterminated quote from a
command-line define, say) runs to the end of the text as in Click.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..diag import Loc, loc_at
from .flat import FlatElement

WHITESPACE = " \t\n\r\f\v"
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {")", "]", "}"}
_KEYWORD_RE = re.compile(r"([A-Z][A-Z0-9_]*)(?:[ \t\n\r\f\v]+(.*))?\Z", re.S)
_C_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


@dataclass(frozen=True)
class Arg:
    """One argument of a configuration string.

    ``text`` is the argument with comments removed and whitespace trimmed;
    ``offset`` is the position of its first character in the configuration
    string (use :func:`arg_loc` to turn it into a source location).
    """

    text: str
    offset: int


# --------------------------------------------------------------------------
# Low-level scanning (shared with the lexer's view of the world)
# --------------------------------------------------------------------------

def is_comment_start(text: str, i: int, end: int | None = None) -> bool:
    """True when ``text[i:]`` starts a ``//`` or ``/*`` comment."""
    end = len(text) if end is None else end
    return i + 1 < end and text[i] == "/" and text[i + 1] in "/*"


def skip_comment(text: str, i: int, end: int | None = None) -> int:
    """The index just after the comment starting at ``i`` (or ``end``)."""
    end = len(text) if end is None else end
    if text[i + 1] == "/":
        j = i + 2
        while j < end and text[j] not in "\r\n":
            j += 1
        if j + 1 < end and text[j] == "\r" and text[j + 1] == "\n":
            j += 1
        return min(j + 1, end)
    close = text.find("*/", i + 2, end)
    return end if close < 0 else close + 2


def skip_backslash(text: str, i: int, end: int | None = None) -> int:
    """The index after the backslash escape at ``i`` (``\\<...>`` whole)."""
    end = len(text) if end is None else end
    if i + 1 >= end:
        return i + 1
    if text[i + 1] == "<":
        j = i + 2
        while j < end:
            if text[j] == ">":
                return j + 1
            if is_comment_start(text, j, end):
                j = skip_comment(text, j, end)
            else:
                j += 1
        return end
    if text[i + 1] == "\r" and i + 2 < end and text[i + 2] == "\n":
        return i + 3
    return i + 2


def skip_double_quote(text: str, i: int, end: int | None = None) -> int:
    """The index after the double-quoted string starting at ``i``."""
    end = len(text) if end is None else end
    j = i + 1
    while j < end:
        if text[j] == "\\":
            j = skip_backslash(text, j, end)
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    return end


def skip_single_quote(text: str, i: int, end: int | None = None) -> int:
    """The index after the single-quoted string starting at ``i``."""
    end = len(text) if end is None else end
    close = text.find("'", i + 1, end)
    return end if close < 0 else close + 1


def skip_unit(text: str, i: int, end: int | None = None) -> int:
    """Skip one indivisible unit: a quoted string, ``\\<...>``, or a character."""
    end = len(text) if end is None else end
    c = text[i]
    if c == '"':
        return skip_double_quote(text, i, end)
    if c == "'":
        return skip_single_quote(text, i, end)
    if c == "\\" and i + 1 < end and text[i + 1] == "<":
        return skip_backslash(text, i, end)
    return i + 1


def skip_comment_space(text: str, i: int, end: int | None = None) -> int:
    """The first index at or after ``i`` that is neither space nor comment."""
    end = len(text) if end is None else end
    while i < end:
        if text[i] in WHITESPACE:
            i += 1
        elif is_comment_start(text, i, end):
            i = skip_comment(text, i, end)
        else:
            break
    return i


def uncomment(text: str, start: int = 0, end: int | None = None) -> tuple[str, int]:
    """Click's ``cp_uncomment`` on ``text[start:end]``.

    Returns the text without leading/trailing space, with every comment (and
    the space around it) replaced by one space, and the offset of its first
    character in ``text``.
    """
    end = len(text) if end is None else end
    s = skip_comment_space(text, start, end)
    first = left = right = s
    parts: list[str] = []
    closed = False
    while s < end:
        if text[s] in WHITESPACE:
            s += 1
        elif is_comment_start(text, s, end):
            s = skip_comment(text, s, end)
            closed = True
        else:
            if closed:
                parts.append(text[left:right])
                parts.append(" ")
                left = s
                closed = False
            s = skip_unit(text, s, end)
            right = s
    parts.append(text[left:right])
    return "".join(parts), first


# --------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------

def _split_points(config: str) -> list[int]:
    """Offsets of the commas that separate arguments."""
    commas: list[int] = []
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    i, end = 0, len(config)
    while i < end:
        c = config[i]
        if is_comment_start(config, i, end):
            i = skip_comment(config, i, end)
            continue
        if c == ",":
            commas.append(i)
        elif c in _OPENERS:
            stack.append((c, i))
        elif c in _CLOSERS and stack and _OPENERS[stack[-1][0]] == c:
            pairs.append((stack.pop()[1], i))
        i = skip_unit(config, i, end)
    if not pairs:
        return commas
    # Sweep: a comma splits only at bracket depth 0 (matched pairs only).
    events = sorted([(o, 1) for o, _ in pairs] + [(c, -1) for _, c in pairs])
    result: list[int] = []
    depth, e = 0, 0
    for comma in commas:
        while e < len(events) and events[e][0] < comma:
            depth += events[e][1]
            e += 1
        if depth == 0:
            result.append(comma)
    return result


def split_args(config: str) -> list[Arg]:
    """Split a configuration string into arguments (Click's ``cp_argvec``).

    >>> [a.text for a in split_args("a, b /* c */ d,  e,")]
    ['a', 'b d', 'e']
    """
    if not config:
        return []
    args: list[Arg] = []
    start = 0
    points = _split_points(config)
    for stop in points + [len(config)]:
        text, offset = uncomment(config, start, stop)
        if text or stop < len(config):
            args.append(Arg(text, offset))
        start = stop + 1
    return args


def _skip_word(text: str, i: int, end: int) -> int:
    """End of the space-separated item starting at ``i`` (``cp_spacevec``)."""
    while i < end:
        c = text[i]
        if c in WHITESPACE or is_comment_start(text, i, end):
            return i
        i = skip_unit(text, i, end)
    return i


def split_words_at(text: str) -> list[Arg]:
    """Like :func:`split_words`, with each word's offset in ``text``."""
    words: list[Arg] = []
    i, end = 0, len(text)
    while True:
        i = skip_comment_space(text, i, end)
        if i >= end:
            return words
        j = _skip_word(text, i, end)
        words.append(Arg(text[i:j], i))
        i = j


def split_words(text: str) -> list[str]:
    """Split at unquoted whitespace (Click's ``cp_spacevec``); quotes are kept.

    >>> split_words("a 'b c'  \\"d\\" // e")
    ['a', "'b c'", '"d"']
    """
    return [w.text for w in split_words_at(text)]


def split_keyword(arg_text: str) -> tuple[str, str] | None:
    """Split a ``KEYWORD value`` argument, or return None.

    A keyword is an upper-case word (letters, digits, ``_``; starting with a
    letter) followed by whitespace or the end of the argument.

    >>> split_keyword("STOP true")
    ('STOP', 'true')
    >>> split_keyword("10.0.0.1") is None
    True
    """
    m = _KEYWORD_RE.match(arg_text.strip())
    if not m:
        return None
    return m.group(1), (m.group(2) or "").strip()


# --------------------------------------------------------------------------
# Quoting
# --------------------------------------------------------------------------

def _hex_value(c: str) -> int:
    return int(c, 16) if c in "0123456789abcdefABCDEF" else -1


def _process_backslash(text: str, i: int, out: bytearray) -> int:
    """Expand the escape at ``text[i] == '\\'`` into ``out``; return the next index."""
    end = len(text)
    if i == end - 1:
        out += b"\\"
        return end
    c = text[i + 1]
    if c == "\r":
        return i + 3 if i + 2 < end and text[i + 2] == "\n" else i + 2
    if c == "\n":
        return i + 2
    if c in _C_ESCAPES:
        out.append(_C_ESCAPES[c])
        return i + 2
    if c in "01234567":
        j, value = i + 1, 0
        while j < end and j < i + 4 and text[j] in "01234567":
            value = value * 8 + int(text[j])
            j += 1
        out.append(value & 0xFF)
        return j
    if c == "x":
        j, value = i + 2, 0
        while j < end and _hex_value(text[j]) >= 0:
            value = value * 16 + _hex_value(text[j])
            j += 1
        out.append(value & 0xFF)
        return j
    if c == "<":
        j, value, digits = i + 2, 0, 0
        while j < end:
            ch = text[j]
            if ch == ">":
                return j + 1
            if is_comment_start(text, j, end):
                j = skip_comment(text, j, end)
                continue
            h = _hex_value(ch)
            j += 1
            if h < 0:
                continue          # spaces (and stray characters) are ignored
            value = value * 16 + h
            digits += 1
            if digits == 2:
                out.append(value)
                value = digits = 0
        return end
    out += c.encode("utf-8")
    return i + 2


def unquote(text: str) -> bytes:
    """Remove one level of quoting (Click's ``cp_unquote``), giving bytes.

    ``"..."`` strings lose their quotes and have C escapes expanded
    (``\\n \\t \\\\ \\" \\xHH``, octal, ``\\<hex bytes>``); ``'...'`` strings
    are literal; ``\\<...>`` data is also expanded outside quotes; comments
    outside quotes are removed; adjacent parts concatenate.

    >>> unquote('"a\\\\tb" \\'c d\\'\\\\<41 42>')
    b'a\\tb c dAB'
    """
    xtr, _ = uncomment(text)
    out = bytearray()
    start, s, end = 0, 0, len(xtr)
    quote: str | None = None
    while s < end:
        c = xtr[s]
        if c in "\"'":
            if quote is None:
                out += xtr[start:s].encode("utf-8")
                start, quote = s + 1, c
            elif quote == c:
                out += xtr[start:s].encode("utf-8")
                start, quote = s + 1, None
            s += 1
        elif c == "\\" and s + 1 < end and (quote == '"' or (quote is None and xtr[s + 1] == "<")):
            out += xtr[start:s].encode("utf-8")
            s = start = _process_backslash(xtr, s, out)
        else:
            s += 1
    out += xtr[start:].encode("utf-8")
    return bytes(out)


def quote(data: str | bytes) -> str:
    """A double-quoted string that :func:`unquote` turns back into ``data``
    (Click's ``cp_quote``)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    out = ['"']
    for byte in raw:
        ch = chr(byte)
        if ch in '\\"$':
            out.append("\\" + ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif byte < 32 or byte >= 127:
            out.append(f"\\{byte:03o}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def is_word(text: str) -> bool:
    """Click's ``cp_is_word``: printable ASCII without quotes, backslash, comma."""
    return bool(text) and all(32 < ord(c) < 127 and c not in "\"'\\," for c in text)


# --------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------

def _offset_of(text: str, loc: Loc) -> int:
    """The offset in ``text`` of a Loc computed with :func:`loc_at` on it."""
    start = 0
    for _ in range(loc.line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text)
        start = nl + 1
    return start + loc.col - 1


def arg_loc(el: FlatElement, offset: int) -> Loc:
    """The source location of character ``offset`` of ``el.config``.

    Exact when the config is verbatim source text; otherwise (``$variables``
    were substituted) the start of the element's argument text.
    """
    base = el.config_loc or el.loc
    if not el.config_verbatim or el.config_loc is None or not el.source_text:
        return base
    offset = max(0, min(offset, len(el.config)))
    return loc_at(base.file, el.source_text, _offset_of(el.source_text, base) + offset)
