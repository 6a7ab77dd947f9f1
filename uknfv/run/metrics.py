"""A running vNF's handlers as numbers: sampling, Prometheus exposition, an exporter.

`uknfv top` and `uknfv metrics` share the sampling here: one connection to
the control socket (uknfv/run/control.py) per sample -- LIST, then READ every
handler; write-only handlers (511) and handlers whose value is not a number
(tables, text) are set aside.

Metric naming (Prometheus text exposition format 0.0.4)::

    # HELP uknfv_count_total Handler 'count' (Counter: packets seen; Discard: ...)
    # TYPE uknfv_count_total counter
    uknfv_count_total{element="c"} 123
    # TYPE uknfv_length gauge
    uknfv_length{element="q"} 4

One family per handler name: ``uknfv_<handler>`` with the name sanitised to
``[a-zA-Z0-9_]``; the element is the ``element`` label (plus ``class`` when the
image's description is given).  Handlers that count monotonically (``count``,
``byte_count``, ``drops``, ``*_count``, ``bytes``, ``packets``, ``errors``) are
counters and get the conventional ``_total`` suffix; everything else (rates,
lengths, capacities, flags) is a gauge.  The type depends on the handler name
only, so every family has a single type.  HELP text is the handler's doc from
the element library when the element classes are known (from ``--image``, an
anonymous element's name ``Class@N``, or an element whose handler set matches
exactly one class), otherwise a generic sentence.
"""
from __future__ import annotations

import fnmatch
import json
import math
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..diag import UknfvError
from .control import ControlClient, ControlError

PREFIX = "uknfv_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_COUNTER = re.compile(r"(?:^|_)(?:count|drops|dropped|bytes|packets|pkts|errors|total)$")
_BAD_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_]")


# ---- values and types ---------------------------------------------------------------------

def parse_value(text: str) -> float | int | None:
    """The number a handler read as (ints stay ints), or None if it is not one number.

    ``true``/``false`` (flags) read as 1/0."""
    s = text.strip()
    low = s.lower()
    if low in ("true", "false"):
        return int(low == "true")
    if not _NUMBER.fullmatch(s):
        return None
    if re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    v = float(s)
    return v if math.isfinite(v) else None


def is_counter(handler: str) -> bool:
    """Whether a handler counts monotonically (by its name: count, byte_count, drops, ...)."""
    h = handler.lower()
    return "rate" not in h and bool(_COUNTER.search(h))


def metric_name(handler: str) -> str:
    """``uknfv_<handler>`` sanitised; counters end in ``_total``."""
    base = _BAD_NAME_CHARS.sub("_", handler) or "_"
    name = PREFIX + base
    if is_counter(handler) and not name.endswith("_total"):
        name += "_total"
    return name


