"""EtherSwitch, the learning Ethernet switch, on the Linux target.

The ordered tests feed every port from ONE pcap: a Classifier on the first
payload byte (the port number, 0 for anything else) sends each frame to the
switch input it belongs to, so the frames reach the switch in capture
order and the expected outputs are exact.  Times come from the pcap
timestamps (FromDump sets the timestamp annotation), so the timeout tests
put gaps in them and need no sleeping.  One test feeds each port from its
own pcap (the sources interleave in any order) with frames whose fate does
not depend on the interleaving.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import Ether, PcapWriter, Raw  # noqa: E402

from uknfv.testing import check_error, interrupt, parse_stats, read_pcap, run_uknfv, uknfv_cmd  # noqa: E402

T0 = 1_700_000_000.0
H = [f"02:00:00:00:aa:{i:02x}" for i in range(10)]
BCAST = "ff:ff:ff:ff:ff:ff"


def write_pcap(path: Path, frames) -> None:
    """frames: bytes, or (bytes, timestamp seconds)."""
    w = PcapWriter(str(path), linktype=1, sync=True)
    t = T0
    for f in frames:
        if isinstance(f, tuple):
            f, t = f
        else:
            t += 0.001
        p = Raw(bytes(f))
        p.time = t
        w.write(p)
    w.close()


def frame(port: int, src: str, dst: str, tag: int = 0) -> bytes:
    """A frame for input `port` (its first payload byte), tag making it unique."""
    return bytes(Ether(src=src, dst=dst, type=0x88B5)) + bytes([port, tag]) + bytes(44)


def demux_config(nports: int, args: str) -> str:
    pats = ", ".join(f"14/{p:02x}" for p in range(1, nports)) + ", -"
    lines = [f"FromDump(in.pcap, STOP true) -> c :: Classifier({pats});",
             f"sw :: EtherSwitch({args});",
             "c[%d] -> [0]sw;" % (nports - 1)]
    lines += [f"c[{p - 1}] -> [{p}]sw;" for p in range(1, nports)]
    lines += [f"sw[{p}] -> ToDump(out{p}.pcap);" for p in range(nports)]
    return "\n".join(lines) + "\n"


class Run:
    def __init__(self, tmp_path: Path, stdout: str):
        self.tmp_path = tmp_path
        self.stats = parse_stats(stdout)

    def out(self, p: int) -> list[bytes]:
        return read_pcap(self.tmp_path / f"out{p}.pcap")

    def n(self, handler: str) -> int:
        return int(self.stats[f"sw.{handler}"])

    def table(self) -> list[str]:
        return sorted(self.stats["sw.table"].splitlines())


def run(tmp_path: Path, config: str, pcaps: dict[str, list]) -> Run:
    for name, frames in pcaps.items():
        write_pcap(tmp_path / name, frames)
    (tmp_path / "t.click").write_text(config)
    res = run_uknfv("run", "t.click", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return Run(tmp_path, res.stdout)


def mac_up(m: str) -> str:
    return m.upper().replace(":", "-")


# ---------------------------------------------------------------- behaviour

def test_learning_flooding_same_port_drop_and_table(tmp_path):
    f = [None,
         frame(0, H[0], H[1], 1),        # 1 unknown: flood to 1, 2; H0 @0
         frame(1, H[1], H[0], 2),        # 2 known: out 0; H1 @1
         frame(0, H[0], H[1], 3),        # 3 known: out 1 only
         frame(2, H[2], BCAST, 4),       # 4 broadcast: 0, 1; H2 @2
         frame(0, H[0], "01:00:5e:00:00:01", 5),  # 5 multicast: 1, 2
         frame(0, H[0], H[3], 6),        # 6 unknown: 1, 2
         frame(0, H[3], H[0], 7),        # 7 H0 is on port 0: dropped; H3 @0
         frame(1, H[1], H[3], 8),        # 8 out 0
         frame(2, H[0], H[2], 9),        # 9 H0 moves to 2; H2 is on 2: dropped
         frame(1, H[1], H[0], 10),       # 10 H0 now on 2
         ]
    short = bytes(Ether(src=H[4], dst=H[0]))[:10]     # 11 (port 0) shorter than a header: dropped
    frames = [(x, T0 + k) for k, x in enumerate(f) if x is not None] + [(short, T0 + 10)]
    r = run(tmp_path, demux_config(3, ""), {"in.pcap": frames})
    assert r.out(0) == [f[2], f[4], f[8]]
    assert r.out(1) == [f[1], f[3], f[4], f[5], f[6]]
    assert r.out(2) == [f[1], f[5], f[6], f[10]]
    assert r.n("count") == 11 and r.n("floods") == 4 and r.n("drops") == 3
    # MAC PORT AGE (whole seconds since last seen, at the last frame's time T0+10)
    assert r.table() == sorted([f"{mac_up(H[0])} 2 1", f"{mac_up(H[1])} 1 0",
                                f"{mac_up(H[2])} 2 6", f"{mac_up(H[3])} 0 3"])
    assert r.stats["sw.timeout"] == "300"


def test_timeout_on_packet_time(tmp_path):
    f = [None,
         (frame(0, H[0], H[1], 1), T0),          # 1 flood; H0 @0 at T0
         (frame(1, H[1], H[0], 2), T0 + 1),      # 2 out 0; H1 @1
         (frame(1, H[1], H[0], 3), T0 + 5.5),    # 3 H0 expired (5.5 s > 5 s): flood 0, 2
         (frame(2, H[2], H[1], 4), T0 + 6),      # 4 H1 refreshed at 5.5: out 1
         (frame(0, H[0], H[1], 5), T0 + 20),     # 5 H1 expired: flood 1, 2; H0 @0 at T0+20
         (frame(1, H[1], H[0], 6), T0 + 25),     # 6 H0 exactly TIMEOUT old: still valid, out 0
         ]
    r = run(tmp_path, demux_config(3, "TIMEOUT 5"), {"in.pcap": f[1:]})
    g = [x[0] if x else None for x in f]
    assert r.out(0) == [g[2], g[3], g[6]]
    assert r.out(1) == [g[1], g[4], g[5]]
    assert r.out(2) == [g[1], g[3], g[5]]
    assert r.n("floods") == 3 and r.n("drops") == 0 and r.n("count") == 6
    # H2 (last seen at T0+6) has expired and is not listed
    assert r.table() == sorted([f"{mac_up(H[0])} 0 5", f"{mac_up(H[1])} 1 0"])
    assert r.stats["sw.timeout"] == "5"


def test_capacity_full_floods_then_sweeps_expired(tmp_path):
    f = [None,
         (frame(0, H[0], BCAST, 1), T0),         # 1 flood; H0 @0
         (frame(1, H[1], BCAST, 2), T0),         # 2 flood; H1 @1 (table full)
         (frame(2, H[2], BCAST, 3), T0),         # 3 flood; H2 not learnt
         (frame(0, H[0], H[2], 4), T0 + 1),      # 4 H2 unknown: flood 1, 2 (not a drop)
         (frame(1, H[1], H[0], 5), T0 + 1),      # 5 out 0
         (frame(2, H[2], H[0], 6), T0 + 30),     # 6 expired entries swept, H2 learnt; H0 gone: flood
         (frame(0, H[0], H[2], 7), T0 + 30),     # 7 out 2
         ]
    r = run(tmp_path, demux_config(3, "CAPACITY 2, TIMEOUT 10"), {"in.pcap": f[1:]})
    g = [x[0] if x else None for x in f]
    assert r.out(0) == [g[2], g[3], g[5], g[6]]
    assert r.out(1) == [g[1], g[3], g[4], g[6]]
    assert r.out(2) == [g[1], g[2], g[4], g[7]]
    assert r.n("floods") == 5 and r.n("drops") == 0
    assert r.table() == sorted([f"{mac_up(H[0])} 0 0", f"{mac_up(H[2])} 2 0"])


def test_random_traffic_against_a_model(tmp_path):
    """4 ports, 20 addresses, expiries all the time (entries removed from the
    open-addressing table as they are found expired): every output must be
    what a plain Python model of the switch gives."""
    import random
    rng = random.Random(7)
    macs = [f"02:00:00:00:bb:{i:02x}" for i in range(20)] + [BCAST, "01:00:5e:00:00:07"]
    frames, t = [], T0
    for k in range(600):
        t += rng.choice((0.0, 0.01, 0.3, 0.9, 2.5))
        port = rng.randrange(4)
        src = rng.choice(macs[:20])
        frames.append((frame(port, src, rng.choice(macs), k % 256) + k.to_bytes(2, "big"), t))
    timeout = 3.0
    table: dict[str, tuple[int, float]] = {}
    want: dict[int, list[bytes]] = {p: [] for p in range(4)}
    drops = floods = 0
    now = 0.0
    for f, ts in frames:
        now = max(now, ts)
        port = f[14]
        src = ":".join(f"{b:02x}" for b in f[6:12])
        dst = ":".join(f"{b:02x}" for b in f[0:6])
        table[src] = (port, now)
        e = table.get(dst)
        if f[0] & 1 or e is None or now - e[1] > timeout:
            floods += 1
            for p in range(4):
                if p != port:
                    want[p].append(f)
        elif e[0] == port:
            drops += 1
        else:
            want[e[0]].append(f)
    r = run(tmp_path, demux_config(4, "TIMEOUT 3, CAPACITY 32"), {"in.pcap": frames})
    for p in range(4):
        assert r.out(p) == want[p], p
    assert r.n("drops") == drops and r.n("floods") == floods and r.n("count") == len(frames)
    live = sorted(f"{mac_up(m)} {p} {int(now - ts)}" for m, (p, ts) in table.items() if now - ts <= timeout)
    assert r.table() == live


def test_timeout_zero_is_a_hub(tmp_path):
    f = [frame(0, H[0], H[1], 1), frame(1, H[1], H[0], 2), frame(0, H[2], H[0], 3),
         frame(0, H[0], BCAST, 4)]
    r = run(tmp_path, demux_config(2, "TIMEOUT 0"), {"in.pcap": f})
    assert r.out(0) == [f[1]]
    assert r.out(1) == [f[0], f[2], f[3]]
    assert r.n("floods") == 4 and r.n("drops") == 0
    assert r.stats["sw.table"] == "" and r.stats["sw.timeout"] == "0"


def test_several_pcap_ports(tmp_path):
    """One FromDump per port: the sources interleave in any order, so only
    frames whose fate does not depend on it (floods, and a drop decided by
    frames of one port) are used; each output keeps each source's order."""
    p0 = [frame(0, H[0], BCAST, 1), frame(0, H[5], H[0], 2)]     # 2: H0 learnt on 0: dropped
    p1 = [frame(1, H[1], BCAST, 3), frame(1, H[1], H[9], 4), frame(1, H[1], "33:33:00:00:00:01", 5)]
    p2 = [frame(2, H[2], BCAST, 6), frame(2, H[2], H[8], 7)]
    cfg = "sw :: EtherSwitch;\n" + "".join(
        f"FromDump(p{p}.pcap, STOP true) -> [{p}]sw[{p}] -> ToDump(out{p}.pcap);\n" for p in range(3))
    r = run(tmp_path, cfg, {"p0.pcap": p0, "p1.pcap": p1, "p2.pcap": p2})
    want = {0: p1 + p2, 1: p0[:1] + p2, 2: p0[:1] + p1}
    for port, frames in want.items():
        got = r.out(port)
        assert sorted(got) == sorted(frames), port
        for src in (p0, p1, p2):
            assert [x for x in got if x in src] == [x for x in src if x in frames], port
    assert r.n("count") == 7 and r.n("drops") == 1 and r.n("floods") == 6
    assert len(r.table()) == 4     # H0, H5 on 0, H1 on 1, H2 on 2
    assert {line.split()[0]: line.split()[1] for line in r.table()} == {
        mac_up(H[0]): "0", mac_up(H[5]): "0", mac_up(H[1]): "1", mac_up(H[2]): "2"}


