"""Print an elaborated configuration back as Click text, like ``click-flatten``.

The output declares every element on its own line, in order, then lists one
connection per line, omitting ``[0]`` ports as Click does::

    c :: Classifier(12/0800, -);
    Discard@2 :: Discard;
    c [1] -> Discard@2;

It parses and elaborates back to the same configuration.
"""
from __future__ import annotations

from .args import is_comment_start, is_word, quote, split_args
from .flat import FlatConfig, FlatConnection, FlatElement, Require


def unparse(flat: FlatConfig) -> str:
    """The whole configuration as re-parsable Click text."""
    lines = [_require_line(r) for r in flat.requires]
    lines += [_element_line(el) for el in flat.elements.values()]
    lines += [_connection_line(c) for c in flat.connections]
    return "\n".join(lines) + "\n" if lines else ""


def _require_line(req: Require) -> str:
    if req.kind == "compact_config":
        return "require(compact_config);"
    value = req.value if is_word(req.value) else quote(req.value)
    return f"require({req.kind} {value});"


def _has_comment(config: str) -> bool:
    return any(is_comment_start(config, i) for i in range(len(config)))


def _config_text(config: str) -> str:
    """The config on one line when it spans lines or holds comments."""
    if "\n" not in config and "\r" not in config and not _has_comment(config):
        return config.strip()
    return ", ".join(arg.text for arg in split_args(config))


def _element_line(el: FlatElement) -> str:
    config = _config_text(el.config)
    return f"{el.name} :: {el.cls}({config});" if config else f"{el.name} :: {el.cls};"


def _connection_line(c: FlatConnection) -> str:
    src = f"{c.src} [{c.src_port}]" if c.src_port else c.src
    dst = f"[{c.dst_port}] {c.dst}" if c.dst_port else c.dst
    return f"{src} -> {dst};"
