"""The C micro-libraries under uknfv/libs/: declarations and selection.

Each library is a folder with a ``lib.toml`` (name, summary, sources,
depends, cflags, ldflags), an ``include/`` folder for its public headers
and its sources.  A build asks for the libraries its graph and target
need; :func:`closure` adds their dependencies, in dependency order.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

LIBS_DIR = Path(__file__).parent / "libs"


@dataclass(frozen=True)
class Lib:
    name: str
    path: Path
    summary: str = ""
    sources: tuple[str, ...] = ()
    depends: tuple[str, ...] = ()
    cflags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()

    @property
    def include(self) -> Path:
        return self.path / "include"

    def source_paths(self) -> list[Path]:
        return [self.path / s for s in self.sources]


@lru_cache(maxsize=None)
def load(name: str) -> Lib:
    path = LIBS_DIR / name
    decl = path / "lib.toml"
    if not decl.exists():
        raise KeyError(f"no micro-library '{name}' in {LIBS_DIR}")
    data = tomllib.loads(decl.read_text())
    return Lib(name=data.get("name", name), path=path, summary=data.get("summary", ""),
               sources=tuple(data.get("sources", ())), depends=tuple(data.get("depends", ())),
               cflags=tuple(data.get("cflags", ())), ldflags=tuple(data.get("ldflags", ())))


def available() -> list[str]:
    return sorted(p.name for p in LIBS_DIR.iterdir() if (p / "lib.toml").exists())


@lru_cache(maxsize=None)
def load_hosted(name: str) -> Lib:
    """The library as a hosted build (a Linux or DPDK process) compiles it: its
    lib.toml may name other sources and dependencies for that case
    (``hosted_sources``, ``hosted_depends``), e.g. without the unikernel's
    platform."""
    lib = load(name)
    data = tomllib.loads((lib.path / "lib.toml").read_text())
    return replace(lib, sources=tuple(data.get("hosted_sources", lib.sources)),
                   depends=tuple(data.get("hosted_depends", lib.depends)))


def closure(names: list[str] | tuple[str, ...], hosted: bool = False) -> list[Lib]:
    """The libraries named plus everything they depend on, deps first
    (``hosted``: as a hosted build declares them, see load_hosted)."""
    get = load_hosted if hosted else load
    order: list[Lib] = []
    seen: set[str] = set()

    def visit(n: str, stack: tuple[str, ...]) -> None:
        if n in seen:
            return
        if n in stack:
            raise RuntimeError(f"library dependency cycle: {' -> '.join(stack + (n,))}")
        lib = get(n)
        for d in lib.depends:
            visit(d, stack + (n,))
        seen.add(n)
        order.append(lib)

    for n in names:
        visit(n, ())
    return order
