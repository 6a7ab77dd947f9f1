"""TRex stateless profiles from uknfv's scenarios, checked offline with trex-stl-lib.

No TRex server exists here: the profiles are loaded with trex-stl-lib's own
classes (STLProfile.load_py) and their streams compared with frames built by
scapy; the client side is checked against a fake ZMQ JSON-RPC server (version
mismatch), a silent TCP listener (timeout), a closed port (refused), a fake
STLClient (the run's arithmetic) and a fake "current client" directory (the
child-interpreter path).
"""
from __future__ import annotations

import ipaddress
import json
import socket
import struct
import textwrap
import threading
import time
import zlib

import pytest
from click.testing import CliRunner
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether

from uknfv.cli import main as cli
from uknfv.diag import UknfvError
from uknfv.traffic import scenarios as S
from uknfv.traffic import trex as T
from uknfv.traffic.trex import _drive

api = pytest.importorskip("trex_stl_lib.api")
IMIX_SIZES = [64, 570, 1518]


def ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def instructions(stream) -> list[dict]:
    return stream.to_json()["vm"]["instructions"]


def per_stream_pps(stream, link_bps=10e9) -> float:
    rate = stream.to_json()["mode"]["rate"]
    size = stream.get_pkt_len()                      # with FCS
    return {"pps": lambda v: v,
            "bps_L1": lambda v: v / ((size + 20) * 8),
            "bps_L2": lambda v: v / (size * 8),
            "percentage": lambda v: link_bps * v / 100 / ((size + 20) * 8)}[rate["type"]](rate["value"])


def valid_checksums(frame: bytes) -> bool:
    """scapy recomputes IP and L4 checksums; the frame must not change (UDP 0 = none)."""
    p = Ether(frame)
    del p[IP].chksum
    for cls in (UDP, TCP, ICMP):
        if cls in p and not (cls is UDP and p[UDP].chksum == 0):
            del p[cls].chksum
    return bytes(Ether(bytes(p))) == frame


# --------------------------------------------------------------------------- scenarios → profiles

@pytest.mark.parametrize("name", S.names())
def test_named_scenario_becomes_profile(name):
    sc = S.get(name)
    prof = T.profile_for(name)
    assert isinstance(prof, api.STLProfile)
    streams = prof.get_streams()
    assert len(streams) == (3 if name == "imix" else 1)
    assert [s.get_pkt_len() for s in streams] == sc.imix.sizes
    for st in streams:
        size = st.get_pkt_len()
        pkt = st.get_pkt()
        assert len(pkt) == size - 4                  # TRex frames carry no FCS
        expected = bytearray(sc.frame(size, sc.first_values()))
        # The field engine rewrites the sequence number (and flows): UDP checksum 0 = "none".
        ck = sc.layout.l4_checksum
        assert pkt[ck:ck + 2] == b"\0\0"
        expected[ck:ck + 2] = b"\0\0"
        assert pkt == bytes(expected)
        p = Ether(pkt)
        assert (p.src, p.dst) == (sc.base.src, sc.base.dst)
        assert p[IP].src == "10.0.1.2" and p[IP].dst == "10.0.2.2"
        assert p[IP].len == size - 4 - 14 and p[UDP].len == size - 4 - 14 - 20
        assert p[UDP].dport == sc.base[UDP].dport
        assert valid_checksums(pkt)
        assert pkt[42:44] == S.STAMP_MAGIC.to_bytes(2, "big")
        assert st.to_json()["flags"] == 3            # MACs from the packet (src and dst)
        assert st.get_mode() == "Continuous"


