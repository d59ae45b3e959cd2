"""The score distribution: a histogram of every agent's main score on snapshot days.

Tier counts say how many people are in each band the scheme names; the histogram shows the shape inside and
across them (a heat map in reports). It is a snapshot of state, not a running count, so it is taken by one
parallel pass over the score column at the end of day 0, every ``run.score_every_days`` days after (by
default ``ceil(days / SNAPSHOTS)``, about 12 snapshots a run) and the last day. A pass costs about 2 ns per
agent on the reference machine (2 threads), about 2.5 % of a bench-v1 year at 10 M agents
(``docs/performance.md``). In the lazy engine an idle recovering agent's score column holds a *virtual*
score (``engine/lazy.py``); the pass adds the recovery steps it has earned by that day, so both engines
count the same scores.
"""

from __future__ import annotations

import numpy as np
import numba
from numba import njit, prange

from ..compile import INBOX, P, Plan
from .jitcache import engine_cache

__all__ = ["SNAPSHOTS", "MAX_BINS", "score_bins", "bin_labels", "snapshot_every", "snapshot_days", "run_snapshot_days",
           "score_histogram"]

SNAPSHOTS = 12      # snapshots a run by default (plus the last day): monthly over a year
MAX_BINS = 70       # at most this many equal-width bins over the scenario's score bounds

CACHE = engine_cache()


def score_bins(plan: Plan) -> tuple[int, int, int]:
    """``(low, width, bins)``: bin k holds scores ``low + k * width .. low + (k + 1) * width - 1``.

    The width is the smallest of 1, 2, 5, 10, 20, 25, 50, 100, ... that covers the bounds in at most
    ``MAX_BINS`` bins, and the edges are multiples of it (bins of 950..999, not 947..979)."""
    lo, hi = plan.scenario.score.bounds
    nice = [m * 10**e for e in range(6) for m in (1, 2, 2.5, 5) if float(m * 10**e).is_integer()]
    for width in map(int, nice):
        low = lo // width * width
        n = hi // width - low // width + 1
        if n <= MAX_BINS:
            return low, width, n
    raise ValueError(f"score bounds {lo}..{hi} are too wide for {MAX_BINS} bins")  # bounds are int16


def bin_labels(plan: Plan) -> list[str]:
    """Metric names of the bins: ``score:LOW..HIGH`` (inclusive, clipped to the bounds)."""
    low, width, n = score_bins(plan)
    lo, hi = plan.scenario.score.bounds
    return [f"score:{max(low + k * width, lo)}..{min(low + (k + 1) * width - 1, hi)}" for k in range(n)]


def snapshot_every(days: int, every: int | None = None) -> int:
    """Days between snapshots: ``every`` when given, else ``ceil(days / SNAPSHOTS)``."""
    return int(every) if every else max(1, -(-days // SNAPSHOTS))


def snapshot_days(days: int, every: int | None = None) -> np.ndarray:
    """The days whose end-of-day scores are counted: 0, every, 2 every, ... and the last."""
    return np.unique(np.r_[np.arange(0, days, snapshot_every(days, every)), days - 1]).astype(np.int64)


def run_snapshot_days(plan: Plan) -> np.ndarray:
    """The snapshot days of ``plan``'s run (its days and ``run.score_every_days``)."""
    return snapshot_days(plan.days, plan.scenario.run.score_every_days)


@njit(parallel=True, nogil=True, cache=CACHE)
def _histogram(score, last_off, inbox, u, lo, bin_of, lazy, rq, rp, ru, lanes, out):
    """Count each score value (per thread, then summed: integer sums do not depend on the split), then
    add the values into their bins. ``bin_of[v]`` is the bin of score ``lo + v``.

    A thread works through its agents 1,024 at a time: first their scores, in int32 arithmetic with no
    branch and no store but to a small buffer (the compiler vectorises it), a deferred recovery computed
    for everyone and kept where the VIRTUAL bit is set; then the counts, in four interleaved copies (agent
    ``i`` in copy ``i % 4``), since most agents share a handful of scores and one counter would make every
    increment wait for the previous one. Twice as fast as one loop doing both."""
    n = score.shape[0]
    part = np.zeros((lanes, 4, bin_of.shape[0]), np.int64)
    step = (n + lanes - 1) // lanes
    virtual = INBOX.VIRTUAL if lazy else 0
    u32, lo32, rq32, rp32, ru32 = np.int32(u), np.int32(lo), np.int32(rq), np.int32(rp), np.int32(ru)
    zero, one = np.int32(0), np.int32(1)
    for ln in prange(lanes):
        c = part[ln]
        buf = np.empty(1024, np.int32)
        a1 = min(n, (ln + 1) * step)
        for b0 in range(ln * step, a1, 1024):
            b1 = min(a1, b0 + 1024)
            for i in range(b0, b1):
                s = np.int32(score[i])
                a = max(np.int32(last_off[i]) + rq32, zero)  # a deferred recovery, anchored at day a
                sv = min(ru32, s + rp32 * max(zero, u32 - a + one))
                buf[i - b0] = (sv if (inbox[i] & virtual) != 0 else s) - lo32
            for i in range(b0, b1):
                c[i & 3, buf[i - b0]] += 1
    for v in range(bin_of.shape[0]):
        total = 0
        for ln in range(lanes):
            for j in range(4):
                total += part[ln, j, v]
        out[bin_of[v]] += total


def bin_of_score(plan: Plan) -> tuple[int, np.ndarray, int]:
    """``(lo, bin_of, bins)``: the lowest score, the bin of each score ``lo + v`` (``bin_of[v]``) and how many
    bins there are (:func:`score_bins`)."""
    low, width, n = score_bins(plan)
    lo, hi = plan.scenario.score.bounds
    return lo, (np.arange(lo, hi + 1, dtype=np.int64) - low) // width, n


def score_histogram(plan: Plan, cols, day: int, lazy: bool) -> np.ndarray:
    """People per score bin at the end of ``day`` (the columns as the pass that finished it left them)."""
    lo, bin_of, n = bin_of_score(plan)
    prm = plan.epoch_at(day).prm
    out = np.zeros(n, np.int64)
    _histogram(cols.score, cols.last_off, cols.inbox, day, lo, bin_of, lazy, prm[P.REC_QUIET], prm[P.REC_PTS],
               prm[P.REC_UPTO], numba.get_num_threads(), out)
    return out
