"""Tokens of the Click language (after Click's ``lib/lexer.cc``).

The lexer is pull-based: the parser asks for the token at a position, and,
right after an opening parenthesis, for the raw configuration string up to
the matching ``)`` (configuration strings do not follow the token rules).

Tokens: identifiers (letters, digits, ``_``, ``@``, and ``/`` between two
such characters), ``$variables``, the keywords ``elementclass``,
``require``, ``provide``, ``define`` and ``connectiontunnel``, the
operators ``-> => :: || ...`` and the single characters ``; , ( ) [ ] { } |``.
Whitespace, ``//`` and ``/* */`` comments separate tokens.  Any other
character becomes a ``CHAR`` token so that the parser can say what it
expected instead.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..diag import Loc, UknfvError

IDENT = "identifier"
VAR = "variable"
EOF = "end of file"
CHAR = "character"
ERROR = "error"

KEYWORDS = frozenset({"elementclass", "require", "provide", "define", "connectiontunnel"})
_OPERATORS = ("->", "=>", "::", "||", "...")
_PUNCTUATION = frozenset(";,()[]{}|")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@")
_VAR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_SPACE = frozenset(" \t\n\r\f\v")


class SourceMap:
    """Offsets → :class:`Loc` in one file, fast.

    Same results as ``diag.loc_at`` (which rescans the text on every call),
    except that a CRLF line's ``source_line`` does not keep its ``\\r``.
    """

    def __init__(self, filename: str, text: str):
        self.filename = filename
        self.text = text
        self._starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        self._lines: dict[int, str] = {}

    def loc(self, offset: int) -> Loc:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset)
        start = self._starts[line - 1]
        if line not in self._lines:
            end = self.text.find("\n", start)
            text = self.text[start:end if end >= 0 else len(self.text)]
            self._lines[line] = text[:-1] if text.endswith("\r") else text
        return Loc(self.filename, line, offset - start + 1, self._lines[line])


@dataclass(frozen=True)
class Token:
    """One token: its kind, its text and its [start, end) offsets.

    ``kind`` is IDENT, VAR (``text`` is the name without ``$``), EOF, CHAR,
    ERROR (``text`` is the message), a keyword, or the operator/punctuation
    itself (``"->"``, ``";"``...).
    """

    kind: str
    text: str
    start: int
    end: int

    def describe(self) -> str:
        """How to name this token in a message: ``'foo'``, ``end of file``."""
        if self.kind == EOF:
            return "end of file"
        if self.kind == VAR:
            return f"variable '${self.text}'"
        return f"'{self.text}'"


class Lexer:
    """Splits ``text`` (the file ``filename``) into tokens on demand."""

    def __init__(self, text: str, filename: str):
        self.text = text
        self.filename = filename
        self.source = SourceMap(filename, text)

    # -- locations and errors ------------------------------------------------

    def loc(self, offset: int) -> Loc:
        return self.source.loc(offset)

    def error(self, message: str, offset: int,
              notes: list[tuple[str, Loc | None]] | None = None) -> UknfvError:
        return UknfvError(message, self.loc(offset), notes)

    # -- tokens --------------------------------------------------------------

    def _skip_space(self, pos: int) -> int | Token:
        """Skip whitespace and comments; an ERROR token if a comment never ends."""
        text, end = self.text, len(self.text)
        while pos < end:
            c = text[pos]
            if c in _SPACE:
                pos += 1
            elif c == "/" and text.startswith("//", pos):
                nl = text.find("\n", pos)
                pos = end if nl < 0 else nl + 1
            elif c == "/" and text.startswith("/*", pos):
                close = text.find("*/", pos + 2)
                if close < 0:
                    return Token(ERROR, "unterminated comment: '/*' has no matching '*/'", pos, end)
                pos = close + 2
            else:
                break
        return pos

    def token_at(self, pos: int) -> Token:
        """The first token at or after ``pos``."""
        skipped = self._skip_space(pos)
        if isinstance(skipped, Token):
            return skipped
        pos = skipped
        text, end = self.text, len(self.text)
        if pos >= end:
            return Token(EOF, "", end, end)
        c = text[pos]
        if c in _WORD_CHARS:
            return self._word(pos)
        if c == "$":
            stop = pos + 1
            while stop < end and text[stop] in _VAR_CHARS:
                stop += 1
            return Token(VAR, text[pos + 1:stop], pos, stop)
        for op in _OPERATORS:
            if text.startswith(op, pos):
                return Token(op, op, pos, pos + len(op))
        if c in _PUNCTUATION:
            return Token(c, c, pos, pos + 1)
        return Token(CHAR, c, pos, pos + 1)

    def _word(self, pos: int) -> Token:
        text, end = self.text, len(self.text)
        stop = pos
        while True:
            while stop < end and text[stop] in _WORD_CHARS:
                stop += 1
            # a slash continues the word only between word characters
            if stop + 1 < end and text[stop] == "/" and text[stop + 1] in _WORD_CHARS:
                stop += 1
                continue
            break
        word = text[pos:stop]
        return Token(word if word in KEYWORDS else IDENT, word, pos, stop)

    # -- configuration strings -----------------------------------------------

    def _scan_angle(self, pos: int) -> int:
        """After ``\\<``: the index after the closing ``>``, or -1."""
        text, end = self.text, len(self.text)
        while pos < end:
            c = text[pos]
            if c == ">":
                return pos + 1
            if c == "/" and text.startswith("//", pos):
                nl = text.find("\n", pos)
                pos = end if nl < 0 else nl + 1
            elif c == "/" and text.startswith("/*", pos):
                close = text.find("*/", pos + 2)
                if close < 0:
                    return -1
                pos = close + 2
            else:
                pos += 1
        return -1

    def _scan_quote(self, pos: int) -> int:
        """At a quote: the index after the closing quote, or -1."""
        text, end = self.text, len(self.text)
        quote = text[pos]
        i = pos + 1
        while i < end:
            c = text[i]
            if c == "\\" and quote == '"' and i + 1 < end:
                if text[i + 1] == "<":
                    i = self._scan_angle(i + 2)
                    if i < 0:
                        return -1
                else:
                    i += 2
                continue
            if c == quote:
                return i + 1
            i += 1
        return -1

    def read_config(self, start: int) -> tuple[str, int]:
        """Read a configuration string starting right after its ``(``.

        Returns the raw text and the offset of the closing ``)``.  Nested
        parentheses must balance; quotes, comments and ``\\<...>`` data are
        skipped whole (parentheses inside them do not count).
        """
        text, end = self.text, len(self.text)
        opens = [start - 1]
        i = start
        while i < end:
            c = text[i]
            if c == "(":
                opens.append(i)
                i += 1
            elif c == ")":
                opens.pop()
                if not opens:
                    return text[start:i], i
                i += 1
            elif c == "/" and text.startswith("//", i):
                nl = text.find("\n", i)
                i = end if nl < 0 else nl + 1
            elif c == "/" and text.startswith("/*", i):
                close = text.find("*/", i + 2)
                if close < 0:
                    raise self.error("unterminated comment: '/*' has no matching '*/'", i)
                i = close + 2
            elif c in "\"'":
                after = self._scan_quote(i)
                if after < 0:
                    raise self.error(f"unterminated string: missing closing {c}", i)
                i = after
            elif c == "\\" and text.startswith("\\<", i):
                after = self._scan_angle(i + 2)
                if after < 0:
                    raise self.error("unterminated '\\<' data: missing '>'", i)
                i = after
            else:
                i += 1
        notes: list[tuple[str, Loc | None]] = []
        if len(opens) > 1:
            notes.append(("this '(' inside the arguments is still open", self.loc(opens[-1])))
        raise self.error("unbalanced parentheses: expected ')' to close this '('", start - 1, notes)
