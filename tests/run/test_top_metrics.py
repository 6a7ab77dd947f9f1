"""`uknfv top` and `uknfv metrics`: a running vNF's handlers as a live table and as
Prometheus metrics (uknfv/run/top.py, uknfv/run/metrics.py).

The formatting is unit-tested (names, types, escaping, values, HELP text) and
checked with a small strict parser of the text exposition format 0.0.4; the
commands run against a real Linux-target vNF with a control socket
(RatedSource at 2000 packets/s -> Counter -> Queue -> Unqueue -> Discard): one
snapshot, rates between snapshots, the exporter's /metrics, 404 and 503, the vNF
going away, Ctrl-C, and clean errors without a vNF.
"""
from __future__ import annotations

import io
import math
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from uknfv.run import metrics as M
from uknfv.run.metrics import Reading, Sample
from uknfv.run.top import render, run_top
from uknfv.testing import run_uknfv, uknfv_cmd

PIPELINE = "src :: RatedSource(RATE 2000) -> c :: Counter -> q :: Queue(100) -> Unqueue -> Discard;\n"


# ---- a strict parser of the text exposition format 0.0.4 ---------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_VALUE = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN"
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def _unescape_label(s: str) -> str:
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            nxt = s[i + 1] if i + 1 < len(s) else ""
            assert nxt in ('\\', '"', 'n'), f"bad escape in label value {s!r}"
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            assert ch not in ('"', "\n"), f"unescaped {ch!r} in label value {s!r}"
            out.append(ch)
            i += 1
    return "".join(out)


def _labels(text: str) -> dict[str, str]:
    """`a="x",b="y\\"z"` -> dict, strictly."""
    out: dict[str, str] = {}
    pos = 0
    pat = re.compile(rf'({_LABEL})="((?:[^"\\\n]|\\.)*)"')
    while pos < len(text):
        m = pat.match(text, pos)
        assert m, f"bad labels at {text[pos:]!r}"
        assert m.group(1) not in out, f"label {m.group(1)} twice"
        out[m.group(1)] = _unescape_label(m.group(2))
        pos = m.end()
        if pos < len(text):
            assert text[pos] == ",", f"expected ',' in labels {text!r}"
            pos += 1
    return out


def parse_exposition(text: str) -> dict[str, dict]:
    """name -> {"help", "type", "samples": {frozenset(labels): float}}; asserts on any flaw."""
    assert text == "" or text.endswith("\n"), "the exposition must end with a newline"
    fams: dict[str, dict] = {}
    closed: set[str] = set()        # families whose samples are done (no interleaving)
    current = None
    sample_re = re.compile(rf"({_NAME})(?:\{{(.*)\}})? ({_VALUE})(?: -?\d+)?")
    for line in text.splitlines():
        assert line == line.strip() and line, f"stray blank/whitespace line {line!r}"
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                assert re.fullmatch(_NAME, name), name
                fam = fams.setdefault(name, {"help": None, "type": None, "samples": {}})
                assert name not in closed and not fam["samples"], f"{parts[1]} after samples of {name}"
                if parts[1] == "HELP":
                    assert fam["help"] is None, f"two HELP for {name}"
                    h = parts[3] if len(parts) > 3 else ""
                    assert not re.search(r"\\[^\\n]", h.replace("\\\\", "")), f"bad HELP escape {h!r}"
                    fam["help"] = h.replace("\\n", "\n").replace("\\\\", "\\")
                else:
                    assert fam["type"] is None, f"two TYPE for {name}"
                    assert len(parts) == 4 and parts[3] in _TYPES, line
                    fam["type"] = parts[3]
            continue
        m = sample_re.fullmatch(line)
        assert m, f"bad sample line {line!r}"
        name, labels, value = m.group(1), _labels(m.group(2) or ""), m.group(3)
        if current is not None and current != name:
            closed.add(current)
        assert name not in closed, f"samples of {name} are not together"
        current = name
        fam = fams.setdefault(name, {"help": None, "type": None, "samples": {}})
        key = frozenset(labels.items())
        assert key not in fam["samples"], f"duplicate series {line!r}"
        fam["samples"][key] = float(value.replace("Inf", "inf").replace("NaN", "nan"))
    return fams


def _series(fams, name: str, **labels) -> float:
    for key, v in fams[name]["samples"].items():
        if dict(key).items() >= labels.items():
            return v
    raise KeyError(f"{name}{labels} not in {fams.get(name)}")


# ---- formatting unit tests ------------------------------------------------------------------

