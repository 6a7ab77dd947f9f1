"""The element library: every Element subclass found under uknfv.elements.

The top-level folder ``elements/`` is installed as the package
``uknfv.elements`` (see pyproject.toml), grouped like Click's
(standard/, ethernet/, ip/, icmp/, io/ ...).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import lru_cache

from .element import Element

ALIASES = {
    # FastClick's names for the DPDK device elements
    "FromDPDKDevice": "FromDevice",
    "ToDPDKDevice": "ToDevice",
}


@lru_cache(maxsize=1)
def library() -> dict[str, Element]:
    import uknfv.elements as root

    found: dict[str, Element] = {}
    for mod in pkgutil.walk_packages(root.__path__, root.__name__ + "."):
        if mod.ispkg:
            continue
        module = importlib.import_module(mod.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Element) and obj is not Element and obj.name \
                    and obj.__module__ == module.__name__:
                if obj.name in found:
                    raise RuntimeError(f"element {obj.name} defined twice")
                spec = obj()
                spec.group = mod.name.split(".")[-2]
                found[obj.name] = spec
    return found


def lookup(name: str) -> Element | None:
    lib = library()
    return lib.get(name) or lib.get(ALIASES.get(name, ""))
