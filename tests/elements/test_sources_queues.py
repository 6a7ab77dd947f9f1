"""InfiniteSource, RatedSource, Queue/SimpleQueue, Unqueue and Print on the Linux target.

Each test writes a small configuration into tmp_path, runs it with
`uknfv run FILE --stats` as a subprocess and checks what came out: the
frames (and record timestamps) of ToDump's pcap, the handlers printed by
--stats, and Print's lines on stderr, against Click's documented behaviour.
Timing tests only assert what the pacing guarantees (a packet is never
early) plus generous upper bounds, so they do not flake on a busy machine.
"""
from __future__ import annotations

import os
import re
import struct
import subprocess
import time
from pathlib import Path

import pytest

from uknfv.pcapfile import write_frames
from uknfv.testing import check_error, run_uknfv, stats_of

CLICK_DATA = b"Random bullshit in a packet, at least 64 bytes long. Well, now it is."


# ---------------------------------------------------------------- helpers

def read_records(path: Path) -> list[tuple[float, bytes]]:
    """(timestamp in seconds, frame) for every record of a pcap file."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), hex(magic)
    div = 1e9 if magic == 0xA1B23C4D else 1e6
    out, off = [], 24
    while off + 16 <= len(data):
        sec, sub, caplen, _ = struct.unpack("<IIII", data[off:off + 16])
        off += 16
        out.append((sec + sub / div, data[off:off + caplen]))
        off += caplen
    return out


def frames_of(path: Path) -> list[bytes]:
    return [f for _, f in read_records(path)]


def run(tmp_path: Path, config: str, timeout: float = 120) -> tuple[dict[str, str], str]:
    """Run config to its end; return (--stats handlers, stderr)."""
    (tmp_path / "t.click").write_text(config)
    res = run_uknfv("run", "t.click", "--stats", cwd=tmp_path, timeout=timeout)
    assert res.returncode == 0, res.stderr
    return stats_of(res.stdout), res.stderr


def build(tmp_path: Path, config: str) -> Path:
    """Build config into a program (so that a run can be timed without the build)."""
    (tmp_path / "t.click").write_text(config)
    res = run_uknfv("build", "t.click", "-o", "vnf", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return tmp_path / "vnf"




def print_lines(stderr: str, label: str) -> list[str]:
    return [l for l in stderr.splitlines() if l.startswith(label)]


def numbered_frames(n: int, size: int = 60) -> list[bytes]:
    """n distinct Ethernet frames (experimental ethertype, index in the payload)."""
    return [b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x88\xb5"
            + i.to_bytes(4, "big") + bytes((i + j) & 255 for j in range(size - 18))
            for i in range(n)]


def is_subsequence(sub: list, seq: list) -> bool:
    it = iter(seq)
    return all(x in it for x in sub)


# ---------------------------------------------------------------- InfiniteSource

def test_infinitesource_default_data_and_limit(tmp_path):
    stats, _ = run(tmp_path, "s :: InfiniteSource(LIMIT 7, STOP true) -> c :: Counter"
                             " -> ToDump(out.pcap);\n")
    recs = read_records(tmp_path / "out.pcap")
    assert [f for _, f in recs] == [CLICK_DATA] * 7
    assert len(CLICK_DATA) == 69
    assert stats["s.count"] == "7"
    assert stats["c.count"] == "7"
    assert stats["s.length"] == "69"
    assert stats["s.limit"] == "7"
    assert stats["s.data"] == CLICK_DATA.decode()
    # TIMESTAMP defaults to true: packets carry the current time
    now = time.time()
    assert all(abs(ts - now) < 600 for ts, _ in recs)


@pytest.mark.parametrize("args, want", [
    ("LENGTH 10", CLICK_DATA[:10]),
    ("LENGTH 69", CLICK_DATA),
    ("LENGTH 150", (CLICK_DATA * 3)[:150]),
    ("DATASIZE 20", CLICK_DATA[:20]),
    (r"DATA \<0011 2233>", b"\x00\x11\x22\x33"),
    (r"\<aabb>, LENGTH 5", b"\xaa\xbb\xaa\xbb\xaa"),
    ('DATA "hi\\n"', b"hi\n"),
    ("LENGTH 0", b""),
    ("LENGTH 2048", (CLICK_DATA * 30)[:2048]),
])
def test_infinitesource_data_and_length(tmp_path, args, want):
    run(tmp_path, f"InfiniteSource({args}, LIMIT 3, STOP true) -> ToDump(out.pcap, SNAPLEN 0);\n")
    assert frames_of(tmp_path / "out.pcap") == [want] * 3


@pytest.mark.parametrize("limit, burst", [(10, 3), (10, 1), (5, 32), (64, 32), (1, 1)])
def test_infinitesource_burst_never_exceeds_limit(tmp_path, limit, burst):
    stats, _ = run(tmp_path, f"s :: InfiniteSource(LIMIT {limit}, BURST {burst}, STOP true)"
                             " -> c :: Counter -> Discard;\n")
    assert stats["c.count"] == str(limit)
    assert stats["s.count"] == str(limit)
    assert stats["s.burst"] == str(burst)


def test_infinitesource_positional_arguments(tmp_path):
    # Click's order: DATA, LIMIT, BURST, ACTIVE
    stats, _ = run(tmp_path, r"s :: InfiniteSource(\<0102>, 4, 2, true, STOP true)"
                             " -> ToDump(out.pcap);\n")
    assert frames_of(tmp_path / "out.pcap") == [b"\x01\x02"] * 4
    assert stats["s.burst"] == "2"


def test_infinitesource_limit_zero_stops_at_once(tmp_path):
    stats, _ = run(tmp_path, "s :: InfiniteSource(LIMIT 0, STOP true) -> c :: Counter -> Discard;\n",
                   timeout=30)
    assert stats["c.count"] == "0"


def test_infinitesource_inactive_emits_nothing(tmp_path):
    # The run ends when the STOP source is done; the inactive one never emits.
    stats, _ = run(tmp_path, "a :: InfiniteSource(ACTIVE false) -> ca :: Counter -> Discard;\n"
                             "b :: InfiniteSource(LIMIT 5, STOP true) -> cb :: Counter -> Discard;\n")
    assert stats["ca.count"] == "0"
    assert stats["a.active"] == "0"
    assert stats["cb.count"] == "5"


def test_infinitesource_run_ends_when_all_stop_sources_are_done(tmp_path):
    stats, _ = run(tmp_path, "a :: InfiniteSource(LIMIT 3, STOP true) -> ca :: Counter -> Discard;\n"
                             "b :: InfiniteSource(LIMIT 300, STOP true) -> cb :: Counter -> Discard;\n")
    assert stats["ca.count"] == "3"
    assert stats["cb.count"] == "300"


def test_infinitesource_timestamp_annotation(tmp_path):
    _, err = run(tmp_path, "InfiniteSource(LIMIT 2, STOP true, TIMESTAMP false)"
                           " -> Print(no, TIMESTAMP true, CONTENTS NONE) -> Discard;\n"
                           "InfiniteSource(LIMIT 2, STOP true)"
                           " -> Print(yes, TIMESTAMP true, CONTENTS NONE) -> Discard;\n")
    assert print_lines(err, "no:") == ["no: 0.000000000:   69"] * 2
    yes = print_lines(err, "yes:")
    assert len(yes) == 2
    for line in yes:
        m = re.fullmatch(r"yes: (\d+)\.(\d{9}):   69", line)
        assert m, line
        assert abs(int(m.group(1)) - time.time()) < 600


def test_infinitesource_pull_output(tmp_path):
    # InfiniteSource's output is pull here: Unqueue pulls one packet per call.
    stats, _ = run(tmp_path, "s :: InfiniteSource(\\<c0ffee>, LIMIT 10, STOP true) -> u :: Unqueue(3)"
                             " -> ToDump(out.pcap);\n")
    assert frames_of(tmp_path / "out.pcap") == [b"\xc0\xff\xee"] * 10
    assert stats["s.count"] == "10"
    assert stats["u.count"] == "10"


def test_infinitesource_pool_exhaustion_is_not_fatal(tmp_path):
    # 64 buffers, all held by the queue: the source waits, nothing crashes.
    vnf = build(tmp_path, "s :: InfiniteSource(LIMIT 200, BURST 100, STOP true) -> q :: Queue(10000)"
                          " -> u :: Unqueue(1) -> c :: Counter -> Discard;\n")
    res = subprocess.run([str(vnf), "--pool", "64", "--stats"], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    assert stats["c.count"] == "200"
    assert int(stats["pool.alloc_failures"]) > 0


def test_infinitesource_errors(tmp_path):
    check_error(tmp_path, "InfiniteSource(LENGTH 5000) -> Discard;\n",
                "bad.click:1:", "does not fit a packet buffer")
    check_error(tmp_path, "InfiniteSource(BURST 0) -> Discard;\n", "bad.click:1:", "BURST")
    check_error(tmp_path, "InfiniteSource(LIMIT lots) -> Discard;\n", "bad.click:1:", "LIMIT")
    check_error(tmp_path, "InfiniteSource(LENGTH 10, DATASIZE 10) -> Discard;\n", "DATASIZE")
    check_error(tmp_path, "InfiniteSource(LIMIT 1, FOO 1) -> Discard;\n", "FOO")


def test_infinitesource_fast_path(tmp_path):
    # Not a benchmark: a sanity check that a million packets take well
    # under the timeout (the per-packet path is a pool pop and a copy).
    stats, _ = run(tmp_path, "s :: InfiniteSource(LENGTH 64, LIMIT 1000000, BURST 32, STOP true,"
                             " TIMESTAMP false) -> c :: Counter -> Discard;\n", timeout=60)
    assert stats["c.count"] == "1000000"
    assert stats["c.byte_count"] == "64000000"
    assert stats["pool.alloc_failures"] == "0"


# ---------------------------------------------------------------- RatedSource

def test_ratedsource_limit_and_pacing(tmp_path):
    rate, limit = 200, 60
    vnf = build(tmp_path, f"s :: RatedSource(RATE {rate}, LIMIT {limit}, STOP true) -> c :: Counter"
                          " -> ToDump(out.pcap);\n")
    t0 = time.monotonic()
    res = subprocess.run([str(vnf), "--stats"], capture_output=True, text=True, timeout=60,
                         cwd=tmp_path)
    elapsed = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    assert stats["c.count"] == str(limit)
    assert stats["s.count"] == str(limit)
    assert stats["s.rate"] == str(rate)
    recs = read_records(tmp_path / "out.pcap")
    assert [f for _, f in recs] == [CLICK_DATA] * limit
    # packet k is never sent before k/RATE: the last one at >= (limit-1)/rate
    span = recs[-1][0] - recs[0][0]
    assert span >= (limit - 1) / rate * 0.95, span
    assert elapsed >= (limit - 1) / rate * 0.95
    # generous: on time within a few seconds even on a loaded machine
    assert span < (limit - 1) / rate + 5
    assert elapsed < 30


def test_ratedsource_does_not_spin_while_waiting(tmp_path):
    vnf = build(tmp_path, "RatedSource(RATE 20, LIMIT 20, STOP true) -> c :: Counter -> Discard;\n")
    t0 = time.monotonic()
    with open(tmp_path / "stdout", "w") as out:
        proc = subprocess.Popen([str(vnf), "--stats"], stdout=out, stderr=subprocess.DEVNULL)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if proc.returncode is None and proc.poll() is None:
                proc.kill()
    wall = time.monotonic() - t0
    assert os.waitstatus_to_exitcode(status) == 0
    assert stats_of((tmp_path / "stdout").read_text())["c.count"] == "20"
    # ~0.95 s of waiting; a busy loop would burn about as much CPU time.
    assert wall >= 0.9
    assert usage.ru_utime + usage.ru_stime < 0.5 * wall


def test_ratedsource_high_rate_is_exact_over_time(tmp_path):
    # 20000 packets/s for 0.5 s: far above what one packet per 200 us
    # idle sleep would give, so it relies on catching up with due packets.
    stats, _ = run(tmp_path, "s :: RatedSource(RATE 20000, LIMIT 10000, STOP true) -> c :: Counter"
                             " -> ToDump(out.pcap);\n")
    assert stats["c.count"] == "10000"
    recs = read_records(tmp_path / "out.pcap")
    span = recs[-1][0] - recs[0][0]
    assert 0.45 < span < 5, span
    # never early: the k-th packet is not before k/RATE
    t0 = recs[0][0]
    assert all(ts - t0 >= k / 20000 - 0.002 for k, (ts, _) in enumerate(recs))


def test_ratedsource_bandwidth_and_length(tmp_path):
    stats, _ = run(tmp_path, "s :: RatedSource(BANDWIDTH 51200bps, LENGTH 64, LIMIT 5, STOP true)"
                             " -> ToDump(out.pcap);\n")
    assert stats["s.rate"] == "100"         # 6400 bytes/s over 64-byte packets
    assert frames_of(tmp_path / "out.pcap") == [CLICK_DATA[:64]] * 5


def test_ratedsource_pull_output(tmp_path):
    stats, _ = run(tmp_path, "s :: RatedSource(\\<aa>, 500, 25, STOP true) -> u :: Unqueue(-1)"
                             " -> c :: Counter -> ToDump(out.pcap);\n")
    assert stats["c.count"] == "25"
    recs = read_records(tmp_path / "out.pcap")
    assert [f for _, f in recs] == [b"\xaa"] * 25
    assert recs[-1][0] - recs[0][0] >= 24 / 500 * 0.95


def test_ratedsource_inactive(tmp_path):
    stats, _ = run(tmp_path, "a :: RatedSource(RATE 1000, ACTIVE false) -> ca :: Counter -> Discard;\n"
                             "InfiniteSource(LIMIT 1, STOP true) -> Discard;\n")
    assert stats["ca.count"] == "0"


def test_ratedsource_errors(tmp_path):
    check_error(tmp_path, "RatedSource(RATE -5) -> Discard;\n", "bad.click:1:", "RATE")
    check_error(tmp_path, "RatedSource(BANDWIDTH fast) -> Discard;\n", "BANDWIDTH", "bandwidth")


# ---------------------------------------------------------------- Queue / Unqueue

def test_queue_keeps_order_without_drops(tmp_path):
    frames = numbered_frames(300)
    write_frames(tmp_path / "in.pcap", frames)
    stats, err = run(tmp_path, "FromDump(in.pcap, STOP true) -> q :: Queue(1000) -> u :: Unqueue(-1)"
                               " -> ToDump(out.pcap);\n")
    assert frames_of(tmp_path / "out.pcap") == frames
    assert stats["q.drops"] == "0"
    assert stats["q.capacity"] == "1000"
    assert stats["q.length"] == "0"
    assert 0 < int(stats["q.highwater_length"]) <= 300
    assert "overflow" not in err


def test_queue_drops_when_full_and_keeps_order(tmp_path):
    frames = numbered_frames(200)
    write_frames(tmp_path / "in.pcap", frames)
    stats, err = run(tmp_path, "FromDump(in.pcap, STOP true) -> q :: Queue(10) -> u :: Unqueue(1)"
                               " -> ToDump(out.pcap);\n")
    out = frames_of(tmp_path / "out.pcap")
    drops = int(stats["q.drops"])
    assert drops > 0
    assert len(out) + drops == len(frames)
    assert is_subsequence(out, frames)
    assert stats["q.highwater_length"] == "10"
    # Click prints "NAME: overflow" once, at the first drop
    assert err.count("q: overflow") == 1


def test_queue_exact_drop_count(tmp_path):
    # Rounds: the source pushes 50 (30 stored, 20 dropped), Unqueue takes 5;
    # then 50 more (5 stored, 45 dropped); the rest drains 5 per round.
    stats, _ = run(tmp_path, "s :: InfiniteSource(LIMIT 100, BURST 50, STOP true) -> q :: Queue(30)"
                             " -> u :: Unqueue(5) -> c :: Counter -> Discard;\n")
    assert int(stats["q.drops"]) + int(stats["c.count"]) == 100
    assert stats["q.drops"] == "65"
    assert stats["c.count"] == "35"


def test_queue_drops_go_to_output_1(tmp_path):
    stats, _ = run(tmp_path, "s :: InfiniteSource(LIMIT 100, BURST 50, STOP true) -> q :: Queue(30)"
                             " -> u :: Unqueue(5) -> c :: Counter -> Discard;\n"
                             "q[1] -> d :: Counter -> Discard;\n")
    assert stats["d.count"] == stats["q.drops"]
    assert int(stats["d.count"]) + int(stats["c.count"]) == 100


def test_queue_holds_packets_nobody_pulls(tmp_path):
    write_frames(tmp_path / "in.pcap", numbered_frames(20))
    stats, _ = run(tmp_path, "FromDump(in.pcap, STOP true) -> q :: SimpleQueue(8) -> Idle;\n")
    assert stats["q.length"] == "8"
    assert stats["q.drops"] == "12"
    assert stats["q.highwater_length"] == "8"
    assert stats["q.capacity"] == "8"


def test_queue_capacity_zero_drops_everything(tmp_path):
    stats, err = run(tmp_path, "InfiniteSource(LIMIT 5, STOP true) -> q :: Queue(0) -> Unqueue"
                               " -> c :: Counter -> Discard;\n")
    assert stats["q.drops"] == "5"
    assert stats["c.count"] == "0"


def test_queue_default_capacity(tmp_path):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 1, STOP true) -> q :: Queue -> Unqueue -> Discard;\n")
    assert stats["q.capacity"] == "1000"


def test_queue_push_output_must_be_pulled(tmp_path):
    # Queue's output is pull: connecting it to a push-only input is an error.
    check_error(tmp_path, "InfiniteSource -> q :: Queue -> Classifier(-) -> Discard;\n",
                "bad.click:1:", "pull")


@pytest.mark.parametrize("args, moved", [
    ("LIMIT 7", 7), ("BURST 4, LIMIT 10", 10), ("ACTIVE false", 0), ("0", 0), ("-1", 50), ("3", 50),
])
def test_unqueue(tmp_path, args, moved):
    stats, _ = run(tmp_path, "InfiniteSource(LIMIT 50, STOP true) -> q :: Queue -> "
                             f"u :: Unqueue({args}) -> c :: Counter -> Discard;\n")
    assert stats["c.count"] == str(moved)
    assert stats["u.count"] == str(moved)
    assert int(stats["q.length"]) == 50 - moved


def test_unqueue_moves_packets_in_order(tmp_path):
    frames = numbered_frames(100)
    write_frames(tmp_path / "in.pcap", frames)
    run(tmp_path, "FromDump(in.pcap, STOP true) -> Queue(200) -> Unqueue(7) -> Queue(200)"
                  " -> Unqueue(3) -> ToDump(out.pcap);\n")
    assert frames_of(tmp_path / "out.pcap") == frames


# ---------------------------------------------------------------- Print

FRAME60 = bytes(range(60))


def print_run(tmp_path: Path, print_args: str, frames=(FRAME60,)) -> list[str]:
    write_frames(tmp_path / "in.pcap", list(frames))
    _, err = run(tmp_path, f"FromDump(in.pcap, STOP true) -> Print({print_args}) -> Discard;\n")
    return [l for l in err.splitlines() if l.strip()]


def test_print_default_format(tmp_path):
    assert print_run(tmp_path, "ok") == [
        "ok:   60 | 00010203 04050607 08090a0b 0c0d0e0f 10111213 14151617"]


def test_print_without_label(tmp_path):
    assert print_run(tmp_path, "") == [
        "  60 | 00010203 04050607 08090a0b 0c0d0e0f 10111213 14151617"]


def test_print_maxlength(tmp_path):
    assert print_run(tmp_path, "x, 5") == ["x:   60 | 00010203 04"]
    assert print_run(tmp_path, "x, MAXLENGTH 0") == ["x:   60"]
    full = print_run(tmp_path, "x, -1")[0]
    groups = full.split(" | ")[1].split(" ")
    assert len(groups) == 15 and "".join(groups) == FRAME60.hex()
    assert print_run(tmp_path, "x, NBYTES 2") == ["x:   60 | 0001"]


def test_print_short_packet_and_empty_packet(tmp_path):
    assert print_run(tmp_path, "s", frames=[b"\xab\xcd\xef"]) == ["s:    3 | abcdef"]
    assert print_run(tmp_path, "e", frames=[b""]) == ["e:    0"]


def test_print_long_packet_length_column(tmp_path):
    line = print_run(tmp_path, "L, 4", frames=[bytes(1500)])[0]
    assert line == "L: 1500 | 00000000"


def test_print_ascii(tmp_path):
    frame = b"Hello, world!\x00\x01\xffabcdefghijk"
    assert print_run(tmp_path, "a, CONTENTS ASCII", frames=[frame]) == [
        "a:   27 |  Hello, w orld!... abcdefgh"]
    assert print_run(tmp_path, "a, -1, CONTENTS ascii", frames=[frame]) == [
        "a:   27 |  Hello, w orld!... abcdefgh ijk"]


@pytest.mark.parametrize("contents", ["NONE", "false", "no"])
def test_print_no_contents(tmp_path, contents):
    assert print_run(tmp_path, f"n, CONTENTS {contents}") == ["n:   60"]


def test_print_contents_true_is_hex(tmp_path):
    assert print_run(tmp_path, "h, 4, CONTENTS true") == ["h:   60 | 00010203"]


def write_stamped(path: Path, records: list[tuple[int, int, bytes]]) -> None:
    """A microsecond pcap with exact (seconds, microseconds) timestamps."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for sec, usec, f in records:
        out.append(struct.pack("<IIII", sec, usec, len(f), len(f)) + f)
    path.write_bytes(b"".join(out))