def format_value(v: float | int) -> str:
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def escape_label(value: str) -> str:
    """A label value per the exposition format: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text per the exposition format: backslash and newline escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


# ---- sampling -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    element: str
    handler: str
    raw: str
    value: float | int | None      # None: not a number

    @property
    def name(self) -> str:
        return f"{self.element}.{self.handler}"


@dataclass
class Sample:
    time: float                     # time.monotonic() when read
    readings: list[Reading] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)     # every handler LIST gave

    def numeric(self) -> list[Reading]:
        return [r for r in self.readings if r.value is not None]


def split_handler(name: str) -> tuple[str, str]:
    element, dot, handler = name.rpartition(".")
    return (element, handler) if dot else ("", name)


def matches(name: str, globs: tuple[str, ...] | list[str]) -> bool:
    """Whether ``element.handler`` matches any of the globs (all names match when none)."""
    if not globs:
        return True
    element, _ = split_handler(name)
    return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(element, g) for g in globs)


def sample(client: ControlClient, names: list[str] | None = None,
           globs: tuple[str, ...] | list[str] = ()) -> Sample:
    """Read every readable handler (``names``, default: LIST) over one connection."""
    with client:
        if names is None:
            names = client.list()
        out = Sample(time.monotonic(), listed=list(names))
        for n in names:
            if not matches(n, globs):
                continue
            try:
                raw = client.read(n)
            except ControlError:
                continue            # write-only, or the handler failed
            element, handler = split_handler(n)
            out.readings.append(Reading(element, handler, raw, parse_value(raw)))
        out.time = time.monotonic()
    return out


def rates(prev: Sample | None, cur: Sample) -> dict[str, float]:
    """Per-second rates of the counters between two samples (left out after a reset)."""
    if prev is None:
        return {}
    dt = cur.time - prev.time
    if dt <= 0:
        return {}
    before = {r.name: r.value for r in prev.readings if r.value is not None}
    out = {}
    for r in cur.readings:
        if r.value is None or not is_counter(r.handler):
            continue
        b = before.get(r.name)
        if b is not None and r.value >= b:
            out[r.name] = (r.value - b) / dt
    return out


# ---- element classes (for HELP text and the class label) ------------------------------------

def load_classes(image: str) -> dict[str, str]:
    """element name -> class from an image's description (IMAGE.json, or the JSON itself)."""
    from .qemu import meta_path
    p = Path(image)
    mp = p if p.suffix == ".json" and p.is_file() else meta_path(p)
    if mp is None:
        raise UknfvError(f"{image}: no description ({image}.json) beside it; it is written by "
                         f"`uknfv build`")
    try:
        meta = json.loads(mp.read_text())
        return {e["name"]: e["class"] for e in meta.get("elements", [])
                if isinstance(e, dict) and "name" in e and "class" in e}
    except (OSError, ValueError, AttributeError) as e:
        raise UknfvError(f"{mp}: cannot read the image description: {e}") from None


def _library_handlers() -> dict[str, dict[str, str]]:
    """class -> {handler: doc} for the element library (empty if it cannot be loaded)."""
    try:
        from .. import registry
        return {n: {h.name: h.doc for h in spec.handlers} for n, spec in registry.library().items()}
    except Exception:       # docs are a nicety; never fail a scrape over them
        return {}


def infer_classes(handlers: dict[str, set[str]],
                  known: dict[str, str] | None = None) -> dict[str, list[str]]:
    """element -> its possible classes: ``known``, else ``Class@N`` names, else the
    library classes whose handler set is exactly the element's (from LIST)."""
    lib = _library_handlers()
    out: dict[str, list[str]] = {e: [c] for e, c in (known or {}).items()}
    for element, hs in handlers.items():
        if element in out:
            continue
        cls = element.rsplit("/", 1)[-1].split("@", 1)[0] if "@" in element else ""
        if cls in lib:
            out[element] = [cls]
            continue
        cands = sorted(c for c, h in lib.items() if set(h) == hs)
        if cands:
            out[element] = cands
    return out


def handlers_by_element(names: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for n in names:
        element, handler = split_handler(n)
        out.setdefault(element, set()).add(handler)
    return out


def help_text(handler: str, elements: list[str], classes: dict[str, list[str]],
              lib: dict[str, dict[str, str]]) -> str:
    """The handler's doc when every element's class (or all its candidates) agree on one."""
    kind = "counter" if is_counter(handler) else "value"
    generic = f"Handler '{handler}' of the vNF's elements ({kind} read over the control socket)"
    docs: dict[str, set[str]] = {}         # doc -> the classes saying it
    for e in elements:
        cands = classes.get(e, [])
        ds = {lib.get(c, {}).get(handler, "") for c in cands}
        if len(ds) != 1 or not next(iter(ds)):
            return generic                  # unknown class, or candidates that disagree
        docs.setdefault(ds.pop(), set()).add("/".join(cands))
    if not docs:
        return generic
    if len(docs) == 1:
        return f"Handler '{handler}': {next(iter(docs))}"
    parts = sorted(f"{', '.join(sorted(cs))}: {d}" for d, cs in docs.items())
    return f"Handler '{handler}' (" + "; ".join(parts) + ")"


# ---- exposition -----------------------------------------------------------------------------

def exposition(readings: list[Reading], classes: dict[str, list[str]] | None = None,
               class_label: bool = False) -> str:
    """The readings' numbers in Prometheus text format 0.0.4 (non-numeric ones left out).

    ``classes``: element -> its (possible) classes, for HELP text; with ``class_label``
    each sample also gets a ``class`` label (its class when exactly one is known)."""
    classes = classes or {}
    lib = _library_handlers() if classes else {}
    families: dict[str, list[Reading]] = {}
    handler_of: dict[str, str] = {}
    for r in readings:
        if r.value is None:
            continue
        m = metric_name(r.handler)
        families.setdefault(m, []).append(r)
        handler_of.setdefault(m, r.handler)
    lines = []
    for m in sorted(families):
        rs = sorted(families[m], key=lambda r: r.element)
        handler = handler_of[m]
        helps = help_text(handler, [r.element for r in rs], classes, lib)
        lines.append(f"# HELP {m} {escape_help(helps)}")
        lines.append(f"# TYPE {m} {'counter' if is_counter(handler) else 'gauge'}")
        seen = set()
        for r in rs:
            labels = [("element", r.element)]
            if class_label:
                cands = classes.get(r.element, [])
                labels.append(("class", cands[0] if len(cands) == 1 else ""))
            key = tuple(labels)
            if key in seen:         # two handler names sanitised alike on one element
                continue
            seen.add(key)
            lab = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels)
            lines.append(f"{m}{{{lab}}} {format_value(r.value)}")
    return "\n".join(lines) + "\n" if lines else ""