def test_names_and_types():
    assert M.metric_name("count") == "uknfv_count_total"
    assert M.metric_name("byte_count") == "uknfv_byte_count_total"
    assert M.metric_name("drops") == "uknfv_drops_total"
    assert M.metric_name("rate") == "uknfv_rate"
    assert M.metric_name("byte_rate") == "uknfv_byte_rate"
    assert M.metric_name("highwater_length") == "uknfv_highwater_length"
    assert M.metric_name("weird-name.x") == "uknfv_weird_name_x"
    assert M.metric_name("rx_total") == "uknfv_rx_total"
    for h in ("count", "byte_count", "drops", "bytes", "packets", "errors"):
        assert M.is_counter(h), h
    for h in ("rate", "bit_rate", "length", "capacity", "active", "limit", "burst", "count_rate"):
        assert not M.is_counter(h), h


@pytest.mark.parametrize("text,value", [
    ("123\n", 123), ("-1", -1), ("0", 0), ("1.5", 1.5), ("2e3", 2000.0), (" 7 ", 7),
    ("true", 1), ("false", 0),
    ("", None), ("abc", None), ("1 2", None), ("1.2.3.4", None), ("nan", None), ("inf", None),
    ("0x10", None), ("10.0.0.1/24", None), ("a\nb\n", None),
])
def test_parse_value(text, value):
    got = M.parse_value(text)
    assert got == value and type(got) is type(value)


def test_format_value_is_a_valid_float():
    assert M.format_value(123) == "123"
    assert M.format_value(True) == "1"
    assert M.format_value(1.5) == "1.5"
    assert M.format_value(float("inf")) == "+Inf"
    assert M.format_value(float("-inf")) == "-Inf"
    assert M.format_value(float("nan")) == "NaN"
    assert float(M.format_value(1e300)) == 1e300
    assert M.format_value(18446744073709551615) == "18446744073709551615"


