"""One stamp format for every generator: frames built from a traffic scenario
(what the TRex profiles send) are counted by TrafficSink like TrafficGen's."""
from __future__ import annotations

from uknfv.pcapfile import write_frames
from uknfv.testing import run_uknfv, stats_of
from uknfv.traffic import scenarios as S


def test_sink_reads_scenario_stamps(tmp_path):
    frames = list(S.get("router-flows").frames(100, timestamp_ns=lambda k: 1000 + k))
    frames = frames[:40] + frames[41:]            # one lost
    frames[10], frames[11] = frames[11], frames[10]   # one reordered
    write_frames(tmp_path / "in.pcap", frames)
    (tmp_path / "s.click").write_text(
        "FromDump(in.pcap, STOP true) -> sink :: TrafficSink -> Discard;\n")
    res = run_uknfv("run", "s.click", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    st = stats_of(res.stdout)
    assert st["sink.count"] == "99" and st["sink.foreign"] == "0"
    assert st["sink.lost"] == "1" and st["sink.reordered"] == "1"
    assert st["sink.max_seq"] == "99"
