"""The plan's cache of day tables (``compile.Plan.table_cache``): each day's probability and threshold tables
are kept by the epoch and coverage they are made from, within a bound, and what they may hold at most (for
the memory budget, ``engine/budget.py``)."""

from __future__ import annotations

import numpy as np

from .shaming import deters_others

__all__ = ["cached", "day_table_bytes", "table_cache_bytes", "TABLE_CACHE_ENTRIES", "TABLE_CACHE_BYTES"]

TABLE_CACHE_ENTRIES = 64
TABLE_CACHE_BYTES = 64 * 2**20  # a coverage ramp makes new tables every day: keep at most this much of them


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0


def cached(plan, key, make):
    """``make()``, kept in ``plan.table_cache`` under ``key`` (the cache is emptied before it would hold more
    than TABLE_CACHE_ENTRIES entries or TABLE_CACHE_BYTES bytes of arrays)."""
    cache = plan.table_cache
    hit = cache.get(key)
    if hit is None:
        hit = make()
        size = _nbytes(hit)
        if len(cache) >= TABLE_CACHE_ENTRIES or cache.get("__bytes__", 0) + size > TABLE_CACHE_BYTES:
            cache.clear()
        cache[key] = hit
        cache["__bytes__"] = cache.get("__bytes__", 0) + size
    return hit


def day_table_bytes(plan, engine: str = "dense") -> int:
    """Bytes of one day's tables: its probabilities (``p``, float64) and :func:`_day_tables` (``cum``,
    ``gate``), or for the lazy engine's ``engine.detected.lazy_tables`` (``cum``, ``gate``, ``und``,
    ``und_p``, groups) instead: what each new coverage value adds to the cache."""
    R, G, NB = len(plan.region_names), len(plan.group_names), len(plan.behaviour_names)
    per_state = plan.n_cells * plan.n_states * 8  # one 8-byte value per cell and state
    det = 2 * R * G * NB * 8 * 8
    if engine == "dense":
        return per_state * (2 * NB + 2 * NB + 1) + det
    return per_state * (2 * NB + 2 * NB + 1 + NB + NB + 1) + det


def table_cache_bytes(plan, engine: str = "dense") -> int:
    """The most the day tables of a run hold at once: one set per distinct day of coverage, up to the cache's
    limit, and the set being made when the cache is emptied."""
    distinct = len({plan.coverage(day) for day in range(plan.days + 1)})
    if deters_others(plan.scenario):  # tables made from the run's own lists: new ones most days
        distinct = plan.days + 1
    one = day_table_bytes(plan, engine)  # two cache entries: the probabilities and the tables made from them
    return min(min(distinct, TABLE_CACHE_ENTRIES // 2) * one, TABLE_CACHE_BYTES) + one