class Collector:
    """Scrapes one vNF: LIST + READ per call, serialised (QEMU takes one client at a time)."""

    def __init__(self, sock: str, timeout: float = 5.0, classes: dict[str, str] | None = None):
        self.sock = sock
        self.timeout = timeout
        self.known = classes
        self._lock = threading.Lock()

    def collect(self) -> str:
        with self._lock:
            client = ControlClient(self.sock, timeout=self.timeout)
            s = sample(client)
        classes = infer_classes(handlers_by_element(s.listed), self.known)
        return exposition(s.readings, classes, class_label=bool(self.known))


# ---- the exporter ---------------------------------------------------------------------------

def parse_listen(spec: str) -> tuple[str, int]:
    """``PORT``, ``HOST:PORT`` or ``[V6]:PORT`` -> (host, port); host defaults to 127.0.0.1."""
    s = spec.strip()
    host = "127.0.0.1"
    if s.startswith("["):
        end = s.find("]")
        if end < 0 or not s[end + 1:].startswith(":"):
            raise UknfvError(f"bad --listen '{spec}': expected [HOST:]PORT")
        host, s = s[1:end], s[end + 2:]
    elif ":" in s:
        host, _, s = s.rpartition(":")
        host = host or "0.0.0.0"
    if not s.isdigit() or int(s) > 65535:
        raise UknfvError(f"bad --listen '{spec}': expected [HOST:]PORT with PORT 0-65535")
    return host, int(s)


def make_server(collector: Collector, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering GET /metrics (503 when the vNF is gone, 404 elsewhere)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "uknfv-metrics"

        def _send(self, code: int, body: str, ctype: str = "text/plain; charset=utf-8") -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self) -> None:   # noqa: N802
            path = self.path.split("?", 1)[0]
            if path != "/metrics":
                self._send(404, "not found: the metrics are at /metrics\n")
                return
            try:
                body = collector.collect()
            except UknfvError as e:
                self._send(503, f"vNF unavailable: {e.message}\n")
                return
            self._send(200, body, CONTENT_TYPE)

        do_HEAD = do_GET

        def log_message(self, fmt: str, *args) -> None:
            pass

    import socket
    cls = ThreadingHTTPServer       # daemon_threads: a stuck scrape never blocks exit
    if ":" in host:
        class V6(ThreadingHTTPServer):
            address_family = socket.AF_INET6
        cls = V6
    try:
        return cls((host, port), Handler)
    except OSError as e:
        raise UknfvError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None


def serve(collector: Collector, listen: str) -> None:
    """Serve /metrics until interrupted (Ctrl-C returns)."""
    host, port = parse_listen(listen)
    srv = make_server(collector, host, port)
    h, p = srv.server_address[:2]
    shown = f"[{h}]" if ":" in h else h
    print(f"serving http://{shown}:{p}/metrics for {collector.sock}", file=sys.stderr, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
