"""The original Click's outputs, reproduced frame for frame.

tests/golden/click/ is a copy of shared/click-golden: Click configurations,
their input pcap, and what Click (kohler/click 9197a59, userlevel) wrote.
For every case, `uknfv run` must write the same frames in the same order.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest


from uknfv.testing import assert_same_frames, run_uknfv, stats_of

GOLDEN = Path(__file__).parent / "click"
CASES = sorted(p.stem for p in (GOLDEN / "cases").glob("*.click"))


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str, tmp_path: Path) -> None:
    shutil.copy(GOLDEN / "input.pcap", tmp_path / "input.pcap")
    shutil.copy(GOLDEN / "cases" / f"{case}.click", tmp_path / f"{case}.click")
    res = run_uknfv("run", f"{case}.click", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    expected = sorted((GOLDEN / "golden" / case).glob("out_*.pcap"))
    assert expected
    for gold in expected:
        assert_same_frames(gold, tmp_path / gold.name, f"{case}/{gold.name}")


def test_truncated_ip_is_counted_not_fatal(tmp_path: Path) -> None:
    """Click aborts on the truncated IPv4 frame in input.pcap; uknfv counts it."""
    shutil.copy(GOLDEN / "input.pcap", tmp_path / "input.pcap")
    (tmp_path / "m.click").write_text(
        "FromDump(input.pcap, STOP true) -> Classifier(12/0800) -> Strip(14)"
        " -> m :: MarkIPHeader -> Discard;\n")
    res = run_uknfv("run", "m.click", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    stats = stats_of(res.stdout)
    assert int(stats["m.drops"]) >= 1