def test_field_engine_for_router_flows():
    (st,) = T.profile_for("router-flows").get_streams()
    ins = instructions(st)
    assert ins[0] == {"type": "flow_var", "name": "dst_ip", "size": 4, "op": "inc",
                      "init_value": ip("10.0.2.2"), "min_value": ip("10.0.2.2"),
                      "max_value": ip("10.0.2.254"), "step": 1}
    assert ins[1]["type"] == "write_flow_var" and ins[1]["name"] == "dst_ip"
    assert ins[1]["pkt_offset"] == 14 + 16           # IP.dst
    assert ins[2]["name"] == "seq" and ins[2]["size"] == 8 and ins[2]["max_value"] == 2**64 - 1
    assert ins[3] == {"type": "write_flow_var", "name": "seq", "pkt_offset": 42 + 2,
                      "add_value": 0, "is_big_endian": True}
    assert ins[4] == {"type": "fix_checksum_ipv4", "pkt_offset": 14}


def test_field_engine_for_firewall_and_single_flow():
    (fw,) = T.profile_for("firewall-allowed").get_streams()
    ins = {(i["type"], i.get("name")): i for i in instructions(fw)}
    sport = ins[("flow_var", "src_port")]
    assert (sport["size"], sport["op"], sport["min_value"], sport["max_value"]) == (2, "random", 1024, 65535)
    assert ins[("write_flow_var", "src_port")]["pkt_offset"] == 34
    assert ins[("write_flow_var", "dst_ip")]["pkt_offset"] == 30
    assert Ether(fw.get_pkt())[UDP].dport == 53
    (u,) = T.profile_for("udp64").get_streams()
    assert [i["type"] for i in instructions(u)] == ["flow_var", "write_flow_var"]   # seq only
    # No field engine at all without a stamp: the template keeps its valid UDP checksum.
    (plain,) = T.profile_for(S.get("udp64").with_(stamp=False)).get_streams()
    assert instructions(plain) == [] and Ether(plain.get_pkt())[UDP].chksum != 0
    assert valid_checksums(plain.get_pkt())


def test_dec_ranges_steps_and_checksum_offload():
    sc = S.Scenario("t", S.default_base(), 128,
                    S.Flows(src_ip="10.0.1.10-10.0.1.50:dec/4", dst_port=(5000, 5009)),
                    S.Rate(pps=10))
    (st,) = T.profile_for(sc, l4_checksum="hw").get_streams()
    ins = instructions(st)
    src = next(i for i in ins if i.get("name") == "src_ip" and i["type"] == "flow_var")
    assert (src["op"], src["step"], src["init_value"]) == ("dec", 4, ip("10.0.1.50"))
    assert ins[-1]["type"] == "fix_checksum_hw"      # IPv4 and UDP fixed by the NIC
    assert "fix_checksum_ipv4" not in [i["type"] for i in ins]
    assert Ether(st.get_pkt())[IP].src == "10.0.1.50"  # the template holds the first value
    tcp = S.Scenario("tcp", Ether() / IP(dst="10.0.2.2") / TCP(dport=80), 128,
                     S.Flows(src_port="1024-2047"), S.Rate(pps=10))
    (ts,) = T.profile_for(tcp).get_streams()
    assert instructions(ts)[-1]["type"] == "fix_checksum_hw"
    assert valid_checksums(ts.get_pkt())
    with pytest.raises(UknfvError, match="TCP has no 'no checksum'"):
        T.stream_specs(tcp, l4_checksum="zero")
    icmp = S.Scenario("ping", Ether() / IP() / ICMP(), 64, rate=S.Rate(pps=1))
    with pytest.raises(UknfvError, match="ICMP checksum"):
        T.stream_specs(icmp)
    assert T.stream_specs(icmp.with_(stamp=False))[0]["vm"] == []


@pytest.mark.parametrize("rate", [S.Rate(pps=1.2e6), S.Rate(bps_l1=1e9), S.Rate(bps_l2=2e9),
                                  S.Rate(percent=25)])
