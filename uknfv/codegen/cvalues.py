"""Python values as C literals, for templates (registered as jinja filters)."""
from __future__ import annotations


def c_str(value: str | bytes) -> str:
    """A C string literal (escapes everything non-printable)."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    out = []
    for b in value:
        c = chr(b)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= b < 127 and c != "?":
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def c_bytes(value: bytes, per_line: int = 12) -> str:
    """A brace initializer for a uint8_t array: {0x01, 0x02, ...}."""
    if not value:
        return "{0}"
    items = [f"0x{b:02x}" for b in value]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "{" + (",\n\t".join(lines) if len(lines) > 1 else lines[0]) + "}"


def c_u32(value: int) -> str:
    return f"0x{value & 0xFFFFFFFF:08x}u"


def c_u64(value: int) -> str:
    return f"{value}ull"


def c_ident(text: str) -> str:
    import re
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


FILTERS = {"c_str": c_str, "c_bytes": c_bytes, "c_u32": c_u32, "c_u64": c_u64, "c_ident": c_ident}