def test_print_timestamp(tmp_path):
    write_stamped(tmp_path / "in.pcap", [(1700000000, 0, FRAME60), (1700000001, 2500, FRAME60)])
    _, err = run(tmp_path, "FromDump(in.pcap, STOP true) -> Print(t, 2, TIMESTAMP true)"
                           " -> Print(MAXLENGTH 0, TIMESTAMP true) -> Discard;\n")
    assert [l for l in err.splitlines() if l] == [
        "t: 1700000000.000000000:   60 | 0001",
        "1700000000.000000000:   60",
        "t: 1700000001.002500000:   60 | 0001",
        "1700000001.002500000:   60"]


def test_print_headroom_and_annotations(tmp_path):
    line = print_run(tmp_path, "r, 0, HEADROOM true")[0]
    m = re.fullmatch(r"r:   60 \(h(\d+) t(\d+)\)", line)
    assert m, line
    line = print_run(tmp_path, "a, 1, PRINTANNO true")[0]
    assert re.fullmatch(r"a:   60 \| [0-9a-f]{96} \| 00", line), line


def test_print_paint_annotation_visible(tmp_path):
    line = print_run(tmp_path, "p, 0, PRINTANNO true").pop()
    assert line == "p:   60 | " + "00" * 48
    write_frames(tmp_path / "in.pcap", [FRAME60])
    _, err = run(tmp_path, "FromDump(in.pcap, STOP true) -> Paint(7) -> Print(p, 0, PRINTANNO true)"
                           " -> Discard;\n")
    annos = err.strip().split(" | ")[1]
    assert bytes.fromhex(annos)[16] == 7


