"""From a configuration file to a checked graph: the front half of every command."""
from __future__ import annotations

import re
from pathlib import Path

from . import registry
from .diag import UknfvError
from .graph import Graph, build_graph
from .lang.elaborate import elaborate
from .lang.flat import FlatConfig
from .lang.parser import parse


def parse_defines(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """NAME=VALUE command-line overrides of `define($NAME ...)`."""
    out: dict[str, str] = {}
    for item in items:
        m = re.fullmatch(r"\$?([A-Za-z_][A-Za-z0-9_]*)=(.*)", item, re.S)
        if not m:
            raise UknfvError(f"expected NAME=VALUE to set a define, got '{item}'")
        out[m.group(1)] = m.group(2)
    return out


def read_source(path: str) -> str:
    p = Path(path)
    if not p.exists():
        raise UknfvError(f"{path}: no such file")
    if p.is_dir():
        raise UknfvError(f"{path}: is a directory, expected a Click configuration")
    try:
        return p.read_text()
    except UnicodeDecodeError:
        raise UknfvError(f"{path}: not a text file") from None
    except OSError as e:
        raise UknfvError(f"{path}: {e.strerror}") from None


def _is_element_class(name: str) -> bool:
    # A capitalised bare word is taken as a class, as Click reads it, so
    # that an unknown one is reported as such (with a suggestion).
    return registry.lookup(name) is not None or (
        name[:1].isupper() and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None)


def load_flat(path: str, defines: dict[str, str] | None = None) -> FlatConfig:
    text = read_source(path)
    cfg = parse(text, path)
    flat = elaborate(cfg, path, text, defines or {},
                     is_element_class=_is_element_class)
    flat.file = path
    return flat


def load(path: str, defines: dict[str, str] | None = None, target: str = "linux") -> Graph:
    return build_graph(load_flat(path, defines), target)
