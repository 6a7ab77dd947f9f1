"""The element graph: instances, connections, and the checks Click makes.

From an elaborated configuration this builds typed instances (arguments
parsed by each spec), decides each instance's port counts, resolves
push/pull/agnostic processing, and reports every problem at once with
locations: unknown classes, bad arguments, port counts, unconnected ports,
push/pull conflicts, multiple connections where Click forbids them, and
elements the chosen target cannot run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .diag import ErrorCollector, Loc, UknfvError
from .element import Instance, parse_element_args, parse_port_count, processing_codes
from .lang import args as argsmod
from .lang.flat import FlatConfig, FlatConnection
from . import registry

# require() packages that Click distributions provide and whose elements
# (those uknfv has) mean the same thing here.
KNOWN_PACKAGES = {"userlevel", "linuxmodule", "ip", "ip6", "ethernet", "icmp", "standard",
                  "tcpudp", "analysis", "app", "aqm", "local", "threads", "simple",
                  "test", "dpdk", "fastclick", "uknfv", "grid", "wifi", "etherswitch"}


@dataclass
class Conn:
    src: Instance
    sport: int
    dst: Instance
    dport: int
    loc: Loc


@dataclass
class Graph:
    instances: list[Instance] = field(default_factory=list)
    by_name: dict[str, Instance] = field(default_factory=dict)
    conns: list[Conn] = field(default_factory=list)
    file: str = ""
    target: str = "linux"

    def outputs_of(self, inst: Instance, port: int) -> list[Conn]:
        return [c for c in self.conns if c.src is inst and c.sport == port]

    def inputs_of(self, inst: Instance, port: int) -> list[Conn]:
        return [c for c in self.conns if c.dst is inst and c.dport == port]


def _cid(index: int, name: str) -> str:
    return f"e{index}_" + re.sub(r"[^A-Za-z0-9]", "_", name)[:40]


def _check_requires(flat: FlatConfig, errs: ErrorCollector) -> None:
    for req in flat.requires:
        for piece in argsmod.split_args(req.what):
            words = piece.text.split()
            if not words:
                continue
            if words[0] == "package" and len(words) == 2:
                pkg = argsmod.unquote(words[1]).decode("latin-1")
            elif words[0] in ("library", "compact_config", "version", "uknfv"):
                continue
            elif len(words) == 1:
                pkg = argsmod.unquote(words[0]).decode("latin-1")
            else:
                errs.add(f"require: cannot parse '{piece.text}' (expected package NAME)", req.loc)
                continue
            if pkg not in KNOWN_PACKAGES:
                errs.add(f"require: unknown package '{pkg}' (uknfv provides: "
                         f"{', '.join(sorted(KNOWN_PACKAGES))})", req.loc)


def build_graph(flat: FlatConfig, target: str = "linux") -> Graph:
    """Turn an elaborated configuration into a checked, typed graph."""
    errs = ErrorCollector()
    g = Graph(file=flat.file, target=target)
    _check_requires(flat, errs)

    for i, fe in enumerate(flat.elements.values()):
        spec = registry.lookup(fe.cls)
        if spec is None:
            hint = _suggest(fe.cls)
            errs.add(f"unknown element class '{fe.cls}'" + (f" (did you mean {hint}?)" if hint else ""),
                     fe.loc)
            continue
        if target not in spec.targets:
            errs.add(f"{fe.name} :: {spec.name} cannot run on the {target} target "
                     f"(it supports: {', '.join(sorted(spec.targets))})", fe.loc)
        inst = Instance(name=fe.name, spec=spec, config=fe.config, loc=fe.loc, index=i,
                        cid=_cid(i, fe.name), flat=fe)
        try:
            parse_element_args(inst, argsmod.split_args, argsmod.split_keyword, argsmod.arg_loc)
            variant = spec.for_target(target)
            if variant is not spec:
                # Same arguments, the target's own C (e.g. FromDump replayed over a port).
                inst.spec = variant
            inst.spec.configure(inst)
        except UknfvError as e:
            errs.extend(e)
            continue
        g.instances.append(inst)
        g.by_name[inst.name] = inst

    for fc in flat.connections:
        src, dst = g.by_name.get(fc.src), g.by_name.get(fc.dst)
        if src is None or dst is None:
            if fc.src not in flat.elements or fc.dst not in flat.elements:
                errs.add(f"connection names an unknown element", fc.loc)
            continue  # the element itself had an error already
        g.conns.append(Conn(src, fc.src_port, dst, fc.dst_port, fc.loc))

    errs.raise_if_any()
    _resolve_ports(g, errs)
    errs.raise_if_any()
    _resolve_processing(g, errs)
    errs.raise_if_any()
    return g


def _suggest(name: str) -> str | None:
    import difflib
    m = difflib.get_close_matches(name, list(registry.library()), n=1, cutoff=0.75)
    return m[0] if m else None


def _port_word(n: int, kind: str) -> str:
    return f"{n} {kind}{'s' if n != 1 else ''}"


def _resolve_ports(g: Graph, errs: ErrorCollector) -> None:
    for inst in g.instances:
        used_in = {c.dport for c in g.conns if c.dst is inst}
        used_out = {c.sport for c in g.conns if c.src is inst}
        nin = max(used_in) + 1 if used_in else 0
        nout = max(used_out) + 1 if used_out else 0
        rin, rout = parse_port_count(inst.spec.ports)
        # Too few connections: take the smallest count the spec allows, so
        # that "input 0 unused" is reported rather than a count error.
        nin = max(nin, rin.lo)
        nout = max(nout, rout.lo)
        if rout.same_as_other:
            nout = max(nout, nin)
        nin, nout = inst.spec.port_counts(inst, nin, nout)
        ok = True
        if not rin.allows(nin):
            errs.add(f"{inst.name} :: {inst.cls} has {rin} input{'s' if rin.lo != 1 or rin.hi != 1 else ''}, "
                     f"but input {nin - 1} is connected", _conn_loc(g, inst, "in", nin - 1, inst.loc))
            ok = False
        if rout.same_as_other and nout != nin:
            errs.add(f"{inst.name} :: {inst.cls} needs as many outputs as inputs ({nin}), "
                     f"but has {nout}", inst.loc)
            ok = False
        elif not rout.allows(nout):
            errs.add(f"{inst.name} :: {inst.cls} has {rout} output{'s' if rout.lo != 1 or rout.hi != 1 else ''}, "
                     f"but output {nout - 1} is connected", _conn_loc(g, inst, "out", nout - 1, inst.loc))
            ok = False
        if not ok:
            continue
        for p in sorted(used_in):
            if p >= nin:
                errs.add(f"{inst.name} :: {inst.cls} has {_port_word(nin, 'input')}, "
                         f"but input {p} is connected", _conn_loc(g, inst, "in", p, inst.loc))
        for p in sorted(used_out):
            if p >= nout:
                errs.add(f"{inst.name} :: {inst.cls} has {_port_word(nout, 'output')}, "
                         f"but output {p} is connected", _conn_loc(g, inst, "out", p, inst.loc))
        for p in range(nin):
            if p not in used_in:
                errs.add(f"{inst.name} :: {inst.cls} input {p} is not connected", inst.loc)
        for p in range(nout):
            if p not in used_out:
                errs.add(f"{inst.name} :: {inst.cls} output {p} is not connected", inst.loc)
        inst.ninputs, inst.noutputs = nin, nout


def _conn_loc(g: Graph, inst: Instance, side: str, port: int, default: Loc) -> Loc:
    for c in g.conns:
        if side == "in" and c.dst is inst and c.dport == port:
            return c.loc
        if side == "out" and c.src is inst and c.sport == port:
            return c.loc
    return default


def _resolve_processing(g: Graph, errs: ErrorCollector) -> None:
    """Click's push/pull resolution.

    Each port starts as push ('h'), pull ('l') or agnostic ('a').  All
    agnostic ports of one element must end up the same (Click's default
    flow code "x/x"), and both ends of a connection must agree.  Constraints
    propagate to a fixed point; what stays agnostic becomes push.
    """
    codes: dict[tuple[int, str, int], str] = {}
    for inst in g.instances:
        ins, outs = processing_codes(inst.spec.processing, inst.ninputs, inst.noutputs)
        for p, c in enumerate(ins):
            codes[(id(inst), "i", p)] = c
        for p, c in enumerate(outs):
            codes[(id(inst), "o", p)] = c
    agnostic_of: dict[int, list[tuple[int, str, int]]] = {}
    for key, c in codes.items():
        if c == "a":
            agnostic_of.setdefault(key[0], []).append(key)
    by_id = {id(i): i for i in g.instances}
    # The element whose agnostic group got its type first, for messages.
    changed = True
    while changed:
        changed = False
        for c in g.conns:
            ko, ki = (id(c.src), "o", c.sport), (id(c.dst), "i", c.dport)
            a, b = codes[ko], codes[ki]
            if a == "a" and b != "a":
                _set_group(codes, agnostic_of, ko, b)
                changed = True
            elif b == "a" and a != "a":
                _set_group(codes, agnostic_of, ki, a)
                changed = True
    for key in codes:
        if codes[key] == "a":
            _set_group(codes, agnostic_of, key, "h")
    word = {"h": "push", "l": "pull"}
    for c in g.conns:
        a, b = codes[(id(c.src), "o", c.sport)], codes[(id(c.dst), "i", c.dport)]
        if a != b:
            errs.add(f"'{c.src.name}' {word[a]} output {c.sport} is connected to "
                     f"'{c.dst.name}' {word[b]} input {c.dport}", c.loc,
                     [(f"{c.src.name} :: {c.src.cls} is declared here", c.src.loc),
                      (f"{c.dst.name} :: {c.dst.cls} is declared here", c.dst.loc)])
    for inst in g.instances:
        inst.in_proc = [word[codes[(id(inst), "i", p)]] for p in range(inst.ninputs)]
        inst.out_proc = [word[codes[(id(inst), "o", p)]] for p in range(inst.noutputs)]
        for p in range(inst.noutputs):
            outs = g.outputs_of(inst, p)
            if inst.out_proc[p] == "push" and len(outs) > 1:
                errs.add(f"'{inst.name}' push output {p} is connected more than once "
                         f"(use Tee to duplicate packets)", outs[1].loc)
            if inst.out_proc[p] == "pull" and len(outs) > 1:
                errs.add(f"'{inst.name}' pull output {p} is connected more than once", outs[1].loc)
        for p in range(inst.ninputs):
            ins = g.inputs_of(inst, p)
            if inst.in_proc[p] == "pull" and len(ins) > 1:
                errs.add(f"'{inst.name}' pull input {p} is connected more than once "
                         f"(a pull input can pull from only one output)", ins[1].loc)
    del by_id


def _set_group(codes, agnostic_of, key, value) -> None:
    for k in agnostic_of.get(key[0], []):
        if codes[k] == "a":
            codes[k] = value
