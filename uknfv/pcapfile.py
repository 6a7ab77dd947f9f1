"""Minimal pcap reading/writing in Python (frames only), for tests and tools."""
from __future__ import annotations

import struct
from pathlib import Path

from .diag import UknfvError


def read_frames(path: str | Path) -> list[bytes]:
    """The captured bytes of every record of a pcap file."""
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise UknfvError(f"{path}: not a pcap file (too short)")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise UknfvError(f"{path}: not a pcap file")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if off + caplen > len(data):
            break
        frames.append(data[off:off + caplen])
        off += caplen
    return frames


def linktype(path: str | Path) -> int:
    data = Path(path).read_bytes()[:24]
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    return struct.unpack(endian + "I", data[20:24])[0]


def write_frames(path: str | Path, frames: list[bytes], link: int = 1, t0: float = 1_700_000_000.0) -> None:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link)]
    for i, f in enumerate(frames):
        ts = t0 + i * 0.001
        out.append(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6), len(f), len(f)))
        out.append(bytes(f))
    Path(path).write_bytes(b"".join(out))
