"""The DPDK target: Debian's libdpdk, rte_mbuf packets, any EAL device as a port.

Builds need libdpdk-dev (pkg-config); they are skipped without it.  Runs
start DPDK's EAL (marked e2e; without hugepages it needs no root, but CI
runs them as root): pcap files through net_pcap, the shared Click golden
cases with FromDump/ToDump, the example vNFs compared with the Linux
target, loopback rings and null devices, two vNFs talking over
vhost-user/virtio-user, and the error paths, which must be one clean line
and no traceback.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from uknfv.pcapfile import read_frames, write_frames
from uknfv.testing import assert_same_frames, REPO, run_uknfv, stats_of

GOLDEN = REPO / "tests" / "golden" / "click"
CASES = sorted(p.stem for p in (GOLDEN / "cases").glob("*.click"))


def _have_dpdk() -> bool:
    if shutil.which("pkg-config") is None:
        return False
    return subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


pytestmark = pytest.mark.skipif(not _have_dpdk(),
                                reason="needs libdpdk-dev (apt-get install libdpdk-dev dpdk pkg-config)")
e2e = pytest.mark.e2e

FORWARD = "FromDevice(in) -> c :: Counter -> ToDevice(out);\n"


def frames(n: int, size: int = 60) -> list[bytes]:
    """n distinct Ethernet/IPv4 frames; lengths vary around size (short ones too)."""
    out = []
    for i in range(n):
        ln = max(34, size + (i % 7) * 13 - 20)
        hdr = bytes.fromhex("02000000000202000000000108004500") + (ln - 14).to_bytes(2, "big")
        body = bytes([i & 0xFF, i >> 8]) + bytes((i + j) & 0xFF for j in range(ln - len(hdr) - 2))
        out.append(hdr + body)
    return out


def build(tmp_path: Path, config: str, name: str = "p", opt: str = "O2") -> Path:
    (tmp_path / f"{name}.click").write_text(config)
    res = run_uknfv("build", f"{name}.click", "--target", "dpdk", "-o", name, "--opt", opt, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path / name


def run_prog(prog: Path, *args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(prog), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def run_for(argv: list[str], seconds: float, cwd: Path) -> subprocess.CompletedProcess:
    """Run a vNF that does not end by itself; SIGINT after `seconds`."""
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(seconds)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def clean_error(res, *needles: str) -> None:
    assert res.returncode != 0, res.stdout
    assert "Traceback" not in res.stderr
    assert "Segmentation" not in res.stderr
    for n in needles:
        assert n in res.stderr, res.stderr


# ---- build ---------------------------------------------------------------------------

def test_build_links_libdpdk_and_describes_the_program(tmp_path):
    prog = build(tmp_path, FORWARD)
    meta = json.loads((tmp_path / "p.json").read_text())
    assert meta["target"] == "dpdk"
    assert "dpdkio" in meta["libraries"] and "linuxio" not in meta["libraries"]
    assert "pktpool" not in meta["libraries"]
    assert [p["name"] for p in meta["ports"]] == ["in", "out"]
    res = subprocess.run(["ldd", str(prog)], capture_output=True, text=True)
    assert "librte_ethdev" in res.stdout and "librte_mbuf" in res.stdout
    # Options and listings need no EAL.
    res = run_prog(prog, "--ports", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.split("\n")[:2] == ["in rx", "out tx"]
    res = run_prog(prog, "--help", cwd=tmp_path)
    assert res.returncode == 0 and "dpdk:DEVARGS" in res.stdout and "--no-huge" in res.stdout


def test_fastclick_names_and_keywords(tmp_path):
    (tmp_path / "fc.click").write_text(
        "FromDPDKDevice(PORT 0, N_QUEUES 1, NDESC 512) -> ToDPDKDevice(1);\n")
    res = run_uknfv("build", "fc.click", "--target", "dpdk", "-o", "fc", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    meta = json.loads((tmp_path / "fc.json").read_text())
    assert [p["name"] for p in meta["ports"]] == ["0", "1"]
    (tmp_path / "bad.click").write_text("FromDPDKDevice(0, N_QUEUES 4) -> Discard;\n")
    res = run_uknfv("check", "bad.click", "--target", "dpdk", cwd=tmp_path)
    clean_error(res, "N_QUEUES must be 1", "bad.click:1:")


@pytest.mark.parametrize("args,needle", [
    ([], "port 'in' is not bound"),
    (["--port", "nope=dpdk:net_null0"], "has no port 'nope'"),
    (["--port", "in=zip:x", "--port", "out=dpdk:net_null0"], "unknown binding"),
    (["--port", "in=pcap:none.pcap", "--port", "out=dpdk:net_null0"], "none.pcap: No such file"),
    (["--port", "in=pcap:a,b.pcap", "--port", "out=dpdk:net_null0"], "comma"),
    (["--port", "in=dpdk:net_null0", "--port", "out=dpdk:net_null0,size=9"], "same device"),
    (["--pool", "12"], "--pool"),
    (["--cores", "x"], "--cores"),
])
def test_port_errors_before_the_eal(tmp_path, args, needle):
    """Mistakes in the arguments are reported before DPDK starts: one line, exit 2."""
    prog = build(tmp_path, FORWARD)
    res = run_prog(prog, *args, cwd=tmp_path, timeout=30)
    clean_error(res, needle)
    assert res.returncode == 2
    assert "EAL" not in res.stderr


def test_dpdk_options_are_refused_on_other_targets(tmp_path):
    (tmp_path / "p.click").write_text(FORWARD)
    res = run_uknfv("run", "p.click", "--cores", "1", "--port", "in=pcap:a.pcap", cwd=tmp_path)
    clean_error(res, "--cores", "only for --target dpdk")


# ---- runs (DPDK's EAL) ------------------------------------------------------------------

@e2e
def test_pcap_ports_forward_every_frame_exactly(tmp_path):
    """FromDevice -> ... -> ToDevice over net_pcap: same frames, same order, no padding."""
    prog = build(tmp_path, "FromDevice(in) -> c :: Counter -> Strip(14) -> Unstrip(14) -> ToDevice(out);\n")
    sent = frames(300)
    write_frames(tmp_path / "a.pcap", sent)
    t0 = time.monotonic()
    res = run_prog(prog, "--port", "in=pcap:a.pcap", "--port", "out=pcap:b.pcap", "--stats", cwd=tmp_path)
    took = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    assert read_frames(tmp_path / "b.pcap") == sent
    stats = stats_of(res.stdout)
    assert stats["c.count"] == "300"
    assert stats["port.in.rx"] == f"300 packets, {sum(map(len, sent))} bytes, 0 dropped"
    assert stats["port.out.tx"].startswith("300 packets")
    assert stats["pool.alloc_failures"] == "0"
    assert stats["pool.mbufs"].endswith(", 0 in use (device rings included)")
    assert took < 20


@e2e
def test_raw_net_pcap_devargs_and_oversize_frames(tmp_path):
    """dpdk:net_pcap devargs work like pcap:; a frame larger than a buffer is counted, not sent."""
    prog = build(tmp_path, FORWARD)
    sent = frames(5)
    big = sent[0][:14] + bytes(3000)
    write_frames(tmp_path / "a.pcap", sent[:2] + [big] + sent[2:])
    res = run_prog(prog, "--port", f"in=dpdk:net_pcap0,rx_pcap={tmp_path / 'a.pcap'}",
                   "--port", f"out=dpdk:net_pcap1,tx_pcap={tmp_path / 'b.pcap'}", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert read_frames(tmp_path / "b.pcap") == sent
    stats = stats_of(res.stdout)
    assert stats["port.in.rx"].startswith("5 packets") and stats["port.in.rx"].endswith(" 1 dropped")


@e2e
@pytest.mark.parametrize("case", CASES)
def test_golden_case_on_dpdk(case: str, tmp_path: Path) -> None:
    """The shared Click golden cases (FromDump/ToDump on the DPDK target) give Click's frames."""
    shutil.copy(GOLDEN / "input.pcap", tmp_path / "input.pcap")
    shutil.copy(GOLDEN / "cases" / f"{case}.click", tmp_path / f"{case}.click")
    res = run_uknfv("run", f"{case}.click", "--target", "dpdk", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    expected = sorted((GOLDEN / "golden" / case).glob("out_*.pcap"))
    assert expected
    for gold in expected:
        assert_same_frames(gold, tmp_path / gold.name, f"{case}/{gold.name}")
    assert stats_of(res.stdout)["pool.mbufs"].endswith(", 0 in use (device rings included)")


def _run_example(tmp_path: Path, target: str, pipeline: str, inputs: dict[str, list[bytes]]):
    d = tmp_path / target
    d.mkdir()
    args = ["run", str(REPO / "pipelines" / pipeline), "--target", target, "--stats"]
    for port, fr in inputs.items():
        write_frames(d / f"{port}_in.pcap", fr)
        args += ["--port", f"{port}=pcap:in={port}_in.pcap,out={port}_out.pcap"]
    res = run_uknfv(*args, cwd=d)
    assert res.returncode == 0, res.stderr
    return {p: read_frames(d / f"{p}_out.pcap") for p in inputs}, stats_of(res.stdout)


@e2e
def test_example_router_same_as_linux(tmp_path):
    """pipelines/router.click through pcap ports: the DPDK target's output is the Linux target's."""
    from uknfv.traffic.demo import traffic
    inputs = {port: [f for _, f in fr] for port, fr in traffic().items()}
    lin, lstats = _run_example(tmp_path, "linux", "router.click", inputs)
    dp, dstats = _run_example(tmp_path, "dpdk", "router.click", inputs)
    assert dp == lin and all(dp.values())
    handlers = [k for k in lstats if not k.startswith(("port.", "pool.")) and not k.endswith("rate")]
    assert {k: dstats[k] for k in handlers} == {k: lstats[k] for k in handlers}


@e2e
def test_ring_loopback_and_generated_packets(tmp_path):
    """net_ring0 loops TX back to RX: packets made by pkt_alloc (mbufs) go out and come back.
    (The source sends fewer per round than FromDevice takes, so the ring never overflows.)"""
    prog = build(tmp_path, "InfiniteSource(LIMIT 5000, BURST 16) -> ToDevice(r);\n"
                           "FromDevice(r) -> c :: Counter -> Discard;\n")
    res = run_for([str(prog), "--port", "r=dpdk:net_ring0", "--stats"], 1.5, tmp_path)
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    assert stats["c.count"] == "5000"
    assert stats["port.r.tx"] == "5000 packets, 345000 bytes, 0 dropped"
    assert stats["pool.mbufs"].endswith(", 0 in use (device rings included)")


@e2e
def test_null_device_smoke(tmp_path):
    """net_null: an endless source and sink; the run stops cleanly on SIGINT with counters."""
    prog = build(tmp_path, FORWARD)
    res = run_for([str(prog), "--port", "in=dpdk:net_null0", "--port", "out=dpdk:net_null1,size=64",
                   "--stats"], 1.0, tmp_path)
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    n = int(stats["c.count"])
    assert n > 10000
    assert stats["port.out.tx"].startswith(f"{n} packets")
    assert "port.in.dpdk: net_null0 ipackets" in res.stdout


@e2e
def test_two_vnfs_over_vhost_user(tmp_path):
    """Two DPDK vNFs side by side: one sends over virtio-user (FromDump: mbufs from the pool),
    the other receives on net_vhost and writes a pcap file."""
    recv = build(tmp_path, FORWARD, "recv")
    send = build(tmp_path, "FromDump(a.pcap) -> c :: Counter -> ToDevice(out);\n", "send")
    sent = frames(200)
    write_frames(tmp_path / "a.pcap", sent)
    sock_dir = tempfile.mkdtemp(prefix="uknfv-dpdk-")
    sock = os.path.join(sock_dir, "v.sock")
    rx = subprocess.Popen([str(recv), "--port", f"in=dpdk:net_vhost0,iface={sock}",
                           "--port", "out=pcap:b.pcap", "--stats"],
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(sock) and time.monotonic() < deadline and rx.poll() is None:
            time.sleep(0.05)
        assert os.path.exists(sock), rx.stderr.read() if rx.poll() is not None else "no socket"
        # The sender keeps running (FromDump without STOP) until the receiver got it all.
        # (Its port takes up to about a second to come up: measured ~0.75 s before DPDK's
        # vhost-user server answers a new connection.)
        tx = run_for([str(send), "--port", f"out=dpdk:net_virtio_user0,path={sock}", "--stats"],
                     2.5, tmp_path)
        assert tx.returncode == 0, tx.stderr
        assert stats_of(tx.stdout)["port.out.tx"].startswith("200 packets"), tx.stdout + tx.stderr
        rx.send_signal(signal.SIGINT)
        out, err = rx.communicate(timeout=20)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.communicate()
        shutil.rmtree(sock_dir, ignore_errors=True)
    assert rx.returncode == 0, err
    assert stats_of(out)["c.count"] == "200"
    assert read_frames(tmp_path / "b.pcap") == sent


@e2e
@pytest.mark.parametrize("port,needle", [
    ("in=dpdk:net_bogus0", "no DPDK driver claims that name"),
    ("in=dpdk:net_pcap0,bogus=1", "its driver refused it"),
    ("in=dpdk:0000:7f:1f.7", "no DPDK network device at 0000:7f:1f.7"),
])
def test_bad_devices_are_clean_errors(tmp_path, port, needle):
    prog = build(tmp_path, FORWARD)
    res = run_prog(prog, "--port", port, "--port", "out=dpdk:net_null0", cwd=tmp_path, timeout=30)
    clean_error(res, f"error: port 'in':", needle)
    assert res.returncode == 1


@e2e
def test_cli_run_errors_have_no_traceback(tmp_path):
    (tmp_path / "p.click").write_text(FORWARD)
    res = run_uknfv("run", "p.click", "--target", "dpdk", "--port", "in=dpdk:net_bogus0",
                    "--port", "out=dpdk:net_null0", cwd=tmp_path)
    clean_error(res, "no DPDK driver claims that name")
    res = run_uknfv("run", "p.click", "--target", "dpdk", "--port", "in=dpdk:net_null0", cwd=tmp_path)
    clean_error(res, "port 'out' is not bound")


@e2e
def test_runs_with_and_without_hugepages(tmp_path):
    """--no-huge always works; --huge works when the system has hugepages free."""
    prog = build(tmp_path, FORWARD)
    sent = frames(50)
    write_frames(tmp_path / "a.pcap", sent)
    res = run_prog(prog, "--port", "in=pcap:a.pcap", "--port", "out=pcap:b.pcap", "--no-huge", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert read_frames(tmp_path / "b.pcap") == sent
    free = 0
    for d in Path("/sys/kernel/mm/hugepages").glob("hugepages-*kB"):
        free += int((d / "free_hugepages").read_text()) * int(d.name[10:-2]) // 1024
    if free < 128:
        pytest.skip("no hugepages free (echo 256 > /proc/sys/vm/nr_hugepages)")
    (tmp_path / "b.pcap").unlink()
    res = run_prog(prog, "--port", "in=pcap:a.pcap", "--port", "out=pcap:b.pcap", "--huge", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert read_frames(tmp_path / "b.pcap") == sent
