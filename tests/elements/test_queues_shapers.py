"""Queues, schedulers, shapers, meters and AverageCounter (elements/standard/).

SimpleQueue, FrontDropQueue, RED, PrioSched, RoundRobinSched, RatedUnqueue,
BandwidthRatedUnqueue, BandwidthShaper, RatedSplitter,
BandwidthRatedSplitter, Meter, BandwidthMeter and AverageCounter on the
Linux target: exact frames and order where the behaviour is deterministic,
loose bounds for rates (a run of about 0.5 s), argument errors at
file:line:col.  The last test runs one pipeline exercising them on the
Linux, DPDK and unikernel targets and requires identical output frames.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from uknfv.pcapfile import read_frames, write_frames
from uknfv.testing import assert_same_frames, check_error, run_uknfv, stats_of


def numbered_frames(n: int, size: int = 60, ethertype: bytes = b"\x88\xb5") -> list[bytes]:
    return [b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" + ethertype
            + i.to_bytes(4, "big") + bytes((i + j) & 255 for j in range(size - 18))
            for i in range(n)]


def run(tmp_path: Path, config: str, timeout: float = 120) -> tuple[dict[str, str], str]:
    (tmp_path / "t.click").write_text(config)
    res = run_uknfv("run", "t.click", "--stats", cwd=tmp_path, timeout=timeout)
    assert res.returncode == 0, res.stderr
    return stats_of(res.stdout), res.stderr


A, B = r"\<aa>", r"\<bb>"


# ---------------------------------------------------------------- queues

def test_simplequeue_is_a_queue(tmp_path):
    frames = numbered_frames(50)
    write_frames(tmp_path / "in.pcap", frames)
    stats, _ = run(tmp_path, "FromDump(in.pcap, STOP true) -> q :: SimpleQueue(100) -> Unqueue(-1)"
                             " -> ToDump(out.pcap);\n")
    assert read_frames(tmp_path / "out.pcap") == frames
    assert stats["q.capacity"] == "100" and stats["q.drops"] == "0" and stats["q.length"] == "0"


def test_frontdropqueue_drops_the_oldest(tmp_path):
    frames = numbered_frames(20)
    write_frames(tmp_path / "in.pcap", frames)
    stats, err = run(tmp_path, "FromDump(in.pcap, STOP true) -> q :: FrontDropQueue(5) -> Idle;\n"
                               "q[1] -> ToDump(drops.pcap);\n")
    # the oldest packets were dropped, in arrival order; the newest 5 stay
    assert read_frames(tmp_path / "drops.pcap") == frames[:15]
    assert stats["q.drops"] == "15"
    assert stats["q.length"] == "5"
    assert stats["q.highwater_length"] == "5"
    assert stats["q.capacity"] == "5"
    assert err.count("q: overflow") == 1


def test_frontdropqueue_keeps_the_newest(tmp_path):
    # Everything is queued before Unqueue's first run (one source burst).
    stats, _ = run(tmp_path, "s :: InfiniteSource(LIMIT 10, BURST 10, STOP true) -> "
                             "n :: Counter -> q :: FrontDropQueue(4) -> u :: Unqueue(-1) -> c :: Counter -> Discard;\n")
    assert stats["q.drops"] == "6" and stats["c.count"] == "4"
    frames = numbered_frames(30)
    write_frames(tmp_path / "in.pcap", frames)
    run(tmp_path, "FromDump(in.pcap, STOP true) -> q :: FrontDropQueue(1000) -> Unqueue(3)"
                  " -> ToDump(out.pcap);\n")
    assert read_frames(tmp_path / "out.pcap") == frames


def test_frontdropqueue_capacity_zero(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 5, STOP true) -> q :: FrontDropQueue(0) -> Unqueue"
                             " -> c :: Counter -> Discard;\n")
    assert stats["q.drops"] == "5" and stats["c.count"] == "0"


# ---------------------------------------------------------------- schedulers

def sched(tmp_path, cls: str) -> list[bytes]:
    run(tmp_path, f"InfiniteSource(DATA {A}, LIMIT 4, BURST 4, STOP true) -> Queue -> [0]s :: {cls};\n"
                  f"InfiniteSource(DATA {B}, LIMIT 3, BURST 3, STOP true) -> Queue -> [1]s;\n"
                  "s -> Unqueue(-1) -> ToDump(out.pcap);\n")
    return read_frames(tmp_path / "out.pcap")


def test_priosched_serves_input_0_first(tmp_path):
    assert sched(tmp_path, "PrioSched") == [b"\xaa"] * 4 + [b"\xbb"] * 3


def test_roundrobinsched_alternates(tmp_path):
    assert sched(tmp_path, "RoundRobinSched") == [b"\xaa", b"\xbb"] * 3 + [b"\xaa"]


def test_roundrobinsched_three_inputs_and_empty_one(tmp_path):
    stats, _ = run(tmp_path,
                   f"InfiniteSource(DATA {A}, LIMIT 2, BURST 2, STOP true) -> Queue -> [0]s :: RoundRobinSched;\n"
                   "Idle -> Queue -> [1]s;\n"
                   f"InfiniteSource(DATA {B}, LIMIT 2, BURST 2, STOP true) -> Queue -> [2]s;\n"
                   "s -> Unqueue(-1) -> ToDump(out.pcap);\n")
    assert read_frames(tmp_path / "out.pcap") == [b"\xaa", b"\xbb", b"\xaa", b"\xbb"]
    assert stats["s.count"] == "4"


# ---------------------------------------------------------------- RED

def test_red_drops_and_counts(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 5000, BURST 50, STOP true) -> r :: RED(5, 15, 0.1)"
                             " -> q :: Queue(100) -> Unqueue(5) -> c :: Counter -> Discard;\n"
                             "r[1] -> d :: Counter -> Discard;\n")
    drops, passed = int(stats["r.drops"]), int(stats["c.count"])
    assert stats["d.count"] == stats["r.drops"]
    assert drops + passed + int(stats["q.drops"]) == 5000
    # the queue is pushed much faster than drained: RED keeps it short
    assert drops > 2500
    assert int(stats["q.highwater_length"]) < 100 and stats["q.drops"] == "0"
    assert stats["r.min_thresh"] == "5" and stats["r.max_thresh"] == "15"
    assert stats["r.max_p"] == "0.1"
    assert float(stats["r.avg_queue_size"]) > 5


def test_red_below_min_thresh_drops_nothing(tmp_path):
    frames = numbered_frames(100)
    write_frames(tmp_path / "in.pcap", frames)
    stats, _ = run(tmp_path, "FromDump(in.pcap, STOP true) -> r :: RED(500, 1000, 1) -> Queue(1000)"
                             " -> Unqueue(-1) -> ToDump(out.pcap);\n")
    assert read_frames(tmp_path / "out.pcap") == frames
    assert stats["r.drops"] == "0"


def test_red_probability_is_sane(tmp_path):
    # Nothing pulls: the queue fills to 1000, the average follows it.  With
    # GENTLE false, everything above MAX_THRESH is dropped; before that the
    # drop ratio grows with the average.
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 3000, BURST 100, STOP true) -> r :: RED(10, 40, 0.2, GENTLE false)"
                             " -> q :: Queue(10000) -> Idle;\n")
    drops, kept = int(stats["r.drops"]), int(stats["q.length"])
    assert drops + kept == 3000
    assert 40 < kept < 200     # about MAX_THRESH plus the average's lag, some random
    assert float(stats["r.avg_queue_size"]) > 40


def test_red_pull(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 200, BURST 200, STOP true) -> q :: Queue(1000)"
                             " -> r :: RED(0, 0, 1) -> Unqueue(-1) -> c :: Counter -> Discard;\n")
    # a pull that meets RT_BURST drops in a row returns nothing; the rest stays queued
    assert int(stats["r.drops"]) + int(stats["c.count"]) + int(stats["q.length"]) == 200
    assert int(stats["r.drops"]) >= 100


def test_red_queues_keyword(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 3000, BURST 100, STOP true) -> r :: RED(10, 40, 0.2, "
                             "QUEUES q, GENTLE false) -> Counter -> q :: Queue(10000) -> Idle;\n")
    assert int(stats["r.drops"]) + int(stats["q.length"]) == 3000
    assert 40 < int(stats["q.length"]) < 200
    assert stats["r.queues"] == "q"


def test_red_without_a_queue_fails_cleanly(tmp_path):
    (tmp_path / "t.click").write_text("InfiniteSource(LIMIT 1, STOP true) -> RED(1, 2, 0.5) -> Discard;\n")
    res = run_uknfv("run", "t.click", cwd=tmp_path)
    assert res.returncode != 0
    assert "RED needs a Queue" in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------- rates (~0.5 s runs)

SRC = "RatedSource(RATE 2000, LIMIT 1000, STOP true, LENGTH 100)"


def test_ratedunqueue_rate(tmp_path):
    stats, _ = run(tmp_path, f"{SRC} -> Queue(2000) -> u :: RatedUnqueue(400) -> c :: Counter -> Discard;\n")
    # 0.5 s at 400/s = 200, plus the bucket (8)
    assert 140 <= int(stats["c.count"]) <= 260, stats["c.count"]
    assert stats["u.count"] == stats["c.count"]
    assert stats["u.rate"] == "400"


def test_ratedunqueue_burst_size_and_inactive(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 100, BURST 100, STOP true) -> Queue -> "
                             "u :: RatedUnqueue(1, BURST_SIZE 7) -> c :: Counter -> Discard;\n")
    assert stats["c.count"] == "7"      # the full bucket, then 1/s
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 10, STOP true) -> Queue -> "
                             "u :: RatedUnqueue(1000, ACTIVE false) -> c :: Counter -> Discard;\n")
    assert stats["c.count"] == "0"


def test_bandwidthratedunqueue_rate(tmp_path):
    stats, _ = run(tmp_path, f"{SRC} -> Queue(2000) -> u :: BandwidthRatedUnqueue(40kBps) -> c :: Counter -> Discard;\n")
    # 0.5 s at 40000 B/s = 20000 B = 200 packets of 100 B, plus 8 of bucket
    assert 140 <= int(stats["c.count"]) <= 260, stats["c.count"]
    assert stats["u.rate"] == "40000"
    assert stats["u.byte_count"] == str(100 * int(stats["c.count"]))


def test_bandwidthshaper_rate(tmp_path):
    stats, _ = run(tmp_path, f"{SRC} -> q :: Queue(2000) -> s :: BandwidthShaper(320kbps) -> Unqueue(-1)"
                             " -> c :: Counter -> Discard;\n")
    assert stats["s.rate"] == "40000"
    assert 140 <= int(stats["c.count"]) <= 260, stats["c.count"]
    assert int(stats["c.count"]) + int(stats["q.length"]) == 1000


def test_ratedsplitter_splits_by_rate(tmp_path):
    stats, _ = run(tmp_path, f"{SRC} -> s :: RatedSplitter(400) -> a :: Counter -> Discard;\n"
                             "s[1] -> b :: Counter -> Discard;\n")
    a, b = int(stats["a.count"]), int(stats["b.count"])
    assert a + b == 1000
    assert 140 <= a <= 260, a
    assert stats["s.count0"] == str(a) and stats["s.count1"] == str(b)


def test_bandwidthratedsplitter_splits_by_bandwidth(tmp_path):
    stats, _ = run(tmp_path, f"{SRC} -> s :: BandwidthRatedSplitter(40kBps) -> a :: Counter -> Discard;\n"
                             "s[1] -> b :: Counter -> Discard;\n")
    a, b = int(stats["a.count"]), int(stats["b.count"])
    assert a + b == 1000
    assert 140 <= a <= 260, a


def test_rate_zero_sends_everything_to_output_1(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 50, STOP true) -> s :: RatedSplitter(0) -> a :: Counter -> Discard;\n"
                             "s[1] -> b :: Counter -> Discard;\n"
                             "InfiniteSource(LIMIT 50, STOP true) -> t :: BandwidthRatedSplitter(0) -> Discard;\n"
                             "t[1] -> d :: Counter -> Discard;\n")
    assert stats["a.count"] == "0" and stats["b.count"] == "50" and stats["d.count"] == "50"


# ---------------------------------------------------------------- meters

def test_meter_slow_and_fast(tmp_path):
    stats, _ = run(tmp_path, "RatedSource(RATE 200, LIMIT 60, STOP true) -> m :: Meter(5000) -> a :: Counter -> Discard;\n"
                             "m[1] -> b :: Counter -> Discard;\n")
    assert stats["a.count"] == "60" and stats["b.count"] == "0"
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 300000, STOP true) -> m :: Meter(1000, 2000000000)"
                             " -> a :: Counter -> Discard;\n"
                             "m[1] -> b :: Counter -> Discard; m[2] -> d :: Counter -> Discard;\n")
    a, b = int(stats["a.count"]), int(stats["b.count"])
    assert a + b + int(stats["d.count"]) == 300000
    assert b > 10 * a and stats["d.count"] == "0"
    assert stats["m.count1"] == str(b)
    assert int(stats["m.rate"]) > 100000


def test_bandwidthmeter(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 300000, STOP true) -> m :: BandwidthMeter(100kBps)"
                             " -> a :: Counter -> Discard; m[1] -> b :: Counter -> Discard;\n")
    assert int(stats["b.count"]) > 10 * int(stats["a.count"])
    stats, _ = run(tmp_path, "RatedSource(RATE 200, LIMIT 60, STOP true) -> m :: BandwidthMeter(1MBps)"
                             " -> a :: Counter -> Discard; m[1] -> b :: Counter -> Discard;\n")
    assert stats["a.count"] == "60"


# ---------------------------------------------------------------- AverageCounter

def test_averagecounter(tmp_path):
    stats, _ = run(tmp_path, "RatedSource(RATE 1000, LIMIT 400, STOP true) -> c :: AverageCounter -> Discard;\n")
    assert stats["c.count"] == "400"
    assert stats["c.byte_count"] == str(400 * 69)
    assert 700 <= int(stats["c.rate"]) <= 1100, stats["c.rate"]
    assert abs(int(stats["c.bit_rate"]) - 8 * int(stats["c.byte_rate"])) <= 8
    stats, _ = run(tmp_path, "RatedSource(RATE 1000, LIMIT 400, STOP true) -> c :: AverageCounter(IGNORE 0.1)"
                             " -> Discard;\n")
    assert 220 <= int(stats["c.count"]) <= 320, stats["c.count"]


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("config, frags", [
    ("Idle -> RED(10, 5, 0.1) -> Queue -> Discard;\n", ("bad.click:1:17", "MAX_THRESH")),
    ("Idle -> RED(1, 5, 1.5) -> Queue -> Discard;\n", ("bad.click:1:19", "MAX_P")),
    ("Idle -> RED(1, 5) -> Queue -> Discard;\n", ("bad.click:1:", "MAX_P")),
    ("Idle -> RED(1, 5, 0.1, STABILITY 40) -> Queue -> Discard;\n", ("bad.click:1:", "STABILITY")),
    ("Idle -> Meter(100, 10) -> Discard;\n", ("bad.click:1:20", "rates must increase")),
    ("Idle -> m :: Meter(100) -> Discard; m[2] -> Discard;\n", ("bad.click:1:", "output 2")),
    ("Idle -> BandwidthMeter(fast) -> Discard;\n", ("bad.click:1:", "bandwidth")),
    ("Idle -> Queue -> RatedUnqueue -> Discard;\n", ("bad.click:1:", "RATE")),
    ("Idle -> Queue -> RatedUnqueue(-3) -> Discard;\n", ("bad.click:1:31", "RATE")),
    ("Idle -> Queue -> BandwidthShaper(fast) -> Unqueue -> Discard;\n", ("bad.click:1:34", "bandwidth")),
    ("Idle -> RatedSplitter(x) -> Discard;\n", ("bad.click:1:", "RATE")),
    ("Idle -> FrontDropQueue(-1) -> Unqueue -> Discard;\n", ("bad.click:1:", "CAPACITY")),
    ("Idle -> AverageCounter(IGNORE soon) -> Discard;\n", ("bad.click:1:", "IGNORE")),
    ("Idle -> Queue -> PrioSched -> Classifier(-) -> Discard;\n", ("bad.click:1:", "pull")),
])
def test_argument_errors(tmp_path, config, frags):
    check_error(tmp_path, config, *frags)


# ---------------------------------------------------------------- three targets

COMBINED = """\
// One pipeline, many elements; every output is deterministic (no timing).
FromDump(in.pcap, STOP true) -> t :: Tee(2);
t[0] -> cl :: Classifier(12/0800, -);
cl[0] -> r :: RED(1000, 2000, 0.5) -> fq :: FrontDropQueue(1000) -> [0]ps :: PrioSched
  -> Unqueue(-1) -> rs :: RatedSplitter(0) -> Discard;
