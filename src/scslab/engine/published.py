"""Others deterred by published names (``lists.NAME.shaming.deters``, ``scslab.shaming``): the day
schedulers' tables for a day, made from the run's own lists.

The acts of day d in region r follow tables whose penalised acts are scaled by ``scslab.shaming.factor`` of
the people on each deterring list in r at the end of day d - 2. Pass d finishes day d - 1 and acts on day d
in one sweep, so the end of day d - 2 is the latest whose lists are known when pass d begins; the level
metrics ``listed:NAME`` hold them, by cell (``loop.counts``, summed up from ``loop.level0``), so nothing more
is kept and a resumed run makes the same tables. A factor of exactly 1 everywhere gives the tables of the
scenario without publication, bit for bit (the cached ones).
"""

from __future__ import annotations

import numpy as np

from ..compile import P, Plan
from ..shaming import deters, factor

__all__ = ["uses_deterrence", "listed_by_region", "day_tables"]


def uses_deterrence(plan: Plan) -> bool:
    """Whether a list of ``plan`` deters others when published."""
    return bool(np.any(deters(plan.scenario) > 0))


def listed_by_region(plan: Plan, counts: np.ndarray, level0: np.ndarray, day: int) -> np.ndarray:
    """int64[list, region]: the people on each list in each region at the end of ``day`` (-1: at the start),
    from the daily changes ``counts[day, metric, cell]`` and the levels before day 0 ``level0[metric, cell]``."""
    NL, R = len(plan.list_names), len(plan.region_names)
    rows = plan.epochs[0].prm[P.M_LISTED] + np.arange(NL)
    listed = level0[rows] + counts[:max(day + 1, 0), rows].sum(axis=0)  # [list, cell]; cells are region-major
    return listed.reshape(NL, R, -1).sum(axis=2)


def day_tables(plan: Plan, loop):
    """The function of a day that gives its tables (``Plan.day_tables``' values) for the dense scheduler's
    passes over ``loop`` (an ``engine.loop.Loop``): ``plan.day_tables`` itself when no list deters."""
    if not uses_deterrence(plan):
        return plan.day_tables
    by_list = deters(plan.scenario)
    people = np.diff(plan.region_starts).astype(np.float64)

    def tables(d: int):
        f = factor(by_list, listed_by_region(plan, loop.counts, loop.level0, d - 2).astype(np.float64), people)
        return plan.day_tables(d, None if np.all(f == 1.0) else tuple(f.tolist()))

    return tables