def test_imix_streams_keep_the_7_4_1_packet_ratio(rate):
    sc = S.get("imix").with_(rate=rate)
    streams = T.profile_for(sc).get_streams()
    assert [s.get_name() for s in streams] == [f"imix-{n}" for n in IMIX_SIZES]
    kind = {"pps": "pps", "bps_l1": "bps_L1", "bps_l2": "bps_L2", "percent": "percentage"}[rate.kind]
    assert {s.to_json()["mode"]["rate"]["type"] for s in streams} == {kind}
    pps = [per_stream_pps(s) for s in streams]
    assert sum(pps) == pytest.approx(sc.pps, rel=1e-9)
    assert [p / pps[2] for p in pps] == pytest.approx([7, 4, 1], rel=1e-9)
    for st, size in zip(streams, IMIX_SIZES):
        p = Ether(st.get_pkt())
        assert len(st.get_pkt()) == size - 4 and p[IP].len == size - 18 and valid_checksums(st.get_pkt())


def test_user_mix_and_latency_stream():
    sc = S.get("udp64").with_(frame_size="128:1,256:3", rate=S.Rate(pps=4000))
    streams = T.profile_for(sc, latency_pps=1000).get_streams()
    assert [s.get_pkt_len() for s in streams] == [128, 256, 128]
    assert [per_stream_pps(s) for s in streams] == pytest.approx([1000, 3000, 1000])
    lat = streams[-1].to_json()
    assert lat["flow_stats"] == {"enabled": True, "stream_id": T.LATENCY_PG_ID, "rule_type": "latency"}
    assert streams[0].to_json()["flow_stats"]["enabled"] is False


# --------------------------------------------------------------------------- profile files

def test_written_profile_loads_with_trex_stl_lib(tmp_path):
    path = T.write_profile(S.names(), tmp_path / "uknfv_all.py")
    text = path.read_text()
    assert "import uknfv" not in text and "from uknfv" not in text   # standalone
    assert "def register():" in text and "class STLS1" in text
    for name in S.names():
        loaded = api.STLProfile.load_py(str(path), scenario=name)
        assert [s.to_json() for s in loaded.get_streams()] == \
               [s.to_json() for s in T.profile_for(name).get_streams()]
    default = api.STLProfile.load_py(str(path))
    assert [s.get_name() for s in default.get_streams()] == ["udp64"]
    # Current consoles pass argparse-style tunables; key=value tokens work there too.
    argv = api.STLProfile.load_py(str(path), tunables=["--scenario", "imix", "--macs", "port"])
    assert [s.get_name() for s in argv.get_streams()] == ["imix-64", "imix-570", "imix-1518"]
    assert {s.to_json()["flags"] for s in argv.get_streams()} == {0}   # MACs from trex_cfg.yaml
    kv = api.STLProfile.load_py(str(path), tunables=["scenario=router-flows"])
    assert [s.get_name() for s in kv.get_streams()] == ["router-flows"]
    with pytest.raises(api.STLError) as e:
        api.STLProfile.load_py(str(path), scenario="nope")
    assert "unknown scenario 'nope'" in e.value.brief()     # (0.3's str() of it is broken)


def test_profile_file_of_a_custom_scenario(tmp_path):
    sc = S.Scenario("jumbo", S.default_base(), 9000, S.Flows(src_port="1-4:dec"),
                    S.Rate(bps_l2=5e9), 3.0)
    path = T.write_profile(sc, tmp_path / "jumbo_profile.py", macs="port")
    (st,) = api.STLProfile.load_py(str(path)).get_streams()
    assert st.get_pkt_len() == 9000 and st.to_json()["flags"] == 0
    assert st.to_json()["mode"]["rate"] == {"type": "bps_L2", "value": 5e9}


def test_package_is_a_trex_profile_too():
    path = T.HERE / "uknfv_profile.py"
    prof = api.STLProfile.load_py(str(path), scenario="firewall-allowed")
    assert [s.to_json() for s in prof.get_streams()] == \
           [s.to_json() for s in T.profile_for("firewall-allowed").get_streams()]
    streams = T.register().get_streams(tunables=["--scenario", "imix"])
    assert len(streams) == 3 and all(isinstance(s, api.STLStream) for s in streams)