def test_escaping():
    assert M.escape_label('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert M.escape_help('x\\y\nz "q"') == 'x\\\\y\\nz "q"'


def test_exposition_strict_roundtrip():
    weird = 'we"ird\\el\nem'
    rs = [Reading("c", "count", "5", 5), Reading("d", "count", "7", 7),
          Reading("q", "length", "3", 3), Reading(weird, "drops", "2", 2),
          Reading("q", "table", "a b\nc d\n", None), Reading("c", "rate", "1.25", 1.25)]
    text = M.exposition(rs)
    fams = parse_exposition(text)
    assert set(fams) == {"uknfv_count_total", "uknfv_length", "uknfv_drops_total", "uknfv_rate"}
    assert fams["uknfv_count_total"]["type"] == "counter"
    assert fams["uknfv_drops_total"]["type"] == "counter"
    assert fams["uknfv_length"]["type"] == "gauge"
    assert fams["uknfv_rate"]["type"] == "gauge"
    assert _series(fams, "uknfv_count_total", element="d") == 7
    assert _series(fams, "uknfv_drops_total", element=weird) == 2     # escaped and back
    assert _series(fams, "uknfv_rate", element="c") == 1.25
    assert all(f["help"] for f in fams.values())
    assert "table" not in text
    assert M.exposition([Reading("q", "table", "x", None)]) == ""


def test_exposition_class_label_and_help():
    rs = [Reading("c", "count", "5", 5), Reading("Discard@5", "count", "7", 7),
          Reading("q", "capacity", "100", 100), Reading("x", "capacity", "9", 9)]
    classes = {"c": ["Counter"], "Discard@5": ["Discard"], "q": ["Queue"]}
    fams = parse_exposition(M.exposition(rs, classes, class_label=True))
    assert _series(fams, "uknfv_count_total", element="c", **{"class": "Counter"}) == 5
    assert _series(fams, "uknfv_capacity", element="x", **{"class": ""}) == 9
    help_count = fams["uknfv_count_total"]["help"]
    assert "Counter: packets seen" in help_count and "Discard: packets discarded" in help_count
    # an element of unknown class: no doc borrowed from another class
    assert "packets held" not in fams["uknfv_capacity"]["help"]
    assert M.help_text("capacity", ["q"], classes, M._library_handlers()) == \
        "Handler 'capacity': maximum number of packets held"


def test_infer_classes():
    got = M.infer_classes({"Unqueue@4": {"count"}, "d": {"count", "reset_counts"},
                           "z": {"nothing_like_this"}}, known={"k": "Queue"})
    assert got["Unqueue@4"] == ["Unqueue"]
    assert "Discard" in got["d"]
    assert got["k"] == ["Queue"]
    assert "z" not in got


def test_parse_listen():
    assert M.parse_listen("9100") == ("127.0.0.1", 9100)
    assert M.parse_listen("0.0.0.0:9100") == ("0.0.0.0", 9100)
    assert M.parse_listen(":0") == ("0.0.0.0", 0)
    assert M.parse_listen("[::1]:9100") == ("::1", 9100)
    for bad in ("x", "host:", "1:99999", "[::1]9100", "[::1"):
        with pytest.raises(M.UknfvError):
            M.parse_listen(bad)


def test_rates_and_render():
    a = Sample(10.0, [Reading("c", "count", "100", 100), Reading("c", "rate", "5", 5),
                      Reading("q", "drops", "9", 9), Reading("t", "table", "x y", None)])
    b = Sample(12.0, [Reading("c", "count", "300", 300), Reading("c", "rate", "7", 7),
                      Reading("q", "drops", "1", 1), Reading("t", "table", "x y", None)])
    r = M.rates(a, b)
    assert r == {"c.count": 100.0}          # no rate for gauges, nor after a reset
    assert M.rates(None, b) == {}
    table = render(b, a).splitlines()
    assert table[0].split() == ["ELEMENT", "HANDLER", "VALUE", "RATE/s"]
    assert table[1].split() == ["c", "count", "300", "100"]
    assert table[2].split() == ["c", "rate", "7", "-"]
    assert "table" not in "\n".join(table)
    assert render(Sample(0.0, [])).splitlines()[-1].startswith("(no numeric handlers")
    cut = render(b, a, header="h", max_rows=2).splitlines()
    assert cut[-1].startswith("... 2 more") and len(cut) == 4   # header, titles, a row, "..."


def test_matches():
    assert M.matches("c.count", ())
    assert M.matches("c.count", ("c",))
    assert M.matches("c.count", ("*.count",))
    assert not M.matches("cc.count", ("c",))
    assert M.matches("Unqueue@4.count", ("Unq*",))


def test_server_without_vnf_answers_503_and_404(tmp_path):
    coll = M.Collector(str(tmp_path / "nothing.sock"), timeout=1)
    srv = M.make_server(coll, "127.0.0.1", 0)
    import threading
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        port = srv.server_address[1]
        code, body = _get(f"http://127.0.0.1:{port}/metrics")
        assert code == 503 and body.startswith("vNF unavailable: ") and body.count("\n") == 1
        assert _get(f"http://127.0.0.1:{port}/")[0] == 404
    finally:
        srv.shutdown()
        srv.server_close()


# ---- against a running vNF -------------------------------------------------------------------

def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/plain")
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _accepts(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.fixture(scope="module")
def prog(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("topm")
    (d / "p.click").write_text(PIPELINE)
    res = run_uknfv("build", "p.click", "--target", "linux", "-o", "p", cwd=d)
    assert res.returncode == 0, res.stderr
    return d / "p"


@pytest.fixture
def sock_dir():
    d = Path(tempfile.mkdtemp(prefix="uknfv-tm-"))      # short: sun_path is 108 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


class Vnf:
    def __init__(self, prog: Path, sock: Path):
        self.sock = sock
        self.proc = subprocess.Popen([str(prog), "--control", str(sock)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not _accepts(sock):
            if self.proc.poll() is not None:
                raise AssertionError(f"the vNF exited: {self.proc.stderr.read()}")
            assert time.monotonic() < deadline, "no control socket"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@pytest.fixture
def vnf(prog, sock_dir):
    with Vnf(prog, sock_dir / "v.sock") as v:
        yield v


def _rows(text: str) -> dict[str, tuple[str, str]]:
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] != "ELEMENT":
            out[f"{parts[0]}.{parts[1]}"] = (parts[2], parts[3])
    return out


def test_top_once(vnf):
    res = run_uknfv("top", str(vnf.sock), "--once")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["ELEMENT", "HANDLER", "VALUE", "RATE/s"]
    assert "\x1b" not in res.stdout                     # not a terminal: no ANSI codes
    rows = _rows(res.stdout)
    assert int(rows["c.count"][0]) > 0
    assert rows["q.capacity"] == ("100", "-")
    assert "src.data" not in rows and "c.reset" not in rows     # text, write-only
    elements = [l.split()[0] for l in lines[1:]]
    assert elements == sorted(elements)


def test_top_two_snapshots_show_a_rate_and_filter(vnf):
    res = run_uknfv("top", str(vnf.sock), "-n", "2", "--interval", "0.3", "--filter", "c")
    assert res.returncode == 0, res.stderr
    first, second = res.stdout.split("\n\n")
    assert _rows(first)["c.count"][1] == "-"
    value, rate = _rows(second)["c.count"]
    assert 500 < float(rate) < 8000                     # about 2000/s
    assert set(_rows(second)) == {"c.count", "c.byte_count", "c.rate", "c.byte_rate", "c.bit_rate"}
    # in-process, to a (fake) terminal: the table is redrawn in place
    out = _Tty()
    run_top(str(vnf.sock), interval=0.1, iterations=2, globs=("*.count",), out=out)
    text = out.getvalue()
    assert text.count(M_CLEAR) == 2 and "Ctrl-C" in text and text.endswith("\x1b[?25h")


M_CLEAR = "\x1b[H\x1b[2J"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_top_ctrl_c_exits_0(vnf):
    p = subprocess.Popen(uknfv_cmd() + ["top", str(vnf.sock), "-n", "1000", "-d", "0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    assert p.returncode == 0, err
    assert "Traceback" not in err and "c.count" not in err
    assert "count" in out


def test_top_vnf_going_away(vnf):
    p = subprocess.Popen(uknfv_cmd() + ["top", str(vnf.sock), "-n", "1000", "-d", "0.1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    vnf.stop()
    out, err = p.communicate(timeout=20)
    assert p.returncode == 1
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert str(vnf.sock) in err


def test_metrics_once(vnf, prog):
    res = run_uknfv("metrics", str(vnf.sock))
    assert res.returncode == 0, res.stderr
    fams = parse_exposition(res.stdout)
    assert fams["uknfv_count_total"]["type"] == "counter"
    assert _series(fams, "uknfv_count_total", element="c") > 0
    assert fams["uknfv_drops_total"]["type"] == "counter"
    assert fams["uknfv_rate"]["type"] == "gauge"
    assert _series(fams, "uknfv_capacity", element="q") == 100
    assert fams["uknfv_active"]["help"].startswith("Handler 'active'")
    assert all(f["help"] and f["type"] for f in fams.values())
    assert not any("data" in n for n in fams)           # text handlers left out
    # with the image's description: a class label and the handler docs
    res = run_uknfv("metrics", str(vnf.sock), "--image", str(prog))
    assert res.returncode == 0, res.stderr
    fams = parse_exposition(res.stdout)
    assert _series(fams, "uknfv_count_total", element="c", **{"class": "Counter"}) > 0
    assert "Counter: packets seen" in fams["uknfv_count_total"]["help"]
    assert fams["uknfv_drops_total"]["help"] == \
        "Handler 'drops': packets dropped because the queue was full"


def test_metrics_listen_200_404_503(vnf):
    p = subprocess.Popen(uknfv_cmd() + ["metrics", str(vnf.sock), "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
        assert m, line
        base = f"http://127.0.0.1:{m.group(1)}"
        code, body = _get(base + "/metrics")
        assert code == 200
        a = _series(parse_exposition(body), "uknfv_count_total", element="c")
        time.sleep(0.2)
        code, body = _get(base + "/metrics?x=1")
        assert code == 200
        assert _series(parse_exposition(body), "uknfv_count_total", element="c") > a
        assert _get(base + "/")[0] == 404
        assert _get(base + "/metricsx")[0] == 404
        vnf.stop()
        code, body = _get(base + "/metrics")
        assert code == 503 and body.startswith("vNF unavailable") and "Traceback" not in body
        assert p.poll() is None                         # still serving
        p.send_signal(signal.SIGINT)
        p.wait(timeout=10)
        assert p.returncode == 0
        assert "Traceback" not in p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.mark.parametrize("args", [
    ["top", "{d}/missing.sock", "--once"],
    ["top", "{d}/missing.sock"],
    ["metrics", "{d}/missing.sock"],
    ["metrics", "{d}/missing.sock", "--listen", "127.0.0.1:0"],
    ["metrics", "{d}/missing.sock", "--listen", "nonsense"],
    ["metrics", "{d}/missing.sock", "--image", "{d}/noimage"],
])
def test_errors_are_one_clean_line(sock_dir, args):
    res = run_uknfv(*[a.format(d=sock_dir) for a in args], timeout=30)
    assert res.returncode == 1, res.stdout
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stdout == ""


def test_metric_values_are_finite(vnf):
    fams = parse_exposition(run_uknfv("metrics", str(vnf.sock)).stdout)
    assert all(math.isfinite(v) for f in fams.values() for v in f["samples"].values())