rs[1] -> ToDump(out_a.pcap);
Idle -> Queue -> [1]ps;
cl[1] -> sq :: SimpleQueue(1000) -> [0]rr :: RoundRobinSched -> BandwidthShaper(10Gbps)
  -> ru :: RatedUnqueue(100000000) -> m :: Meter(1000000000) -> ac :: AverageCounter
  -> bs :: BandwidthRatedSplitter(0) -> Discard;
bs[1] -> ToDump(out_b.pcap);
Idle -> Queue -> [1]rr;
m[1] -> Discard;
t[1] -> dq :: FrontDropQueue(5) -> Idle;
dq[1] -> ToDump(out_drops.pcap);
"""

COMBINED_STATS = ("r.drops", "fq.drops", "rs.count1", "m.count0", "ac.count", "dq.drops", "sq.drops")


def combined_frames() -> list[bytes]:
    ip = numbered_frames(40, ethertype=b"\x08\x00")
    other = numbered_frames(40, size=80)
    return [f for pair in zip(ip, other) for f in pair]


def _have_dpdk() -> bool:
    return shutil.which("pkg-config") is not None and \
        subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode == 0


@pytest.mark.e2e
@pytest.mark.vm
def test_combined_pipeline_same_frames_on_linux_dpdk_kvm(tmp_path):
    frames = combined_frames()
    ip, other = frames[0::2], frames[1::2]
    dirs = {}
    for target in ("linux", "dpdk", "kvm"):
        d = tmp_path / target
        d.mkdir()
        write_frames(d / "in.pcap", frames)
        (d / "c.click").write_text(COMBINED)
        dirs[target] = d

    res = run_uknfv("run", "c.click", "--stats", cwd=dirs["linux"])
    assert res.returncode == 0, res.stderr
    lin = stats_of(res.stdout)
    assert read_frames(dirs["linux"] / "out_a.pcap") == ip
    assert read_frames(dirs["linux"] / "out_b.pcap") == other
    assert read_frames(dirs["linux"] / "out_drops.pcap") == frames[:-5]
    assert [lin[k] for k in COMBINED_STATS] == ["0", "0", "40", "40", "40", "75", "0"]

    others, missing = [], []
    if _have_dpdk():
        others.append(("dpdk", ["--target", "dpdk", "--stats"]))
    else:
        missing.append("libdpdk-dev (dpdk target)")
    if shutil.which("qemu-system-x86_64"):
        # one VM boot: FromDump is replayed to the guest, ToDump written from what it sends
        others.append(("kvm", ["--target", "kvm"]))
    else:
        missing.append("qemu-system-x86_64 (kvm target)")
    for target, args in others:
        res = run_uknfv("run", "c.click", *args, cwd=dirs[target], timeout=300)
        assert res.returncode == 0, f"{target}:\n{res.stdout}\n{res.stderr}"
        for out in ("out_a.pcap", "out_b.pcap", "out_drops.pcap"):
            assert_same_frames(dirs["linux"] / out, dirs[target] / out, f"{target}/{out}")
        st = stats_of(res.stdout)
        assert [st.get(k) for k in COMBINED_STATS] == [lin[k] for k in COMBINED_STATS], target
    if missing:
        pytest.skip("compared with Linux where possible; needs " + " and ".join(missing))
