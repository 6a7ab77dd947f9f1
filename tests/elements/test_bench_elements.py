"""TrafficGen and TrafficSink (elements/bench/), the RFC 2544 harness's generator and sink.

On the Linux target: each test writes a small configuration into tmp_path,
runs it with `uknfv run FILE --stats` and checks the frames TrafficGen wrote
(through ToDump, parsed with scapy) and the handlers --stats printed.  The
sink is fed pcap files crafted with scapy (stamped frames deliberately
removed, reordered and duplicated, plus foreign frames) and checked for the
exact counts.  Timing tests assert what the pacing guarantees (packet k is
never stamped before t0 + k/RATE) plus generous bounds, so a busy machine
does not make them flaky.  Last, a generator and a sink around logical
ports build for the dpdk target (skipped without libdpdk-dev).
"""
from __future__ import annotations

import shutil
import signal
import struct
import subprocess
import time
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

from uknfv.pcapfile import read_frames, write_frames
from uknfv.testing import check_error, run_uknfv, stats_of

MAGIC = 0x2544
SIMPLE_IMIX = {64: 7, 570: 4, 1518: 1}


# ---------------------------------------------------------------- helpers

def run(tmp_path: Path, config: str, timeout: float = 120) -> dict[str, str]:
    (tmp_path / "t.click").write_text(config)
    res = run_uknfv("run", "t.click", "--stats", cwd=tmp_path, timeout=timeout)
    assert res.returncode == 0, res.stderr
    return stats_of(res.stdout)


