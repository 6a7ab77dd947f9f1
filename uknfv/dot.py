"""Graphviz rendering of an element graph, ports labelled."""
from __future__ import annotations

import shutil
import subprocess

from .diag import UknfvError
from .graph import Graph


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _esc_record(s: str) -> str:
    out = []
    for ch in s:
        if ch in '{}|<>" \\':
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def to_dot(g: Graph) -> str:
    lines = ["digraph uknfv {", "  rankdir=LR;",
             '  node [shape=record, fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for inst in g.instances:
        ins = "|".join(f"<i{p}> {p}{'' if inst.in_proc[p] == 'push' else ' (pull)'}"
                       for p in range(inst.ninputs))
        outs = "|".join(f"<o{p}> {p}{'' if inst.out_proc[p] == 'push' else ' (pull)'}"
                        for p in range(inst.noutputs))
        cfg = inst.config.strip().replace("\n", " ")
        if len(cfg) > 40:
            cfg = cfg[:37] + "..."
        title = _esc_record(f"{inst.name} :: {inst.cls}") + ("\\n" + _esc_record(f"({cfg})") if cfg else "")
        parts = []
        if ins:
            parts.append("{" + ins + "}")
        parts.append(title)
        if outs:
            parts.append("{" + outs + "}")
        lines.append(f"  {_q(inst.name)} [label=\"{{{'|'.join(parts)}}}\"];".replace('label="{', 'label="{', 1))
    for c in g.conns:
        style = "" if c.src.out_proc[c.sport] == "push" else " [style=dashed]"
        lines.append(f"  {_q(c.src.name)}:o{c.sport} -> {_q(c.dst.name)}:i{c.dport}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(g: Graph, path: str) -> None:
    text = to_dot(g)
    if path.endswith(".dot") or path.endswith(".gv"):
        with open(path, "w") as f:
            f.write(text)
        return
    fmt = path.rsplit(".", 1)[-1] if "." in path else ""
    if fmt not in ("svg", "png", "pdf"):
        raise UknfvError(f"graph: cannot tell the format of '{path}' (use .svg, .png, .pdf or .dot)")
    if shutil.which("dot") is None:
        raise UknfvError("graph: Graphviz 'dot' is needed for ." + fmt + " output "
                         "(apt-get install graphviz), or write .dot")
    res = subprocess.run(["dot", f"-T{fmt}", "-o", path], input=text, text=True,
                         capture_output=True)
    if res.returncode != 0:
        raise UknfvError(f"graph: dot failed: {res.stderr.strip()}")
