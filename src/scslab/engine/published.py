"""Others deterred by published names (``lists.NAME.shaming.deters``, ``scslab.shaming``): the day
schedulers' tables for a day, made from the run's own lists.

The acts of day d in region r follow tables whose penalised acts are scaled by ``scslab.shaming.factor`` of
the people on each deterring list in r at the end of day d - 2. Pass d finishes day d - 1 and acts on day d
in one sweep, so the end of day d - 2 is the latest whose lists are known when pass d begins; the level
metrics ``listed:NAME`` hold them, by cell (``loop.counts``, summed up from ``loop.level0``, each day's once as
it becomes final), so nothing more is kept in the loop and a resumed run makes the same tables. A factor of exactly 1 everywhere gives the tables of the
scenario without publication, bit for bit (the cached ones).
"""

from __future__ import annotations

import numpy as np

from ..compile import P, Plan
from ..shaming import deters, deters_others, factor

__all__ = ["uses_deterrence", "day_tables"]


def uses_deterrence(plan: Plan) -> bool:
    """Whether a list of ``plan`` deters others when published."""
    return deters_others(plan.scenario)


def day_tables(plan: Plan, loop):
    """The function of a day that gives its tables (``Plan.day_tables``' values) for the dense scheduler's
    passes over ``loop`` (an ``engine.loop.Loop``): ``plan.day_tables`` itself when no list deters."""
    if not uses_deterrence(plan):
        return plan.day_tables
    by_list = deters(plan.scenario)
    people = np.diff(plan.region_starts).astype(np.float64)
    NL, R = len(plan.list_names), len(plan.region_names)
    rows = plan.epochs[0].prm[P.M_LISTED] + np.arange(NL)
    seen = {"day": -1, "listed": loop.level0[rows].astype(np.int64)}  # the lists at the end of day ``day``

    def tables(d: int):
        while seen["day"] < d - 2:  # (days d passes ago are final: add each once, not the whole run each day)
            seen["day"] += 1
            seen["listed"] = seen["listed"] + loop.counts[seen["day"], rows]
        listed = seen["listed"].reshape(NL, R, -1).sum(axis=2).astype(np.float64)
        f = factor(by_list, listed, people)
        return plan.day_tables(d, None if np.all(f == 1.0) else tuple(f.tolist()))

    return tables
