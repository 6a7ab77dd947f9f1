"""Build options of the micro-libraries, Kconfig style (kconfiglib).

Each library may declare options in a ``Config.uk`` fragment.  For a
pipeline and target, the options of exactly the libraries that build links
form one Kconfig tree; the user's choices are saved next to the pipeline
as ``NAME.config`` (``uknfv menuconfig`` / ``uknfv config --set``) and every
later build restores them.  Each option reaches the C as
``-DCONFIG_NAME=value`` (booleans: 1 when set).
"""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .diag import UknfvError
from .libs import Lib


def config_path(pipeline: str | Path) -> Path:
    """Where a pipeline's saved options live: fw.click -> fw.config."""
    p = Path(pipeline)
    return p.with_name(p.stem + ".config")


def kconfig_text(libs: list[Lib], title: str) -> str:
    parts = [f'mainmenu "uknfv build options: {title}"', ""]
    for lib in libs:
        frag = lib.path / "Config.uk"
        if frag.exists():
            parts += [f'menu "{lib.name}: {lib.summary}"', f'source "{frag}"', "endmenu", ""]
    return "\n".join(parts) + "\n"


@dataclass
class Options:
    values: dict[str, str]          # symbol -> value ("y"/"n" for booleans)
    kconfig: str                    # the Kconfig file used
    saved: Path | None              # the .config that was restored, if any

    def cflags(self) -> list[str]:
        out = []
        for name, value in sorted(self.values.items()):
            if value == "n" or value == "":
                continue
            out.append(f"-DCONFIG_{name}={1 if value == 'y' else value}")
        return out


def _kconfiglib():
    try:
        import kconfiglib
    except ImportError:
        raise UknfvError("kconfiglib is needed for build options (pip install kconfiglib)") from None
    return kconfiglib


def _load(libs: list[Lib], title: str, saved: Path | None):
    kconfiglib = _kconfiglib()
    text = kconfig_text(libs, title)
    fd, kpath = tempfile.mkstemp(prefix="uknfv-", suffix=".Kconfig")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            kconf = kconfiglib.Kconfig(kpath, warn_to_stderr=False)
    except kconfiglib.KconfigError as e:
        os.unlink(kpath)
        raise UknfvError(f"bad Config.uk in a micro-library: {e}") from None
    if saved is not None and saved.exists():
        kconf.load_config(str(saved))
    return kconf, kpath


def options(libs: list[Lib], pipeline: str | Path) -> Options:
    """The options in force for a build: defaults, then the saved choices."""
    saved = config_path(pipeline)
    kconf, kpath = _load(libs, str(pipeline), saved)
    try:
        values = {s.name: s.str_value for s in kconf.unique_defined_syms}
    finally:
        os.unlink(kpath)
    return Options(values, kconfig_text(libs, str(pipeline)), saved if saved.exists() else None)


def set_options(libs: list[Lib], pipeline: str | Path, assignments: dict[str, str]) -> Path:
    """Change options non-interactively and save them next to the pipeline."""
    saved = config_path(pipeline)
    kconf, kpath = _load(libs, str(pipeline), saved)
    try:
        for name, value in assignments.items():
            key = name.removeprefix("CONFIG_")
            sym = kconf.syms.get(key)
            if sym is None or not sym.nodes:
                known = ", ".join(s.name for s in kconf.unique_defined_syms)
                raise UknfvError(f"no build option '{key}' for this pipeline (options: {known})")
            if not sym.set_value(value) or sym.str_value != value:
                rng = [f"{lo.str_value}..{hi.str_value}" for lo, hi, *_ in sym.ranges]
                raise UknfvError(f"option {key}: cannot set '{value}'"
                                 + (f" (range {', '.join(rng)})" if rng else ""))
        kconf.write_config(str(saved), header=f"# uknfv build options for {pipeline}\n")
    finally:
        os.unlink(kpath)
    return saved


def menuconfig(libs: list[Lib], pipeline: str | Path) -> Path:
    """The interactive menu (kconfiglib's menuconfig), saving next to the pipeline."""
    saved = config_path(pipeline)
    kconf, kpath = _load(libs, str(pipeline), saved)
    os.environ["KCONFIG_CONFIG"] = str(saved)
    try:
        import menuconfig as mc
        mc.menuconfig(kconf)
    finally:
        os.unlink(kpath)
    return saved
