"""The RFC 2544 search, the rate arithmetic, the report and the CLI's argument
errors, against modelled devices (no processes; fast)."""
from __future__ import annotations

import json
import random

import pytest

from uknfv.bench import report, runner
from uknfv.bench.search import Trial, gbps_l1, gbps_l2, line_rate_pps, ndr_search, passes
from uknfv.testing import run_uknfv


class Model:
    """A device that forwards up to `capacity` frames/s and loses the excess;
    the generator manages at most `gen_max` frames/s."""

    def __init__(self, capacity: float, gen_max: float = 20e6, duration: float = 1.0,
                 noise: float = 0.0, seed: int = 1):
        self.capacity, self.gen_max, self.duration = capacity, gen_max, duration
        self.noise = noise
        self.rng = random.Random(seed)
        self.rates: list[float] = []

    def __call__(self, rate: float) -> Trial:
        self.rates.append(rate)
        r = self.gen_max if rate == 0 else min(rate, self.gen_max)
        cap = self.capacity * (1 + self.rng.uniform(-self.noise, self.noise))
        offered = int(r * self.duration)
        received = min(offered, int(cap * self.duration))
        return Trial(rate, self.duration, offered, received)


def test_rate_arithmetic():
    assert gbps_l2(1e6, 64) == pytest.approx(0.512)
    assert gbps_l1(1e6, 64) == pytest.approx(0.672)
    # 10 GbE line rate: 14.88 Mpps at 64 B, 812.7 kpps at 1518 B.
    assert line_rate_pps(10, 64) == pytest.approx(14_880_952, rel=1e-6)
    assert line_rate_pps(10, 1518) == pytest.approx(812_743, rel=1e-5)


@pytest.mark.parametrize("capacity", [1e5, 3.3e6, 7.77e6, 15e6])
def test_search_finds_capacity_within_resolution(capacity):
    m = Model(capacity)
    res = ndr_search(m, None, resolution=0.01, max_trials=30)
    assert res.bound == "search"
    assert capacity * 0.98 <= res.ndr_pps <= capacity
    assert res.at_ndr is not None and res.at_ndr.lost == 0
    assert m.rates[0] == 0                    # first trial unpaced: the generator's maximum
    assert len(res.trials) <= 30


def test_generator_bound_when_nothing_is_lost():
    m = Model(capacity=50e6, gen_max=12e6)
    res = ndr_search(m, None)
    assert res.bound == "line" and res.ndr_pps == pytest.approx(12e6)
    assert len(res.trials) == 1


def test_line_rate_bound():
    m = Model(capacity=50e6)
    top = line_rate_pps(10, 64)
    res = ndr_search(m, top)
    assert res.bound == "line" and res.ndr_pps == pytest.approx(top)
    assert m.rates == [top]


def test_loss_tolerance():
    class Lossy(Model):
        def __call__(self, rate):   # loses 0.05% at any rate, plus the excess
            t = super().__call__(rate)
            t.received = int(t.received * 0.9995)
            return t
    strict = ndr_search(Lossy(5e6), None, loss=0.0, max_trials=20)
    assert strict.ndr_pps == 0 and strict.bound == "none"
    tolerant = ndr_search(Lossy(5e6), None, loss=0.001, resolution=0.01, max_trials=30)
    assert 5e6 * 0.98 <= tolerant.ndr_pps <= 5e6


def test_dead_path_never_passes():
    dead = ndr_search(lambda r: Trial(r, 1.0, 1000, 0), None, max_trials=6)
    assert dead.ndr_pps == 0 and dead.bound == "none" and len(dead.trials) == 6
    assert not passes(Trial(0, 1.0, 0, 0), 0.0)


def test_trial_budget_is_respected_with_noise():
    m = Model(4e6, noise=0.05)
    res = ndr_search(m, None, resolution=0.001, max_trials=8)
    assert len(res.trials) == 8
    assert 0 < res.ndr_pps <= 4e6 * 1.05


def test_bad_search_parameters():
    with pytest.raises(ValueError):
        ndr_search(Model(1e6), None, loss=1.5)
    with pytest.raises(ValueError):
        ndr_search(Model(1e6), None, resolution=0)


def _fake_result(tmp_path=None) -> dict:
    runs = []
    for cap in (5.9e6, 6.1e6, 6.0e6):
        m = Model(cap)
        res = ndr_search(m, None, resolution=0.01, max_trials=20)
        lat = Trial(res.ndr_pps * 0.9, 1.0, 100, 100,
                    latency_ns={"p50": 9000.0, "p90": 12000.0, "p99": 20000.0, "p99.9": 41000.0})
        runs.append({"ndr_pps": res.ndr_pps, "bound": res.bound, "top_pps": res.top_pps,
                     "at_ndr": res.at_ndr.to_json(), "latency": lat.to_json(),
                     "trials": [t.to_json() for t in res.trials]})
    main = runner._summary(64, runs)
    base = runner._summary(64, runs[:1])
    base["ratio"] = main["ndr_mpps"] / base["ndr_mpps"]
    main["baseline"] = {"testpmd": base}
    return {"pipeline": "pipelines/router.click", "via": "dpdk", "loss": 0.0,
            "baselines": ["testpmd"], "results": [main]}


