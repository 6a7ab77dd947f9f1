"""The syntax tree of a Click configuration, as written by the user.

The parser produces these nodes and nothing else; it does not decide what a
bare identifier means (an element declared earlier, or an anonymous element
of that class): that needs the scope, so :mod:`uknfv.lang.elaborate` does it.

Every node carries the :class:`~uknfv.diag.Loc` of its first token, and
configuration strings carry the offset of their first character in the
source text, so that later stages can point at any character of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from ..diag import Loc


@dataclass
class ConfigText:
    """The raw text between an element's parentheses.

    ``text`` is exactly the source (comments included); ``offset`` is the
    position of its first character in the file and ``loc`` its location.
    """

    text: str
    offset: int
    loc: Loc


@dataclass
class Name:
    """An identifier, where it was written, and its offset in the source."""

    text: str
    loc: Loc
    offset: int = -1

    @property
    def end(self) -> int:
        """The source offset just after the identifier."""
        return self.offset + len(self.text)


@dataclass
class PortList:
    """``[1]`` or ``[0, 2]``: port numbers annotating a connection end."""

    ports: list[int]
    loc: Loc


@dataclass
class ClassRef:
    """An element class written by name: ``Queue`` in ``q :: Queue(10)``."""

    name: Name


@dataclass
class Formal:
    """One compound parameter: ``$a`` (positional) or ``KEYWORD $k``."""

    name: str                 # without the '$'
    keyword: str | None       # None for a positional parameter
    loc: Loc


@dataclass
class CompoundBody:
    """One alternative of a compound class: ``$a, $b | statements``."""

    formals: list[Formal]
    statements: list["Statement"]
    loc: Loc                  # the '{' (or '||') that opens it


@dataclass
class CompoundClass:
    """``{ ... }``: a compound element class, possibly with overloads.

    ``bodies`` holds the alternatives separated by ``||``; ``extends`` is
    True when the list ends with ``...`` (fall back to the class of the same
    name defined before).
    """

    bodies: list[CompoundBody]
    extends: bool
    loc: Loc                  # the opening '{'
    end_loc: Loc | None = None


ClassSpec = Union[ClassRef, CompoundClass]


@dataclass
class Declaration:
    """``a :: Class(config)`` or ``a, b :: Class(config)``."""

    names: list[Name]
    cls: ClassSpec
    config: ConfigText | None
    loc: Loc                  # the first name


@dataclass
class ElementRef:
    """A bare identifier in a connection, maybe with a config: ``x``, ``Foo(1)``.

    It names an element declared earlier in the scope, or (if it is a class)
    declares an anonymous element of that class.
    """

    name: Name
    config: ConfigText | None


@dataclass
class AnonymousCompound:
    """A compound class used directly as an anonymous element: ``-> { ... } ->``."""

    cls: CompoundClass
    config: ConfigText | None


@dataclass
class Pseudo:
    """An implicit ``input`` or ``output`` inside a compound (``[1] -> x`` or ``x -> [1];``)."""

    which: str                # "input" or "output"
    loc: Loc


ElementSpec = Union[Declaration, ElementRef, AnonymousCompound, Pseudo]


@dataclass
class Endpoint:
    """One element in a connection chain with its optional port lists."""

    element: ElementSpec
    in_ports: PortList | None = None
    out_ports: PortList | None = None
    loc: Loc | None = None


@dataclass
class Connector:
    """``->`` (or ``=>``) between two positions of a chain."""

    kind: str                 # "->" or "=>"
    loc: Loc


@dataclass
class Chain:
    """A connection statement ``a [1] -> [0] b -> c``, or a lone declaration.

    ``positions[i]`` is the comma-separated list of elements at step ``i``
    (usually one), ``connectors[i]`` joins ``positions[i]`` to ``positions[i+1]``.
    """

    positions: list[list[Endpoint]]
    connectors: list[Connector]
    loc: Loc


@dataclass
class ElementClassDef:
    """``elementclass Name { ... }`` or the synonym ``elementclass Name Other``."""

    name: Name
    body: CompoundClass | None = None
    synonym: Name | None = None
    loc: Loc | None = None


@dataclass
class DefineEntry:
    """``$NAME value`` inside ``define(...)``."""

    name: str                 # without the '$'
    value: str
    loc: Loc                  # the '$NAME'
    value_offset: int         # source offset of the value's first character


@dataclass
class Define:
    entries: list[DefineEntry]
    loc: Loc


@dataclass
class RequireEntry:
    """One requirement: ``package "foo"``, ``foo`` (same), ``library x``..."""

    kind: str                 # "package", "library", "compact_config"
    value: str                # unquoted package name / library file ("" otherwise)
    loc: Loc
    text: str = ""            # the argument as written, e.g. 'package "foo"'


@dataclass
class Require:
    """``require(...)`` (``provide(...)`` when ``provide`` is True)."""

    entries: list[RequireEntry]
    loc: Loc
    provide: bool = False


Statement = Union[Chain, ElementClassDef, Define, Require]


@dataclass
class Config:
    """A whole configuration file."""

    statements: list[Statement] = field(default_factory=list)
    filename: str = ""
    text: str = ""
