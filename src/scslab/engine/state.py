"""State as plain data: the agents' integer columns, the append buffers of the passes, and a run's raw result.

What a run needs in memory, and the refusal before allocation, are in ``engine/budget.py``."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compile import P, Plan
from .kernels import EMIT_WIDTH

__all__ = ["Columns", "column_specs", "bytes_per_agent", "allocate", "EMIT_ROWS", "RawRun", "Loop", "grow", "records"]


@dataclass(frozen=True)
class Columns:
    """One array per field; optional fields are length-1 placeholders when the scenario does not use them.

    ======================  =======  ============================================================
    column                  dtype    meaning
    ======================  =======  ============================================================
    score                   int16    main score, clamped to the scenario's bounds
    pending                 int16    points waiting for the end of the day (own acts + network)
    last_off                int16    day of the last detected offence (-32768: never)
    listed                  int16    [lists with a term, N] day each entry began (-32768: not listed); a list
                                     without a term keeps no day (``LIST.ROW``)
    on_lists                uint8    bit l: on list l (only with lists)
    traits                  uint8    class * n_groups + group (hashed from the id, cached)
    flags                   uint8    adult, holder, false record, debt, confiscated, ...
    inbox                   uint8    flag changes made by others today, applied at the end of day
    state                   uint8    start-of-day state code + RECOVERING and BUSY bits (see kernels)
    acct                    uint8    domain account points (only with an account)
    strikes                 uint8    repeat count for escalating points (only with escalation)
    outstanding             int16    deductions not yet expired (only with record retention)
    acct_since              int16    day of the last account deduction (only with an account)
    ties                    uint32   ties broken and lost, ties at the start (``TIE``; only with ostracism)
    aware                   uint8    aware of the scheme (``AWARE``; only with awareness)
    ======================  =======  ============================================================
    """

    score: np.ndarray
    pending: np.ndarray
    last_off: np.ndarray
    listed: np.ndarray
    on_lists: np.ndarray
    traits: np.ndarray
    flags: np.ndarray
    inbox: np.ndarray
    acct: np.ndarray
    strikes: np.ndarray
    outstanding: np.ndarray
    acct_since: np.ndarray
    state: np.ndarray
    ties: np.ndarray
    aware: np.ndarray

    def as_tuple(self) -> tuple:
        return (self.score, self.pending, self.last_off, self.listed, self.on_lists, self.traits, self.flags, self.inbox, self.acct,
                self.strikes, self.outstanding, self.acct_since, self.state, self.ties,
                self.aware)


def bytes_per_agent(plan: Plan) -> int:
    """The columns' bytes per agent (:func:`column_specs`: what one more agent adds; a placeholder adds none)."""
    def total(n):
        return sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in column_specs(plan, n).values())

    return total(2) - total(1)


EMIT_ROWS = 1024  # initial append-buffer rows per chunk (engine/dense.py) or lane (engine/lazy.py)


def column_specs(plan: Plan, n: int | None = None) -> dict[str, tuple[tuple[int, ...], type]]:
    """Each column's shape and dtype for ``plan`` (optional columns a placeholder of length 1 when unused), for
    its population or ``n`` agents."""
    n, prm = plan.size if n is None else n, plan.epochs[0].prm

    def opt(flag, dtype):
        return (n if prm[flag] else 1,), dtype

    return dict(
        score=((n,), np.int16), pending=((n,), np.int16), last_off=((n,), np.int16),
        listed=((plan.n_dated_lists, n), np.int16), on_lists=((n if plan.list_names else 1,), np.uint8),
        traits=((n,), np.uint8),
        flags=((n,), np.uint8), inbox=((n,), np.uint8), acct=opt(P.HAS_ACCT, np.uint8),
        strikes=opt(P.HAS_STRIKES, np.uint8), outstanding=opt(P.HAS_OUTSTANDING, np.int16),
        acct_since=opt(P.HAS_ACCT, np.int16), state=((n,), np.uint8), ties=opt(P.HAS_SHUN, np.uint32),
        aware=opt(P.HAS_AWARE, np.uint8))


def allocate(plan: Plan) -> Columns:
    return Columns(**{name: np.empty(shape, dtype) for name, (shape, dtype) in column_specs(plan).items()})


@dataclass
class RawRun:
    """What the engine produces before it becomes tables: counts[day, metric, cell] and story rows."""

    counts: np.ndarray          # int64[days, n_metrics, n_cells]
    stories: np.ndarray         # int64[n, 6]: kind, agent, day, event, arg, points
    story_ids: np.ndarray       # int64[k]
    story_scores: np.ndarray    # int16[days, k]: end-of-day score of each story agent
    columns: Columns
    coverage: np.ndarray        # float64[days, n_channels]
    score_hist: np.ndarray      # int64[snapshots, bins]: people per score bin (engine.histogram)
    entities: dict = field(default_factory=dict)  # entity type -> its RawRun


# The per-agent functions, compiled for the CPU. Dispatchers compile lazily, on the first run; the drivers

def grow(emit: np.ndarray) -> np.ndarray:
    """The append buffers (one per work item) doubled, their rows kept: a pass never drops a record, it stops,
    the buffers grow, and the pass resumes."""
    grown = np.zeros((emit.shape[0], emit.shape[1] * 2, EMIT_WIDTH), np.int64)
    grown[:, : emit.shape[1]] = emit
    return grown


def records(emit: np.ndarray, n_emit: np.ndarray) -> np.ndarray:
    """The rows appended in a pass, work item by work item (the order does not depend on threads)."""
    if not n_emit.any():
        return np.zeros((0, EMIT_WIDTH), np.int64)
    return np.concatenate([emit[c, : n_emit[c]] for c in range(len(n_emit))])


@dataclass
class Loop:
    """Everything the day loop carries from one pass to the next: enough to resume a run bit for bit.

    ``day`` is the next pass to run (0..days); passes ``0..day-1`` are done. Nothing else outlives a pass:
    chunking, buffer sizes and thread counts do not change the result, so a run may resume with others.
    """

    day: int
    cols: Columns
    counts: np.ndarray          # int64[days, n_metrics, n_cells]; level metrics still as daily changes
    level0: np.ndarray          # int64[n_metrics, n_cells]: levels before day 0
    story_ids: np.ndarray       # int64[k]
    story_scores: np.ndarray    # int16[days, k]
    coverage: np.ndarray        # float64[days, n_channels]
    score_hist: np.ndarray      # int64[snapshots, bins]: score distribution on the snapshot days so far
    stories: list               # story rows so far, in order (int64[n, 6] blocks)
    redress: np.ndarray         # int64[n, 6]: contested false records waiting for their day
    lazy: object = None         # engine.lazy.LazyState for the lazy engine, None for the dense engine
    entities: dict = field(default_factory=dict)  # entity type -> its Loop, always at the same pass

    def story_rows(self) -> np.ndarray:
        """All story rows so far as one array (and keep them as one block)."""
        rows = np.concatenate(self.stories) if self.stories else np.zeros((0, EMIT_WIDTH), np.int64)
        self.stories = [rows]
        return rows
