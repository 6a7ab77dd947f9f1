"""Compile generated C with the micro-libraries, cached by content hash."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..diag import UknfvError
from ..libs import Lib


# Flags shared by the targets that build a host process (linux, dpdk); the
# unikernel uses WARN_FLAGS with its own freestanding options.
WARN_FLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-function", "-Wno-unused-parameter",
              "-Wno-unused-variable", "-Wno-unused-label", "-Werror=implicit-function-declaration"]
OPT_FLAGS = {
    "release": ["-O3", "-march=native"],
    "O2": ["-O2"],
    "size": ["-Os"],
    "sanitize": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
                 "-fno-sanitize-recover=undefined"],
}


def cache_root() -> Path:
    base = os.environ.get("UKNFV_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "uknfv")
    return Path(base)


def compiler() -> str:
    cc = os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise UknfvError(f"no C compiler '{cc}' found: install gcc (apt-get install gcc) or set CC")
    return cc


@dataclass
class CBuild:
    """One program: its generated source, libraries and flags."""

    name: str
    source: str
    libs: list[Lib]
    cflags: list[str]
    ldflags: list[str]
    target: str

    def key(self, cc: str) -> str:
        h = hashlib.sha256()
        for part in (self.target, cc, _cc_version(cc), self.source, *self.cflags, *self.ldflags):
            h.update(part.encode())
            h.update(b"\0")
        for lib in self.libs:
            for path in sorted(lib.path.rglob("*")):
                if path.is_file() and path.suffix in (".c", ".h", ".S", ".ld", ".toml"):
                    h.update(str(path.relative_to(lib.path)).encode())
                    h.update(path.read_bytes())
        return h.hexdigest()[:24]

    def compile(self) -> Path:
        """Build (or reuse from the cache) and return the program's path."""
        cc = compiler()
        d = cache_root() / self.target / self.key(cc)
        prog = d / self.name
        if prog.exists():
            return prog
        d.mkdir(parents=True, exist_ok=True)
        src = d / f"pipeline.{os.getpid()}.c"
        src.write_text(self.source)
        cmd = [cc, *self.cflags]
        for lib in self.libs:
            if lib.include.exists():
                cmd.append(f"-I{lib.include}")
            cmd.extend(lib.cflags)
        cmd += [str(src)] + [str(p) for lib in self.libs for p in lib.source_paths()]
        tmp = f"{prog}.{os.getpid()}.tmp"
        cmd += ["-o", tmp, *self.ldflags]
        for lib in self.libs:
            cmd.extend(lib.ldflags)
        (d / "cmdline").write_text(" ".join(cmd) + "\n")
        res = subprocess.run(cmd, capture_output=True, text=True)
        (d / "cc.log").write_text(res.stdout + res.stderr)
        if res.returncode != 0:
            raise UknfvError("the C compiler failed on the generated pipeline (this is a uknfv bug; "
                             f"please report it with {d}):\n{res.stderr[-4000:]}")
        os.replace(tmp, prog)
        os.replace(src, d / "pipeline.c")
        return prog


_versions: dict[str, str] = {}


def _cc_version(cc: str) -> str:
    if cc not in _versions:
        try:
            _versions[cc] = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout
        except OSError:
            _versions[cc] = ""
    return _versions[cc]
