"""The DPDK target: the pipeline as a DPDK process (Debian's libdpdk, pkg-config).

Packet I/O: rte_ethdev, so any poll-mode driver the EAL offers: vhost-user
(net_vhost), virtio-user, af_packet, tap, pcap files (net_pcap), rings,
null devices, physical NICs by PCI address.  Packets are rte_mbufs: the
`struct pkt` of each lives in the mbuf's private area and points into its
buffer, so received frames go through the pipeline and out again without a
copy (libs/dpdkio).  The process runs on one lcore, with or without
hugepages (`--no-huge`).
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import kconfig, libs
from ..codegen.emit import Emitted, emit
from ..diag import UknfvError
from ..graph import Graph
from .cbuild import OPT_FLAGS, WARN_FLAGS, CBuild

NAME = "dpdk"
BUFFER_HEADER = "uknfv/dpdkpkt.h"
TARGET_LIBS = ("dpdkio",)


INSTALL_HINT = "apt-get install libdpdk-dev dpdk pkg-config"


@dataclass
class Built:
    path: Path
    emitted: Emitted
    libs: list[str]
    cflags: list[str]


@lru_cache(maxsize=None)
def pkg_config() -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """DPDK's compiler and linker flags, and its version, from pkg-config."""
    if shutil.which("pkg-config") is None:
        raise UknfvError(f"the dpdk target needs pkg-config and Debian's libdpdk: {INSTALL_HINT}")
    out = []
    for what in ("--cflags", "--libs", "--modversion"):
        res = subprocess.run(["pkg-config", what, "libdpdk"], capture_output=True, text=True)
        if res.returncode != 0:
            raise UknfvError(f"the dpdk target needs DPDK's development files (pkg-config cannot "
                             f"find libdpdk): {INSTALL_HINT}")
        out.append(res.stdout.strip())
    return tuple(shlex.split(out[0])), tuple(shlex.split(out[1])), out[2]


def _header_dirs() -> list[str]:
    # rt.c includes uknfv/pktpool.h (it uses nothing from it): give it the header
    # only; the packets of this target are mbufs, not pktpool buffers.
    return [f"-I{libs.load('pktpool').include}"]


def libraries(g: Graph) -> list[libs.Lib]:
    return libs.closure(emit(g, BUFFER_HEADER, TARGET_LIBS).libs, hosted=True)


def build(g: Graph, opt: str = "O2") -> Built:
    dpdk_cflags, dpdk_libs, _ = pkg_config()
    em = emit(g, BUFFER_HEADER, TARGET_LIBS)
    chosen = libs.closure(em.libs, hosted=True)
    # DPDK's flags first: its -march (a baseline) must not override --opt release's.
    cflags = (list(dpdk_cflags) + WARN_FLAGS + OPT_FLAGS[opt] + kconfig.options(chosen, g.file).cflags()
              + _header_dirs())
    if opt != "sanitize":
        cflags.append("-g0")
    ldflags = (["-fsanitize=address,undefined"] if opt == "sanitize" else []) + list(dpdk_libs)
    cb = CBuild(name="vnf", source=em.source, libs=chosen, cflags=cflags, ldflags=ldflags,
                target=NAME)
    return Built(cb.compile(), em, [l.name for l in chosen], cflags)
