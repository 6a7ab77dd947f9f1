"""The unikernel platform libraries boot for real under QEMU.

Builds the self-test kernel (tests/targets/data/ukplat_selftest.c) with the
kvm target's freestanding flags (uknfv/libs/KVM.md) from the library
folders (uklibc, ukconsole, ukplat, uktime, ukintr, ukalloc, as their
lib.toml files declare them), boots it with `-kernel` (PVH) under QEMU
microvm and under q35 with qboot, and checks what it prints and how QEMU
exits: isa-debug-exit turns uk_exit(code) into status (code << 1) | 1.

Always TCG: these tests must not depend on /dev/kvm (and some hosts' KVM,
e.g. kvm_pvm, cannot run the guest).  Every QEMU is started with a timeout
and killed if it outlives it.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from uknfv import libs

QEMU = shutil.which("qemu-system-x86_64")
QBOOT = Path("/usr/share/qemu/qboot.rom")
DATA = Path(__file__).parent / "data"
CC = os.environ.get("CC", "cc")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(QEMU is None, reason="needs qemu-system-x86_64 (apt-get install qemu-system-x86)"),
    pytest.mark.skipif(shutil.which(CC) is None, reason=f"needs a C compiler ({CC})"),
]

PLATFORM_LIBS = ["uklibc", "ukconsole", "ukplat", "uktime", "ukintr", "ukalloc"]
BOOT_TIMEOUT = 60


def _freestanding_flags() -> list[str]:
    inc = subprocess.run([CC, "-print-file-name=include"], capture_output=True, text=True,
                         check=True).stdout.strip()
    return ["-ffreestanding", "-nostdlib", "-nostdinc", "-isystem", inc, "-mno-red-zone",
            "-fno-pic", "-fno-pie", "-fno-stack-protector", "-ffunction-sections",
            "-fdata-sections", "-O2", "-std=gnu11", "-Wall", "-Wextra",
            "-Werror=implicit-function-declaration"]


def build_kernel(main_c: Path, out: Path, names: list[str]) -> Path:
    chosen = libs.closure(names)
    plat = libs.load("ukplat")
    cmd = [CC, *_freestanding_flags()]
    for lib in chosen:
        if lib.include.exists():
            cmd.append(f"-I{lib.include}")
        cmd.extend(lib.cflags)
    cmd.append(str(main_c))
    cmd += [str(p) for lib in chosen for p in lib.source_paths()]
    cmd += ["-o", str(out), "-nostdlib", "-static", "-no-pie", "-Wl,--gc-sections",
            "-Wl,--build-id=none", f"-Wl,-T,{plat.path / 'kvm.ld'}"]
    for lib in chosen:
        cmd.extend(lib.ldflags)
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"build failed:\n{' '.join(cmd)}\n{res.stderr}"
    assert "warning" not in res.stderr, res.stderr
    return out


@pytest.fixture(scope="module")
def kernels(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ukplat")
    return {
        "selftest": build_kernel(DATA / "ukplat_selftest.c", d / "selftest.elf", PLATFORM_LIBS),
        # the footprint floor: only ukplat (+ ukconsole, uklibc)
        "floor": build_kernel(libs.load("ukplat").path / "floor.c", d / "floor.elf", ["ukplat"]),
    }


def machine_args(machine: str) -> list[str]:
    if machine == "microvm":
        return ["-M", "microvm"]
    if not QBOOT.exists():
        pytest.skip(f"needs {QBOOT} (apt-get install qemu-system-data)")
    return ["-M", "q35", "-bios", str(QBOOT)]


def qemu_cmd(machine: str, kernel: Path, mem: str = "16M", append: str | None = None,
             extra: list[str] | None = None) -> list[str]:
    cmd = [QEMU, *machine_args(machine), "-accel", "tcg", "-m", mem, "-nodefaults",
           "-no-user-config", "-nographic", "-serial", "stdio",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", str(kernel)]
    if append is not None:
        cmd += ["-append", append]
    return cmd + (extra or [])


def boot(machine: str, kernel: Path, **kw) -> tuple[int, str]:
    res = subprocess.run(qemu_cmd(machine, kernel, **kw), stdin=subprocess.DEVNULL,
                         capture_output=True, timeout=BOOT_TIMEOUT)
    return res.returncode, res.stdout.decode(errors="replace") + res.stderr.decode(errors="replace")


MACHINES = ["microvm", "q35"]


@pytest.mark.parametrize("machine", MACHINES)
def test_selftest_passes(kernels, machine):
    rc, out = boot(machine, kernels["selftest"], append="foo=bar")
    assert rc == 1, f"QEMU status {rc} (want 1 = uk_exit(0)):\n{out}"
    assert "hello from the uknfv unikernel platform self-test" in out
    assert 'cmdline: "foo=bar"' in out and 'cmdline option foo = "bar"' in out
    assert re.search(r"memory: \d+ KiB RAM; image 0x100000-0x[0-9a-f]+; [1-9]\d* usable region", out), out
    m = re.search(r"tsc: (\d+) Hz \((\S+), found in (\d+) us\)", out)
    assert m and 10**8 < int(m.group(1)) < 10**10, out
    assert re.search(r"boot: entry -> uk_main \d+ us", out), out
    assert re.search(r"snprintf: (\d+)/\1 formats as glibc", out), out
    assert "alloc: " in out and "ok" in out
    assert re.search(r"idle: uk_idle\(1 ms\) x5 took min \d+ us.*timer fired [5-9]x", out), out
    assert re.search(r"ioapic: PIT IRQ 0 on GSI 2 delivered", out), out
    assert "selftest: PASSED (0 failures)" in out, out
    assert "FAIL" not in out, out


@pytest.mark.parametrize("machine", MACHINES)
def test_boots_in_8m(kernels, machine):
    rc, out = boot(machine, kernels["selftest"], mem="8M")
    assert rc == 1, out
    assert "selftest: PASSED" in out, out


@pytest.mark.parametrize("machine", MACHINES)
def test_floor_kernel(kernels, machine):
    rc, out = boot(machine, kernels["floor"])
    assert rc == 1, out
    assert "UKNFV FLOOR" in out


@pytest.mark.parametrize("code,status", [(0, 1), (5, 11), (100, 201)])
def test_exit_code(kernels, code, status):
    rc, out = boot("microvm", kernels["selftest"], append=f"selftest.exit={code}")
    assert rc == status, out


@pytest.mark.parametrize("fault,vector,name", [("null", 14, "page fault"), ("ud2", 6, "invalid opcode"),
                                                ("stack", 14, "page fault")])
def test_exception_report(kernels, fault, vector, name):
    rc, out = boot("microvm", kernels["selftest"], append=f"selftest.fault={fault}")
    assert rc == (11 << 1) | 1, out                     # UK_EXIT_TRAP
    assert f"uk: CPU exception {vector} ({name})" in out, out
    assert re.search(r"rip=[0-9a-f]{16}", out), out
    if fault == "null":
        assert "cr2=0000000000000000" in out, out


@pytest.mark.parametrize("machine", MACHINES)
def test_control_channel(kernels, machine, tmp_path):
    """COM2: output reaches the host; input wakes uk_idle through its IRQ."""
    sock = tmp_path / "ctl.sock"
    if machine == "microvm":     # microvm has only COM1 built in
        ctl = ["-chardev", f"socket,id=ctl,path={sock},server=on,wait=off",
               "-device", "isa-serial,iobase=0x2f8,irq=3,chardev=ctl"]
    else:
        ctl = ["-serial", f"unix:{sock},server=on,wait=off"]
    p = subprocess.Popen(qemu_cmd(machine, kernels["selftest"], append="selftest.ctl=echo", extra=ctl),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    s = socket.socket(socket.AF_UNIX)
    try:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while True:   # the path exists a moment before QEMU listens on it
            assert time.monotonic() < deadline and p.poll() is None, "QEMU did not create the socket"
            try:
                s.connect(str(sock))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.01)
        out = b""
        while b"waiting for a line" not in out:
            assert time.monotonic() < deadline, out.decode(errors="replace")
            chunk = os.read(p.stdout.fileno(), 4096)
            assert chunk, out.decode(errors="replace")
            out += chunk
        time.sleep(0.5)             # let it settle in uk_idle (5 s timeout)
        sent = time.monotonic()
        s.sendall(b"ping pong\n")
        got = b""
        s.settimeout(20)
        while b"echo: ping pong\n" not in got:
            chunk = s.recv(256)
            assert chunk, got
            got += chunk
        latency = time.monotonic() - sent
        assert got.startswith(b"control channel says hi\n"), got
        # woken by COM2's interrupt, not by the idle timeout
        assert latency < 3.0, f"echo took {latency:.2f} s"
        rest, _ = p.communicate(timeout=BOOT_TIMEOUT)
        out += rest
        text = out.decode(errors="replace")
        assert p.returncode == 1, text
        m = re.search(r'control: got "ping pong" after \d+ ms, (\d+) idles, (\d+) COM2 interrupts', text)
        assert m and int(m.group(1)) >= 1 and int(m.group(2)) >= 1, text
    finally:
        s.close()
        if p.poll() is None:
            p.kill()
        p.wait()
        if p.stdout:
            p.stdout.close()
