"""A do-nothing vhost-user backend: enough of the protocol for QEMU to start a VM.

It answers the "get" requests QEMU sends while setting up a vhost-user
netdev (features 0 plus VIRTIO_F_VERSION_1, no protocol features), closes
the file descriptors it is sent, and records the request numbers.  It moves
no packets: it proves the command line (sockets, shared guest memory) is
accepted, not the data path.
"""
from __future__ import annotations

import array
import socket
import struct
import threading

GET_FEATURES, SET_MEM_TABLE, GET_VRING_BASE = 1, 5, 11
REPLY_U64 = {1, 15, 17, 36}          # GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, GET_MAX_MEM_SLOTS
NEED_REPLY, REPLY_FLAG, VERSION = 0x8, 0x4, 0x1
FEATURES = (1 << 32)                  # VIRTIO_F_VERSION_1


class VhostUserStub:
    def __init__(self, path: str, listen: bool = True):
        self.path, self.requests = path, []
        self.ok = threading.Event()         # set once QEMU has asked for the features
        self._srv = None
        if listen:
            self._srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._srv.bind(path)
            self._srv.listen(1)
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _connect(self) -> socket.socket:
        if self._srv is not None:
            conn, _ = self._srv.accept()
            return conn
        import time
        for _ in range(500):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.path)
                return s
            except OSError:
                s.close()
                time.sleep(0.02)
        raise OSError(f"cannot connect to {self.path}")

    def _run(self) -> None:
        try:
            conn = self._connect()
        except OSError:
            return
        with conn:
            while True:
                fds = array.array("i")
                try:
                    msg, anc, _, _ = conn.recvmsg(12, socket.CMSG_SPACE(8 * fds.itemsize))
                except OSError:
                    return
                if len(msg) < 12:
                    return
                for level, typ, data in anc:
                    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                import os
                for fd in fds:
                    os.close(fd)
                req, flags, size = struct.unpack("<III", msg)
                payload = b""
                while len(payload) < size:
                    chunk = conn.recv(size - len(payload))
                    if not chunk:
                        return
                    payload += chunk
                self.requests.append(req)
                if req == GET_FEATURES:
                    self.ok.set()
                if req in REPLY_U64:
                    value = FEATURES if req == GET_FEATURES else (1 if req == 17 else 0)
                    conn.sendall(struct.pack("<IIIQ", req, VERSION | REPLY_FLAG, 8, value))
                elif req == GET_VRING_BASE:
                    conn.sendall(struct.pack("<III", req, VERSION | REPLY_FLAG, 8) + payload[:8])
                elif flags & NEED_REPLY:
                    conn.sendall(struct.pack("<IIIQ", req, VERSION | REPLY_FLAG, 8, 0))

    def close(self) -> None:
        if self._srv is not None:
            try:
                self._srv.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._srv.close()
