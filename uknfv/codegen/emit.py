"""Emit one C translation unit for a checked graph.

Every element instance becomes a handful of ``static inline`` functions
named after it (``e3_rt__push0``, ``e3_rt__pull1`` ...); a connection is
nothing but a direct call from one to the next, so the compiler sees, and
can inline, the whole path a packet takes.  Element C comes from each
spec's jinja template rendered with the instance's constants:

    E            the instance's C prefix (prefix every symbol with it)
    a            parsed arguments, by keyword (a.STOP, a.DATA ...)
    v            what the spec's configure() computed (inst.vars)
    inst, name   the instance and its name; nin/nout the port counts
    out[j]       the function to call to push a packet out of output j
    inp[i]       the function to call to pull a packet from input i
    in_push[i], out_push[j]   the resolved processing of each port
and filters c_str, c_bytes, c_u32, c_u64, c_ident.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2

from ..diag import UknfvError
from ..element import Element, Instance
from ..graph import Graph
from .cvalues import FILTERS, c_str

TEMPLATES = Path(__file__).parent / "templates"

BASE_LIBS = ("pkt", "rt")


@dataclass
class Emitted:
    source: str
    libs: list[str]
    ports: list[tuple[str, int]]          # logical name, RT_PORT_* bits
    handlers: list[tuple[str, str]]       # element, handler
    headers: list[str] = field(default_factory=list)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True,
                             loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    env.filters.update(FILTERS)
    return env


_ENV = _env()


@lru_cache(maxsize=None)
def _element_template(cls: type[Element]) -> jinja2.Template:
    return _ENV.from_string(cls.c)


def push_fn(inst: Instance, port: int) -> str:
    return f"{inst.cid}_push{port}"


def pull_fn(inst: Instance, port: int) -> str:
    return f"{inst.cid}_pull{port}"


def _context(g: Graph, inst: Instance) -> dict:
    out, inp = [], []
    for j in range(inst.noutputs):
        conns = g.outputs_of(inst, j)
        out.append(push_fn(conns[0].dst, conns[0].dport) if inst.out_proc[j] == "push" else None)
    for i in range(inst.ninputs):
        conns = g.inputs_of(inst, i)
        inp.append(pull_fn(conns[0].src, conns[0].sport) if inst.in_proc[i] == "pull" else None)
    return dict(E=inst.cid, a=inst.args, v=inst.vars, inst=inst, name=inst.name,
                name_c=c_str(inst.name), nin=inst.ninputs, nout=inst.noutputs,
                out=out, inp=inp,
                in_push=[p == "push" for p in inst.in_proc],
                out_push=[p == "push" for p in inst.out_proc])


def _handler_fns(inst: Instance, ctx: dict) -> tuple[str, list[dict]]:
    code, table = [], []
    for h in inst.spec.handlers_for(inst):
        entry = {"element": inst.name, "name": h.name, "read": "NULL", "write": "NULL",
                 "doc": h.doc}
        if h.read is not None:
            expr = _ENV.from_string(h.read).render(**ctx)
            fn = f"{inst.cid}_hr_{h.name.replace('-', '_')}"
            if h.kind == "fn":
                fn = expr
            elif h.kind == "u64":
                code.append(f"static int {fn}(char *buf, size_t n)\n"
                            f"{{\n\treturn rt_fmt_u64(buf, n, (uint64_t)({expr}));\n}}\n")
            elif h.kind == "str":
                code.append(f"static int {fn}(char *buf, size_t n)\n"
                            f"{{\n\treturn snprintf(buf, n, \"%s\", {expr});\n}}\n")
            else:
                raise ValueError(f"{inst.cls}: unknown handler kind {h.kind}")
            entry["read"] = fn
        if h.write is not None:
            entry["write"] = _ENV.from_string(h.write).render(**ctx)
        table.append(entry)
    return "\n".join(code), table


def emit(g: Graph, buffer_header: str, extra_libs: tuple[str, ...] = ()) -> Emitted:
    """Render the pipeline's C source for graph g."""
    libs: list[str] = list(BASE_LIBS) + list(extra_libs)
    ports: dict[str, int] = {}
    # Logical ports first: elements see their port index as v.port.
    for inst in g.instances:
        lp = getattr(inst.spec, "logical_port", None)
        if lp is not None:
            pname, bits = lp(inst)
            if pname not in ports:
                ports[pname] = 0
            ports[pname] |= bits
    port_index = {name: i for i, name in enumerate(ports)}
    for inst in g.instances:
        if getattr(inst.spec, "logical_port", None) is not None:
            inst.vars["port"] = port_index[inst.spec.logical_port(inst)[0]]

    blocks, handlers, headers = [], [], []
    for inst in g.instances:
        for lib in inst.spec.libs:
            if lib not in libs:
                libs.append(lib)
        for h in getattr(inst.spec, "headers", ()):
            if h not in headers:
                headers.append(h)
        ctx = _context(g, inst)
        try:
            body = _element_template(type(inst.spec)).render(**ctx)
        except jinja2.TemplateError as e:  # a bug in an element spec, not user input
            raise RuntimeError(f"element {inst.cls}: template error: {e}") from e
        hcode, htable = _handler_fns(inst, ctx)
        handlers.extend(htable)
        blocks.append(dict(ctx, body=body, handlers=hcode))

    for b in blocks:
        b["task"] = b["inst"].spec.task_kind(b["inst"])
    tasks = [b for b in blocks if b["task"]]
    src = _ENV.get_template("pipeline.c.j2").render(
        file=g.file, target=g.target, blocks=blocks, tasks=tasks,
        ports=[(n, bits) for n, bits in ports.items()], handlers=handlers,
        buffer_header=buffer_header, headers=headers,
        nstop=sum(1 for i in g.instances if i.spec.is_stop_source(i)),
        ntimed=sum(1 for i in g.instances if i.spec.timed),
        push_fn=push_fn, pull_fn=pull_fn)
    return Emitted(src, libs, list(ports.items()), [(h["element"], h["name"]) for h in handlers],
                   headers)
