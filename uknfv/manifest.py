"""vNF manifests: pipelines/NAME.toml describes the example vNF pipelines/NAME.click.

A manifest says what a vNF is and how to run, test and benchmark it (the
format is documented in pipelines/README.md)::

    name = "firewall"
    summary = "Stateless two-port firewall (bump in the wire)"
    default_target = "linux"        # linux | dpdk | kvm
    memory_mb = 64                  # guest memory for --target kvm
    scenario = "firewall"           # the scapy scenario in tests/pipelines/test_vnfs.py

    [[ports]]
    name = "inside"
    role = "inside"

    [defines]                       # the config's define()s and their defaults
    LAN_IP = "10.0.1.1"

    [bench]
    ingress = "inside"
    egress = "outside"
    frame_sizes = [64, 512, 1518]

`load_manifest` reads and validates one file, raising UknfvError with the
file, the field and what was expected; `list_manifests` reads every
manifest of a directory (by default the installed example vNFs).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .diag import UknfvError

TARGETS = ("linux", "dpdk", "kvm")
DEFAULT_FRAME_SIZES = (64, 128, 256, 512, 1024, 1280, 1518)
_NAME_RE = re.compile(r"[a-z][a-z0-9-]*")
_PORT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_DEFINE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_TOP = {"name", "summary", "config", "default_target", "memory_mb", "scenario",
        "ports", "defines", "bench"}
_PORT = {"name", "role", "description"}
_BENCH = {"ingress", "egress", "frame_sizes"}


@dataclass(frozen=True)
class Port:
    name: str
    role: str
    description: str = ""


@dataclass(frozen=True)
class Bench:
    ingress: str
    egress: str
    frame_sizes: tuple[int, ...] = DEFAULT_FRAME_SIZES


@dataclass(frozen=True)
class Manifest:
    path: Path                      # the .toml file
    name: str
    summary: str
    config: Path                    # the .click file (absolute)
    default_target: str
    memory_mb: int
    scenario: str
    ports: tuple[Port, ...]
    defines: dict[str, str] = field(default_factory=dict)
    bench: Bench | None = None

    @property
    def port_names(self) -> list[str]:
        return [p.name for p in self.ports]

    def port(self, name: str) -> Port:
        for p in self.ports:
            if p.name == name:
                return p
        raise UknfvError(f"{self.path}: vNF '{self.name}' has no port '{name}' "
                         f"(ports: {', '.join(self.port_names)})")

    @property
    def readme(self) -> Path:
        return self.config.with_suffix(".md")

    def define_args(self, **overrides: object) -> list[str]:
        """NAME=VALUE arguments for `uknfv build/run`: the defaults, then the overrides."""
        unknown = sorted(set(overrides) - set(self.defines))
        if unknown:
            raise UknfvError(f"vNF '{self.name}' has no define {', '.join(unknown)} "
                             f"(defines: {', '.join(self.defines) or 'none'})")
        vals = dict(self.defines)
        vals.update({k: str(v) for k, v in overrides.items()})
        return [f"{k}={v}" for k, v in vals.items()]


def default_dir() -> Path:
    """Where the example vNFs are: the uknfv.pipelines package (pipelines/ in a checkout)."""
    from . import pipelines   # mapped to pipelines/ by pyproject's package-dir
    return Path(pipelines.__path__[0])


class _Fields:
    """Typed access to one TOML table, with errors naming the file and the field."""

    def __init__(self, path: Path, table: dict, where: str, allowed: set[str]):
        self.path, self.table, self.where = path, table, where
        extra = sorted(set(table) - allowed)
        if extra:
            raise self.error(extra[0], f"unknown field (expected one of: {', '.join(sorted(allowed))})")

    def error(self, key: str, msg: str) -> UknfvError:
        return UknfvError(f"{self.path}: {self.where}{key}: {msg}")

    def get(self, key: str, kind: type, default: object = ..., what: str = "") -> object:
        if key not in self.table:
            if default is ...:
                raise self.error(key, f"missing (expected {what or kind.__name__})")
            return default
        v = self.table[key]
        if kind is int and isinstance(v, bool) or not isinstance(v, kind):
            raise self.error(key, f"expected {what or kind.__name__}, got {type(v).__name__} {v!r}")
        return v

    def string(self, key: str, default: object = ..., pattern: re.Pattern | None = None,
               what: str = "a string") -> str:
        v = self.get(key, str, default, what)
        if isinstance(v, str) and key in self.table:
            if not v.strip():
                raise self.error(key, "must not be empty")
            if pattern is not None and not pattern.fullmatch(v):
                raise self.error(key, f"{v!r} is not {what}")
        return v


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate one manifest; UknfvError (file: field: problem) if it is wrong."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UknfvError(f"{path}: no such manifest") from None
    except OSError as e:
        raise UknfvError(f"{path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UknfvError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise UknfvError(f"{path}: not valid TOML: {e}") from None

    top = _Fields(path, data, "", _TOP)
    name = top.string("name", pattern=_NAME_RE,
                      what="a vNF name (lower case letters, digits and '-', starting with a letter)")
    if name != path.stem:
        raise top.error("name", f"'{name}' must be the manifest's file name ('{path.stem}')")
    summary = top.string("summary")
    config_name = top.string("config", default=f"{name}.click")
    config = (path.parent / config_name).resolve()
    if not config.is_file():
        raise top.error("config", f"{config_name} not found beside the manifest")
    target = top.string("default_target", default="linux", what=f"one of {', '.join(TARGETS)}")
    if target not in TARGETS:
        raise top.error("default_target", f"'{target}' is not a target (expected one of: {', '.join(TARGETS)})")
    memory = top.get("memory_mb", int, 64, "an integer (MB)")
    if not 2 <= memory <= 1048576:
        raise top.error("memory_mb", f"{memory} is out of range (2..1048576 MB)")
    scenario = top.string("scenario", default=name, pattern=re.compile(r"[A-Za-z_][A-Za-z0-9_-]*"),
                          what="a scenario name")

    raw_ports = top.get("ports", list, what="an array of tables ([[ports]])")
    if not raw_ports:
        raise top.error("ports", "a vNF needs at least one port")
    ports: list[Port] = []
    for i, rp in enumerate(raw_ports):
        if not isinstance(rp, dict):
            raise top.error(f"ports[{i}]", f"expected a table with name and role, got {rp!r}")
        pf = _Fields(path, rp, f"ports[{i}].", _PORT)
        p = Port(pf.string("name", pattern=_PORT_RE, what="a port name"), pf.string("role"),
                 pf.string("description", default=""))
        if p.name in (q.name for q in ports):
            raise pf.error("name", f"port '{p.name}' is listed twice")
        ports.append(p)

    raw_defs = top.get("defines", dict, {}, "a table of NAME = value")
    defines: dict[str, str] = {}
    for k, v in raw_defs.items():
        k2 = k[1:] if k.startswith("$") else k
        if not _DEFINE_RE.fullmatch(k2):
            raise top.error(f"defines.{k}", "not a define name (letters, digits, '_')")
        if isinstance(v, bool) or not isinstance(v, (str, int, float)):
            raise top.error(f"defines.{k}", f"expected a string or a number, got {type(v).__name__}")
        defines[k2] = str(v)

    bench = None
    if "bench" in data:
        bt = top.get("bench", dict, what="a table ([bench])")
        bf = _Fields(path, bt, "bench.", _BENCH)
        names = [p.name for p in ports]
        ends = {}
        for key in ("ingress", "egress"):
            v = bf.string(key, what="a port name")
            if v not in names:
                raise bf.error(key, f"'{v}' is not one of the vNF's ports ({', '.join(names)})")
            ends[key] = v
        sizes = bf.get("frame_sizes", list, list(DEFAULT_FRAME_SIZES), "a list of frame sizes")
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, int) or not 60 <= s <= 9018:
                raise bf.error("frame_sizes", f"{s!r} is not a frame size in bytes (60..9018)")
        if not sizes:
            raise bf.error("frame_sizes", "must not be empty")
        bench = Bench(ends["ingress"], ends["egress"], tuple(sizes))

    return Manifest(path=path, name=name, summary=summary, config=config, default_target=target,
                    memory_mb=memory, scenario=scenario, ports=tuple(ports), defines=defines,
                    bench=bench)


def list_manifests(directory: str | Path | None = None) -> list[Manifest]:
    """Every NAME.toml of directory (default: the example vNFs), validated, sorted by name."""
    d = Path(directory) if directory is not None else default_dir()
    if not d.is_dir():
        raise UknfvError(f"{d}: no such directory")
    return [load_manifest(p) for p in sorted(d.glob("*.toml"))]


def find_manifest(name: str, directory: str | Path | None = None) -> Manifest:
    """The manifest of vNF `name`; UknfvError listing the known ones if there is none."""
    d = Path(directory) if directory is not None else default_dir()
    p = d / f"{name}.toml"
    if not p.is_file():
        known = ", ".join(sorted(q.stem for q in d.glob("*.toml"))) or "none"
        raise UknfvError(f"no vNF manifest '{name}' in {d} (known: {known})")
    return load_manifest(p)


def config_ports(m: Manifest) -> dict[str, set[str]]:
    """The logical ports the vNF's config uses: {name: {'rx', 'tx'}} (parses the config)."""
    from .pipeline import load
    g = load(str(m.config), m.defines)
    out: dict[str, set[str]] = {}
    for inst in g.instances:
        kind = {"FromDevice": "rx", "ToDevice": "tx"}.get(inst.spec.name)
        if kind:
            out.setdefault(str(inst.args["DEVNAME"]), set()).add(kind)
    return out


def check_config(m: Manifest) -> None:
    """UknfvError unless the manifest's ports are exactly the config's FromDevice/ToDevice ports
    and its defines are define()d there (checked by building the graph with them)."""
    text = m.config.read_text(encoding="utf-8")
    for k in m.defines:
        if not re.search(r"\$" + re.escape(k) + r"\b", text):
            raise UknfvError(f"{m.path}: defines.{k}: {m.config.name} has no ${k}")
    used = config_ports(m)
    if set(used) != set(m.port_names):
        raise UknfvError(f"{m.path}: ports {sorted(m.port_names)} but {m.config.name} uses "
                         f"{sorted(used)}")
