"""Client of a running vNF's control channel.

The protocol is a subset of Click's ControlSocket text protocol, spoken over
a UNIX socket: for the unikernel, QEMU's chardev socket behind the guest's
second serial port; for the Linux and DPDK processes (``--control SOCK``),
the process's own socket (uknfv/libs/rtproc/control.c).  Both share one
interpreter (uknfv/libs/rt/rt_control.c)::

    client: READ element.handler\\r\\n      server: 200 OK\\r\\n DATA n\\r\\n <n bytes>
    client: WRITE element.handler VALUE\\r\\n server: 200 OK\\r\\n
    client: LIST\\r\\n                      server: 200 OK\\r\\n DATA n\\r\\n "e.h\\n"...
    client: QUIT\\r\\n                      server: 200 Goodbye!\\r\\n
    errors: 5xx message\\r\\n  (500 syntax, 511 no such handler, 520 handler error)

A server may open with a banner line (``Click::ControlSocket/1.3``: the
processes send it, the unikernel's serial line cannot); it is skipped.  Any
2xx status is success, as in Click.

QEMU accepts one client at a time on the socket (the processes accept
several), so a ``ControlClient`` connects per use and closes promptly; use
it as a context manager to run several commands over one connection.
"""
from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

from ..diag import UknfvError

DEFAULT_TIMEOUT = 5.0
BANNER_PREFIX = b"Click::ControlSocket"
MAX_DATA = 64 * 1024 * 1024


class ControlError(UknfvError):
    """The vNF answered with an error status (``code`` is Click's 3-digit code)."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


def control_dir() -> Path:
    """Where `uknfv run` puts control sockets by default (created 0700 on use)."""
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg):
        return Path(xdg) / "uknfv"
    return Path(f"/tmp/uknfv-{os.getuid()}")


def default_socket(name: str) -> Path:
    return control_dir() / f"{name}.sock"


def is_live(path: str | os.PathLike) -> bool:
    """True if something accepts connections on the UNIX socket ``path``."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


