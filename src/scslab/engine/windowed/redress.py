"""Redress on the windowed route: contested false records removed after a delay, their points refunded.

A false attribution of behaviour b (one of a day's events, ``agent.py``) is contested with the scenario's
chance (the window's stream ``KEY.CONTEST``, one draw per event); ``delay`` days later its points come back
and the agent's false record is cleared, as the day engines clear it (``sparse.apply_redress``: the whole
mark, unless another false attribution comes that day). A refund is an event of the day it falls on, like a
penalty coming in: it is not an offence.

A refund that falls within the window is queued by the kernel itself, in order (``Redress.qday``). One that
falls after the window's end is *carried*: after a window's run, :func:`carry` finds, agent by agent, the
contested false attributions of the window's last ``delay`` days (false attributions are never thinned by
an agent's state, so they are found from the draws alone, with the window's tables), and the next window's
run reads them as its agents' carried refunds (``Redress.agents``, ``days``, ``beh``, sorted by agent and
day). The carried refunds are part of a windowed checkpoint.

``Redress`` is None in a scheme without redress (or without false attributions): the kernel's code for it is
then pruned before it is compiled (``if R is not None``), so other schemes compile and run as before.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ..borrow import borrowed
from ..threads import in_threads, work_slots
from .draws import CACHE, FULL, act_counts, d32, event_threshold, first_event, next_day, next_event, pick_days
from .model import CHUNKS, MAX_OTHER, MAX_W, SC
from .tables import KEY

__all__ = ["Redress", "redress_of", "for_work_item", "carry", "no_refunds", "QUEUE"]

QUEUE = MAX_OTHER * MAX_W  # refunds a window can queue for one agent: one per event of each of its days


class Redress(NamedTuple):
    """``R``: what the kernel reads and writes for redress in a window (numba reads the fields by name)."""

    thr: np.uint64        # the uint32 threshold under which a false attribution is contested
    delay: int            # days from a false attribution to its refund
    agents: np.ndarray    # int64: the agents of the refunds carried into the window, sorted (with ``days``)
    days: np.ndarray      # int64: ... the absolute day each falls on
    beh: np.ndarray       # int64: ... the behaviour whose points it refunds
    bits: np.ndarray      # uint64 bitmap of the agents with a carried refund
    qday: np.ndarray      # int64[QUEUE]: a work item's queue of refunds within the window (window days) ...
    qb: np.ndarray        # int64[QUEUE]: ... and their behaviours
    red: np.ndarray       # int64[row, cell, W + 1]: the records removed per window day (``redressed``), a row
    #                       for each work item running at once (``threads.work_slots``), added up


def no_refunds() -> tuple:
    """An empty table of carried refunds: (agents, days, behaviours)."""
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)


def redress_of(thr: int, delay: int, n: int, C: int, W: int, refunds: tuple, rows: int | None = None) -> Redress:
    """The window's ``Redress`` with the carried ``refunds`` (agents, days, behaviours; sorted by agent and
    day), for ``n`` agents in ``C`` cells; its queue is a work item's own (:func:`for_work_item`). ``red``
    has ``rows`` rows (by default ``threads.work_slots()``): as many as the window's metric changes."""
    agents, days, beh = (np.ascontiguousarray(x, np.int64) for x in refunds)
    bits = np.zeros((n >> 6) + 1, np.uint64)
    if len(agents):
        np.bitwise_or.at(bits, agents >> 6, np.uint64(1) << (agents & 63).astype(np.uint64))
    return Redress(thr=np.uint64(thr), delay=int(delay), agents=agents, days=days, beh=beh, bits=bits,
                   qday=np.zeros(1, np.int64), qb=np.zeros(1, np.int64),
                   red=np.zeros((work_slots() if rows is None else rows, C, W + 1), np.int64))


def for_work_item(R: Redress | None) -> Redress | None:
    """``R`` with a queue of its own, for one work item (None stays None)."""
    if R is None:
        return None
    return R._replace(qday=np.empty(QUEUE, np.int64), qb=np.empty(QUEUE, np.int64))


def carry(n: int, d0: int, W: int, cls: np.ndarray, M, R: Redress) -> tuple:
    """The refunds carried out of the window from ``d0`` (W days): those carried into it that fall after it,
    and the contested false attributions of its last ``delay`` days, as (agents, days, behaviours) sorted by
    agent and day. The work items run on threads (``engine/threads.py``)."""
    counts = np.zeros(CHUNKS + 1, np.int64)

    def count(ch):
        counts[ch + 1] = _carry_chunk(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, d0, W, cls, M, R, 0,
                                      np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))

    in_threads(count, CHUNKS)
    at = np.cumsum(counts)
    out = tuple(np.empty(at[-1], np.int64) for _ in range(3))

    def fill(ch):
        _carry_chunk(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, d0, W, cls, M, R, at[ch], *out)

    in_threads(fill, CHUNKS)
    return out


@njit(cache=CACHE, nogil=True)
def _carry_chunk(i0, i1, d0, W, cls, M, R, j, agents, days, beh):
    """:func:`carry` for agents ``i0 .. i1-1``: counts them, and writes them from ``j`` on when ``agents`` is not
    empty. An agent's refunds carried in fall before its new ones (the delay is one), so each agent's come
    out in order of day."""
    cls, M, R = borrowed(cls), borrowed(M), borrowed(R)
    agents, days, beh = borrowed(agents), borrowed(days), borrowed(beh)
    write = agents.shape[0] > 0
    bo = np.empty(6, np.uint64)
    k = 0
    x = np.searchsorted(R.agents, i0)  # the next refund carried in
    NACT, NO = M.sc[SC.NACT], M.other.shape[0]  # a day's events from NACT on are false attributions
    for i in range(i0, i1):
        while x < R.agents.shape[0] and R.agents[x] == i:  # carried in, falling after the window
            if R.days[x] >= d0 + W:
                if write:
                    agents[j + k], days[j + k], beh[j + k] = i, R.days[x], R.beh[x]
                k += 1
            x += 1
        Ko = act_counts(i, cls[i], M)[0]
        if Ko == 0:
            continue
        pick_days(M.keys[KEY.OTHER_DAYS], i, Ko, W, bo)
        for ko in range(Ko):
            e = next_day(bo, W)
            if e + R.delay < W:
                continue
            a = first_event(i, cls[i], ko, M)
            while a < NO:
                if a >= NACT:  # a false attribution: kept whatever the agent's state
                    thr = event_threshold(M.vary, cls[i], e, a, 0, M.kept[a])
                    if ((thr >= FULL or d32(M.keys[KEY.KEEP], i, ko * MAX_OTHER + a) < thr)
                            and d32(M.keys[KEY.CONTEST], i, ko * MAX_OTHER + a) < R.thr):
                        if write:
                            agents[j + k], days[j + k], beh[j + k] = i, d0 + e + R.delay, M.other[a]
                        k += 1
                a = next_event(i, cls[i], ko, a, M)
    return k
