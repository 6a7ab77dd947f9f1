"""QEMU command lines for every machine and port kind, port binding and its errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from uknfv.diag import UknfvError
from uknfv.run import qemu
from uknfv.run.qemu import VM, PortBinding, command, parse_port, resolve_ports

IMG = Path("/img/fw.img")
SOCK = Path("/run/uknfv/fw.sock")
MAC0, MAC1 = "52:54:00:00:00:01", "52:54:00:00:00:02"

MICROVM_HEAD = ["qemu-system-x86_64",
                "-M", "microvm,x-option-roms=off,pit=on,pic=off,rtc=off,isa-serial=on,acpi=off",
                "-accel", "tcg", "-cpu", "max", "-m", "16",
                "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
                "-kernel", "/img/fw.img", "-serial", "stdio",
                "-chardev", "socket,id=ctl,path=/run/uknfv/fw.sock,server=on,wait=off",
                "-device", "isa-serial,chardev=ctl,index=1",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def vm(*ports: PortBinding, **kw) -> VM:
    kw.setdefault("control", SOCK)
    return VM(image=IMG, ports=list(ports), **kw)


def test_microvm_tap():
    argv = command(vm(PortBinding("lan", "tap", "tap0", MAC0), PortBinding("wan", "tap", "tap1", MAC1)))
    assert argv == MICROVM_HEAD + [
        "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device", f"virtio-net-device,netdev=n0,mac={MAC0}",
        "-netdev", "tap,id=n1,ifname=tap1,script=no,downscript=no",
        "-device", f"virtio-net-device,netdev=n1,mac={MAC1}"]


def test_q35_tap_with_qboot_and_pci_slots():
    argv = command(vm(PortBinding("lan", "tap", "tap0", MAC0), PortBinding("wan", "tap", "tap1", MAC1),
                      machine="q35", accel="kvm", memory_mb=64))
    assert argv == [
        "qemu-system-x86_64", "-M", "q35,sata=off,smbus=off,vmport=off",
        "-accel", "kvm", "-cpu", "host", "-m", "64",
        "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
        "-bios", "/usr/share/qemu/qboot.rom",
        "-kernel", "/img/fw.img", "-serial", "stdio",
        "-chardev", "socket,id=ctl,path=/run/uknfv/fw.sock,server=on,wait=off",
        "-device", "isa-serial,chardev=ctl,index=1",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
        "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=n0,mac={MAC0},addr=0x2",
        "-netdev", "tap,id=n1,ifname=tap1,script=no,downscript=no",
        "-device", f"virtio-net-pci,netdev=n1,mac={MAC1},addr=0x3"]


def test_microvm_vhost_user_shares_guest_memory():
    argv = command(vm(PortBinding("lan", "vhost-user", "/tmp/a.sock", MAC0),
                      PortBinding("wan", "vhost-user", "/tmp/b,c.sock", MAC1, server=True),
                      memory_mb=32))
    head = list(MICROVM_HEAD)
    head[2] += ",memory-backend=mem"
    head[head.index("-m") + 1] = "32"
    i = head.index("-kernel")
    head[i:i] = ["-object", "memory-backend-memfd,id=mem,size=32M,share=on"]
    assert argv == head + [
        "-chardev", "socket,id=c0,path=/tmp/a.sock",
        "-netdev", "vhost-user,id=n0,chardev=c0",
        "-device", f"virtio-net-device,netdev=n0,mac={MAC0}",
        "-chardev", "socket,id=c1,path=/tmp/b,,c.sock,server=on",   # commas doubled for QEMU
        "-netdev", "vhost-user,id=n1,chardev=c1",
        "-device", f"virtio-net-device,netdev=n1,mac={MAC1}"]


def test_q35_vhost_user():
    argv = command(vm(PortBinding("lan", "vhost-user", "/tmp/a.sock", MAC0), machine="q35"))
    assert argv[:3] == ["qemu-system-x86_64", "-M", "q35,sata=off,smbus=off,vmport=off,memory-backend=mem"]
    i = argv.index("-object")
    assert argv[i + 1] == "memory-backend-memfd,id=mem,size=16M,share=on"
    assert argv[-6:] == ["-chardev", "socket,id=c0,path=/tmp/a.sock",
                         "-netdev", "vhost-user,id=n0,chardev=c0",
                         "-device", f"virtio-net-pci,netdev=n0,mac={MAC0},addr=0x2"]


def test_bridge_runs_on_the_tap_uknfv_creates():
    argv = command(vm(PortBinding("lan", "bridge", "br0", MAC0, tap="uk-lan")))
    assert argv[-4:] == ["-netdev", "tap,id=n0,ifname=uk-lan,script=no,downscript=no",
                         "-device", f"virtio-net-device,netdev=n0,mac={MAC0}"]


def test_bridge_without_a_tap_falls_back_to_the_bridge_helper():
    argv = command(vm(PortBinding("lan", "bridge", "br0", MAC0)))
    assert argv[-4:] == ["-netdev", "bridge,id=n0,br=br0",
                         "-device", f"virtio-net-device,netdev=n0,mac={MAC0}"]


def test_no_ports_no_control_and_console_variants():
    argv = command(vm(control=None, console="none", append="uknfv.pool=256"))
    assert "-chardev" not in argv and "isa-serial,chardev=ctl,index=1" not in argv
    assert argv[argv.index("-append") + 1] == "uknfv.pool=256"
    assert argv[argv.index("-serial") + 1] == "null"
    argv = command(vm(console="/tmp/console.log"))
    assert argv[argv.index("-serial") + 1] == "file:/tmp/console.log"
    assert argv[-2:] == ["-device", "isa-debug-exit,iobase=0xf4,iosize=4"]


def test_unknown_machine():
    with pytest.raises(UknfvError, match="unknown machine 'pc'"):
        command(vm(machine="pc"))


# ---------------------------------------------------------------- --port syntax

@pytest.mark.parametrize("spec,expect", [
    ("lan=tap:tap0", PortBinding("lan", "tap", "tap0")),
    ("lan=tap:tap0,mac=52:54:00:AB:cd:01", PortBinding("lan", "tap", "tap0", "52:54:00:ab:cd:01")),
    ("wan=bridge:br0", PortBinding("wan", "bridge", "br0")),
    ("x=vhost-user:/run/a.sock", PortBinding("x", "vhost-user", "/run/a.sock")),
    ("x=vhost-user:/run/a,b.sock,server,mac=02:00:00:00:00:09",
     PortBinding("x", "vhost-user", "/run/a,b.sock", "02:00:00:00:00:09", server=True)),
    ("x=vhost-user:/run/a.sock,mac=02:00:00:00:00:09,server",
     PortBinding("x", "vhost-user", "/run/a.sock", "02:00:00:00:00:09", server=True)),
])
def test_parse_port(spec, expect):
    assert parse_port(spec) == expect


@pytest.mark.parametrize("spec,needle", [
    ("lan", "no NAME="),
    ("=tap:x", "no NAME="),
    ("lan=tap0", "no KIND:"),
    ("lan=pcap:in.pcap", "'pcap:' ports are for the linux target"),
    ("lan=if:eth0", "'if:' ports are for the linux target"),
    ("lan=virtio:x", "unknown kind 'virtio'"),
    ("lan=tap:", "tap: needs a name"),
    ("lan=vhost-user:", "vhost-user: needs a socket path"),
    ("lan=tap:averyveryverylongname", "not a valid interface name"),
    ("lan=tap:tap0,server", "'server' applies to vhost-user ports only"),
    ("lan=tap:tap0,mac=52:54:00:00:00", "bad MAC '52:54:00:00:00'"),
    ("lan=tap:tap0,mac=01:00:5e:00:00:01", "multicast"),
])
def test_parse_port_errors(spec, needle):
    with pytest.raises(UknfvError) as e:
        parse_port(spec)
    assert needle in str(e.value)
    if "MAC" not in needle and "multicast" not in needle:
        assert "NAME=tap:TAP[,mac=MAC]" in str(e.value)   # the syntax is shown


# ---------------------------------------------------------------- binding to the image

def test_resolve_orders_by_the_image_and_fills_macs():
    got = resolve_ports(["lan", "wan", "mgmt"],
                        ["mgmt=tap:t2", "wan=tap:t1,mac=02:00:00:00:00:01", "lan=bridge:br0"],
                        "fw", image_macs={"lan": "52:54:00:00:01:01"})
    assert [b.name for b in got] == ["lan", "wan", "mgmt"]
    assert got[0].mac == "52:54:00:00:01:01"            # from the image
    assert got[1].mac == "02:00:00:00:00:01"            # from --port
    assert got[2].mac == qemu.default_mac("fw", 2)      # default


def test_default_macs_are_stable_distinct_and_unicast():
    macs = [qemu.default_mac("fw", i) for i in range(4)]
    assert macs == [qemu.default_mac("fw", i) for i in range(4)]
    assert len(set(macs)) == 4 and all(m.startswith("52:54:00:") for m in macs)
    assert qemu.default_mac("fw", 0) != qemu.default_mac("router", 0)


def test_resolve_reports_everything_at_once():
    with pytest.raises(UknfvError) as e:
        resolve_ports(["lan", "wan", "mgmt"], ["lan=tap:t0", "dmz=tap:t9", "lan=tap:t1", "mgmt=pcap:x"],
                      "fw")
    msg = str(e.value)
    assert "the image has no port 'dmz' (its ports: lan, wan, mgmt)" in msg
    assert "port 'lan' is bound twice" in msg
    assert "'pcap:' ports are for the linux target" in msg
    assert "port wan not bound: add --port wan=tap:TAP" in msg
    assert "mgmt not bound" not in msg          # already reported as a bad --port


def test_resolve_missing_lists_every_port():
    with pytest.raises(UknfvError, match=r"ports lan, wan not bound: add --port lan=tap:TAP "
                                         r"--port wan=tap:TAP"):
        resolve_ports(["lan", "wan"], [], "fw")


def test_resolve_rejects_shared_tap_socket_and_mac():
    with pytest.raises(UknfvError, match="ports 'lan' and 'wan' use the same TAP t0"):
        resolve_ports(["lan", "wan"], ["lan=tap:t0", "wan=tap:t0"], "fw")
    with pytest.raises(UknfvError, match="same vhost-user socket"):
        resolve_ports(["lan", "wan"], ["lan=vhost-user:/a", "wan=vhost-user:/a"], "fw")
    with pytest.raises(UknfvError, match="same MAC 02:00:00:00:00:01"):
        resolve_ports(["lan", "wan"], ["lan=tap:t0,mac=02:00:00:00:00:01",
                                       "wan=tap:t1,mac=02:00:00:00:00:01"], "fw")


def test_image_without_ports_takes_none():
    assert resolve_ports([], [], "fw") == []
    with pytest.raises(UknfvError, match=r"its ports: none"):
        resolve_ports([], ["x=tap:t"], "fw")


# ---------------------------------------------------------------- exit status, images, TAP names

@pytest.mark.parametrize("rc,code", [(1, 0), (3, 1), (7, 3), (255, 127), (0, None), (2, None),
                                     (-15, None)])
def test_guest_status(rc, code):
    assert qemu.guest_status(rc) == code


def test_exit_status_tells_qemu_errors_from_guest_exit_0():
    import io
    log = io.StringIO()
    assert qemu._exit_status(1, False, 0, [], log) == 0
    assert qemu._exit_status(1, False, 0, ["qemu-system-x86_64: -kernel x: no such file"], log) == 1
    assert "QEMU failed" in log.getvalue()
    assert qemu._exit_status(0, False, 0, [], log) == 1
    assert "without an exit status" in log.getvalue()
    assert qemu._exit_status(0, True, 2, [], log) == 130      # killed after SIGINT
    assert qemu._exit_status(5, True, 2, [], log) == 2        # exited (status 2) while we killed it


def test_qemu_error_lines():
    assert qemu.is_qemu_error("qemu-system-x86_64: -netdev tap: could not open /dev/net/tun")
    assert not qemu.is_qemu_error("qemu-system-x86_64: warning: host doesn't support x")
    assert not qemu.is_qemu_error("qemu-system-x86_64: terminating on signal 15 from pid 1")
    assert not qemu.is_qemu_error("qemu-system-x86_64: -chardev socket,id=c0,path=/x,server=on: "
                                      "info: QEMU waiting for connection on: disconnected:unix:/x")
    assert qemu.is_qemu_error("qemu-system-x86_64: -chardev socket,id=c0,path=/x: Failed to "
                                  "connect to '/x': No such file or directory")


def test_plan_bridge_taps_avoids_existing_names():
    ports = [PortBinding("lan", "bridge", "br0", MAC0), PortBinding("wan", "tap", "t1", MAC1),
             PortBinding("lan2", "bridge", "br0", MAC1), PortBinding("x/y:z", "bridge", "br1", MAC1)]
    existing = {"uk-lan", "uk-lan1"}
    got = qemu.plan_bridge_taps(ports, exists=lambda n: n in existing)
    assert [p.tap for p in got] == ["uk-lan2", None, "uk-lan21", "uk-xyz"]
    long = qemu.plan_bridge_taps([PortBinding("averyveryverylongport", "bridge", "br0", MAC0)],
                                 exists=lambda n: n == "uk-averyveryv")
    assert long[0].tap == "uk-averyveryv1"


def test_load_image(fake_image):
    img = qemu.load_image(fake_image(["lan", "wan"], memory_mb=24))
    assert img.ports == ["lan", "wan"] and img.memory_mb == 24 and img.name == "vnf"
    assert qemu.load_image(fake_image(["a"], name="other")).memory_mb == qemu.DEFAULT_MEMORY_MB


def test_load_image_errors(tmp_path, fake_image):
    with pytest.raises(UknfvError, match="no such file"):
        qemu.load_image(tmp_path / "nope")
    (tmp_path / "text").write_text("hello")
    with pytest.raises(UknfvError, match="not an ELF image"):
        qemu.load_image(tmp_path / "text")
    img = fake_image()
    (tmp_path / "vnf.json").unlink()
    with pytest.raises(UknfvError, match="no .*vnf.json beside it"):
        qemu.load_image(img)
    (tmp_path / "vnf.json").write_text("{not json")
    with pytest.raises(UknfvError, match="cannot read the image description"):
        qemu.load_image(img)
    (tmp_path / "vnf.json").write_text(json.dumps({"target": "linux", "ports": []}))
    with pytest.raises(UknfvError, match="built for the linux target"):
        qemu.load_image(img)


def test_preflight_vhost_user_client_needs_a_listening_backend(tmp_path):
    v = VM(image=tmp_path / "img", ports=[PortBinding("lan", "vhost-user", str(tmp_path / "no.sock"), MAC0)])
    (tmp_path / "img").write_bytes(b"\x7fELF")
    with pytest.raises(UknfvError, match="no vhost-user backend is listening on .*no.sock"):
        qemu.preflight(v)
    v.ports = [PortBinding("lan", "vhost-user", str(tmp_path / "no.sock"), MAC0, server=True)]
    qemu.preflight(v)   # QEMU will listen: fine


def test_preflight_tap_that_is_not_a_tap(tmp_path):
    (tmp_path / "img").write_bytes(b"\x7fELF")
    v = VM(image=tmp_path / "img", ports=[PortBinding("lan", "tap", "lo", MAC0)])
    with pytest.raises(UknfvError, match="'lo' exists but is not a TAP"):
        qemu.preflight(v)
    v = VM(image=tmp_path / "img", machine="q35", bios=str(tmp_path / "nobios.rom"))
    with pytest.raises(UknfvError, match="nobios.rom not found"):
        qemu.preflight(v)
    v = VM(image=tmp_path / "img", qemu="qemu-system-nonexistent")
    with pytest.raises(UknfvError, match="install QEMU"):
        qemu.preflight(v)
