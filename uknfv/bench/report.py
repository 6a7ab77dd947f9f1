"""The benchmark's outputs: the table, the plot, and a sanity check of a result."""
from __future__ import annotations

from pathlib import Path

from ..diag import UknfvError


def _f(v, fmt="{:.2f}", none="-"):
    return none if v is None else fmt.format(v)


def table(result: dict) -> str:
    """The result as a text table, one line per frame size."""
    names = result.get("baselines", [])
    head = ["frame", "Mpps", "Gbit/s", "L1 Gbit/s", "loss@NDR", "spread", "lat p50/p99 us",
            "max-load Mpps"]
    for b in names:
        head += [f"{b} Mpps", "ratio", "max-load"]
    rows = [head]
    for r in result["results"]:
        lat = r.get("latency_ns") or {}
        sp = r.get("spread") or {}
        row = [str(r["frame_size"]), _f(r["ndr_mpps"], "{:.3f}"), _f(r["ndr_gbps"]),
               _f(r["ndr_gbps_l1"]), _f(r["loss_at_ndr"], "{:.2e}"),
               f"{_f(sp.get('min'), '{:.2f}')}-{_f(sp.get('max'), '{:.2f}')}",
               f"{_f(lat.get('p50') and lat['p50'] / 1e3, '{:.1f}')}/"
               f"{_f(lat.get('p99') and lat['p99'] / 1e3, '{:.1f}')}",
               _f(r.get("max_load_fr_mpps"), "{:.2f}")]
        for b in names:
            base = r.get("baseline", {}).get(b, {})
            row += [_f(base.get("ndr_mpps"), "{:.3f}"), _f(base.get("ratio"), "{:.2f}x"),
                    _f(base.get("max_load_fr_mpps"), "{:.2f}")]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(result: dict) -> str:
    """The same table in Markdown (for BENCHMARKS.md)."""
    names = result.get("baselines", [])
    head = ["frame (B)", "uknfv NDR Mpps", "Gbit/s (L2)", "Gbit/s (L1)", "runs Mpps",
            "p50/p99 latency (us)", "max-load Mpps"]
    for b in names:
        head += [f"{b} NDR Mpps", f"uknfv/{b}", f"{b} max-load"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["results"]:
        lat = r.get("latency_ns") or {}
        row = [str(r["frame_size"]), f"{r['ndr_mpps']:.3f}", f"{r['ndr_gbps']:.2f}",
               f"{r['ndr_gbps_l1']:.2f}", " ".join(f"{x:.2f}" for x in r.get("runs_mpps", [])),
               f"{_f(lat.get('p50') and lat['p50'] / 1e3, '{:.1f}')} / "
               f"{_f(lat.get('p99') and lat['p99'] / 1e3, '{:.1f}')}",
               _f(r.get("max_load_fr_mpps"), "{:.2f}")]
        for b in names:
            base = r.get("baseline", {}).get(b, {})
            row += [_f(base.get("ndr_mpps"), "{:.3f}"), _f(base.get("ratio"), "{:.2f}"),
                    _f(base.get("max_load_fr_mpps"), "{:.2f}")]
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out)


def plot(result: dict, path: str | Path) -> None:
    """Mpps and Gbit/s against frame size, uknfv and each baseline, PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UknfvError("the plot needs matplotlib: pip install matplotlib "
                         "(scripts/setup.sh installs it)") from None
    res = result["results"]
    sizes = [r["frame_size"] for r in res]
    series = [("uknfv", [r["ndr_mpps"] for r in res], [r["ndr_gbps_l1"] for r in res],
               [r.get("spread", {}) for r in res])]
    for b in result.get("baselines", []):
        bs = [r.get("baseline", {}).get(b, {}) for r in res]
        series.append((b, [x.get("ndr_mpps") or 0 for x in bs], [x.get("ndr_gbps_l1") or 0 for x in bs],
                       [x.get("spread", {}) for x in bs]))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, mpps, gbps, spread in series:
        lo = [max(m - (s.get("min") if s.get("min") is not None else m), 0) for m, s in zip(mpps, spread)]
        hi = [max((s.get("max") if s.get("max") is not None else m) - m, 0) for m, s in zip(mpps, spread)]
        a1.errorbar(sizes, mpps, yerr=[lo, hi], marker="o", capsize=3, label=name)
        a2.plot(sizes, gbps, marker="o", label=name)
    title = (f"{Path(result['pipeline']).stem} via {result['via']}: RFC 2544 zero-loss rate"
             if result.get("loss", 0) == 0 else
             f"{Path(result['pipeline']).stem} via {result['via']}: rate at <= {result['loss']:.2%} loss")
    fig.suptitle(title)
    a1.set_xlabel("frame size (bytes)")
    a1.set_ylabel("Mpps")
    a2.set_xlabel("frame size (bytes)")
    a2.set_ylabel("Gbit/s (L1: with preamble and gap)")
    for a in (a1, a2):
        a.grid(True, alpha=0.3)
        a.legend()
        a.set_xticks(sizes)
        a.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    fig.savefig(str(path), dpi=100)
    plt.close(fig)


def check(result: dict) -> list[str]:
    """What is inconsistent in a result (empty when it is sane)."""
    bad = []
    if not result.get("results"):
        return ["no results"]
    for r in result["results"]:
        fs = r["frame_size"]
        if not r["ndr_mpps"] > 0:
            bad.append(f"{fs} B: no zero-loss rate found")
        if r["ndr_mpps"] > 0:
            want = r["ndr_mpps"] * 1e6 * fs * 8 / 1e9
            if abs(r["ndr_gbps"] - want) > 1e-6 * max(want, 1):
                bad.append(f"{fs} B: ndr_gbps {r['ndr_gbps']} != Mpps x frame size ({want})")
            if not r["ndr_gbps_l1"] > r["ndr_gbps"]:
                bad.append(f"{fs} B: L1 rate not above the L2 rate")
        if r["loss_at_ndr"] is not None and r["loss_at_ndr"] > result["loss"] + 1e-12:
            bad.append(f"{fs} B: loss at NDR {r['loss_at_ndr']} above the tolerance {result['loss']}")
        for run in r.get("runs", []):
            for t in run.get("trials", []):
                if t["offered"] != t["received"] + t["lost"] and t["received"] <= t["offered"]:
                    bad.append(f"{fs} B: a trial's offered != received + lost")
                if t.get("where") and sum(t["where"].values()) < t["lost"]:
                    bad.append(f"{fs} B: loss locations account for {sum(t['where'].values())} "
                               f"of {t['lost']} lost frames")
        lat = r.get("latency_ns") or {}
        qs = [lat.get(q) for q in ("p50", "p90", "p99", "p99.9") if lat.get(q) is not None]
        if any(q < 0 for q in qs) or qs != sorted(qs):
            bad.append(f"{fs} B: latency percentiles not ordered: {lat}")
    return bad
