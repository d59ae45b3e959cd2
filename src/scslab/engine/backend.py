"""Where a day loop's columns live and its work runs: the hardware side of the day schedulers.

A scheduler (``engine/loop.py``, with ``engine/dense.py`` or ``engine/lazy.py``) decides who is visited and
when; a :class:`Backend` holds the columns and runs the work it is given, always the same rules: the pass (the
per-agent rules of ``engine/kernels.py``) and the steps between passes (``engine/ostracism.py``,
``engine/awareness.py``, ``engine/sparse.py``), each written once as a factory and compiled for the CPU here
and for CUDA in ``engine/gpu.py``. ``HOST`` keeps the columns in the CPU's memory as NumPy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..compile import FLAG, STATE, P, Plan
from ..rng import day_keys
from .awareness import init_aware, spread
from .dense import chunks, dense_days, init_pass
from .histogram import score_histogram
from .ostracism import apply_breaks, count_ties
from .sparse import remove_due, sparse, sparse_parts
from .state import allocate
from .stories import pick_story_agents

__all__ = ["Backend", "HOST", "mark_stories"]


@dataclass(frozen=True)
class Backend:
    """The hardware side of a day loop, as functions (``cols``: the columns where this backend keeps them).

    ========== =====================================================================================
    start      ``(plan, chunk) -> (cols, level0, story_ids)``: columns at their initial state, the levels
               before day 0 (int64[metrics, cells]) and the story agents
    days       ``(plan, loop, chunk, initial_emit) -> day``: the dense scheduler's pass function
               (``engine.dense.dense_days``)
    breaks     ``(plan, ep, rec, cols, cnt) -> story rows``: ostracism's breaks (``engine.ostracism``)
    spread     ``(plan, ep, rec, keys, cols, cnt)``: awareness told and seen (``engine.awareness``)
    sparse     ``(plan, ep, rec, cols, wake) -> (story rows, counts per cell)``: ties' penalties
    redress    ``(plan, ep, cols, due, on_score, d, cnt, wake) -> story rows``: the contested records due
               today removed (``engine.sparse.remove_due``; ``engine.sparse.apply_redress`` picks them)
    scores     ``(cols, ids) -> int16[k]``: the story agents' scores
    histogram  ``(plan, cols, day, lazy) -> int64[bins]``: ``engine.histogram.score_histogram``
    to_host    ``(cols) -> Columns``: the columns as NumPy arrays
    from_host  ``(plan, Columns) -> cols``: NumPy columns (a checkpoint's) where this backend keeps them
    ========== =====================================================================================
    """

    name: str
    start: Callable
    days: Callable
    breaks: Callable
    spread: Callable
    sparse: Callable
    redress: Callable
    scores: Callable
    histogram: Callable
    to_host: Callable
    from_host: Callable


def mark_stories(plan: Plan, cols, level0: np.ndarray) -> np.ndarray:
    """After the initial pass (host columns ``cols``): pick the story agents and mark them (a story agent
    always takes the full end of day), and draw who is aware on day 0 ([awareness]). Returns the story agents."""
    picks = pick_story_agents(plan, cols.traits, cols.flags, plan.scenario.run.story_agents)
    story_ids = np.array([a for a, _ in picks], np.int64)
    cols.flags[story_ids] |= np.uint8(FLAG.STORY)
    cols.state[story_ids] |= np.uint8(STATE.BUSY)
    if plan.epochs[0].prm[P.HAS_AWARE]:
        init_aware(plan, cols, level0)
    return story_ids


def _start(plan: Plan, chunk: int):
    cols = allocate(plan)
    lo, hi, reg = chunks(plan, chunk)
    e0 = plan.epoch_at(0)
    if e0.prm[P.HAS_SHUN]:
        count_ties(cols.ties, e0.prm, plan.region_starts, plan.friend_keys)
    level0 = np.zeros((len(lo), len(plan.metric_names), plan.n_cells), np.int64)
    init_pass(lo, hi, reg, cols.as_tuple(), e0.prm, e0.tier_mins, e0.cons, plan.class_cum, plan.group_cum,
              plan.holder_t, plan.hh_adult, day_keys(plan.seed, 0), level0)
    level0 = level0.sum(axis=0)
    return cols, level0, mark_stories(plan, cols, level0)


def _spread(plan: Plan, ep, rec, keys, cols, cnt):
    spread(rec, keys, cols.aware, cols.flags, cols.state, cols.traits, cols.ties, ep.prm, plan.region_starts,
           plan.hh_head, plan.hh_size, plan.friend_keys, cnt)


HOST = Backend(
    name="cpu", start=_start, days=dense_days, breaks=apply_breaks, spread=_spread,
    sparse=lambda plan, ep, rec, cols, wake: sparse(plan, ep, rec, cols, wake, sparse_parts(plan.size)),
    redress=remove_due, scores=lambda cols, ids: cols.score[ids], histogram=score_histogram,
    to_host=lambda cols: cols, from_host=lambda plan, cols: cols)