@pytest.mark.parametrize("args,needle", [
    (([], "p.py"), "no scenario given"),
    ((["udp64", "udp64"], "p.py"), "given twice"),
    ((["udp64"], "bad-name.py"), "Python identifier"),
    ((["udp64"], "p.txt"), "NAME.py"),
    ((["nope"], "p.py"), "unknown scenario 'nope'"),
])
def test_write_profile_errors(tmp_path, args, needle):
    names, file = args
    with pytest.raises(UknfvError, match=needle):
        T.write_profile(names, tmp_path / file)


# --------------------------------------------------------------------------- scenarios themselves

def test_frames_follow_the_field_engine_walk():
    sc = S.get("router-flows")
    frames = list(sc.frames(300))
    dsts = [Ether(f)[IP].dst for f in frames]
    assert dsts[:3] == ["10.0.2.2", "10.0.2.3", "10.0.2.4"]
    assert dsts[253] == "10.0.2.2"                  # 253 addresses, then wrap
    for k, f in enumerate(frames[:50]):
        assert len(f) == 60 and valid_checksums(f)
        magic, seq, ts = S.STAMP.unpack_from(f, 42)
        assert (magic, seq, ts) == (S.STAMP_MAGIC, k, 0)
    fw = list(S.get("firewall-allowed").frames(200, seed=3))
    sports = {Ether(f)[UDP].sport for f in fw}
    assert len(sports) > 150 and all(1024 <= s <= 65535 for s in sports)
    assert all(valid_checksums(f) for f in fw[:50])
    stamped = next(S.get("udp64").frames(1, timestamp_ns=lambda k: 123456789))
    assert S.STAMP.unpack_from(stamped, 42)[2] == 123456789


def test_imix_frames_and_rates():
    sc = S.get("imix")
    sizes = [len(f) + 4 for f in sc.frames(24)]
    assert sorted(set(sizes)) == IMIX_SIZES
    assert [sizes.count(n) for n in IMIX_SIZES] == [14, 8, 2]
    assert sc.pps == pytest.approx(1e9 / (8 * (7 * 84 + 4 * 590 + 1538) / 12))
    assert S.get("udp64").with_(rate=S.Rate(percent=100)).pps == pytest.approx(14_880_952.38, rel=1e-6)
    assert S.get("udp64").interval_ns == pytest.approx(1000.0)


@pytest.mark.parametrize("text,kind,value", [
    ("1.5mpps", "pps", 1.5e6), ("500kpps", "pps", 5e5), ("10gbps", "bps_l2", 1e10),
    ("10gbpsl1", "bps_l1", 1e10), ("2.5Gbps_L2", "bps_l2", 2.5e9), ("50%", "percent", 50),
])
def test_parse_rate(text, kind, value):
    r = S.parse_rate(text)
    assert (r.kind, r.value) == (kind, value)


@pytest.mark.parametrize("make,needle", [
    (lambda: S.get("udp64").with_(frame_size=63), "63 bytes is outside 64..9000"),
    (lambda: S.get("udp64").with_(frame_size=9001), "outside 64..9000"),
    (lambda: S.get("udp64").with_(frame_size="64:7,x"), "cannot read 'x'"),
    (lambda: S.Imix(((64, 0),)), "positive integer"),
    (lambda: S.Rate(pps=1, percent=2), "exactly one of"),
    (lambda: S.Rate(percent=120), "above 100%"),
    (lambda: S.Rate(bps_l1=-5), "positive number"),
    (lambda: S.parse_rate("fast"), "cannot read 'fast'"),
    (lambda: S.Flows(dst_ip="10.0.2.9-10.0.2.1"), "start 10.0.2.9 is above end 10.0.2.1"),
    (lambda: S.Flows(dst_ip="10.0.2-10.0.2.9"), "not an IPv4 address"),
    (lambda: S.Flows(src_port="1-70000"), "not a port number"),
    (lambda: S.Flows(src_port="1-9:sideways"), "unknown mode 'sideways'"),
    (lambda: S.get("udp64").with_(duration=-1), "duration must be a positive"),
    (lambda: S.get("udp64").with_(rate=S.Rate(pps=20e6, link_bps=10e9)), "above the line rate"),
    (lambda: S.Scenario("x", IP() / UDP()), "starting with Ether"),
    (lambda: S.Scenario("x", Ether() / IP() / ICMP(), flows=S.Flows(dst_port=53)), "port ranges need"),
    (lambda: S.Scenario("x", Ether() / IP() / TCP() / ("p" * 20)), "stamp needs 18"),
    (lambda: S.get("nope"), "unknown scenario 'nope'"),
])
def test_validation_errors(make, needle):
    with pytest.raises(UknfvError, match=needle):
        make()


