"""The elaborated (flat) configuration: what the language front end hands on.

Compound elements are gone, `define`s are substituted, anonymous elements
are named the Click way (``Class@N``), and names inside compounds are
``outer/inner``.  Locations point back into the user's source.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..diag import Loc


@dataclass
class FlatElement:
    name: str
    cls: str
    config: str            # argument text, `$vars` already substituted
    loc: Loc               # where the element was declared (its class name)
    config_loc: Loc | None = None   # where the argument text starts ('(' + 1)
    # True when `config` is exactly the source text at config_loc, so that
    # offsets inside it map back to source columns (no substitution happened).
    config_verbatim: bool = True
    source_text: str = ""  # the whole source file (to map offsets to Locs)


@dataclass
class FlatConnection:
    src: str
    src_port: int
    dst: str
    dst_port: int
    loc: Loc


@dataclass
class Require:
    what: str              # e.g. "package" argument text
    loc: Loc
    kind: str = "package"  # parsed: "package", "library" or "compact_config" (Click's kinds)
    value: str = ""        # parsed and unquoted: the package name, library file, or ""


@dataclass
class FlatConfig:
    elements: dict[str, FlatElement] = field(default_factory=dict)  # ordered
    connections: list[FlatConnection] = field(default_factory=list)
    requires: list[Require] = field(default_factory=list)
    file: str = ""
