"""Targets: what each one links, how it builds, how it runs."""
from __future__ import annotations

from importlib import import_module

NAMES = ("linux", "kvm", "dpdk")


def get(name: str):
    if name not in NAMES:
        from ..diag import UknfvError
        raise UknfvError(f"unknown target '{name}' (available: {', '.join(NAMES)})")
    return import_module(f"{__name__}.{name}")
