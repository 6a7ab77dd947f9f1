"""Build options (Kconfig): listed per pipeline and target, saved next to it, used by builds."""
from __future__ import annotations

import json

from uknfv.testing import run_uknfv

PIPE = "FromDevice(in) -> Counter -> ToDevice(out);\n"


def test_list_set_and_build_uses_saved_options(tmp_path):
    (tmp_path / "p.click").write_text(PIPE)
    res = run_uknfv("config", "p.click", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "CONFIG_RT_BURST=32" in res.stdout and "CONFIG_LINUXIO_POOL=4096" in res.stdout
    res = run_uknfv("config", "p.click", "--set", "RT_BURST=8", "--set", "CONFIG_LINUXIO_POOL=512", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    saved = (tmp_path / "p.config").read_text()
    assert "CONFIG_RT_BURST=8" in saved and "CONFIG_LINUXIO_POOL=512" in saved
    assert run_uknfv("build", "p.click", "-o", "vnf", cwd=tmp_path).returncode == 0
    meta = json.loads((tmp_path / "vnf.json").read_text())
    assert "-DCONFIG_RT_BURST=8" in meta["cflags"]
    help_ = run_uknfv("build", "p.click", "-o", "vnf", cwd=tmp_path)
    assert help_.returncode == 0


def test_bad_option_name_and_value_are_clean_errors(tmp_path):
    (tmp_path / "p.click").write_text(PIPE)
    res = run_uknfv("config", "p.click", "--set", "NOPE=1", cwd=tmp_path)
    assert res.returncode == 1 and "no build option 'NOPE'" in res.stderr and "RT_BURST" in res.stderr
    res = run_uknfv("config", "p.click", "--set", "RT_BURST=900", cwd=tmp_path)
    assert res.returncode == 1 and "range 1..256" in res.stderr
    assert not (tmp_path / "p.config").exists()
    res = run_uknfv("config", "p.click", "--set", "RT_BURST", cwd=tmp_path)
    assert res.returncode == 1 and "NAME=VALUE" in res.stderr
    assert "Traceback" not in res.stderr
