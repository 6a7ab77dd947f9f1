"""`uknfv run --target kvm` for real: QEMU (TCG) with the fake guest from fakeguest.py.

Proves the launcher end to end without the real unikernel: the machine
boots (microvm and q35 + qboot), COM2 carries the control protocol
(`uknfv handlers/read/write`), SIGINT stops the guest cleanly through
`WRITE stop`, the guest's exit status comes back through isa-debug-exit, a
guest that ignores the stop is killed, a crash is reported, NICs appear in
the image's port order with their MACs, and bridge TAPs are created and
removed.  Each VM boots in well under a second under TCG.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from uknfv.run import qemu
from uknfv.run.control import ControlClient
from uknfv.testing import uknfv_cmd

pytestmark = pytest.mark.e2e
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (TAPs, bridges)")


@pytest.fixture
def short_dir():
    d = Path(tempfile.mkdtemp(prefix="ukvm-", dir="/tmp"))    # socket paths must be short
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def image(fake_guest_elf, short_dir):
    def make(ports=(), name="fg") -> Path:
        img = short_dir / name
        shutil.copyfile(fake_guest_elf, img)
        (short_dir / f"{name}.json").write_text(json.dumps(
            {"target": "kvm", "ports": [{"name": p} for p in ports], "memory_mb": 16}))
        return img
    return make


class Running:
    """`uknfv run ...` in the background, its stdout collected line by line."""

    def __init__(self, args: list[str], env: dict | None = None):
        self.proc = subprocess.Popen(uknfv_cmd() + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env or os.environ.copy())
        self.lines: list[str] = []
        self.err = ""
        self._t = threading.Thread(target=self._read, daemon=True)
        self._t.start()
        self._te = threading.Thread(target=self._read_err, daemon=True)
        self._te.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def _read_err(self):
        self.err = self.proc.stderr.read()

    def wait_for(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in l for l in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        pytest.fail(f"no '{text}' on the console:\n" + "\n".join(self.lines) + "\n" + self.err)

    def wait(self, timeout: float = 30) -> int:
        rc = self.proc.wait(timeout)
        self._t.join(2)
        self._te.join(2)
        return rc

    def stop(self):
        # SIGTERM first: uknfv stops its QEMU; SIGKILL only if that hangs.
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def uknfv(*args) -> subprocess.CompletedProcess:
    return subprocess.run(uknfv_cmd() + list(args), capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("machine", ["microvm", "q35"])
def test_control_channel_and_clean_stop_on_sigint(image, short_dir, machine):
    sock = short_dir / "c.sock"
    vm = Running(["run", str(image()), "--target", "kvm", "--accel", "tcg", "--machine", machine,
                  "--control", str(sock)])
    try:
        vm.wait_for("READY")
        res = uknfv("handlers", str(sock))
        assert res.returncode == 0, res.stderr
        assert res.stdout.split() == ["fake.count", "fake.echo", "stop", "exit"]
        assert uknfv("read", str(sock), "fake.echo").stdout == "hello\n"
        assert uknfv("write", str(sock), "fake.echo", "hi there").returncode == 0
        assert uknfv("read", str(sock), "fake.echo").stdout == "hi there\n"
        bad = uknfv("read", str(sock), "no.such")
        assert bad.returncode == 1 and "no readable handler 'no.such'" in bad.stderr
        vm.proc.send_signal(signal.SIGINT)
        rc = vm.wait()
    finally:
        vm.stop()
    assert rc == 0, vm.err
    assert any("fakeguest: stopping" in l for l in vm.lines), vm.lines
    assert "SIGINT: asking the guest to stop" in vm.err
    assert "using TCG as requested" in vm.err
    assert not sock.exists()                      # the socket is removed at exit
    cmdline = next(l for l in vm.lines if l.startswith("fakeguest: cmdline="))
    assert "uknfv.epoch_ns=" in cmdline


def test_guest_exit_status_is_uknfvs(image, short_dir):
    sock = short_dir / "c.sock"
    vm = Running(["run", str(image()), "--accel", "tcg", "--control", str(sock)])
    try:
        vm.wait_for("READY")
        ControlClient(sock).write("exit", "9")
        assert vm.wait() == 9
    finally:
        vm.stop()


def test_default_socket_and_sigterm(image, short_dir):
    env = dict(os.environ, XDG_RUNTIME_DIR=str(short_dir))
    vm = Running(["run", str(image(name="router")), "--accel", "tcg"], env=env)
    try:
        vm.wait_for("READY")
        sock = short_dir / "uknfv" / "router.sock"
        assert sock.exists()
        res = subprocess.run(uknfv_cmd() + ["read", "fake.count"], capture_output=True, text=True,
                             env=env, timeout=30)
        assert res.returncode == 0 and res.stdout.strip().isdigit(), res.stderr
        vm.proc.send_signal(signal.SIGTERM)
        assert vm.wait() == 0
    finally:
        vm.stop()
    assert not sock.exists()


def test_another_vnf_on_the_same_socket_is_refused(image, short_dir):
    sock = short_dir / "c.sock"
    vm = Running(["run", str(image()), "--accel", "tcg", "--control", str(sock)])
    try:
        vm.wait_for("READY")
        res = uknfv("run", str(image(name="fg2")), "--accel", "tcg", "--control", str(sock))
        assert res.returncode == 1
        assert f"another vNF is already using the control socket {sock}" in res.stderr
        ControlClient(sock).write("stop")
        assert vm.wait() == 0
    finally:
        vm.stop()


def test_a_guest_that_ignores_stop_is_killed(image, short_dir, capfd):
    v = qemu.VM(image=image(), control=short_dir / "c.sock", append="deaf", console="none")
    # SIGINT ourselves while qemu.run() waits; a stray one (should run() return
    # early) must not interrupt pytest, hence the no-op handler around it.
    previous = signal.signal(signal.SIGINT, lambda *a: None)
    timer = threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        t0 = time.monotonic()
        rc = qemu.run(v, stop_timeout=0.5)
        elapsed = time.monotonic() - t0
    finally:
        timer.cancel()
        timer.join()
        signal.signal(signal.SIGINT, previous)
    assert rc == 130
    assert elapsed < 10
    err = capfd.readouterr().err
    assert "the guest did not stop" in err and "killing QEMU" in err


def test_a_crash_is_reported(image, short_dir, capfd):
    v = qemu.VM(image=image(), control=short_dir / "c.sock", append="crash")
    assert qemu.run(v) == 1
    assert "without an exit status" in capfd.readouterr().err


def test_qemu_failure_is_not_mistaken_for_guest_exit_0(short_dir, capfd):
    bad = short_dir / "bad"
    bad.write_bytes(b"\x7fELF" + bytes(60))        # not loadable: QEMU exits 1 with an error
    assert qemu.run(qemu.VM(image=bad, control=None)) == 1
    err = capfd.readouterr().err
    assert "qemu-system-x86_64:" in err and "QEMU failed" in err


@needs_root
@pytest.mark.parametrize("machine", ["microvm", "q35"])
def test_nics_follow_the_image_port_order(image, short_dir, machine):
    from uknfv.run.netns import delete_link
    taps = [f"ukfg{os.getpid() % 10000}{i}" for i in range(3)]
    sock = short_dir / "c.sock"
    args = ["run", str(image(["lan", "wan", "dmz"])), "--accel", "tcg", "--machine", machine,
            "--control", str(sock),
            "--port", f"dmz=tap:{taps[2]},mac=02:00:00:00:00:03",
            "--port", f"lan=tap:{taps[0]},mac=02:00:00:00:00:01",
            "--port", f"wan=tap:{taps[1]}"]
    vm = Running(args)
    try:
        vm.wait_for("READY")
        assert all(Path("/sys/class/net", t).exists() for t in taps)   # QEMU created them
        deadline = time.monotonic() + 5        # ... and uknfv brings them up
        while not all(int(Path("/sys/class/net", t, "flags").read_text(), 16) & 1 for t in taps):
            assert time.monotonic() < deadline, "the TAPs QEMU created were not brought up"
            time.sleep(0.02)
        ControlClient(sock).write("stop")
        assert vm.wait() == 0
    finally:
        vm.stop()
        for t in taps:
            delete_link(t)
    nics = [l.split()[2] for l in vm.lines if l.startswith("nic ")]
    assert nics == ["mac=02:00:00:00:00:01", f"mac={qemu.default_mac('fg', 1)}",
                    "mac=02:00:00:00:00:03"], vm.lines


@needs_root
def test_bridge_port_gets_a_tap_that_is_removed_after(image, short_dir):
    from uknfv.run.netns import Lab
    br = f"ukbr{os.getpid() % 100000}"
    sock = short_dir / "c.sock"
    with Lab() as lab:
        lab.bridge(br)
        vm = Running(["run", str(image(["lan"])), "--accel", "tcg", "--control", str(sock),
                      "--port", f"lan=bridge:{br}"])
        try:
            vm.wait_for("READY")
            members = [p.name for p in Path("/sys/class/net", br, "brif").iterdir()]
            assert len(members) == 1 and members[0].startswith("uk-lan")
            tap = members[0]
            ControlClient(sock).write("stop")
            assert vm.wait() == 0
        finally:
            vm.stop()
        assert f"port lan: TAP {tap} attached to bridge {br}" in vm.err
        assert not Path("/sys/class/net", tap).exists()


@pytest.mark.parametrize("machine", ["microvm", "q35"])
@pytest.mark.parametrize("qemu_listens", [False, True])
def test_vhost_user_ports_start_with_shared_memory(image, short_dir, machine, qemu_listens):
    import importlib.util
    spec = importlib.util.spec_from_file_location("uknfv_tests_vhostuser_stub",
                                                  Path(__file__).parent / "vhostuser_stub.py")
    stub_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub_mod)
    vu, sock = short_dir / "vu.sock", short_dir / "c.sock"
    stub = None
    if not qemu_listens:
        stub = stub_mod.VhostUserStub(str(vu), listen=True)
    spec_arg = f"lan=vhost-user:{vu}" + (",server" if qemu_listens else "")
    vm = Running(["run", str(image(["lan"])), "--accel", "tcg", "--machine", machine,
                  "--control", str(sock), "--port", spec_arg])
    try:
        if qemu_listens:
            deadline = time.monotonic() + 10
            while not vu.exists():
                assert time.monotonic() < deadline and vm.proc.poll() is None, vm.err
                time.sleep(0.02)
            stub = stub_mod.VhostUserStub(str(vu), listen=False)
        vm.wait_for("READY")
        assert stub.ok.is_set() and stub_mod.GET_FEATURES in stub.requests
        ControlClient(sock).write("stop")
        assert vm.wait() == 0, vm.err
    finally:
        vm.stop()
        if stub:
            stub.close()
    if qemu_listens:
        assert "QEMU waits for the vhost-user backend to connect" in vm.err
    assert any(l.startswith("nic 0 mac=") for l in vm.lines), vm.lines