def test_timeout_handler_write(tmp_path):
    """`timeout` read/write through --control between two phases of frames."""
    from uknfv.run.control import ControlClient
    d = tempfile.mkdtemp(prefix="uknfv-es-")
    sock = str(Path(d) / "ctl.sock")
    a = [(frame(0, H[0], BCAST, 1), T0), (frame(1, H[1], H[0], 2), T0 + 1)]
    b = [(frame(1, H[1], H[0], 3), T0 + 4)]      # H0 is 4 s old: kept at 300 s, not at 2.5 s
    write_pcap(tmp_path / "a.pcap", a)
    write_pcap(tmp_path / "b.pcap", b)
    cfg = ("pa :: FromDump(a.pcap, ACTIVE false); pb :: FromDump(b.pcap, ACTIVE false);\n"
           "pa -> c :: Classifier(14/01, -); pb -> c;\n"
           "sw :: EtherSwitch; c[1] -> [0]sw; c[0] -> [1]sw;\n"
           "sw[0] -> ToDump(out0.pcap); sw[1] -> ToDump(out1.pcap);\n")
    (tmp_path / "t.click").write_text(cfg)
    proc = subprocess.Popen(uknfv_cmd() + ["run", "t.click", "--control", sock, "--stats"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(sock):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no control socket"
            time.sleep(0.1)
        with ControlClient(sock) as c:
            def phase(src: str, total: int) -> None:
                c.write(f"{src}.active", "true")
                end = time.monotonic() + 30
                while int(c.read("sw.count")) < total:
                    assert time.monotonic() < end
                    time.sleep(0.05)
            assert c.read("sw.timeout").strip() == "300"
            phase("pa", 2)
            assert c.read("sw.table").strip().splitlines()[0].split()[:2] in (
                [mac_up(H[0]), "0"], [mac_up(H[1]), "1"])
            c.write("sw.timeout", "2.5")
            assert c.read("sw.timeout").strip() == "2.5"
            with pytest.raises(Exception):
                c.write("sw.timeout", "-1")
            with pytest.raises(Exception):
                c.write("sw.timeout", "soon")
            assert c.read("sw.timeout").strip() == "2.5"
            phase("pb", 3)
            c.write("stop")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            interrupt(proc)
        shutil.rmtree(d, ignore_errors=True)
    assert proc.returncode == 0, err
    assert read_pcap(tmp_path / "out0.pcap") == [a[1][0], b[0][0]]   # frame 3 flooded (to port 0)
    assert read_pcap(tmp_path / "out1.pcap") == [a[0][0]]
    stats = parse_stats(out)
    assert int(stats["sw.floods"]) == 2 and stats["sw.timeout"] == "2.5"


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("config,fragments", [
    ("Idle -> sw :: EtherSwitch(TIMEOUT 5x) -> Discard; Idle -> [1]sw[1] -> Discard;",
     ["t.click:1:35:", "TIMEOUT", "expected time interval"]),
    ("Idle -> sw :: EtherSwitch(CAPACITY 0) -> Discard; Idle -> [1]sw[1] -> Discard;",
     ["t.click:1:36:", "CAPACITY must be at least 1"]),
    ("Idle -> sw :: EtherSwitch(CAPACITY -3) -> Discard; Idle -> [1]sw[1] -> Discard;",
     ["t.click:1:36:", "CAPACITY"]),
    ("Idle -> sw :: EtherSwitch(FOO 1) -> Discard; Idle -> [1]sw[1] -> Discard;",
     ["t.click:1:27:", "unknown keyword 'FOO'"]),
    ("Idle -> sw :: EtherSwitch(5) -> Discard; Idle -> [1]sw[1] -> Discard;",
     ["t.click:1:27:", "too many arguments"]),
    ("Idle -> sw :: EtherSwitch -> Discard;",
     ["t.click:1:15:", "input 1 is not connected"]),
    ("Idle -> sw :: EtherSwitch -> Discard; Idle -> [1]sw[1] -> Discard; sw[2] -> Discard;",
     ["t.click:1:15:", "needs as many outputs as inputs (2), but has 3"]),
])
def test_etherswitch_argument_errors(tmp_path, config, fragments):
    check_error(tmp_path, config + "\n", *fragments, name="t.click")