# --------------------------------------------------------------------------- CLI

def test_cli_writes_and_lists(tmp_path):
    runner = CliRunner()
    out = tmp_path / "lab_profile.py"
    res = runner.invoke(cli, ["trex", "profile", "imix", "router-flows", "-o", str(out),
                              "--rate", "2mpps"])
    assert res.exit_code == 0, res.output
    assert "imix, router-flows (4 streams)" in res.output
    loaded = api.STLProfile.load_py(str(out), scenario="router-flows")
    assert loaded.get_streams()[0].to_json()["mode"]["rate"] == {"type": "pps", "value": 2e6}
    res = runner.invoke(cli, ["trex", "list"])
    assert res.exit_code == 0 and all(n in res.output for n in S.names())


@pytest.mark.parametrize("args,needle", [
    (["trex", "profile", "nope", "-o", "x.py"], "unknown scenario 'nope'"),
    (["trex", "profile", "udp64", "-o", "x.py", "--size", "12"], "outside 64..9000"),
    (["trex", "profile", "udp64", "-o", "x-y.py"], "Python identifier"),
    (["trex", "run", "127.0.0.1", "udp64", "--rate", "lots"], "cannot read 'lots'"),
    (["trex", "run", "127.0.0.1", "udp64", "--duration", "0"], "duration"),
    (["trex", "run", "127.0.0.1", "udp64", "--port", "300"], "port numbers 0..255"),
])
def test_cli_errors_are_clean(tmp_path, monkeypatch, args, needle):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1, res.output
    assert needle in res.output and "Traceback" not in res.output


# --------------------------------------------------------------------------- client side

def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_a_clean_error():
    port = unused_port()
    t0 = time.monotonic()
    with pytest.raises(UknfvError, match="connection refused") as e:
        T.run_trex("127.0.0.1", "udp64", 1, sync_port=port, client="legacy")
    assert time.monotonic() - t0 < 3
    assert f"127.0.0.1:{port}" in str(e.value) and "t-rex-64 -i" in str(e.value)
    res = CliRunner().invoke(cli, ["trex", "run", "127.0.0.1", "udp64", "--sync-port", str(port)])
    assert res.exit_code == 1 and "connection refused" in res.output
    assert "Traceback" not in res.output


class FakeRpcServer:
    """A ZMQ REP socket answering JSON-RPC like a TRex server would."""

    def __init__(self, answer):
        import zmq
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.REP)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.calls: list[dict] = []
        self.answer = answer
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        try:
            while not self.stop.is_set():
                if not self.sock.poll(50):
                    continue
                msg = self.sock.recv()
                zipped = msg[:4] == b"\xab\xe8\x5c\xea"          # TRex's compressed messages
                req = json.loads(zlib.decompress(msg[8:]) if zipped else msg)
                self.calls.append(req)
                out = json.dumps(self.answer(req)).encode()
                self.sock.send(struct.pack(">II", 0xABE85CEA, len(out)) + zlib.compress(out)
                               if zipped else out)
        finally:
            self.sock.close(linger=0)     # owned by this thread: close it here

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.ctx.term()


