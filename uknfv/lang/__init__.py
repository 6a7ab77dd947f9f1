"""The Click language front end: parse, elaborate, flatten.

Typical use::

    from uknfv.lang import parse, elaborate
    cfg = parse(text, "fw.click")
    flat = elaborate(cfg, "fw.click", text, defines={"IN": "in.pcap"})

or, in one step, ``load(text, "fw.click", defines=...)``.
"""
from __future__ import annotations

from typing import Callable

from . import ast
from .args import Arg, arg_loc, quote, split_args, split_keyword, split_words, unquote
from .elaborate import elaborate
from .flat import FlatConfig, FlatConnection, FlatElement, Require
from .flatten import unparse
from .parser import parse


def load(text: str, filename: str, defines: dict[str, str] | None = None,
         is_element_class: Callable[[str], bool] | None = None) -> FlatConfig:
    """Parse and elaborate ``text`` (the contents of ``filename``)."""
    return elaborate(parse(text, filename), filename, text, defines,
                     is_element_class=is_element_class)


__all__ = [
    "Arg", "FlatConfig", "FlatConnection", "FlatElement", "Require", "arg_loc", "ast",
    "elaborate", "load", "parse", "quote", "split_args", "split_keyword", "split_words",
    "unparse", "unquote",
]
