"""`uknfv run --target kvm`, `handlers`, `read`, `write`: arguments and errors (no VM)."""
from __future__ import annotations

import shlex
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from uknfv import cli
from uknfv.testing import run_uknfv

ACCEL_TCG = "uknfv: using TCG as requested"


@pytest.fixture
def runner(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    (tmp_path / "xdg").mkdir()
    return CliRunner()


def invoke(runner, *args):
    res = runner.invoke(cli.main, list(args), catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def test_print_cmd_for_an_image(runner, fake_image, tmp_path):
    img = fake_image(["lan", "wan"], memory_mb=24)
    rc, out, err = invoke(runner, "run", str(img), "--target", "kvm", "--accel", "tcg",
                          "--port", "wan=tap:tap1,mac=02:00:00:00:00:02", "--port", "lan=tap:tap0",
                          "--print-cmd")
    assert rc == 0, err
    assert err.startswith(ACCEL_TCG)
    argv = shlex.split(out)
    sock = tmp_path / "xdg" / "uknfv" / "vnf.sock"
    assert argv[argv.index("-kernel") + 1] == str(img)
    assert argv[argv.index("-m") + 1] == "24"
    assert f"socket,id=ctl,path={sock},server=on,wait=off" in argv
    assert sock.parent.is_dir()                     # QEMU can create the socket there
    nets = [a for a in argv if a.startswith("virtio-net-device")]
    from uknfv.run.qemu import default_mac
    assert nets == [f"virtio-net-device,netdev=n0,mac={default_mac('vnf', 0)}",   # image order
                    "virtio-net-device,netdev=n1,mac=02:00:00:00:00:02"]
    assert "-append" not in argv


def test_print_cmd_options(runner, fake_image, tmp_path):
    img = fake_image(["lan"])
    rc, out, err = invoke(runner, "run", str(img), "--target", "kvm", "--accel", "tcg",
                          "--machine", "q35", "--memory", "64", "--control", str(tmp_path / "c.sock"),
                          "--port", "lan=vhost-user:/tmp/vu.sock,server", "--print-cmd")
    assert rc == 0, err
    argv = shlex.split(out)
    assert argv[1:3] == ["-M", "q35,sata=off,smbus=off,vmport=off,memory-backend=mem"]
    assert argv[argv.index("-m") + 1] == "64"
    assert "memory-backend-memfd,id=mem,size=64M,share=on" in argv
    assert f"socket,id=ctl,path={tmp_path / 'c.sock'},server=on,wait=off" in argv


def test_print_cmd_bridge_explains_the_tap(runner, fake_image):
    rc, out, err = invoke(runner, "run", str(fake_image(["lan"])), "--target", "kvm", "--accel", "tcg",
                          "--port", "lan=bridge:br0", "--print-cmd")
    assert rc == 0, err
    assert "tap,id=n0,ifname=uk-lan" in out or "ifname=uk-lan" in out
    assert "creates and attaches to br0" in err


def test_image_is_recognised_without_target(runner, fake_image):
    rc, out, err = invoke(runner, "run", str(fake_image(["lan"])), "--accel", "tcg",
                          "--port", "lan=tap:t0", "--print-cmd")
    assert rc == 0, err
    assert out.startswith("qemu-system-x86_64 ")


@pytest.mark.parametrize("ports,needles", [
    ([], ["ports lan, wan not bound", "--port lan=tap:TAP --port wan=tap:TAP",
          "NAME=tap:TAP[,mac=MAC] | NAME=vhost-user:SOCK"]),
    (["lan=tap:t0"], ["port wan not bound"]),
    (["lan=tap:t0", "wan=tap:t1", "dmz=tap:t2"], ["the image has no port 'dmz' (its ports: lan, wan)"]),
    (["lan:tap:t0", "wan=tap:t1"], ["bad --port 'lan:tap:t0': no NAME="]),
    (["lan=pcap:in.pcap", "wan=tap:t1"], ["'pcap:' ports are for the linux target"]),
    (["lan=tap:t0,mac=zz", "wan=tap:t1"], ["bad MAC 'zz'"]),
])
def test_binding_errors(runner, fake_image, ports, needles):
    args = ["run", str(fake_image(["lan", "wan"])), "--target", "kvm", "--print-cmd"]
    for p in ports:
        args += ["--port", p]
    rc, out, err = invoke(runner, *args)
    assert rc == 1 and out == ""
    for n in needles:
        assert n in err
    assert "Traceback" not in err


def test_run_errors(runner, fake_image, tmp_path):
    img = str(fake_image(["lan"]))
    rc, _, err = invoke(runner, "run", img, "X=1", "--target", "kvm", "--port", "lan=tap:t")
    assert rc == 1 and "is a built image: NAME=VALUE defines apply to pipelines" in err
    (tmp_path / "p.click").write_text("FromDevice(a) -> Discard;\n")
    rc, _, err = invoke(runner, "run", str(tmp_path / "p.click"), "--machine", "q35", "--print-cmd")
    assert rc == 1 and "--machine, --print-cmd: only for --target kvm" in err
    rc, _, err = invoke(runner, "run", img, "--target", "kvm", "--memory", "1", "--port", "lan=tap:t")
    assert rc == 2 and "--memory" in err


def test_pipeline_is_built_with_the_kvm_target(runner, tmp_path, monkeypatch, fake_image):
    """A .click FILE goes through targets.get('kvm').build(graph, opt=...) and its Built."""
    from uknfv import targets
    img = fake_image(["in", "out"], name="built")
    calls = []

    def fake_build(g, opt="O2"):
        calls.append((g, opt))
        return SimpleNamespace(path=img, emitted=SimpleNamespace(ports=[("in", 1), ("out", 2)]),
                               meta={"target": "kvm", "memory_mb": 12,
                                     "ports": [{"name": "in"}, {"name": "out"}]})
    real_get = targets.get
    monkeypatch.setattr(targets, "get", lambda name: SimpleNamespace(build=fake_build)
                        if name == "kvm" else real_get(name))
    (tmp_path / "fw.click").write_text("FromDevice(in) -> Counter -> ToDevice(out);\n")
    rc, out, err = invoke(runner, "run", str(tmp_path / "fw.click"), "--target", "kvm", "--accel", "tcg",
                          "--port", "in=tap:t0", "--port", "out=tap:t1", "--print-cmd")
    assert rc == 0, err
    assert len(calls) == 1 and calls[0][1] == "O2"
    argv = shlex.split(out)
    assert argv[argv.index("-m") + 1] == "12"
    # sockets and MACs are named after the pipeline, not the cached image file
    assert any(a.endswith("/uknfv/fw.sock,server=on,wait=off") for a in argv)
    from uknfv.run.qemu import default_mac
    assert f"virtio-net-device,netdev=n0,mac={default_mac('fw', 0)}" in argv


# ---------------------------------------------------------------- handlers / read / write

class OneServer:
    """A fake vNF control socket answering a few commands."""

    def __init__(self, path: Path):
        self.path = path
        self.values = {"c.count": "5", "c.rate": "0.5\n", "q.reset": None}
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.got: list[str] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                for raw in f:
                    line = raw.decode().strip()
                    self.got.append(line)
                    cmd, _, rest = line.partition(" ")
                    if cmd == "LIST":
                        d = "".join(f"{k}\n" for k in self.values).encode()
                        conn.sendall(b"200 OK\r\nDATA %d\r\n" % len(d) + d)
                    elif cmd == "READ" and self.values.get(rest) is not None:
                        d = self.values[rest].encode()
                        conn.sendall(b"200 OK\r\nDATA %d\r\n" % len(d) + d)
                    elif cmd == "WRITE" and rest.split(" ")[0] in self.values:
                        conn.sendall(b"200 OK\r\n")
                    else:
                        conn.sendall(b"511 No such handler\r\n")

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@pytest.fixture
def vnf(tmp_path):
    d = tmp_path / "xdg" / "uknfv"
    d.mkdir(parents=True, exist_ok=True)
    s = OneServer(d / "fw.sock")
    yield s
    s.close()


def test_handlers_read_write(runner, vnf):
    sock = str(vnf.path)
    assert invoke(runner, "handlers", sock)[:2] == (0, "c.count\nc.rate\nq.reset\n")
    assert invoke(runner, "handlers")[:2] == (0, "c.count\nc.rate\nq.reset\n")   # the only one
    assert invoke(runner, "handlers", "-v")[:2] == (0, "c.count: 5\nc.rate: 0.5\n")
    assert invoke(runner, "read", sock, "c.count")[:2] == (0, "5\n")
    assert invoke(runner, "read", "c.rate")[:2] == (0, "0.5\n")
    assert invoke(runner, "write", sock, "q.reset")[0] == 0
    assert invoke(runner, "write", "c.count", "0")[0] == 0
    assert invoke(runner, "write", sock, "c.count", "1", "2")[0] == 0
    assert vnf.got[-3:] == ["WRITE q.reset", "WRITE c.count 0", "WRITE c.count 1 2"]
    rc, _, err = invoke(runner, "read", "nope.x")
    assert rc == 1 and "no readable handler 'nope.x'" in err
    rc, _, err = invoke(runner, "read", "a", "b", "c")
    assert rc == 1 and "usage: uknfv read [SOCK] ELEMENT.HANDLER" in err


def test_no_vnf_running(runner, tmp_path):
    rc, _, err = invoke(runner, "handlers")
    assert rc == 1 and "no running vNF found in" in err and "uknfv run" in err
    rc, _, err = invoke(runner, "read", str(tmp_path / "x.sock"), "c.count")
    assert rc == 1 and f"no vNF is listening on {tmp_path / 'x.sock'}" in err


def test_several_vnfs_running(runner, vnf):
    other = OneServer(vnf.path.parent / "other.sock")
    try:
        rc, _, err = invoke(runner, "read", "c.count")
        assert rc == 1 and "several vNFs are running" in err
        assert str(vnf.path) in err and str(other.path) in err
    finally:
        other.close()


def test_cli_subprocess_errors_are_clean(tmp_path, fake_image):
    """The installed command: exit 1, no traceback."""
    res = run_uknfv("run", str(fake_image(["lan"])), "--target", "kvm", "--port", "lan=nope:x",
                    cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "unknown kind 'nope'" in res.stderr
