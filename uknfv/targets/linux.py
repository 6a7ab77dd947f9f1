"""The Linux target: the pipeline as a standalone Linux process.

Packet I/O: pcap files (FromDump/ToDump and pcap-bound ports), AF_PACKET
interfaces through TPACKET rings, TAP devices, and vhost-user back-ends
(`virtio-user:PATH`) driven by the unikernel's own virtio-net driver.
Buffers come from a fixed pool (libs/pktpool).

The build is *hosted*: a library's lib.toml may give `hosted_sources` and
`hosted_depends`, used instead of `sources`/`depends` here.  That is how
the unikernel libraries ukvirtio (core only, no PCI/MMIO), ukvirtionet and
uknetdev are compiled into a process without ukplat/ukpci/ukintr/uklibc:
their platform headers (uk/io.h, uk/plat.h, uk/alloc.h) come from
ukvhostuser instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import kconfig, libs
from ..codegen.emit import Emitted, emit
from ..graph import Graph
from .cbuild import OPT_FLAGS, WARN_FLAGS, CBuild

NAME = "linux"
BUFFER_HEADER = "uknfv/pktpool.h"
TARGET_LIBS = ("linuxio",)



@dataclass
class Built:
    path: Path
    emitted: Emitted
    libs: list[str]
    cflags: list[str]


def libraries(g: Graph) -> list[libs.Lib]:
    return libs.closure(emit(g, BUFFER_HEADER, TARGET_LIBS).libs, hosted=True)


def build(g: Graph, opt: str = "O2") -> Built:
    em = emit(g, BUFFER_HEADER, TARGET_LIBS)
    chosen = libs.closure(em.libs, hosted=True)
    cflags = WARN_FLAGS + OPT_FLAGS[opt] + kconfig.options(chosen, g.file).cflags() + ["-DUKNFV_HAVE_AFPACKET", "-DUKNFV_HAVE_TAP", "-DUKNFV_HAVE_VIRTIO_USER"]
    if opt != "sanitize":
        cflags.append("-g0")
    ldflags = ["-fsanitize=address,undefined"] if opt == "sanitize" else []
    cb = CBuild(name="vnf", source=em.source, libs=chosen, cflags=cflags, ldflags=ldflags,
                target=NAME)
    return Built(cb.compile(), em, [l.name for l in chosen], cflags)
