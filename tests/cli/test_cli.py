"""The uknfv command: exit codes, clean errors (never a traceback), outputs."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from uknfv.pcapfile import read_frames, write_frames
from uknfv.testing import run_uknfv, stats_of

GOOD = "define($IN in.pcap);\nFromDump($IN, STOP true) -> c :: Counter -> ToDump(out.pcap);\n"


def frames(n: int) -> list[bytes]:
    return [bytes(range(i, i + 60)) for i in range(n)]


def no_traceback(res: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in res.stderr, res.stderr


def test_check_ok_and_error_exit_codes(tmp_path):
    (tmp_path / "ok.click").write_text(GOOD)
    (tmp_path / "bad.click").write_text("FromDump(in.pcap) -> Nope;\n")
    ok = run_uknfv("check", "ok.click", cwd=tmp_path)
    assert ok.returncode == 0 and "ok" in ok.stdout
    bad = run_uknfv("check", "bad.click", cwd=tmp_path)
    assert bad.returncode == 1
    no_traceback(bad)
    assert bad.stderr.startswith("bad.click:1:22: error: unknown element class 'Nope'")
    assert bad.stderr.splitlines()[2] == " " * 23 + "^"


@pytest.mark.parametrize("args,needle", [
    (["check", "missing.click"], "missing.click: no such file"),
    (["check", "."], "is a directory"),
    (["run", "ok.click", "BAD DEFINE"], "expected NAME=VALUE"),
    (["graph", "ok.click", "-o", "x.jpgz"], "cannot tell the format"),
    (["elements", "NoSuchElement"], "no element class 'NoSuchElement'"),
])
def test_user_errors_are_clean(tmp_path, args, needle):
    (tmp_path / "ok.click").write_text(GOOD)
    res = run_uknfv(*args, cwd=tmp_path)
    assert res.returncode != 0
    no_traceback(res)
    assert needle in res.stderr


def test_run_with_define_override_and_stats(tmp_path):
    (tmp_path / "ok.click").write_text(GOOD)
    write_frames(tmp_path / "other.pcap", frames(5))
    res = run_uknfv("run", "ok.click", "IN=other.pcap", "--stats", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert stats_of(res.stdout)["c.count"] == "5"
    assert read_frames(tmp_path / "out.pcap") == frames(5)


def test_missing_input_file_is_a_clean_error(tmp_path):
    (tmp_path / "ok.click").write_text(GOOD)
    res = run_uknfv("run", "ok.click", cwd=tmp_path)
    assert res.returncode == 1
    assert "in.pcap" in res.stderr and "No such file" in res.stderr


def test_build_writes_standalone_program_and_json(tmp_path):
    (tmp_path / "p.click").write_text("FromDevice(in) -> Counter -> ToDevice(out);\n")
    res = run_uknfv("build", "p.click", "--target", "linux", "-o", "vnf", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    meta = json.loads((tmp_path / "vnf.json").read_text())
    assert [p["name"] for p in meta["ports"]] == ["in", "out"]
    assert "linuxio" in meta["libraries"] and meta["size"] > 0
    write_frames(tmp_path / "a.pcap", frames(3))
    run = subprocess.run(["./vnf", "--port", "in=pcap:a.pcap", "--port", "out=pcap:b.pcap", "--stats"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    assert read_frames(tmp_path / "b.pcap") == frames(3)
    assert "port.in.rx: 3 packets" in run.stdout


@pytest.mark.parametrize("ports,needle", [
    ([], "port 'in' is not bound"),
    (["--port", "nope=pcap:x"], "has no port 'nope'"),
    (["--port", "in=zip:x", "--port", "out=pcap:o.pcap"], "unknown binding"),
    (["--port", "in=pcap:none.pcap", "--port", "out=pcap:o.pcap"], "none.pcap"),
])
def test_program_port_errors(tmp_path, ports, needle):
    (tmp_path / "p.click").write_text("FromDevice(in) -> ToDevice(out);\n")
    assert run_uknfv("build", "p.click", "-o", "vnf", cwd=tmp_path).returncode == 0
    res = subprocess.run(["./vnf", *ports], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert res.returncode != 0 and needle in res.stderr


def test_flatten_is_reparsable(tmp_path):
    (tmp_path / "c.click").write_text(
        "elementclass Two { input -> Counter -> Counter -> output }\n"
        "FromDump(x.pcap) -> t :: Two -> Discard;\n")
    res = run_uknfv("flatten", "c.click", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "t/Counter@1 :: Counter" in res.stdout
    (tmp_path / "flat.click").write_text(res.stdout)
    assert run_uknfv("check", "flat.click", cwd=tmp_path).returncode == 0


def test_graph_dot_and_svg(tmp_path):
    (tmp_path / "ok.click").write_text(GOOD)
    assert run_uknfv("graph", "ok.click", "-o", "g.dot", cwd=tmp_path).returncode == 0
    dot = (tmp_path / "g.dot").read_text()
    assert '"c":o0 -> "ToDump@3":i0' in dot
    if shutil.which("dot"):
        res = run_uknfv("graph", "ok.click", "-o", "g.svg", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")


def test_elements_list_and_doc():
    res = run_uknfv("elements")
    assert res.returncode == 0 and "Classifier" in res.stdout and "RadixIPLookup" in res.stdout
    doc = run_uknfv("elements", "Classifier")
    assert "Classifies packets by contents" in doc.stdout and "drops" in doc.stdout
