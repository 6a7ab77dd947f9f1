"""Diagnostics: source locations and the one exception type users see.

Every error a user can cause is raised as :class:`UknfvError`.  When it
carries a :class:`Loc`, ``str(err)`` renders it the way compilers do::

    fw.click:3:12: error: unknown element class 'Fooo'
      a :: Fooo(1);
           ^

The CLI prints that text and exits 1; no traceback reaches the user.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loc:
    """A position in a source file: 1-based line and column."""

    file: str
    line: int
    col: int
    source_line: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


def loc_at(file: str, text: str, offset: int) -> Loc:
    """The Loc of character ``offset`` in ``text`` (the whole file)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    if end < 0:
        end = len(text)
    return Loc(file, line, offset - start + 1, text[start:end])


def render(message: str, loc: Loc | None, severity: str = "error") -> str:
    if loc is None:
        return f"{severity}: {message}"
    out = f"{loc}: {severity}: {message}"
    if loc.source_line:
        src = loc.source_line.replace("\t", " ")
        out += f"\n  {src}\n  {' ' * (loc.col - 1)}^"
    return out


class UknfvError(Exception):
    """A user-facing error, optionally with a location and extra notes.

    ``errors`` lets one exception carry several diagnostics (a checker
    reports everything it found, not just the first problem).
    """

    def __init__(self, message: str, loc: Loc | None = None,
                 notes: list[tuple[str, Loc | None]] | None = None):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.notes = list(notes or [])
        self.errors: list[UknfvError] = [self]

    @classmethod
    def many(cls, errors: list["UknfvError"]) -> "UknfvError":
        if len(errors) == 1:
            return errors[0]
        first = errors[0]
        err = cls(first.message, first.loc, first.notes)
        err.errors = list(errors)
        return err

    def _render_one(self) -> str:
        parts = [render(self.message, self.loc)]
        for note, nloc in self.notes:
            parts.append(render(note, nloc, "note"))
        return "\n".join(parts)

    def __str__(self) -> str:
        return "\n".join(e._render_one() for e in self.errors)


class ErrorCollector:
    """Gather errors while checking, raise them all at the end."""

    def __init__(self) -> None:
        self.errors: list[UknfvError] = []

    def add(self, message: str, loc: Loc | None = None,
            notes: list[tuple[str, Loc | None]] | None = None) -> None:
        self.errors.append(UknfvError(message, loc, notes))

    def extend(self, err: UknfvError) -> None:
        self.errors.extend(err.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise UknfvError.many(self.errors)
