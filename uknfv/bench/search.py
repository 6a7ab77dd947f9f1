"""RFC 2544 throughput search, independent of how trials are run.

A *trial* offers frames at a rate for a while and counts what came back
(:class:`Trial`).  :func:`ndr_search` finds the highest rate with a loss
ratio at or below the tolerance (the no-drop rate, NDR; RFC 2544 section
26.1 with tolerance 0): the first trial runs at the top rate (the line
rate, or the generator's own maximum), then a binary search narrows the
interval [highest passing rate, lowest failing rate] until it is narrower
than ``resolution`` times its upper end (so the NDR is known to that
relative precision), or the trial budget is spent.

Rates are frames per second.  Frame sizes count the 4-byte FCS, as RFC 2544
does: a 64-byte frame is 60 bytes of data on a virtual link.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

FCS = 4
L1_OVERHEAD = 20            # preamble + start delimiter (8) and inter-frame gap (12)


def gbps_l2(pps: float, frame_size: float) -> float:
    """Bits of Ethernet frame (with FCS) per second, in Gbit/s."""
    return pps * frame_size * 8 / 1e9


def gbps_l1(pps: float, frame_size: float) -> float:
    """What the same frame rate occupies on a wire, preamble and gap included."""
    return pps * (frame_size + L1_OVERHEAD) * 8 / 1e9


def line_rate_pps(link_gbps: float, frame_size: float) -> float:
    """Frames per second a link of ``link_gbps`` carries at ``frame_size``."""
    return link_gbps * 1e9 / ((frame_size + L1_OVERHEAD) * 8)


@dataclass
class Trial:
    """One trial's outcome.  ``offered`` counts the frames the generator
    emitted (frames its own port could not send count as lost: the device
    under test did not take them); ``received`` the stamped frames that came
    back."""

    rate_pps: float            # the rate asked for (0: as fast as possible)
    duration_s: float          # how long the generator really ran
    offered: int
    received: int
    reordered: int = 0
    duplicates: int = 0
    latency_ns: dict[str, float] = field(default_factory=dict)
    where: dict[str, int] = field(default_factory=dict)   # loss by location, when known

    @property
    def lost(self) -> int:
        return max(self.offered - self.received, 0)

    @property
    def loss_ratio(self) -> float:
        return self.lost / self.offered if self.offered else 1.0

    @property
    def offered_pps(self) -> float:
        return self.offered / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def received_pps(self) -> float:
        return self.received / self.duration_s if self.duration_s > 0 else 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d.update(lost=self.lost, loss_ratio=self.loss_ratio, offered_pps=self.offered_pps,
                 received_pps=self.received_pps)
        return d


@dataclass
class SearchResult:
    ndr_pps: float               # 0 when even the lowest rate tried lost frames
    at_ndr: Trial | None         # the passing trial the NDR comes from
    top_pps: float               # the search's upper bound
    trials: list[Trial]
    bound: str                   # "line" (zero loss at the top rate), "search", "none"


def passes(t: Trial, loss: float) -> bool:
    """Whether a trial is within the loss tolerance (a ratio, 0 = none lost).
    A trial that received nothing never passes: the path is not up."""
    if t.offered <= 0 or t.received <= 0:
        return False
    return t.loss_ratio <= loss


def ndr_search(trial: Callable[[float], Trial], top_pps: float | None, *, loss: float = 0.0,
               resolution: float = 0.01, max_trials: int = 20,
               progress: Callable[[int, Trial, float, float], None] | None = None) -> SearchResult:
    """Binary search for the no-drop rate.

    ``trial(rate)`` runs one trial at ``rate`` frames/s; ``rate`` 0 asks for
    the generator's maximum.  ``top_pps`` is the upper bound (the line rate);
    None: the first trial runs unpaced and what the generator managed to
    offer becomes the bound.  ``progress(n, trial, lo, hi)`` is called after
    every trial.
    """
    if not 0 <= loss < 1:
        raise ValueError("loss tolerance must be a ratio in [0, 1)")
    if not 0 < resolution < 1:
        raise ValueError("resolution must be a ratio in (0, 1)")
    trials: list[Trial] = []

    def run(rate: float) -> Trial:
        t = trial(rate)
        trials.append(t)
        return t

    first = run(top_pps or 0.0)
    top = top_pps or first.offered_pps
    lo, hi, best = 0.0, top, None
    if progress:
        progress(1, first, lo, hi)
    if passes(first, loss):
        return SearchResult(top if top_pps else first.offered_pps, first, top, trials, "line")
    if top <= 0:
        return SearchResult(0.0, None, top, trials, "none")
    # The first trial's receive rate is a good first guess (the path carried
    # that much), so try just below it before bisecting.
    guess = min(first.received_pps * 0.98, hi / 2) if first.received else hi / 2
    rate = guess if guess > 0 else hi / 2
    while len(trials) < max_trials and hi - lo > resolution * hi and hi > top * 1e-5:
        t = run(rate)
        if passes(t, loss):
            lo, best = rate, t
        else:
            hi = rate
        if progress:
            progress(len(trials), t, lo, hi)
        rate = (lo + hi) / 2
    if best is None:
        return SearchResult(0.0, None, top, trials, "none")
    return SearchResult(lo, best, top, trials, "search")