def test_rpc_version_mismatch_is_detected_and_explained():
    def newer_server(req):      # what TRex v2.9x/v3.x answer to trex-stl-lib 0.3's api_sync
        return {"jsonrpc": "2.0", "id": req["id"],
                "error": {"code": -32000, "message": "Failed to execute",
                          "specific_err": "RPC version mismatch: a newer client version is required"}}
    srv = FakeRpcServer(newer_server)
    try:
        t0 = time.monotonic()
        with pytest.raises(UknfvError) as e:
            T.run_trex("127.0.0.1", "udp64", 1, sync_port=srv.port, client="legacy", timeout=3)
        assert time.monotonic() - t0 < 5
    finally:
        srv.close()
    assert srv.calls[0]["method"] == "api_sync"
    assert srv.calls[0]["params"]["api_vers"] == [{"type": "core", "major": 4, "minor": 1}]
    text = str(e.value)
    assert "trex-stl-lib 0.3" in text and "core RPC API 4.1" in text
    assert "RPC version mismatch: a newer client version is required" in text
    assert "automation/trex_control_plane/interactive" in text and "uknfv[trex]" in text


def test_silent_server_times_out_cleanly():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        t0 = time.monotonic()
        with pytest.raises(UknfvError, match="gave no RPC answer in time"):
            T.run_trex("127.0.0.1", "udp64", 1, sync_port=listener.getsockname()[1],
                       client="legacy", timeout=0.5)
        assert time.monotonic() - t0 < 3


class FakeClient:
    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def __getattr__(self, name):
        def method(*a, **kw):
            self.calls.append((name, kw))
            if name == self.fail_on:
                raise RuntimeError("boom")
            if name == "get_stats":
                return {0: {"opackets": 1000, "obytes": 60000, "ipackets": 0},
                        1: {"opackets": 0, "ipackets": 990, "ibytes": 59400},
                        "total": {}, "latency": {7: {"latency": {"average": 12.5, "total_max": 40,
                                                                 "total_min": 3, "jitter": 2}}}}
        return method


def test_drive_counts_loss_and_rates():
    c = FakeClient()
    res = _drive.drive(c, ["s1", "s2"], 2.0, [0], [1], latency_pg_id=7)
    assert [n for n, _ in c.calls] == ["connect", "reset", "add_streams", "clear_stats", "start",
                                       "wait_on_traffic", "get_stats", "disconnect"]
    assert c.calls[1][1] == {"ports": [0, 1]} and c.calls[2][1] == {"ports": [0]}
    assert c.calls[4][1]["duration"] == 2.0
    assert (res["tx_packets"], res["rx_packets"], res["lost_packets"]) == (1000, 990, 10)
    assert res["loss_ratio"] == pytest.approx(0.01)
    assert (res["tx_pps"], res["rx_pps"]) == (500, 495)
    assert res["tx_bps_l1"] == pytest.approx((60000 + 20 * 1000) * 8 / 2)
    assert res["latency_us"]["average"] == 12.5 and res["latency_us"]["max"] == 40
    failing = FakeClient(fail_on="start")
    with pytest.raises(RuntimeError):
        _drive.drive(failing, [], 1.0, [0], [1])
    assert failing.calls[-1][0] == "disconnect"


FAKE_API = '''
import json, os

class _Rec(object):
    def __init__(self, *a, **kw):
        self.a, self.kw = a, kw

class STLVmFlowVar(_Rec): pass
class STLVmWrFlowVar(_Rec): pass
class STLVmFixIpv4(_Rec): pass
class STLVmFixChecksumHw(_Rec): pass
class STLScVmRaw(_Rec): pass
class STLPktBuilder(_Rec): pass
class STLTXCont(_Rec): pass
class STLFlowLatencyStats(_Rec): pass
class STLStream(_Rec): pass
class CTRexVmInsFixHwCs(object):
    L4_TYPE_UDP, L4_TYPE_TCP = 17, 6

class STLClient(object):
    def __init__(self, **kw):
        self.log = [("init", sorted(kw))]
    def connect(self):
        if os.environ.get("FAKE_TREX_MODE") == "mismatch":
            raise Exception("Mismatch between client and server versions")
        self.log.append(("connect",))
    def reset(self, ports): self.log.append(("reset", ports))
    def add_streams(self, streams, ports):
        self.log.append(("add_streams", [s.kw["name"] for s in streams], ports))
    def clear_stats(self): pass
    def start(self, ports, mult, duration, force): self.log.append(("start", duration))
    def wait_on_traffic(self, ports, timeout, rx_delay_ms): pass
    def get_stats(self):
        return {0: {"opackets": 300, "obytes": 18000}, 1: {"ipackets": 300, "ibytes": 18000}}
    def disconnect(self):
        with open(os.environ["FAKE_TREX_LOG"], "w") as f:
            json.dump(self.log, f)
'''


