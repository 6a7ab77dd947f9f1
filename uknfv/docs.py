"""Element documentation as `uknfv elements NAME` prints it."""
from __future__ import annotations

import textwrap

from .element import Element


def element_doc(spec: Element) -> str:
    lines = [f"{spec.name}  ({spec.group})", ""]
    if spec.rest is not None:
        synopsis = f"{spec.name}({spec.rest.keyword}, ...)"
    else:
        pos = [a.keyword for a in spec.args if a.positional]
        kw = [a.keyword for a in spec.args if not a.positional]
        items = pos + ([f"KEYWORDS"] if kw else [])
        synopsis = f"{spec.name}({', '.join(items)})" if items else spec.name
    lines += [f"  {synopsis}", f"  ports {spec.ports}, processing {spec.processing}",
              f"  targets: {', '.join(sorted(spec.targets))}"]
    if spec.libs:
        lines.append(f"  libraries: {', '.join(spec.libs)}")
    lines += ["", textwrap.dedent(spec.doc).strip(), ""]
    args = list(spec.args) + ([spec.rest] if spec.rest else [])
    if args:
        lines.append("Arguments:")
        for a in args:
            flags = []
            if a.positional:
                flags.append("positional")
            if a.required:
                flags.append("mandatory")
            elif a.default is not None and not isinstance(a.default, (bytes,)):
                flags.append(f"default {a.default}")
            lines.append(f"  {a.keyword:<12} {a.type.name}{' (' + ', '.join(flags) + ')' if flags else ''}")
            if a.doc:
                lines.append(textwrap.indent(textwrap.fill(a.doc, 68), " " * 15))
        lines.append("")
    if spec.handlers:
        lines.append("Handlers:")
        for h in spec.handlers:
            rw = ("r" if h.read else "") + ("w" if h.write else "")
            lines.append(f"  {h.name:<12} ({rw}) {h.doc}")
    return "\n".join(lines).rstrip() + "\n"
