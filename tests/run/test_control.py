"""The control-channel client against a fake ControlSocket server in a thread."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from uknfv.diag import UknfvError
from uknfv.run import control
from uknfv.run.control import ControlClient, ControlError


class FakeServer:
    """A UNIX-socket server speaking the guest's protocol, one client at a time like QEMU.

    ``handlers`` maps names to values (str: readable and writable; None: write-only).
    ``banner``: send Click's banner on connect; ``chunk``: send answers a byte at a time;
    ``mute``: never answer.
    """

    def __init__(self, path: Path, handlers=None, banner=False, chunk=False, mute=False):
        self.path = str(path)
        self.handlers = dict(handlers or {"c.count": "42", "q.drops": "0", "q.reset": None})
        self.banner, self.chunk, self.mute = banner, chunk, mute
        self.lines: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)    # wakes accept()
        except OSError:
            pass
        self.sock.close()
        self.thread.join(2)

    def _send(self, conn, data: bytes):
        if self.chunk:
            for i in range(len(data)):
                conn.sendall(data[i:i + 1])
        else:
            conn.sendall(data)

    def _answer(self, line: str) -> bytes:
        cmd, _, rest = line.partition(" ")
        if cmd == "READ":
            v = self.handlers.get(rest)
            if v is None:
                return b"511 No such handler\r\n"
            return b"200 OK\r\nDATA %d\r\n%s" % (len(v.encode()), v.encode())
        if cmd == "WRITE":
            h, _, v = rest.partition(" ")
            if h not in self.handlers and h != "stop":
                return b"511 No such handler\r\n"
            if h == "q.fail":
                return b"520 Handler error\r\n"
            if h in self.handlers and self.handlers[h] is not None:
                self.handlers[h] = v
            return b"200 OK\r\n"
        if cmd == "LIST":
            data = "".join(f"{h}\n" for h in self.handlers).encode()
            return b"200 OK\r\nDATA %d\r\n%s" % (len(data), data)
        if cmd == "QUIT":
            return b"200 Goodbye!\r\n"
        return b"500 Syntax error\r\n"

    def _serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                if self.banner:
                    conn.sendall(b"Click::ControlSocket/1.3\r\n")
                buf = b""
                while True:
                    try:
                        d = conn.recv(4096)
                    except OSError:
                        break
                    if not d:
                        break
                    buf += d
                    while b"\n" in buf:
                        raw, buf = buf.split(b"\n", 1)
                        line = raw.rstrip(b"\r").decode()
                        self.lines.append(line)
                        if not self.mute:
                            try:
                                self._send(conn, self._answer(line))
                            except OSError:
                                break


@pytest.fixture
def sock_dir(tmp_path):
    # Short path: UNIX socket paths are limited to 107 bytes.
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="ukc-", dir="/tmp"))
    yield d
    for p in d.iterdir():
        p.unlink()
    d.rmdir()


@pytest.fixture
def server(sock_dir):
    servers = []

    def make(**kw) -> FakeServer:
        s = FakeServer(sock_dir / f"s{len(servers)}.sock", **kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


@pytest.mark.parametrize("banner,chunk", [(False, False), (True, False), (False, True), (True, True)])
def test_read_write_list(server, banner, chunk):
    s = server(banner=banner, chunk=chunk)
    c = ControlClient(s.path, timeout=3)
    assert c.read("c.count") == "42"
    c.write("c.count", "7 8 9")
    assert c.read("c.count") == "7 8 9"
    c.write("q.reset")
    assert c.list() == ["c.count", "q.drops", "q.reset"]
    assert s.lines == ["READ c.count", "WRITE c.count 7 8 9", "READ c.count", "WRITE q.reset", "LIST"]


def test_data_is_taken_by_length_not_by_lines(server):
    s = server(handlers={"t.table": "a\r\nb\r\n200 OK\r\n", "c.count": "1"})
    with ControlClient(s.path, timeout=3) as c:       # one connection, two commands
        assert c.read("t.table") == "a\r\nb\r\n200 OK\r\n"
        assert c.read("c.count") == "1"


def test_errors(server):
    s = server(handlers={"c.count": "1", "q.reset": None, "q.fail": "x"})
    c = ControlClient(s.path, timeout=3)
    with pytest.raises(ControlError) as e:
        c.read("nope.count")
    assert e.value.code == 511
    assert "no readable handler 'nope.count'" in str(e.value) and "uknfv handlers" in str(e.value)
    with pytest.raises(ControlError, match="no readable handler 'q.reset'"):
        c.read("q.reset")
    with pytest.raises(ControlError, match="no writable handler 'x.y'"):
        c.write("x.y", "1")
    with pytest.raises(ControlError, match=r"write q.fail: the handler failed \(520 Handler error\)"):
        c.write("q.fail", "1")
    with pytest.raises(ControlError) as e:
        c.command("FROB", want_data=False)
    assert e.value.code == 500
    with pytest.raises(UknfvError, match="bad handler 'a b'"):
        c.read("a b")
    with pytest.raises(UknfvError, match="line breaks"):
        c.write("c.count", "1\r\nWRITE stop")


def test_not_listening(sock_dir):
    with pytest.raises(UknfvError) as e:
        ControlClient(sock_dir / "none.sock").read("c.count")
    msg = str(e.value)
    assert f"no vNF is listening on {sock_dir / 'none.sock'}" in msg
    assert "is it running?" in msg and f"--control {sock_dir / 'none.sock'}" in msg
    # a stale socket file: connection refused
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_dir / "stale.sock"))
    stale.close()
    with pytest.raises(UknfvError, match="connection refused"):
        ControlClient(sock_dir / "stale.sock").list()


def test_timeout(server):
    s = server(mute=True)
    t0 = time.monotonic()
    with pytest.raises(UknfvError, match=r"no answer from the vNF on .* within 0.3 s"):
        ControlClient(s.path, timeout=0.3).read("c.count")
    assert time.monotonic() - t0 < 2


def test_server_closing_mid_answer(sock_dir):
    path = sock_dir / "close.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        conn.recv(100)
        conn.sendall(b"200 OK\r\nDATA 10\r\nabc")
        conn.close()
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    with pytest.raises(UknfvError, match="closed the control connection"):
        ControlClient(path, timeout=3).read("c.count")
    t.join(2)
    srv.close()


def test_garbled_answers(sock_dir):
    for answer, needle in [(b"hello\r\n", "garbled answer"), (b"200 OK\r\nDATUM 3\r\n", "expected 'DATA n'")]:
        path = sock_dir / "g.sock"
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(str(path))
        srv.listen(1)

        def serve():
            conn, _ = srv.accept()
            conn.recv(100)
            conn.sendall(answer)
            time.sleep(0.2)
            conn.close()
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        with pytest.raises(UknfvError, match=needle):
            ControlClient(path, timeout=3).read("c.count")
        t.join(2)
        srv.close()
        path.unlink()


def test_find_socket(sock_dir, server, monkeypatch):
    with pytest.raises(UknfvError, match="no running vNF found"):
        control.find_socket(None, sock_dir)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_dir / "dead.sock"))     # stale sockets are not candidates
    stale.close()
    a = server()
    assert control.find_socket(None, sock_dir) == Path(a.path)
    b = server()
    with pytest.raises(UknfvError) as e:
        control.find_socket(None, sock_dir)
    assert "several vNFs are running" in str(e.value)
    assert a.path in str(e.value) and b.path in str(e.value) and "dead.sock" not in str(e.value)
    assert control.find_socket("/x/y.sock", sock_dir) == Path("/x/y.sock")


def test_control_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert control.control_dir() == tmp_path / "uknfv"
    assert control.default_socket("fw") == tmp_path / "uknfv" / "fw.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert control.control_dir() == Path(f"/tmp/uknfv-{os.getuid()}")