def test_print_inactive_and_passes_packets_unchanged(tmp_path):
    frames = numbered_frames(5)
    write_frames(tmp_path / "in.pcap", frames)
    stats, err = run(tmp_path, "FromDump(in.pcap, STOP true) -> p :: Print(quiet, ACTIVE false)"
                               " -> Print(loud) -> ToDump(out.pcap);\n")
    assert frames_of(tmp_path / "out.pcap") == frames
    assert not print_lines(err, "quiet")
    assert len(print_lines(err, "loud:")) == 5
    assert stats["p.active"] == "0"


def test_print_on_a_pull_path(tmp_path):
    _, err = run(tmp_path, "InfiniteSource(\\<0102030405>, LIMIT 3, STOP true) -> Queue"
                           " -> Print(pulled) -> Unqueue -> Discard;\n")
    assert print_lines(err, "pulled") == ["pulled:    5 | 01020304 05"] * 3


def test_print_quoted_label(tmp_path):
    assert print_run(tmp_path, '"a b", 1') == ["a b:   60 | 00"]


def test_print_errors(tmp_path):
    check_error(tmp_path, "InfiniteSource -> Print(x, CONTENTS BINARY) -> Discard;\n",
                "bad.click:1:", "CONTENTS", "NONE")
    check_error(tmp_path, "InfiniteSource -> Print(x, y) -> Discard;\n", "MAXLENGTH")
