"""Helpers for uknfv's tests and the traffic harness: run the CLI, read stats."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def uknfv_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("uknfv")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "uknfv.cli"]


def run_uknfv(*args: str, cwd: str | Path | None = None, timeout: float = 120,
              input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(uknfv_cmd() + list(args), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, input=input, env=os.environ.copy())


def stats_of(stdout: str) -> dict[str, str]:
    """Parse `--stats` output ("element.handler: value" lines)."""
    return dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)


_HANDLER_LINE = re.compile(r"^([^\s:]+)\.([A-Za-z0-9_]+):( ?)(.*)$")


def parse_stats(stdout: str) -> dict[str, str]:
    """`--stats` output as {"element.handler": value}; a value may span lines
    (tables, mappings): the lines after its first, up to the next handler."""
    stats: dict[str, str] = {}
    key = None
    for line in stdout.splitlines():
        m = _HANDLER_LINE.match(line)
        if m:
            key = f"{m.group(1)}.{m.group(2)}"
            stats[key] = m.group(4)
        elif key is not None:
            stats[key] += ("\n" if stats[key] else "") + line
    return {k: v.strip("\n") for k, v in stats.items()}


def write_pcap(path: str | Path, frames, link: int = 1) -> None:
    """A pcap of frames (bytes or scapy packets), stamped with the current time."""
    from scapy.utils import PcapWriter
    w = PcapWriter(str(path), linktype=link, sync=True)
    for f in frames:
        w.write(bytes(f))
    w.close()


def read_pcap(path: str | Path) -> list[bytes]:
    """The frames of a pcap file, in order."""
    from scapy.utils import RawPcapReader
    return [bytes(data) for data, _meta in RawPcapReader(str(path))]


def interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    """Stop a `uknfv run` the way a user does: SIGINT (a unikernel is asked to
    stop and prints its counters), again, then SIGKILL; its (stdout, stderr)."""
    import signal
    for sig, wait in ((signal.SIGINT, 10), (signal.SIGINT, 5), (signal.SIGKILL, 5)):
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            return proc.communicate(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    return "", ""


class PipelineRun:
    """What `uknfv run CONFIG --stats` left: handler values, stderr, output files."""

    def __init__(self, cwd: Path, stdout: str, stderr: str):
        self.tmp_path = cwd
        self.stats = parse_stats(stdout)
        self.stderr = stderr

    def out(self, name: str) -> list[bytes]:
        """The frames of an output pcap (a ToDump file) in the run's folder."""
        return read_pcap(self.tmp_path / name)

    def n(self, handler: str) -> int:
        return int(self.stats[handler])

    def details(self, handler: str) -> dict[str, int]:
        """A `drop_details`-style handler (COUNT, a tab, REASON per line) as {reason: count}."""
        out = {}
        for line in self.stats[handler].strip().splitlines():
            c, _, r = line.partition("\t")
            out[r] = int(c)
        return out


def run_pipeline(cwd: Path, config: str, frames, *, target: str = "linux", timeout: float = 300,
                 write=None) -> PipelineRun:
    """Write frames to in.pcap (with ``write``, default write_pcap) and config to
    t.click in ``cwd``, run it with --stats; it must succeed without a traceback."""
    (write or write_pcap)(Path(cwd) / "in.pcap", frames)
    (Path(cwd) / "t.click").write_text(config)
    res = run_uknfv("run", "t.click", "--stats", "--target", target, cwd=cwd, timeout=timeout)
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return PipelineRun(Path(cwd), res.stdout, res.stderr)


def check_error(cwd: str | Path, config: str, *fragments: str, name: str = "bad.click") -> None:
    """`uknfv check` must reject config (written to cwd/name) cleanly: exit 1,
    no traceback, saying each fragment."""
    (Path(cwd) / name).write_text(config)
    res = run_uknfv("check", name, cwd=cwd)
    assert res.returncode == 1, res.stdout
    assert "Traceback" not in res.stderr
    for frag in fragments:
        assert frag in res.stderr, res.stderr


def assert_same_frames(want_path: str | Path, got_path: str | Path, what: str,
                       check_linktype: bool = False) -> None:
    """got_path must hold exactly want_path's frames, in order (timestamps aside)."""
    from .pcapfile import linktype, read_frames
    got_path = Path(got_path)
    assert got_path.exists(), f"{got_path.name} was not written"
    want, got = read_frames(want_path), read_frames(got_path)
    for i, (w, g) in enumerate(zip(want, got)):
        assert g == w, f"{what}: frame {i} differs:\n want {w.hex()}\n  got {g.hex()}"
    assert len(got) == len(want), f"{what}: {len(got)} frames, expected {len(want)}"
    if check_linktype:
        assert linktype(got_path) == linktype(want_path), f"{what}: link type differs"
