"""The golden pcap cases, run inside the unikernel (kvm target, QEMU; TCG is fine).

For every case of tests/golden/click, `uknfv run CASE.click --target kvm`
replays input.pcap to the guest over a virtio NIC and writes each ToDump
file from what the guest sends back (uknfv/run/pcapreplay.py).  Every
out_*.pcap must equal, frame for frame, both Click's golden output and the
Linux target's output of the same case.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from uknfv.pcapfile import linktype, read_frames, write_frames
from uknfv.testing import assert_same_frames, interrupt, uknfv_cmd

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "click"
CASES = sorted(p.stem for p in (GOLDEN / "cases").glob("*.click"))
QEMU = shutil.which("qemu-system-x86_64")
RUN_TIMEOUT = 180.0     # first runs also build the image

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.vm,
    pytest.mark.skipif(QEMU is None, reason="needs qemu-system-x86_64 (apt-get install qemu-system-x86)"),
]


class Run:
    def __init__(self, returncode: int, stdout: str, stderr: str, seconds: float):
        self.returncode, self.stdout, self.stderr, self.seconds = returncode, stdout, stderr, seconds


def uknfv(*args: str, cwd: Path, timeout: float = RUN_TIMEOUT) -> Run:
    """Run the CLI; on a timeout stop it (and its QEMU) and fail with its output."""
    t0 = time.monotonic()
    proc = subprocess.Popen(uknfv_cmd() + list(args), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out, err = interrupt(proc)
        pytest.fail(f"uknfv {' '.join(args)}: no exit within {timeout:g} s\n"
                    f"stdout:\n{out}\nstderr:\n{err}")
    except BaseException:
        interrupt(proc)
        raise
    return Run(proc.returncode, out, err, time.monotonic() - t0)


@pytest.fixture
def control():
    """A short control-socket path of our own (tmp_path may be too long for AF_UNIX)."""
    d = tempfile.mkdtemp(prefix="uknfv-t-")
    yield str(Path(d) / "ctl.sock")
    shutil.rmtree(d, ignore_errors=True)


def _setup(case: str, where: Path) -> None:
    where.mkdir()
    shutil.copy(GOLDEN / "input.pcap", where / "input.pcap")
    shutil.copy(GOLDEN / "cases" / f"{case}.click", where / f"{case}.click")


def _same_frames(want_path: Path, got_path: Path, what: str) -> None:
    assert_same_frames(want_path, got_path, what, check_linktype=True)


@pytest.mark.parametrize("case", CASES)
def test_kvm_golden_case(case: str, tmp_path: Path, control: str) -> None:
    kvm_dir, linux_dir = tmp_path / "kvm", tmp_path / "linux"
    _setup(case, kvm_dir)
    _setup(case, linux_dir)
    res = uknfv("run", f"{case}.click", "--target", "kvm", "--control", control, cwd=kvm_dir)
    assert res.returncode == 0, f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert "UKNFV STATS END" in res.stdout, res.stdout
    lin = uknfv("run", f"{case}.click", "--stats", cwd=linux_dir)
    assert lin.returncode == 0, lin.stderr
    expected = sorted((GOLDEN / "golden" / case).glob("out_*.pcap"))
    assert expected
    written = sorted(p.name for p in kvm_dir.glob("out_*.pcap"))
    assert written == sorted(p.name for p in linux_dir.glob("out_*.pcap"))
    for gold in expected:
        _same_frames(gold, kvm_dir / gold.name, f"{case}/{gold.name} (kvm vs Click)")
        _same_frames(linux_dir / gold.name, kvm_dir / gold.name, f"{case}/{gold.name} (kvm vs linux)")


def test_kvm_replay_is_exact(tmp_path: Path, control: str) -> None:
    """The transport itself: every frame through and back unchanged, in order (short ones
    too), raw-IP input and output, SNAPLEN applied on the host."""
    frames = read_frames(GOLDEN / "input.pcap")
    ip = [f[14:] for f in frames if len(f) >= 34 and f[12:14] == b"\x08\x00"]
    write_frames(tmp_path / "in.pcap", frames)
    write_frames(tmp_path / "ip.pcap", ip, link=101)
    (tmp_path / "id.click").write_text(
        "FromDump(in.pcap, STOP true) -> t :: Tee -> ToDump(out.pcap);\n"
        "t[1] -> ToDump(out_snap.pcap, SNAPLEN 40);\n"
        "FromDump(ip.pcap, STOP true) -> ToDump(out_ip.pcap, ENCAP IP);\n")
    res = uknfv("run", "id.click", "--target", "kvm", "--control", control, cwd=tmp_path)
    assert res.returncode == 0, f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert read_frames(tmp_path / "out.pcap") == frames
    assert read_frames(tmp_path / "out_snap.pcap") == [f[:40] for f in frames]
    assert read_frames(tmp_path / "out_ip.pcap") == ip
    assert linktype(tmp_path / "out_ip.pcap") == 101
    assert min(len(f) for f in frames) < 60     # short frames are not padded on the way


def test_kvm_replay_stop_false_runs_until_sigint(tmp_path: Path, control: str) -> None:
    shutil.copy(GOLDEN / "input.pcap", tmp_path / "input.pcap")
    (tmp_path / "nostop.click").write_text("FromDump(input.pcap) -> ToDump(out.pcap);\n")
    want = read_frames(GOLDEN / "input.pcap")
    proc = subprocess.Popen(uknfv_cmd() + ["run", "nostop.click", "--target", "kvm",
                                           "--control", control],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            out = tmp_path / "out.pcap"
            if out.exists() and len(read_frames(out)) >= len(want):
                break
            time.sleep(0.2)
        time.sleep(1.0)
        assert proc.poll() is None, "the run ended by itself although FromDump has STOP false"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            interrupt(proc)
    assert proc.returncode == 0, err
    assert "UKNFV STATS END" in out
    assert read_frames(tmp_path / "out.pcap") == want


def test_kvm_replay_loses_nothing_in_bulk(tmp_path: Path, control: str) -> None:
    """9600 frames, each written twice (Tee to two ToDumps): the replay keeps the guest's RX
    and TX rings from overflowing, so every frame arrives, in order."""
    frames = read_frames(GOLDEN / "input.pcap") * 30
    write_frames(tmp_path / "in.pcap", frames)
    (tmp_path / "bulk.click").write_text(
        "FromDump(in.pcap, STOP true) -> t :: Tee -> ToDump(a.pcap); t[1] -> ToDump(b.pcap);\n")
    res = uknfv("run", "bulk.click", "--target", "kvm", "--control", control, cwd=tmp_path)
    assert res.returncode == 0, f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert "0 dropped" in res.stdout and " dropped\n" in res.stdout
    for line in res.stdout.splitlines():
        if line.startswith("port."):
            assert line.endswith(" 0 dropped"), line
    assert read_frames(tmp_path / "a.pcap") == frames
    assert read_frames(tmp_path / "b.pcap") == frames
