"""`uknfv menuconfig`: the interactive menu, driven through tmux like a person would."""
from __future__ import annotations

import shutil
import subprocess
import time
import uuid

import pytest

from uknfv.testing import uknfv_cmd

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (scripts/setup.sh installs it)")


def screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True).stdout


def wait_for(session: str, text: str, timeout: float = 20) -> str:
    end = time.time() + timeout
    while time.time() < end:
        s = screen(session)
        if text in s:
            return s
        time.sleep(0.2)
    raise AssertionError(f"'{text}' never appeared; screen:\n{screen(session)}")


def keys(session: str, *k: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, *k], check=True)
    time.sleep(0.4)


def test_change_an_option_and_save(tmp_path):
    (tmp_path / "p.click").write_text("FromDevice(in) -> Counter -> ToDevice(out);\n")
    session = f"uknfv-mc-{uuid.uuid4().hex[:8]}"
    cmd = " ".join(uknfv_cmd()) + " menuconfig p.click; sleep 5"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                    "-c", str(tmp_path), cmd], check=True)
    try:
        s = wait_for(session, "uknfv build options: p.click")
        assert "pkt: packet API" in s and "linuxio:" in s
        keys(session, "Enter")                      # into the pkt menu
        wait_for(session, "Headroom before packet data")
        keys(session, "Enter")                      # edit PKT_HEADROOM
        wait_for(session, "Range: 64-1024")
        keys(session, "BSpace", "BSpace", "BSpace", "2", "5", "6", "Enter")
        wait_for(session, "(256) Headroom")
        keys(session, "S")
        wait_for(session, "Filename to save configuration to")
        keys(session, "Enter")
        keys(session, "Enter")
        keys(session, "Q")
        wait_for(session, "options saved in p.config")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert "CONFIG_PKT_HEADROOM=256" in (tmp_path / "p.config").read_text()
