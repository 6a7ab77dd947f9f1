"""The unikernel target: the pipeline as a bootable x86_64 ELF for QEMU/KVM.

The image holds the generated pipeline and only the micro-libraries it
needs (see uknfv/libs/KVM.md): freestanding libc, PVH boot, allocator,
console, time, interrupts, PCI/virtio-mmio discovery, uknetdev with the
virtio-net driver, and ukmain.  QEMU starts it with `-kernel` (microvm, or
q35 with qboot).  The build writes the image (no debug info, sections
garbage-collected) and a separate `.dbg` file with the symbols.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .. import kconfig, libs
from ..codegen.emit import Emitted, emit
from ..diag import UknfvError
from ..graph import Graph
from .cbuild import WARN_FLAGS, CBuild, compiler

NAME = "kvm"
BUFFER_HEADER = "uknfv/pktpool.h"
TARGET_LIBS = ("ukmain",)

OPT_FLAGS = {"O2": ["-O2"], "release": ["-O2"], "size": ["-Os"], "sanitize": ["-O2"]}
FREESTANDING = ["-ffreestanding", "-nostdlib", "-nostdinc", "-mno-red-zone", "-fno-pic", "-fno-pie",
                "-fno-stack-protector", "-ffunction-sections", "-fdata-sections",
                "-fno-asynchronous-unwind-tables", "-g"]


@dataclass
class Built:
    path: Path                      # the bootable image (stripped)
    debug: Path                     # the same ELF's debug info
    emitted: Emitted
    libs: list[str]
    cflags: list[str]
    meta: dict = field(default_factory=dict)


def _gcc_include(cc: str) -> str:
    res = subprocess.run([cc, "-print-file-name=include"], capture_output=True, text=True)
    path = res.stdout.strip()
    if res.returncode != 0 or not os.path.isdir(path):
        raise UknfvError(f"cannot find {cc}'s freestanding headers (stddef.h, stdint.h)")
    return path


def _tool(name: str) -> str:
    if shutil.which(name) is None:
        raise UknfvError(f"'{name}' is needed to build unikernel images (apt-get install binutils)")
    return name


RX_RING = 256          # CONFIG_UKMAIN_RING_SIZE's default
PER_BUFFER = 2176 + 160   # buffer + struct pkt + free-list slot


def memory_mb(nics: int, static_bytes: int = 0) -> int:
    """Guest memory the image asks for.  Every NIC keeps a full RX ring of
    pool buffers; the guest gives the pool half of its free memory, so ask for
    twice the buffers the rings and a working set need, plus the image and
    its rings, plus what the image itself occupies once loaded (element
    tables such as a NAT's flows live in its .bss).  Never below 8 MB (what
    the issue budgets for a vNF)."""
    from math import ceil
    buffers = (nics + 2) * RX_RING
    return max(8, ceil(buffers * PER_BUFFER * 2 / (1 << 20)) + 2 + ceil(static_bytes / (1 << 20)))


def loaded_bytes(elf: Path) -> int:
    """Sum of the PT_LOAD segments' memory sizes of a 64-bit ELF (text, data, bss)."""
    import struct
    data = elf.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return 0
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    total = 0
    for i in range(phnum):
        off = phoff + i * phentsize
        p_type, = struct.unpack_from("<I", data, off)
        if p_type == 1:     # PT_LOAD
            total += struct.unpack_from("<Q", data, off + 0x28)[0]   # p_memsz
    return total


def libraries(g: Graph) -> list[libs.Lib]:
    return libs.closure(emit(g, BUFFER_HEADER, TARGET_LIBS).libs)


def build(g: Graph, opt: str = "O2") -> Built:
    cc = compiler()
    em = emit(g, BUFFER_HEADER, TARGET_LIBS)
    chosen = libs.closure(em.libs)
    plat = libs.load("ukplat")
    opts = kconfig.options(chosen, g.file)
    cflags = (WARN_FLAGS + OPT_FLAGS.get(opt, ["-O2"]) + FREESTANDING + ["-isystem", _gcc_include(cc)]
              + opts.cflags())
    ldflags = ["-static", "-no-pie", "-Wl,--gc-sections", "-Wl,--build-id=none",
               "-Wl,-z,noexecstack", "-Wl,-z,max-page-size=0x1000",
               f"-Wl,-T,{plat.path / 'kvm.ld'}", "-lgcc"]
    cb = CBuild(name="vnf.elf", source=em.source, libs=chosen, cflags=cflags, ldflags=ldflags,
                target=NAME)
    elf = cb.compile()
    image, dbg = elf.with_suffix(".img"), elf.with_suffix(".dbg")
    if not image.exists():
        for cmd in ([_tool("objcopy"), "--only-keep-debug", str(elf), str(dbg)],
                    [_tool("objcopy"), "--strip-all", "--remove-section=.comment",
                     f"--add-gnu-debuglink={dbg}", str(elf), str(image) + ".tmp"]):
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                raise UknfvError(f"objcopy failed: {res.stderr.strip()}")
        os.replace(str(image) + ".tmp", image)
    meta = {
        "target": NAME,
        "image_size": image.stat().st_size,
        "libraries": [l.name for l in chosen],
        "options": {"opt": opt, "kconfig": opts.values,
                    "saved": str(opts.saved) if opts.saved else None, "cflags": cflags},
        "ports": [{"name": n, "nic": i, "rx": bool(b & 1), "tx": bool(b & 2)}
                  for i, (n, b) in enumerate(em.ports)],
        "memory_mb": memory_mb(len(em.ports), loaded_bytes(image)),
        "loaded_bytes": loaded_bytes(image),
        "handlers": [f"{e}.{h}" for e, h in em.handlers],
    }
    return Built(image, dbg, em, [l.name for l in chosen], cflags, meta)