def build(tmp_path: Path, config: str, name: str = "vnf", target: str = "linux") -> Path:
    (tmp_path / f"{name}.click").write_text(config)
    res = run_uknfv("build", f"{name}.click", "--target", target, "-o", name, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path / name


def gen_frames(tmp_path: Path, args: str, limit: int) -> tuple[list[bytes], dict[str, str]]:
    """Run TrafficGen(args) for `limit` packets into a pcap; its frames and handlers."""
    stats = run(tmp_path, f"gen :: TrafficGen({args}, LIMIT {limit}, STOP true)"
                          " -> ToDump(out.pcap, SNAPLEN 0);\n")
    frames = read_frames(tmp_path / "out.pcap")
    assert len(frames) == limit
    return frames, stats


def stamp_of(frame: bytes, off: int = 42) -> tuple[int, int, int]:
    """(magic, sequence number, timestamp) of a stamped frame."""
    return struct.unpack("!HQQ", frame[off:off + 18])


def ip_checksum_ok(frame: bytes) -> bool:
    hdr = frame[14:34]
    s = sum(struct.unpack("!10H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def check_udp_frame(frame: bytes, length: int, *, src="02:00:00:00:00:01", dst="02:00:00:00:00:02",
                    srcip="198.18.0.1", dstip="198.19.0.1", sport=1024, dport=1024) -> None:
    """frame is TrafficGen's Ethernet/IPv4/UDP frame of LENGTH `length` (FCS included)."""
    assert len(frame) == length - 4
    p = Ether(frame)
    assert p.src == src and p.dst == dst and p.type == 0x0800
    ip = p[IP]
    assert (ip.version, ip.ihl, ip.tos, ip.id, ip.flags, ip.frag, ip.ttl, ip.proto) == \
        (4, 5, 0, 0, 0, 0, 64, 17)
    assert ip.src == srcip and ip.dst == dstip
    assert ip.len == length - 18
    assert ip_checksum_ok(frame)
    # scapy agrees on the checksum
    again = Ether(frame)
    del again[IP].chksum
    assert Ether(bytes(again))[IP].chksum == ip.chksum
    udp = p[UDP]
    assert (udp.sport, udp.dport) == (sport, dport)
    assert udp.len == length - 38
    assert udp.chksum == 0


# ---------------------------------------------------------------- TrafficGen frames

def test_gen_default_frames_are_exact(tmp_path):
    frames, stats = gen_frames(tmp_path, "BURST 4", 10)
    ts = []
    for i, f in enumerate(frames):
        check_udp_frame(f, 64)
        magic, seq, t = stamp_of(f)
        assert magic == MAGIC
        assert seq == i
        ts.append(t)
    assert all(t > 0 for t in ts)
    assert ts == sorted(ts)
    # the clock is read once per burst: bursts of 4 share their timestamp
    assert ts[0] == ts[3] and ts[4] == ts[7]
    assert stats["gen.count"] == "10"
    assert stats["gen.bytes"] == str(10 * 60)
    assert stats["gen.length"] == "64"
    assert stats["gen.imix"] == ""
    assert stats["gen.flows"] == "1"
    assert stats["gen.limit"] == "10"
    assert stats["gen.skipped"] == "0"


@pytest.mark.parametrize("length", [64, 65, 128, 1518, 2052])
def test_gen_lengths_include_fcs(tmp_path, length):
    frames, stats = gen_frames(tmp_path, f"LENGTH {length}", 3)
    for i, f in enumerate(frames):
        check_udp_frame(f, length)
        assert stamp_of(f)[:2] == (MAGIC, i)
        assert f[60:] == bytes(len(f) - 60)      # the rest of the payload is zero
    assert stats["gen.length"] == str(length)
    assert stats["gen.bytes"] == str(3 * (length - 4))


def test_gen_addresses_and_ports(tmp_path):
    frames, _ = gen_frames(tmp_path, "SRCETH 0a:0b:0c:0d:0e:0f, DSTETH ff:ff:ff:ff:ff:ff, "
                                     "SRCIP 10.1.2.3, DSTIP 192.168.200.1, SPORT 5000, DPORT 53, "
                                     "LENGTH 100", 4)
    for f in frames:
        check_udp_frame(f, 100, src="0a:0b:0c:0d:0e:0f", dst="ff:ff:ff:ff:ff:ff",
                        srcip="10.1.2.3", dstip="192.168.200.1", sport=5000, dport=53)


def test_gen_without_stamp(tmp_path):
    frames, _ = gen_frames(tmp_path, "STAMP false, LENGTH 46", 3)
    for f in frames:
        check_udp_frame(f, 46)
    frames, _ = gen_frames(tmp_path, "STAMP false, LENGTH 80", 3)
    for f in frames:
        check_udp_frame(f, 80)
        assert f[42:] == bytes(len(f) - 42)


@pytest.mark.parametrize("vary", ["SPORT", "SRCIP", "BOTH"])
def test_gen_flows_cycle(tmp_path, vary):
    frames, stats = gen_frames(tmp_path, f"FLOWS 5, FLOWVARY {vary}, SPORT 2000, "
                                         "SRCIP 10.0.0.254, BURST 3", 17)
    assert stats["gen.flows"] == "5"
    want_ips = ["10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1", "10.0.1.2"]
    for k, f in enumerate(frames):
        flow = k % 5
        check_udp_frame(f, 64,
                        sport=2000 + flow if vary != "SRCIP" else 2000,
                        srcip=want_ips[flow] if vary != "SPORT" else "10.0.0.254")
        assert stamp_of(f)[1] == k


def test_gen_one_flow_varies_nothing(tmp_path):
    frames, _ = gen_frames(tmp_path, "FLOWS 1, FLOWVARY BOTH", 4)
    assert len(set(frames[i][:42] for i in range(4))) == 1


def test_gen_simple_imix_proportions(tmp_path):
    frames, stats = gen_frames(tmp_path, "IMIX true, FLOWS 7", 1200)
    sizes = [len(f) + 4 for f in frames]
    assert {s: sizes.count(s) for s in set(sizes)} == {64: 700, 570: 400, 1518: 100}
    # one fixed cycle of 12, interleaved rather than grouped
    assert sizes[:12] == sizes[12:24] == sizes[-12:]
    assert sizes[:7] != [64] * 7
    for k, f in enumerate(frames):
        check_udp_frame(f, len(f) + 4, sport=1024 + k % 7)
        assert stamp_of(f)[1] == k
    assert stats["gen.imix"] == "64:7 570:4 1518:1"
    assert stats["gen.length"] == str(round((64 * 7 + 570 * 4 + 1518) / 12))
    assert stats["gen.bytes"] == str(sum(len(f) for f in frames))


@pytest.mark.parametrize("spec, want", [
    ("64:1 1518:1", {64: 1, 1518: 1}),
    ('"64:3, 128:1"', {64: 3, 128: 1}),
    ("128 256:2", {128: 1, 256: 2}),
    ("100:4 200:2", {100: 2, 200: 1}),        # weights divided by their gcd
])
def test_gen_custom_imix(tmp_path, spec, want):
    cycle = sum(want.values())
    frames, _ = gen_frames(tmp_path, f"IMIX {spec}", cycle * 10)
    sizes = [len(f) + 4 for f in frames]
    assert {s: sizes.count(s) for s in set(sizes)} == {s: w * 10 for s, w in want.items()}
    for f in frames:
        check_udp_frame(f, len(f) + 4)


@pytest.mark.parametrize("limit, burst", [(100, 7), (64, 32), (5, 32), (1, 1)])
def test_gen_sequence_numbers_consecutive_and_limit(tmp_path, limit, burst):
    frames, stats = gen_frames(tmp_path, f"BURST {burst}", limit)
    assert [stamp_of(f)[1] for f in frames] == list(range(limit))
    assert stats["gen.count"] == str(limit)
    assert stats["gen.burst"] == str(burst)


def test_gen_limit_zero_and_inactive(tmp_path):
    stats = run(tmp_path, "a :: TrafficGen(LIMIT 0, STOP true) -> ca :: Counter -> Discard;\n"
                          "b :: TrafficGen(ACTIVE false) -> cb :: Counter -> Discard;\n",
                timeout=30)
    assert stats["ca.count"] == "0"
    assert stats["cb.count"] == "0"
    assert stats["b.active"] == "0"


def test_gen_rate_pacing_is_never_early(tmp_path):
    # Packet k must not be stamped before t0 + k/RATE (the clock is read
    # before the packet leaves); the whole run must not take much longer.
    rate, n = 4000, 1000
    frames, stats = gen_frames(tmp_path, f"RATE {rate}, BURST 8", n)
    ts = [stamp_of(f)[2] for f in frames]
    for k, t in enumerate(ts):
        assert t - ts[0] >= k * 10**9 // rate, k
    span = (ts[-1] - ts[0]) / 1e9
    assert (n - 1) / rate <= span < 5.0
    assert stats["gen.rate"] == str(rate)


def test_gen_rate_over_half_a_second(tmp_path):
    # Unlimited, RATE 20000 pps, stopped with SIGINT after about 0.5 s: the
    # count matches the time it ran (loose bounds: start-up, busy machines).
    rate = 20000
    vnf = build(tmp_path, f"gen :: TrafficGen(RATE {rate}) -> sink :: TrafficSink;\n")
    t0 = time.monotonic()
    proc = subprocess.Popen([str(vnf), "--stats"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, err
    stats = stats_of(out)
    count = int(stats["gen.count"])
    assert 0.2 * 0.5 * rate <= count <= rate * elapsed + 64, (count, elapsed)
    assert stats["sink.count"] == str(count)
    assert stats["sink.lost"] == "0"
    # the sink's own rate estimate is in the right range too
    assert 0.5 * rate <= float(stats["sink.rate"]) <= 1.5 * rate


def test_gen_unpaced_fast(tmp_path):
    stats = run(tmp_path, "gen :: TrafficGen(LIMIT 200000, STOP true) -> sink :: TrafficSink;\n")
    assert stats["gen.count"] == "200000"
    assert stats["gen.rate"] == "0"
    assert stats["sink.count"] == "200000"
    assert stats["sink.lost"] == "0"


# ---------------------------------------------------------------- TrafficSink

def stamped(seq: int, ts: int = 1, *, vlan: bool = False, size: int = 60) -> bytes:
    """A frame that carries TrafficGen's stamp (built with scapy, not TrafficGen)."""
    payload = struct.pack("!HQQ", MAGIC, seq, ts)
    l2 = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    if vlan:
        l2 = l2 / Dot1Q(vlan=7)
    pkt = l2 / IP(src="198.18.0.1", dst="198.19.0.1") / UDP(sport=1024, dport=1024) / payload
    raw = bytes(pkt)
    return raw + bytes(max(0, size - len(raw)))


def foreign_frames() -> list[bytes]:
    def eth() -> Ether:      # explicit addresses: scapy must not resolve any
        return Ether(src="02:00:00:00:00:03", dst="02:00:00:00:00:04")

    def ip(**kw) -> IP:
        return IP(src="10.0.0.1", dst="10.0.0.2", **kw)

    stamp = struct.pack("!HQQ", MAGIC, 1, 1)
    return [
        bytes(eth() / ARP(hwsrc="02:00:00:00:00:03", psrc="10.0.0.1", pdst="10.0.0.2")),
        bytes(eth() / ip() / UDP(sport=1, dport=2) / (b"\x12\x34" + bytes(16))),  # wrong magic
        bytes(eth() / ip(proto=6) / stamp),                                       # not UDP
        bytes(eth() / IPv6(src="fe80::1", dst="fe80::2") / UDP() / stamp),         # IPv6
        bytes(eth() / ip() / UDP() / stamp[:10]),                                  # stamp cut short
        bytes(eth() / ip(flags="MF") / UDP() / stamp),                             # a fragment
        bytes(eth() / ip() / UDP()) + stamp,        # the "stamp" is Ethernet padding after the datagram
        b"\x00" * 20,                                                              # runt
    ]


def test_sink_exact_loss_reordering_duplicates(tmp_path):
    order = list(range(100))
    for s in (10, 20, 21, 50):          # lost: 4
        order.remove(s)
    i = order.index(30)                 # 31 before 30: 1 reordered
    order[i], order[i + 1] = order[i + 1], order[i]
    order.remove(60)                    # 60 after 65: 1 reordered
    order.insert(order.index(65) + 1, 60)
    order.insert(order.index(70) + 1, 70)   # duplicate right away
    order.insert(order.index(45) + 1, 40)   # duplicate of an older one
    order.insert(order.index(99) + 1, 99)   # duplicate of the highest
    assert len(order) == 96 + 3
    frames = [stamped(s, vlan=(s % 9 == 0)) for s in order]
    foreign = foreign_frames()
    mixed = frames[:50] + foreign + frames[50:]
    write_frames(tmp_path / "in.pcap", mixed)
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> sink :: TrafficSink"
                          " -> c :: Counter -> ToDump(out.pcap, SNAPLEN 0);\n")
    assert stats["sink.count"] == str(len(frames))
    assert stats["sink.bytes"] == str(sum(len(f) for f in frames))
    assert stats["sink.lost"] == "4"
    assert stats["sink.reordered"] == "2"
    assert stats["sink.duplicates"] == "3"
    assert stats["sink.foreign"] == str(len(foreign))
    assert stats["sink.foreign_bytes"] == str(sum(len(f) for f in foreign))
    assert stats["sink.min_seq"] == "0"
    assert stats["sink.max_seq"] == "99"
    # with an output, every frame passes on unchanged
    assert stats["c.count"] == str(len(mixed))
    assert read_frames(tmp_path / "out.pcap") == mixed


def test_sink_loss_counts_from_the_lowest_seen(tmp_path):
    # a sink that starts listening late does not count the earlier ones as lost;
    # a frame below the first seen counts as reordered
    seqs = [1000, 1001, 1003, 999, 1004, 1004]
    write_frames(tmp_path / "in.pcap", [stamped(s) for s in seqs])
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> sink :: TrafficSink;\n")
    assert stats["sink.count"] == "6"
    assert stats["sink.min_seq"] == "999"
    assert stats["sink.max_seq"] == "1004"
    assert stats["sink.lost"] == "1"            # 1002
    assert stats["sink.reordered"] == "1"       # 999
    assert stats["sink.duplicates"] == "1"      # the second 1004


def test_sink_large_gaps_and_window(tmp_path):
    seqs = [0, 1, 200000, 2, 200001, 200000, 150000]
    write_frames(tmp_path / "in.pcap", [stamped(s) for s in seqs])
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> sink :: TrafficSink;\n")
    assert stats["sink.duplicates"] == "1"      # 200000 again
    assert stats["sink.reordered"] == "2"       # 2 (outside the window), 150000
    assert stats["sink.lost"] == str(200002 - 6)


@pytest.mark.parametrize("seqs, dups, reordered", [
    ([0, 100, 50, 50, 5000, 100], 2, 1),            # gaps clear bits word by word
    ([60000, 70000, 60000, 65000, 4464], 1, 2),     # the window wraps around
])
def test_sink_window(tmp_path, seqs, dups, reordered):
    write_frames(tmp_path / "in.pcap", [stamped(s) for s in seqs])
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> sink :: TrafficSink;\n")
    assert stats["sink.duplicates"] == str(dups)
    assert stats["sink.reordered"] == str(reordered)
    span = max(seqs) - min(seqs) + 1
    assert stats["sink.lost"] == str(span - (len(seqs) - dups))


def test_sink_empty_and_foreign_only(tmp_path):
    write_frames(tmp_path / "in.pcap", foreign_frames())
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> sink :: TrafficSink;\n")
    assert stats["sink.count"] == "0"
    assert stats["sink.foreign"] == str(len(foreign_frames()))
    for h in ("lost", "reordered", "duplicates", "latency_samples", "latency_p50", "latency_max"):
        assert stats[f"sink.{h}"] == "0", h
    assert stats["sink.min_seq"] == "-1" and stats["sink.max_seq"] == "-1"
    assert stats["sink.latency"].startswith("samples=0 ")


def test_sink_future_timestamps_are_errors(tmp_path):
    write_frames(tmp_path / "in.pcap", [stamped(0, ts=1), stamped(1, ts=(1 << 64) - 1)])
    stats = run(tmp_path, "FromDump(in.pcap, STOP true) -> sink :: TrafficSink;\n")
    assert stats["sink.count"] == "2"
    assert stats["sink.latency_samples"] == "1"
    assert stats["sink.latency_errors"] == "1"


LAT_KEYS = ("min", "p50", "p90", "p99", "p999", "p9999", "max")


def check_latency(stats: dict[str, str], prefix: str = "sink") -> list[int]:
    vals = [int(stats[f"{prefix}.latency_{k}"]) for k in LAT_KEYS]
    assert all(v >= 0 for v in vals)
    assert vals == sorted(vals), vals
    mean = int(stats[f"{prefix}.latency_mean"])
    assert vals[0] <= mean <= vals[-1]
    combined = dict(kv.split("=") for kv in stats[f"{prefix}.latency"].split())
    assert combined == {"samples": stats[f"{prefix}.latency_samples"], "min": str(vals[0]),
                        "mean": str(mean), "p50": str(vals[1]), "p90": str(vals[2]),
                        "p99": str(vals[3]), "p99.9": str(vals[4]), "p99.99": str(vals[5]),
                        "max": str(vals[6])}
    return vals


def test_gen_to_sink_latency(tmp_path):
    # Through a Queue and an Unqueue, so that latencies spread out.
    stats = run(tmp_path, "gen :: TrafficGen(IMIX true, FLOWS 4, LIMIT 20000, STOP true, BURST 16,"
                          " RATE 200000) -> q :: Queue(5000) -> Unqueue(8) -> sink :: TrafficSink;\n")
    assert stats["gen.count"] == "20000"
    assert stats["q.drops"] == "0"
    assert stats["sink.count"] == "20000"
    assert stats["sink.bytes"] == stats["gen.bytes"]
    assert stats["sink.latency_samples"] == "20000"
    for h in ("lost", "reordered", "duplicates", "foreign", "latency_errors"):
        assert stats[f"sink.{h}"] == "0", h
    vals = check_latency(stats)
    assert vals[-1] < 60 * 10**9


@pytest.mark.parametrize("config", [
    # pull input, no output: the sink pulls (driver task)
    "gen :: TrafficGen(LIMIT 3000, STOP true) -> Queue(5000) -> sink :: TrafficSink;\n",
    # pull through: Unqueue pulls through the sink
    "gen :: TrafficGen(LIMIT 3000, STOP true) -> Queue(5000) -> sink :: TrafficSink"
    " -> Unqueue(8) -> c :: Counter -> Discard;\n",
])
def test_sink_pull_variants(tmp_path, config):
    stats = run(tmp_path, config)
    assert stats["sink.count"] == "3000"
    assert stats["sink.lost"] == "0"
    assert stats.get("c.count", "3000") == "3000"
    check_latency(stats)


# ---------------------------------------------------------------- errors and docs

def test_gen_argument_errors(tmp_path):
    check_error(tmp_path, 'TrafficGen(IMIX "64:7 57x:4") -> Discard;\n',
                "bad.click:1:23:", "IMIX", "SIZE:WEIGHT", "'57x:4'")
    check_error(tmp_path, "TrafficGen(IMIX 64:0) -> Discard;\n", "bad.click:1:17:", "weight")
    check_error(tmp_path, "TrafficGen(IMIX maybe) -> Discard;\n", "bad.click:1:17:", "IMIX")
    check_error(tmp_path, "TrafficGen(IMIX 64:7 40:1) -> Discard;\n",
                "bad.click:1:22:", "IMIX size 40 is too small", "64")
    check_error(tmp_path, "TrafficGen(IMIX 64:7 3000:1) -> Discard;\n",
                "bad.click:1:22:", "IMIX size 3000 is too large", "2052")
    check_error(tmp_path, "TrafficGen(LENGTH 63) -> Discard;\n",
                "bad.click:1:19:", "LENGTH 63 is too small", "stamp", "FCS")
    check_error(tmp_path, "TrafficGen(STAMP false, LENGTH 45) -> Discard;\n",
                "bad.click:1:32:", "LENGTH 45 is too small", "46")
    check_error(tmp_path, "TrafficGen(LENGTH 2053) -> Discard;\n",
                "bad.click:1:19:", "LENGTH 2053 is too large", "2052")
    check_error(tmp_path, "TrafficGen(LENGTH 64, IMIX true) -> Discard;\n",
                "bad.click:1:19:", "LENGTH or IMIX")
    check_error(tmp_path, "TrafficGen(SPORT 65530, FLOWS 7) -> Discard;\n",
                "bad.click:1:31:", "65535")
    check_error(tmp_path, "TrafficGen(SRCIP 255.255.255.250, FLOWS 7, FLOWVARY SRCIP) -> Discard;\n",
                "bad.click:1:41:", "255.255.255.255")
    check_error(tmp_path, "TrafficGen(FLOWS 0) -> Discard;\n", "bad.click:1:18:", "FLOWS")
    check_error(tmp_path, "TrafficGen(FLOWVARY DPORT) -> Discard;\n", "bad.click:1:21:", "FLOWVARY")
    check_error(tmp_path, "TrafficGen(RATE 2000000000) -> Discard;\n", "bad.click:1:17:", "RATE")
    check_error(tmp_path, "TrafficGen(SRCETH 1:2:3) -> Discard;\n", "bad.click:1:19:", "SRCETH")
    check_error(tmp_path, "TrafficGen(DSTIP 1.2.3) -> Discard;\n", "bad.click:1:18:", "DSTIP")
    check_error(tmp_path, "TrafficGen(BURST 0) -> Discard;\n", "bad.click:1:18:", "BURST")
    check_error(tmp_path, "TrafficGen(FOO 1) -> Discard;\n", "bad.click:1:12:", "FOO")
    check_error(tmp_path, "TrafficGen -> s :: TrafficSink -> Discard; s[1] -> Discard;\n",
                "bad.click:1:")


def test_docs_state_the_frame_size_convention(tmp_path):
    res = run_uknfv("elements", "TrafficGen", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.startswith("TrafficGen  (bench)")
    assert "INCLUDING the 4-byte FCS" in out
    assert "LENGTH 64 (the default)" in out and "60-byte buffer" in out
    for kw in ("SRCETH", "DSTETH", "SRCIP", "DSTIP", "SPORT", "DPORT", "LENGTH", "IMIX", "FLOWS",
               "FLOWVARY", "RATE", "LIMIT", "ACTIVE", "STOP", "STAMP", "BURST"):
        assert f"\n  {kw} " in out, kw
    for h in ("count", "bytes", "rate", "active", "limit", "reset", "length", "skipped"):
        assert f"\n  {h} " in out, h
    assert "Example:" in out
    res = run_uknfv("elements", "TrafficSink", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for h in ("count", "bytes", "lost", "reordered", "duplicates", "foreign", "latency_p50",
              "latency_p99", "latency_p999", "latency_max", "latency_mean", "latency", "reset"):
        assert f"\n  {h} " in res.stdout, h
    listing = run_uknfv("elements", cwd=tmp_path).stdout
    assert any(l.startswith("TrafficGen ") and " bench " in l for l in listing.splitlines())


# ---------------------------------------------------------------- dpdk target

def _have_dpdk() -> bool:
    if shutil.which("pkg-config") is None:
        return False
    return subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


@pytest.mark.skipif(not _have_dpdk(),
                    reason="needs libdpdk-dev (apt-get install libdpdk-dev dpdk pkg-config)")
def test_harness_pipeline_builds_for_dpdk(tmp_path):
    prog = build(tmp_path, "gen :: TrafficGen(IMIX true, FLOWS 64, FLOWVARY BOTH, RATE 1000000,"
                           " LIMIT 1000000, STOP true) -> ToDevice(tx);\n"
                           "FromDevice(rx) -> sink :: TrafficSink;\n", target="dpdk")
    assert prog.exists()
    res = subprocess.run([str(prog), "--help"], capture_output=True, text=True, timeout=30)
    assert "Traceback" not in res.stderr


@pytest.mark.e2e
@pytest.mark.skipif(not _have_dpdk(),
                    reason="needs libdpdk-dev (apt-get install libdpdk-dev dpdk pkg-config)")
def test_harness_pipeline_runs_on_dpdk_ring_loopback(tmp_path):
    # One process: gen -> ToDevice(tx), FromDevice(rx) -> sink, both ports on
    # the same net_ring device (what is sent is received): nothing lost.
    prog = build(tmp_path, "gen :: TrafficGen(IMIX true, FLOWS 16, RATE 100000, LIMIT 20000,"
                           " STOP true) -> ToDevice(tx);\n"
                           "FromDevice(rx) -> sink :: TrafficSink;\n", target="dpdk")
    res = subprocess.run([str(prog), "--port", "tx=dpdk:net_ring0", "--port", "rx=dpdk:net_ring0",
                          "--no-huge", "--stats"], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    assert stats["gen.count"] == "20000"
    assert stats["sink.count"] == "20000"
    assert stats["sink.bytes"] == stats["gen.bytes"]
    for h in ("lost", "reordered", "duplicates", "foreign", "latency_errors"):
        assert stats[f"sink.{h}"] == "0", h
    check_latency(stats)