def test_summary_medians_and_report(tmp_path):
    res = _fake_result()
    r = res["results"][0]
    assert r["ndr_mpps"] == pytest.approx(sorted(r["runs_mpps"])[1])
    assert r["spread"]["min"] <= r["ndr_mpps"] <= r["spread"]["max"]
    assert r["ndr_gbps"] == pytest.approx(r["ndr_mpps"] * 64 * 8 / 1e3)
    assert r["latency_ns"]["p99"] == 20000.0
    assert report.check(res) == []
    text = report.table(res)
    assert "64" in text and "testpmd Mpps" in text and "x" in text
    md = report.markdown(res)
    assert md.startswith("| frame (B)") and md.count("\n") == 2
    png = tmp_path / "r.png"
    report.plot(res, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    json.dumps(res)          # serialisable as it is


def test_check_catches_inconsistencies():
    res = _fake_result()
    r = res["results"][0]
    r["ndr_gbps"] *= 2
    r["latency_ns"] = {"p50": 5.0, "p90": 3.0}
    r["runs"][0]["trials"][1]["lost"] += 7
    bad = report.check(res)
    assert any("ndr_gbps" in b for b in bad)
    assert any("latency" in b for b in bad)
    assert any("offered != received + lost" in b for b in bad)
    assert report.check({"results": []}) == ["no results"]


def test_argument_parsing():
    assert runner.parse_sizes("64, 1518") == (64, 1518)
    for bad in ("63", "abc", "64,,128", "10000"):
        with pytest.raises(Exception, match="frame-sizes"):
            runner.parse_sizes(bad)
    with pytest.raises(Exception, match="GEN,VNF"):
        runner.parse_cores("0")
    with pytest.raises(Exception, match="not available"):
        runner.parse_cores("0,4096")


@pytest.mark.parametrize("args,fragment", [
    (["nosuch.click"], "no such file"),
    (["pipelines/router.click", "--frame-sizes", "32"], "--frame-sizes"),
    (["pipelines/router.click", "--cores", "x"], "--cores"),
    (["pipelines/router.click", "--ports", "lan"], "--ports"),
    (["pipelines/router.click", "--baselines", "vpp"], "unknown baseline 'vpp'"),
    (["pipelines/router.click", "--loss", "2"], "--loss"),
    (["pipelines/router.click", "--trex-ports", "a"], "--trex-ports"),
    (["pipelines/router.click", "--ports", "lan,nosuch"], "no port 'nosuch'"),
])
def test_cli_errors_are_one_line(args, fragment):
    res = run_uknfv("bench", *args, "--quiet")
    assert res.returncode != 0
    assert fragment in res.stderr
    assert "Traceback" not in res.stderr


def test_bench_trex_without_a_server_says_so():
    res = run_uknfv("bench", "pipelines/router.click", "--trex", "127.0.0.1", "--trex-ports", "0,1",
                    "--frame-sizes", "64", "--duration", "0.2", "--quiet", timeout=60)
    assert res.returncode == 1
    assert "cannot connect to the TRex server at 127.0.0.1" in res.stderr
    assert "Traceback" not in res.stderr


def test_trex_session_turns_rates_into_trials(monkeypatch):
    """--trex: each trial is one run_trex call at the trial's rate, counted from TRex's ports."""
    from uknfv.traffic import trex
    calls = []

    def fake(host, sc, duration, ports, rx_ports, **kw):
        calls.append((host, sc.pps, sc.imix.sizes, duration, ports, rx_ports))
        sent = int(sc.pps * duration)
        return {"tx_packets": sent, "rx_packets": min(sent, int(2e6 * duration)),
                "duration_s": duration}
    monkeypatch.setattr(trex, "run_trex", fake)
    from uknfv.traffic.scenarios import get
    s = runner.TrexSession("trex.example", get("router-flows"), 1518, (0, 1), 0.5)
    res = ndr_search(s.trial, line_rate_pps(10, 1518), resolution=0.01)
    assert res.ndr_pps == pytest.approx(line_rate_pps(10, 1518))   # 812 kpps < 2 Mpps: no loss
    assert calls[0][0] == "trex.example" and list(calls[0][2]) == [1518]
    assert calls[0][4] == (0,) and calls[0][5] == (1,)
    s = runner.TrexSession("trex.example", get("router-flows"), 64, (0, 1), 0.5)
    res = ndr_search(s.trial, line_rate_pps(10, 64), resolution=0.01)
    assert 2e6 * 0.98 <= res.ndr_pps <= 2e6
