"""The Linux target's `virtio-user:` ports: the unikernel's own virtio-net driver
(ukvirtionet over ukvirtio's split virtqueues) in a process, over the
vhost-user transport (ukvhostuser), against DPDK vhost back-ends.

* build: the hosted library set (ukvirtio core, ukvirtionet, uknetdev,
  ukvhostuser; no ukplat/ukpci/ukintr/uklibc);
* errors, one clean line each: no socket, nothing listening, bad options,
  a back-end that refuses the features or hangs up (a small Python
  vhost-user back-end stands in for it);
* end to end (DPDK's net_vhost serving the sockets from a uknfv DPDK-target
  vNF): a few hundred frames of 60..1514 bytes go in through one
  virtio-user port and out through the other, byte-identical and in order;
  the shared Click golden case whose outputs are all Ethernet (masks) gives
  Click's frames with every port on virtio-user.

The DPDK feeder replays its pcap with TIMING: it starts with ~2 s of
"warm-up" frames (ethertype 0x88b5) so that nothing that matters is sent
before the vNF under test has connected (net_vhost drops frames while no
front-end is attached); warm-up frames are filtered out of the outputs.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from uknfv.pcapfile import read_frames
from uknfv.testing import REPO, assert_same_frames, run_uknfv, stats_of

GOLDEN = REPO / "tests" / "golden" / "click"
FORWARD = "FromDevice(in) -> c :: Counter -> ToDevice(out);\n"
WARM_TYPE = b"\x88\xb5"
WARMUP = bytes.fromhex("ffffffffffff02000000000f") + WARM_TYPE + b"uknfv warm-up".ljust(46, b"\0")
WARMUP_S = 2.0
e2e = pytest.mark.e2e


def _have_dpdk() -> bool:
    return (shutil.which("pkg-config") is not None
            and subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0)


needs_dpdk = pytest.mark.skipif(not _have_dpdk(),
                                reason="needs libdpdk-dev (apt-get install libdpdk-dev dpdk pkg-config)")


def frames(n: int) -> list[bytes]:
    """n distinct Ethernet frames from 60 to 1514 bytes (every 50th full size)."""
    out = []
    for i in range(n):
        ln = 1514 if i % 50 == 0 else 60 + (i * 37) % 1455
        hdr = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
        out.append(hdr + bytes((i + j) & 0xFF for j in range(ln - 14)))
    return out


def write_timed(path: Path, fr: list[bytes]) -> None:
    """pcap for FromDump(TIMING true): warm-up frames every 50 ms for WARMUP_S,
    then fr 10 us apart."""
    t0 = 1_700_000_000.0
    recs = [(t0 + k * 0.05, WARMUP) for k in range(int(WARMUP_S / 0.05))]
    recs += [(t0 + WARMUP_S + i * 1e-5, f) for i, f in enumerate(fr)]
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for ts, f in recs:
        usec = int(round((ts % 1) * 1e6))
        out.append(struct.pack("<IIII", int(ts) + usec // 1000000, usec % 1000000, len(f), len(f)))
        out.append(f)
    path.write_bytes(b"".join(out))


def no_warmup(fr: list[bytes]) -> list[bytes]:
    return [f for f in fr if f[12:14] != WARM_TYPE]


def build(cwd: Path, config: str, name: str, target: str) -> Path:
    (cwd / f"{name}.click").write_text(config)
    res = run_uknfv("build", f"{name}.click", "--target", target, "-o", name, cwd=cwd)
    assert res.returncode == 0, res.stderr
    return cwd / name


def clean_error(res: subprocess.CompletedProcess, *needles: str) -> None:
    assert res.returncode != 0, res.stdout
    err = res.stderr.strip()
    assert "Traceback" not in err and "Segmentation" not in err and "AddressSanitizer" not in err
    assert len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err


def stop(proc: subprocess.Popen, timeout: float = 20) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


@contextmanager
def sock_dir():
    """A short directory for sockets (sun_path is 108 bytes; pytest's tmp_path can be long)."""
    d = tempfile.mkdtemp(prefix="uknfv-vu-")
    try:
        yield Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextmanager
def dpdk_backend(prog: Path, cwd: Path, ports: dict[str, Path]):
    """Run a DPDK-target vNF whose logical ports are net_vhost servers on the
    given sockets; yields the process once every socket exists; always stopped."""
    args = [str(prog), "--stats"]
    for i, (name, path) in enumerate(ports.items()):
        args += ["--port", f"{name}=dpdk:net_vhost{i},iface={path}"]
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not all(p.exists() for p in ports.values()):
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = stop(proc)
                pytest.fail(f"the DPDK back-end did not come up:\n{err}")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            stop(proc)


# ---- a tiny vhost-user back-end for the error paths -----------------------------------------

class StubBackend:
    """Speaks just enough vhost-user (back-end side) to make the front-end fail:
    offers `features` (and `proto` protocol features), NACKs the requests in
    `nack` when a reply is wanted, hangs up when it receives `hangup_at`."""

    def __init__(self, path: Path, features: int, proto: int = 0, nack=(), hangup_at: int | None = None):
        self.path, self.features, self.proto = path, features, proto
        self.nack, self.hangup_at, self.requests = set(nack), hangup_at, []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(str(path))
        self.srv.listen(1)
        self.srv.settimeout(30)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _recv(self, c: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            msg, anc, _, _ = c.recvmsg(n - len(data), socket.CMSG_SPACE(8 * 4))
            for level, typ, fds in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                    for k in range(len(fds) // 4):
                        os.close(struct.unpack_from("i", fds, 4 * k)[0])
            if not msg:
                raise EOFError
            data += msg
        return data

    def _run(self) -> None:
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        with conn:
            try:
                while True:
                    req, flags, size = struct.unpack("<III", self._recv(conn, 12))
                    if size:
                        self._recv(conn, size)
                    self.requests.append(req)
                    if req == self.hangup_at:
                        return
                    if req in (1, 15):          # GET_FEATURES, GET_PROTOCOL_FEATURES
                        val = self.features if req == 1 else self.proto
                        conn.sendall(struct.pack("<IIIQ", req, 0x5, 8, val))
                    elif flags & 0x8:           # NEED_REPLY (REPLY_ACK)
                        conn.sendall(struct.pack("<IIIQ", req, 0x5, 8, 1 if req in self.nack else 0))
            except (EOFError, OSError):
                return

    def close(self) -> None:
        self.srv.close()
        self.t.join(timeout=5)


@pytest.fixture(scope="module")
def fwd(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("vu-fwd"), FORWARD, "fwd", "linux")


# ---- build --------------------------------------------------------------------------------

def test_linux_build_links_the_unikernel_driver_hosted(fwd):
    meta = json.loads(fwd.with_suffix(".json").read_text())
    got = set(meta["libraries"])
    assert {"linuxio", "ukvhostuser", "ukvirtionet", "ukvirtio", "uknetdev", "pktpool"} <= got
    assert not got & {"ukplat", "ukpci", "ukintr", "uklibc", "ukalloc"}
    res = subprocess.run([str(fwd), "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "virtio-user:PATH" in res.stdout


# ---- errors -------------------------------------------------------------------------------

def _run_fwd(fwd: Path, in_spec: str, timeout: float = 30) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run([str(fwd), "--port", in_spec, "--port", f"out=pcap:{d}/o.pcap"],
                              capture_output=True, text=True, timeout=timeout)


def test_missing_socket_is_a_clean_error(fwd):
    with sock_dir() as d:
        res = _run_fwd(fwd, f"in=virtio-user:{d}/nope.sock")
    clean_error(res, "error: port 'in': virtio-user:", "nope.sock: no such socket")


def test_socket_nobody_listens_on_is_a_clean_error(fwd):
    with sock_dir() as d:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(str(d / "dead.sock"))          # bound, never listening
        try:
            res = _run_fwd(fwd, f"in=virtio-user:{d}/dead.sock")
        finally:
            s.close()
    clean_error(res, "nothing is listening")


@pytest.mark.parametrize("spec,needle", [
    ("in=virtio-user:", "expects a vhost-user socket path"),
    ("in=virtio-user:/tmp/x.sock,ring=100", "ring= expects a power of two"),
    ("in=virtio-user:/tmp/x.sock,mac=zz", "mac= expects"),
    ("in=virtio-user:/tmp/x.sock,bogus=1", "unknown option 'bogus=1'"),
    ("in=virtio-user:/tmp/" + "x" * 120, "socket path too long"),
])
def test_bad_options_are_clean_errors(fwd, spec, needle):
    clean_error(_run_fwd(fwd, spec), needle)


def test_backend_without_virtio_1_is_refused(fwd):
    """A back-end offering no VIRTIO_F_VERSION_1: the driver's negotiation fails, cleanly."""
    with sock_dir() as d:
        stub = StubBackend(d / "v.sock", features=1 << 5)
        try:
            res = _run_fwd(fwd, f"in=virtio-user:{d}/v.sock")
        finally:
            stub.close()
    clean_error(res, "virtio-user:", "VIRTIO_F_VERSION_1")
    assert 1 in stub.requests and 2 not in stub.requests     # asked, never set


def test_backend_refusing_set_features_is_a_clean_error(fwd):
    """With REPLY_ACK negotiated the back-end NACKs SET_FEATURES."""
    with sock_dir() as d:
        stub = StubBackend(d / "v.sock", features=(1 << 32) | (1 << 30), proto=1 << 3, nack={2})
        try:
            res = _run_fwd(fwd, f"in=virtio-user:{d}/v.sock")
        finally:
            stub.close()
    clean_error(res, "refused SET_FEATURES")
    assert stub.requests[:4] == [3, 1, 15, 16]      # SET_OWNER, GET_FEATURES, protocol features


def test_backend_hanging_up_is_a_clean_error(fwd):
    with sock_dir() as d:
        # REPLY_ACK, so the front-end waits for the verdict on SET_MEM_TABLE and sees the EOF
        stub = StubBackend(d / "v.sock", features=(1 << 32) | (1 << 30), proto=1 << 3, hangup_at=5)
        try:
            res = _run_fwd(fwd, f"in=virtio-user:{d}/v.sock")
        finally:
            stub.close()
    clean_error(res, "closed the connection")


# ---- end to end against DPDK's net_vhost ------------------------------------------------------------

FEEDER = ("FromDump(in.pcap, TIMING true) -> ca :: Counter -> ToDevice(a);\n"
          "FromDevice(b) -> cb :: Counter -> ToDump(out.pcap);\n")


@e2e
@needs_dpdk
def test_frames_cross_a_linux_vnf_on_virtio_user_ports(tmp_path, fwd):
    feeder = build(tmp_path, FEEDER, "feeder", "dpdk")
    sent = frames(400)
    write_timed(tmp_path / "in.pcap", sent)
    with sock_dir() as d, dpdk_backend(feeder, tmp_path, {"a": d / "a.sock", "b": d / "b.sock"}) as be:
        vnf = subprocess.Popen([str(fwd), "--port", f"in=virtio-user:{d}/a.sock,ring=1024",
                                "--port", f"out=virtio-user:{d}/b.sock,ring=1024", "--stats"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(WARMUP_S + 1.5)
            assert vnf.poll() is None, vnf.communicate()[1]
        finally:
            vout, verr = stop(vnf)
        time.sleep(0.2)
        bout, berr = stop(be)
    assert vnf.returncode == 0, verr
    assert be.returncode == 0, berr
    got = no_warmup(read_frames(tmp_path / "out.pcap"))
    assert len(got) == len(sent), (vout, bout)
    assert got == sent
    vs = stats_of(vout)
    n = int(vs["c.count"])
    assert n >= len(sent)
    assert vs["port.in.rx"].endswith(" 0 dropped") and vs["port.out.tx"].endswith(" 0 dropped")
    assert vs["pool.alloc_failures"] == "0"


def _masks_over_virtio_user(src: str) -> tuple[str, list[str]]:
    """Rewrite a golden case: FromDump -> FromDevice(in), ToDump(out_X.pcap) -> ToDevice(X)."""
    cfg = re.sub(r"FromDump\(\$IN[^)]*\)", "FromDevice(in)", src)
    outs: list[str] = []

    def todev(m: re.Match) -> str:
        outs.append(m.group(1))
        return f"ToDevice({m.group(1)})"
    cfg = re.sub(r"ToDump\(out_(\w+)\.pcap\)", todev, cfg)
    assert "ToDump" not in cfg and "FromDump" not in cfg
    return cfg, outs


@e2e
@needs_dpdk
def test_golden_masks_case_over_virtio_user(tmp_path):
    """tests/golden/click/cases/masks.click (every output Ethernet) with FromDevice/ToDevice on
    virtio-user ports: each port's frames are Click's."""
    cfg, outs = _masks_over_virtio_user((GOLDEN / "cases" / "masks.click").read_text())
    vnf = build(tmp_path, cfg, "masks", "linux")
    feeder_cfg = "FromDump(in.pcap, TIMING true) -> ToDevice(in);\n" + "".join(
        f"FromDevice({o}) -> ToDump(out_{o}.pcap);\n" for o in outs)
    feeder = build(tmp_path, feeder_cfg, "feeder", "dpdk")
    write_timed(tmp_path / "in.pcap", read_frames(GOLDEN / "input.pcap"))
    with sock_dir() as d:
        socks = {"in": d / "in.sock", **{o: d / f"{o}.sock" for o in outs}}
        with dpdk_backend(feeder, tmp_path, socks) as be:
            args = [str(vnf), "--stats", "--pool", "16384"] + [
                a for p, s in socks.items() for a in ("--port", f"{p}=virtio-user:{s},ring=1024")]
            proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            try:
                time.sleep(WARMUP_S + 1.5)
                assert proc.poll() is None, proc.communicate()[1]
            finally:
                vout, verr = stop(proc)
            time.sleep(0.2)
            stop(be)
    assert proc.returncode == 0, verr
    for o in outs:
        got = tmp_path / f"out_{o}.pcap"
        want = read_frames(GOLDEN / "golden" / "masks" / f"out_{o}.pcap")
        have = no_warmup(read_frames(got))
        assert have == want, f"masks/out_{o}.pcap: {len(have)} frames, Click wrote {len(want)}"
