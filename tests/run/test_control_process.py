"""Live handlers on the process targets: `--control SOCK` on the Linux and DPDK vNFs.

The processes serve Click's ControlSocket text protocol on a UNIX socket
(uknfv/libs/rtproc/control.c), with the same interpreter as the
unikernel's serial control channel (uknfv/libs/rt/rt_control.c).  These
tests run real vNFs (a RatedSource at 1000 packets/s into a Counter) and
talk to them both at the protocol level (a raw socket) and through
`uknfv handlers/read/write`: counters that grow, writes that change the
vNF's behaviour live, WRITE stop, the error codes, several clients at once,
clients that misbehave (half a line, garbage, overlong lines, answers never
read), stale socket files and clean start-up errors.

The DPDK tests start DPDK's EAL without hugepages (marked e2e; skipped
without libdpdk, like tests/targets/test_dpdk.py).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from uknfv.run.control import ControlClient, ControlError
from uknfv.testing import run_uknfv, stats_of, uknfv_cmd

PIPELINE = "src :: RatedSource(RATE 1000) -> c :: Counter -> Discard;\n"
GREETING = b"Click::ControlSocket/1.3\r\n"


def _have_dpdk() -> bool:
    if shutil.which("pkg-config") is None:
        return False
    return subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


needs_dpdk = pytest.mark.skipif(not _have_dpdk(),
                                reason="needs libdpdk-dev (apt-get install libdpdk-dev dpdk pkg-config)")


# ---- helpers ----------------------------------------------------------------------------

@pytest.fixture
def sock_dir():
    """A short directory for sockets (pytest's tmp_path can exceed sun_path's 108 bytes)."""
    d = Path(tempfile.mkdtemp(prefix="uknfv-ctl-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _build(directory: Path, target: str, name: str = "p") -> Path:
    (directory / f"{name}.click").write_text(PIPELINE)
    res = run_uknfv("build", f"{name}.click", "--target", target, "-o", name, cwd=directory)
    assert res.returncode == 0, res.stderr
    return directory / name


@pytest.fixture(scope="module")
def linux_prog(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("ctl-linux"), "linux")


@pytest.fixture(scope="module")
def dpdk_prog(tmp_path_factory) -> Path:
    if not _have_dpdk():
        pytest.skip("needs libdpdk-dev")
    return _build(tmp_path_factory.mktemp("ctl-dpdk"), "dpdk")


class Vnf:
    """A running vNF process with a control socket; always killed at the end."""

    def __init__(self, argv: list[str], sock: Path, cwd: Path | None = None, timeout: float = 30):
        self.sock = sock
        self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise AssertionError(f"the vNF exited ({self.proc.returncode}): {err}{out}")
            if _accepts(sock):
                return
            time.sleep(0.02)
        self.kill()
        raise AssertionError(f"no control socket at {sock} after {timeout} s")

    def wait(self, timeout: float = 20) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def __enter__(self) -> "Vnf":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


def _accepts(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Raw:
    """A protocol-level client: exact bytes in, exact lines out."""

    def __init__(self, path: Path, greeting: bool = True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(str(path))
        self.buf = b""
        if greeting:
            assert self.line() == GREETING.rstrip(b"\r\n")

    def send(self, data: bytes) -> None:
        self.s.sendall(data)

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def cmd(self, line: str) -> tuple[int, bytes | None]:
        """Send one command; (code, DATA or None)."""
        self.send(line.encode() + b"\r\n")
        status = self.line()
        code = int(status[:3])
        if not (code == 200 and line.split()[0].upper() in ("READ", "GET", "LIST")):
            return code, None
        hdr = self.line().split()
        assert hdr[0] == b"DATA", hdr
        return code, self.exact(int(hdr[1]))

    def read(self, handler: str) -> str:
        code, data = self.cmd(f"READ {handler}")
        assert code == 200, code
        return data.decode()

    def close(self) -> None:
        self.s.close()


def _count(c: Raw | ControlClient) -> int:
    return int(c.read("c.count"))


def _growing(c, wait: float = 0.3) -> bool:
    a = _count(c)
    time.sleep(wait)
    return _count(c) > a


# ---- the Linux target -------------------------------------------------------------------

def _linux(prog: Path, sock: Path, *extra: str) -> Vnf:
    return Vnf([str(prog), "--control", str(sock), "--stats", *extra], sock)


def test_list_read_write_live_and_stop(linux_prog, sock_dir):
    sock = sock_dir / "v.sock"
    with _linux(linux_prog, sock) as vnf:
        assert (os.stat(sock).st_mode & 0o777) == 0o600
        c = ControlClient(sock)
        names = c.list()
        for n in ("c.count", "c.rate", "src.active", "src.rate", "src.reset"):
            assert n in names
        assert _growing(c)
        # Writes change the vNF's behaviour live: stop the source ...
        c.write("src.active", "false")
        time.sleep(0.05)
        a = _count(c)
        time.sleep(0.4)
        assert _count(c) == a
        assert c.read("src.active") == "0"
        # ... start it again at another rate ...
        c.write("src.rate", "5000")
        c.write("src.active", "true")
        assert c.read("src.rate") == "5000"
        a = _count(c)
        time.sleep(0.5)
        assert _count(c) - a > 1000          # ~2500 at 5000/s; 500 at the old rate
        # ... and reset a counter.
        c.write("c.reset")
        assert _count(c) < 1000
        deadline = time.monotonic() + 10
        while _count(c) == 0 and time.monotonic() < deadline:   # a loaded host may be slow
            time.sleep(0.01)
        # WRITE stop ends the process cleanly: exit 0, stats, socket removed.
        c.write("stop")
        rc, out, err = vnf.wait()
    assert rc == 0, err
    assert int(stats_of(out)["c.count"]) > 0
    assert not sock.exists()


def test_protocol_greeting_errors_and_garbage(linux_prog, sock_dir):
    sock = sock_dir / "v.sock"
    with _linux(linux_prog, sock) as vnf:
        r = Raw(sock)                       # checks the greeting
        code, data = r.cmd("LIST")
        assert code == 200 and b"c.count\n" in data and data.endswith(b"\n")
        assert int(r.read("c.count")) >= 0
        assert r.cmd("READ c.bogus") == (511, None)
        assert r.cmd("READ nodot") == (511, None)
        assert r.cmd("READ src.reset") == (511, None)       # write-only
        assert r.cmd("WRITE c.count 5") == (511, None)      # read-only
        assert r.cmd("WRITE bogus.handler 1") == (511, None)
        assert r.cmd("WRITE src.rate abc") == (520, None)
        assert r.cmd("WRITE src.active maybe") == (520, None)
        assert r.cmd("FROB c.count") == (500, None)
        assert r.cmd("READ") == (500, None)
        assert r.cmd("CHECKREAD c.count") == (200, None)
        assert r.cmd("CHECKWRITE c.count") == (511, None)
        # Case-insensitive commands, GET/SET synonyms, LF-only line ends, blank lines.
        r.send(b"\r\n\n   \nget c.count\n")
        assert r.line() == b"200 OK"
        hdr = r.line().split()
        assert hdr[0] == b"DATA" and int(r.exact(int(hdr[1]))) > 0
        # Binary garbage and NUL bytes: answered with 500, nothing else.
        r.send(bytes(range(1, 10)) + b"\x00\xff\xfe garbage\n")
        assert r.line().startswith(b"500")
        # An overlong line: one "500 ... too long" for the whole line, then business as usual.
        r.send(b"READ c." + b"x" * 100_000 + b"\r\n")
        status = r.line()
        assert status.startswith(b"500") and b"too long" in status
        assert int(r.read("c.count")) > 0
        # The handler value is the rest of the line, blanks trimmed.
        assert r.cmd("SET src.rate    2000   ") == (200, None)
        assert r.read("src.rate") == "2000"
        # QUIT answers and closes.
        assert r.cmd("QUIT") == (200, None)
        with pytest.raises(EOFError):
            r.line()
        r.close()
        assert vnf.proc.poll() is None


def test_several_clients_and_clients_that_misbehave(linux_prog, sock_dir):
    sock = sock_dir / "v.sock"
    with _linux(linux_prog, sock) as vnf:
        a, b = Raw(sock), Raw(sock)
        # Half a line, then gone (twice: with and without waiting for the greeting).
        half = Raw(sock)
        half.send(b"READ c.co")
        half.close()
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(sock))
        s.sendall(b"WRITE src.act")
        s.close()
        # A client that keeps half a line pending blocks no one.
        slow = Raw(sock)
        slow.send(b"READ c.cou")
        # Connect-and-leave, as `is_live` probes do, many times.
        for _ in range(50):
            assert _accepts(sock)
        # Both clients interleave commands over their own connections.
        for _ in range(5):
            assert int(a.read("c.count")) >= 0
            assert b.cmd("WRITE src.rate 1000") == (200, None)
        assert _growing(a) and _growing(b)
        # The slow client finishes its line later and gets its answer.
        slow.send(b"nt\r\n")
        assert slow.line() == b"200 OK"
        # A client that never reads its answers does not stall the vNF or the others.
        greedy = socket.socket(socket.AF_UNIX)
        greedy.connect(str(sock))
        greedy.setblocking(False)
        burst = b"READ src.data\r\n" * 20000
        sent = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                sent += greedy.send(burst[sent % len(burst):])
            except BlockingIOError:
                time.sleep(0.01)
        assert _growing(a)
        assert b.cmd("LIST")[0] == 200
        greedy.close()
        # Many clients at once: each is greeted and answered.
        many = [Raw(sock) for _ in range(20)]
        for r in many:
            assert int(r.read("c.count")) > 0
        for r in many:
            r.close()
        slow.close()
        a.close()
        b.close()
        assert vnf.proc.poll() is None
        assert _growing(ControlClient(sock))


def test_stale_socket_is_replaced_and_startup_errors(linux_prog, sock_dir):
    sock = sock_dir / "v.sock"
    # A socket file nobody serves (a vNF that was killed): replaced.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock))
    stale.close()
    assert sock.exists()
    with _linux(linux_prog, sock) as vnf:
        assert _growing(ControlClient(sock))
        # A second vNF on the same live socket: refused, and the first keeps its socket.
        res = subprocess.run([str(linux_prog), "--control", str(sock)], capture_output=True,
                             text=True, timeout=20)
        assert res.returncode == 1
        assert res.stderr.strip() == (f"error: --control {sock}: another process is serving "
                                      f"this socket (stop it or choose another path)")
        assert _growing(ControlClient(sock))
        # SIGKILL leaves the file behind; the next vNF replaces it.
        vnf.proc.send_signal(signal.SIGKILL)
        vnf.wait()
    assert sock.exists() and not _accepts(sock)
    with _linux(linux_prog, sock) as vnf:
        assert _growing(ControlClient(sock))
        vnf.proc.send_signal(signal.SIGINT)     # SIGINT: a clean stop removes the socket
        rc, _, err = vnf.wait()
        assert rc == 0, err
    assert not sock.exists()
    # Clean one-line errors, no socket left behind.
    (sock_dir / "file").write_text("x")
    cases = [
        (str(sock_dir / "nodir" / "v.sock"), 1, "its directory does not exist"),
        (str(sock_dir / "file"), 1, "exists and is not a socket"),
        (str(sock_dir / ("x" * 120)), 1, "path too long for a UNIX socket"),
    ]
    for path, rc, needle in cases:
        res = subprocess.run([str(linux_prog), "--control", path], capture_output=True, text=True,
                             timeout=20)
        assert res.returncode == rc, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: --control {path}: "), res.stderr
        assert needle in lines[0]
    assert (sock_dir / "file").read_text() == "x"
    res = subprocess.run([str(linux_prog), "--control"], capture_output=True, text=True, timeout=20)
    assert res.returncode == 2 and "error: --control expects the path of a UNIX socket" in res.stderr
    if os.geteuid() != 0:
        locked = sock_dir / "locked"
        locked.mkdir(mode=0o500)
        res = subprocess.run([str(linux_prog), "--control", str(locked / "v.sock")],
                             capture_output=True, text=True, timeout=20)
        assert res.returncode == 1 and "Permission denied" in res.stderr


def _uknfv(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return run_uknfv(*args, cwd=cwd, timeout=60)


def _check_cli(sock: Path, vnf: Vnf, cwd: Path) -> None:
    res = _uknfv("handlers", str(sock))
    assert res.returncode == 0, res.stderr
    assert "c.count" in res.stdout.split() and "src.active" in res.stdout.split()
    res = _uknfv("handlers", str(sock), "--values")
    assert res.returncode == 0, res.stderr
    vals = stats_of(res.stdout)
    assert vals["src.rate"] == "1000" and int(vals["c.count"]) >= 0
    first = int(_uknfv("read", str(sock), "c.count").stdout)
    time.sleep(0.3)
    res = _uknfv("read", str(sock), "c.count")
    assert res.returncode == 0 and int(res.stdout) > first, res.stderr
    res = _uknfv("write", str(sock), "src.active", "false")
    assert res.returncode == 0 and res.stdout == "", res.stderr
    time.sleep(0.05)
    a = int(_uknfv("read", str(sock), "c.count").stdout)
    time.sleep(0.3)
    assert int(_uknfv("read", str(sock), "c.count").stdout) == a
    # Clean errors: no such handler, a failing write, a missing socket.
    res = _uknfv("read", str(sock), "c.bogus")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "the vNF has no readable handler 'c.bogus'" in res.stderr
    res = _uknfv("write", str(sock), "src.rate", "fast")
    assert res.returncode == 1 and "write src.rate: the handler failed (520" in res.stderr
    missing = sock.parent / "missing.sock"
    for args in (("handlers", str(missing)), ("read", str(missing), "c.count"),
                 ("write", str(missing), "src.active", "true")):
        res = _uknfv(*args)
        assert res.returncode == 1 and "Traceback" not in res.stderr
        assert f"no vNF is listening on {missing} (no such socket)" in res.stderr
    # WRITE stop through the CLI ends the run.
    res = _uknfv("write", str(sock), "stop")
    assert res.returncode == 0, res.stderr
    rc, out, err = vnf.wait()
    assert rc == 0, err
    assert not sock.exists()


def test_cli_commands_against_a_linux_vnf(tmp_path, sock_dir):
    """`uknfv run --target linux --control SOCK`, then `uknfv handlers/read/write SOCK`."""
    (tmp_path / "p.click").write_text(PIPELINE)
    sock = sock_dir / "v.sock"
    with Vnf(uknfv_cmd() + ["run", "p.click", "--target", "linux", "--control", str(sock),
                            "--stats"], sock, cwd=tmp_path, timeout=120) as vnf:
        _check_cli(sock, vnf, tmp_path)


def test_cli_run_control_errors(tmp_path, sock_dir):
    (tmp_path / "p.click").write_text(PIPELINE)
    res = _uknfv("run", "p.click", "--target", "linux", "--control",
                 str(sock_dir / "nodir" / "v.sock"), cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "its directory does not exist" in res.stderr


# ---- the DPDK target --------------------------------------------------------------------

@needs_dpdk
@pytest.mark.e2e
def test_dpdk_live_handlers(dpdk_prog, sock_dir):
    sock = sock_dir / "d.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock))
    stale.close()
    with Vnf([str(dpdk_prog), "--no-huge", "--control", str(sock), "--stats"], sock,
             cwd=dpdk_prog.parent, timeout=60) as vnf:
        assert (os.stat(sock).st_mode & 0o777) == 0o600
        a, b = Raw(sock), Raw(sock)
        code, data = a.cmd("LIST")
        assert code == 200 and b"c.count\n" in data and b"src.active\n" in data
        assert _growing(a) and _growing(b)
        # A client gone mid-line, another with half a line pending.
        half = Raw(sock)
        half.send(b"WRITE src.act")
        half.close()
        slow = Raw(sock)
        slow.send(b"READ c.")
        assert b.cmd("WRITE src.active false") == (200, None)
        time.sleep(0.05)
        n = int(a.read("c.count"))
        time.sleep(0.4)
        assert int(b.read("c.count")) == n
        assert a.cmd("WRITE src.active true") == (200, None)
        assert _growing(b)
        slow.send(b"count\n")
        assert slow.line() == b"200 OK"
        assert a.cmd("READ c.bogus") == (511, None)
        assert a.cmd("WRITE src.rate x") == (520, None)
        assert a.cmd("BOGUS") == (500, None)
        a.send(b"x" * 10000 + b"\n")
        assert a.line().startswith(b"500")
        for r in (a, b, slow):
            r.close()
        c = ControlClient(sock)
        c.write("stop")
        rc, out, err = vnf.wait(timeout=30)
    assert rc == 0, err
    assert int(stats_of(out)["c.count"]) > 0
    assert not sock.exists()


@needs_dpdk
@pytest.mark.e2e
def test_cli_commands_against_a_dpdk_vnf(tmp_path, sock_dir):
    """`uknfv run --target dpdk --no-huge --control SOCK`, then the CLI commands."""
    (tmp_path / "p.click").write_text(PIPELINE)
    sock = sock_dir / "d.sock"
    with Vnf(uknfv_cmd() + ["run", "p.click", "--target", "dpdk", "--no-huge", "--control",
                            str(sock), "--stats"], sock, cwd=tmp_path, timeout=180) as vnf:
        _check_cli(sock, vnf, tmp_path)


@needs_dpdk
@pytest.mark.e2e
def test_dpdk_control_startup_error(dpdk_prog, sock_dir):
    path = str(sock_dir / "nodir" / "d.sock")
    res = subprocess.run([str(dpdk_prog), "--no-huge", "--control", path], capture_output=True,
                         text=True, timeout=60, cwd=dpdk_prog.parent)
    assert res.returncode == 1, res.stderr
    assert f"error: --control {path}: cannot create the socket: its directory does not exist" \
        in res.stderr
    assert "Segmentation" not in res.stderr