@pytest.fixture
def fake_current_client(tmp_path, monkeypatch):
    root = tmp_path / "interactive"
    (root / "trex" / "stl").mkdir(parents=True)
    (root / "trex" / "__init__.py").write_text("")
    (root / "trex" / "stl" / "__init__.py").write_text("")
    (root / "trex" / "stl" / "api.py").write_text(textwrap.dedent(FAKE_API))
    monkeypatch.setenv("FAKE_TREX_LOG", str(tmp_path / "log.json"))
    return root


def test_current_client_runs_in_its_own_interpreter(fake_current_client, tmp_path):
    srv = FakeRpcServer(lambda req: {})          # only the reachability probe touches it
    try:
        res = T.run_trex("127.0.0.1", "imix", 3, sync_port=srv.port, client="auto",
                         client_path=str(fake_current_client))
    finally:
        srv.close()
    log = json.loads((tmp_path / "log.json").read_text())
    assert log[0] == ["init", ["async_port", "async_timeout", "server", "sync_port",
                               "sync_timeout", "verbose_level"]]
    assert ["add_streams", ["imix-64", "imix-570", "imix-1518"], [0]] in log
    assert ["start", 3.0] in log
    assert res["client"].startswith("TRex client at ")
    assert (res["tx_packets"], res["rx_packets"], res["loss_ratio"], res["tx_pps"]) == (300, 300, 0, 100)
    assert res["scenario"] == "imix" and res["expected_pps"] == pytest.approx(S.get("imix").pps)


def test_cli_run_reports_rates_and_loss(fake_current_client):
    srv = FakeRpcServer(lambda req: {})
    try:
        base = ["trex", "run", "127.0.0.1", "router-flows", "--sync-port", str(srv.port),
                "--trex-client", str(fake_current_client), "--duration", "2", "--port", "0"]
        res = CliRunner().invoke(cli, base)
        js = CliRunner().invoke(cli, base + ["--json"])
    finally:
        srv.close()
    assert res.exit_code == 0, res.output
    assert "router-flows at 1M pps for 2 s, ports 0 -> 1" in res.output
    assert "tx 300 packets  150 pps" in res.output and "lost 0 (0.0000%)" in res.output
    out = json.loads(js.output)
    assert out["rx_packets"] == 300 and out["per_port"]["1"]["rx_packets"] == 300


def test_current_client_version_mismatch(fake_current_client, monkeypatch):
    monkeypatch.setenv("FAKE_TREX_MODE", "mismatch")
    srv = FakeRpcServer(lambda req: {})
    try:
        with pytest.raises(UknfvError, match="does not speak the RPC API of TRex client at"):
            T.run_trex("127.0.0.1", "udp64", 1, sync_port=srv.port, client="current",
                       client_path=str(fake_current_client))
    finally:
        srv.close()


def test_current_client_must_exist(tmp_path, monkeypatch):
    monkeypatch.delenv(T.CLIENT_ENV, raising=False)
    monkeypatch.setattr(T, "current_client_available", lambda path=None: path)
    with pytest.raises(UknfvError, match="no current TRex client"):
        T.run_trex("127.0.0.1", "udp64", 1, client="current")
    with pytest.raises(UknfvError, match="not a TRex client directory"):
        T.run_trex("127.0.0.1", "udp64", 1, client="current", client_path=str(tmp_path))