def live_sockets(directory: Path | None = None) -> list[Path]:
    d = directory or control_dir()
    try:
        entries = sorted(d.iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        try:
            if p.suffix == ".sock" and stat.S_ISSOCK(p.lstat().st_mode) and is_live(p):
                out.append(p)
        except OSError:
            continue
    return out


def find_socket(given: str | None = None, directory: Path | None = None) -> Path:
    """The socket to talk to: ``given``, or the only live one in the default directory."""
    if given:
        return Path(given)
    d = directory or control_dir()
    found = live_sockets(d)
    if len(found) == 1:
        return found[0]
    if not found:
        raise UknfvError(f"no running vNF found in {d}: start one with "
                         f"`uknfv run IMAGE --target kvm --port ...`, or name its control "
                         f"socket explicitly")
    names = "\n".join(f"  {p}" for p in found)
    raise UknfvError(f"several vNFs are running; say which control socket to use:\n{names}")


def _check_token(what: str, s: str) -> None:
    if not s or any(c.isspace() for c in s):
        raise UknfvError(f"bad {what} '{s}': expected ELEMENT.HANDLER without spaces")


class ControlClient:
    """``ControlClient(path).read("c.count")``, ``.write("q.reset")``, ``.list()``."""

    def __init__(self, path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT):
        self.path = str(path)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buf = b""

    # -- connection -------------------------------------------------------
    def _not_listening(self, why: str) -> UknfvError:
        return UknfvError(f"no vNF is listening on {self.path} ({why}): is it running? start it "
                          f"with `uknfv run IMAGE --target kvm|linux|dpdk --port ... "
                          f"--control {self.path}`")

    def connect(self) -> "ControlClient":
        if self._sock is not None:
            return self
        if len(os.fsencode(self.path)) >= 108:
            raise UknfvError(f"control socket path too long for a UNIX socket: {self.path}")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except FileNotFoundError:
            s.close()
            raise self._not_listening("no such socket") from None
        except ConnectionRefusedError:
            s.close()
            raise self._not_listening("connection refused") from None
        except socket.timeout:
            s.close()
            raise self._not_listening("connection timed out") from None
        except OSError as e:
            s.close()
            raise self._not_listening(e.strerror or str(e)) from None
        self._sock = s
        self._buf = b""
        self._drain()
        return self

    def _drain(self) -> None:
        """Drop bytes already waiting (the tail of an answer an earlier client left unread)."""
        assert self._sock is not None
        self._sock.setblocking(False)
        try:
            while self._sock.recv(65536):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            pass
        finally:
            self._sock.settimeout(self.timeout)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf = b""

    def __enter__(self) -> "ControlClient":
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- wire ----------------------------------------------------------------
    def _recv_more(self, deadline: float) -> None:
        assert self._sock is not None
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self._sock.settimeout(left)
        chunk = self._sock.recv(65536)
        if not chunk:
            raise UknfvError(f"the vNF on {self.path} closed the control connection "
                             f"(did it stop?)")
        self._buf += chunk

    def _line(self, deadline: float) -> bytes:
        while b"\n" not in self._buf:
            if len(self._buf) > 65536:
                raise UknfvError(f"garbled answer on {self.path}: no end of line")
            self._recv_more(deadline)
        line, self._buf = self._buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def _exact(self, n: int, deadline: float) -> bytes:
        while len(self._buf) < n:
            self._recv_more(deadline)
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def _status(self, deadline: float) -> tuple[int, str]:
        while True:
            line = self._line(deadline)
            if not line.strip() or line.startswith(BANNER_PREFIX):
                continue
            text = line.decode("utf-8", "replace")
            head = text[:3]
            if len(text) >= 3 and head.isdigit() and (len(text) == 3 or text[3] in " -"):
                return int(head), text[4:].strip()
            raise UknfvError(f"garbled answer on {self.path}: {text!r}")

    def command(self, line: str, want_data: bool) -> bytes | None:
        """Send one command; return its DATA (or None); raise ControlError on an error status."""
        owned = self._sock is None
        self.connect()
        assert self._sock is not None
        try:
            deadline = time.monotonic() + self.timeout
            try:
                self._sock.sendall(line.encode() + b"\r\n")
                code, msg = self._status(deadline)
                if code // 100 != 2:
                    raise ControlError(f"{code} {msg}".strip(), code)
                if not want_data:
                    return None
                hdr = self._line(deadline).decode("utf-8", "replace")
                parts = hdr.split()
                if len(parts) != 2 or parts[0] != "DATA" or not parts[1].isdigit():
                    raise UknfvError(f"garbled answer on {self.path}: expected 'DATA n', got {hdr!r}")
                n = int(parts[1])
                if n > MAX_DATA:
                    raise UknfvError(f"garbled answer on {self.path}: DATA {n} is too large")
                return self._exact(n, deadline)
            except socket.timeout:
                raise UknfvError(f"no answer from the vNF on {self.path} within {self.timeout:g} s "
                                 f"(is another client connected, or is the guest stuck?)") from None
            except (BrokenPipeError, ConnectionResetError):
                raise UknfvError(f"the vNF on {self.path} closed the control connection "
                                 f"(did it stop?)") from None
        finally:
            if owned:
                self.close()

    # -- API -------------------------------------------------------------------
    def read(self, handler: str) -> str:
        _check_token("handler", handler)
        try:
            data = self.command(f"READ {handler}", want_data=True)
        except ControlError as e:
            raise self._handler_error(handler, "read", e) from None
        return (data or b"").decode("utf-8", "replace")

    def write(self, handler: str, value: str = "") -> None:
        _check_token("handler", handler)
        if "\n" in value or "\r" in value:
            raise UknfvError("handler values cannot contain line breaks")
        line = f"WRITE {handler} {value}" if value else f"WRITE {handler}"
        try:
            self.command(line, want_data=False)
        except ControlError as e:
            raise self._handler_error(handler, "write", e) from None

    def list(self) -> list[str]:
        data = self.command("LIST", want_data=True) or b""
        return [l.strip() for l in data.decode("utf-8", "replace").splitlines() if l.strip()]

    def quit(self) -> None:
        self.command("QUIT", want_data=False)

    def _handler_error(self, handler: str, how: str, e: ControlError) -> ControlError:
        if e.code == 511:
            msg = (f"the vNF has no {'readable' if how == 'read' else 'writable'} handler "
                   f"'{handler}' (see `uknfv handlers`)")
        elif e.code == 520:
            msg = f"{how} {handler}: the handler failed ({e.message})"
        else:
            msg = f"{how} {handler}: {e.message}"
        return ControlError(msg, e.code)
