"""What a loaded checkpoint must satisfy before the engine touches it.

A checkpoint's zip checksums prove only that its bytes are the ones written; a file edited and re-zipped, or
written by a faulty disk controller, passes them. The compiled engine indexes tables with some column
values (class and group, state code, story ids, agents in pending records) and does not check bounds, so a
value out of range would crash the process or corrupt memory instead of raising. Every array is therefore
checked here for its shape, dtype and range; a failure is a ValueError naming the array, which
``load_latest`` reports before falling back to the checkpoint before.
"""

from __future__ import annotations

import numpy as np

from ..compile import REC, STATE, Plan

__all__ = ["check_loop", "check_window_state"]

NONE_DAY = -32768  # "never" in int16 day columns (engine.kernels.NONE_DAY)
EMIT_WIDTH = 6     # a story or redress record: kind, agent, day, a, b, c (engine.kernels.EMIT_WIDTH)


def _array(name: str, a, shape: tuple, dtype) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != np.dtype(dtype) or a.shape != tuple(shape):
        got = f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else type(a).__name__
        raise ValueError(f"{name} is {got}, the run needs {np.dtype(dtype)}{list(shape)}")
    return a


def _within(name: str, a: np.ndarray, low: int, high: int, *, never: bool = False) -> None:
    """Every value of ``a`` in ``[low, high]`` (or NONE_DAY when ``never``)."""
    if a.size == 0:
        return
    bad = (a < low) | (a > high)
    if never:
        bad &= a != NONE_DAY
    if bad.any():
        k = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"{name} holds {int(a.ravel()[k])} at position {k}; allowed {low} to {high}"
                         + (f" or {NONE_DAY} (never)" if never else ""))


def _records(name: str, rows, n: int) -> np.ndarray:
    rows = np.asarray(rows)
    if rows.size == 0:
        return np.zeros((0, EMIT_WIDTH), np.int64)
    rows = _array(name, rows, (len(rows), EMIT_WIDTH), np.int64)
    _within(f"{name} (agents)", rows[:, REC.AGENT], 0, n - 1)
    return rows


def _story_rows(plan: Plan, rows, story_ids: np.ndarray, days: int) -> None:
    """The story rows become a table without error (every code names an event, behaviour, list...)."""
    from ..metrics import stories_table

    rows = _records("story rows", rows, plan.size)
    try:
        stories_table(plan, rows, story_ids, np.zeros((max(days, 1), len(story_ids)), np.int16))
    except (IndexError, KeyError, ValueError, OverflowError) as exc:
        raise ValueError(f"story rows hold a code out of range ({type(exc).__name__}: {exc})") from None


def check_loop(plan: Plan, loop) -> None:
    """Raise ValueError unless ``loop`` (a day loop read from a checkpoint) fits ``plan``."""
    from ..engine.state import column_specs

    n, day, days = plan.size, loop.day, plan.days
    if not 0 <= day <= days + 1:
        raise ValueError(f"the checkpoint's day {day} lies outside the run's 0 to {days + 1}")
    for name, (shape, dtype) in column_specs(plan).items():
        _array(f"column {name}", getattr(loop.cols, name), shape, dtype)
    c = loop.cols
    lo, hi = plan.scenario.score.bounds
    _within("column score", c.score, lo, hi)
    _within("column traits", c.traits, 0, len(plan.class_names) * len(plan.group_names) - 1)
    _within("column state (state code)", c.state & STATE.CODE, 0, plan.n_states - 1)
    if plan.list_names:
        _within("column on_lists", c.on_lists, 0, (1 << len(plan.list_names)) - 1)
    from ..compile import P

    timed = ("last_off", "listed", "acct_since") if plan.epochs[0].prm[P.HAS_ACCT] else ("last_off", "listed")
    for name in timed:  # an unused column is an uninitialised placeholder
        _within(f"column {name}", getattr(c, name), -days - 1, days + 1, never=True)
    n_metrics, cells = len(plan.metric_names), plan.n_cells
    _array("level0", loop.level0, (n_metrics, cells), np.int64)
    k = len(loop.story_ids) if isinstance(loop.story_ids, np.ndarray) else -1
    ids = _array("story_ids", loop.story_ids, (k,), np.int64)
    if k > plan.scenario.run.story_agents or len(np.unique(ids)) != k:
        raise ValueError(f"story_ids holds {k} ids ({len(np.unique(ids))} distinct); the run samples "
                         f"{plan.scenario.run.story_agents}")
    _within("story_ids", ids, 0, n - 1)
    done = max(day, 0)
    for name, a, shape, dtype in (("counts", loop.counts[:done], (done, n_metrics, cells), np.int64),
                                  ("story_scores", loop.story_scores[:done], (done, k), np.int16),
                                  ("coverage", loop.coverage[:done], (done, len(plan.channel_names)), np.float64)):
        _array(name, a, shape, dtype)
    if not np.isfinite(loop.coverage).all():
        raise ValueError("coverage holds a value that is not finite")
    from ..engine.histogram import run_snapshot_days, score_bins

    _array("score_hist", loop.score_hist, (len(run_snapshot_days(plan)), score_bins(plan)[2]), np.int64)
    _story_rows(plan, loop.story_rows(), ids, days)
    _records("redress records", loop.redress, n)
    if loop.lazy is not None:
        from ..engine.lazy import COARSE, RING, lane_ranges

        _array("lazy ring", loop.lazy.ring, (RING + COARSE, -(-n // 64)), np.uint64)
        _array("lazy rec_diff", loop.lazy.rec_diff, (len(lane_ranges(n)), days + 1, cells), np.int64)
    for name, sub in loop.entities.items():
        try:
            check_loop(plan.entities[name], sub)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None


def check_window_state(plan: Plan, state) -> None:
    """Raise ValueError unless ``state`` (a windowed run's checkpoint) fits ``plan``; the totals' shapes are
    checked when the run restores them."""
    n, days = plan.size, plan.days
    if not 0 < state.day < days:
        raise ValueError(f"the checkpoint's day {state.day} lies outside the run's 1 to {days - 1}")
    score, last_off, listed = (_array(f"column {name}", a, shape, np.int16) for name, a, shape in
                               zip(("score", "last_off", "listed"), state.cols, ((n,), (n,), (len(plan.list_names), n))))
    lo, hi = plan.scenario.score.bounds
    _within("column score", score, lo, hi)
    _within("column last_off", last_off, -days - 1, days + 1, never=True)
    _within("column listed", listed, -days - 1, days + 1, never=True)
    from ..engine.windowed.model import marks_length, model_of

    marks = _array("column marks", state.cols[3], (marks_length(model_of(plan), n),), np.uint8)
    _within("column marks", marks, 0, 1)  # a false record carried, or not
    for key, value in state.totals.items():
        if key != "rows" and (not isinstance(value, np.ndarray) or value.dtype.kind != "i"):
            raise ValueError(f"totals {key} is not an integer array")
    rows = _records("story rows", state.totals.get("rows", np.zeros((0, EMIT_WIDTH), np.int64)), n)
    _story_rows(plan, rows, np.unique(rows[:, REC.AGENT]), days)
