"""Deferred recovery: the lazy engine leaves a recovering idle agent alone until its recovery changes its tier.

In a scenario without record retention or escalation (``plain``), an idle agent below the recovery ceiling
gains ``rec_pts`` on every day ``u >= a = max(last_off + rec_quiet, 0)``. Such an agent is left alone: its
score column holds the *virtual* score ``sv`` anchored at ``a`` (real score on day u is
``min(upto, sv + rec_pts * (u - a + 1))``, ``rules.recovered``), ``inbox`` carries the ``VIRTUAL`` bit, and its future recovery
steps are added to the ``recovering`` metric as a difference array (``rec_diff``), cancelled from the day it is
next visited. The agent is woken on the day its recovery crosses into a higher tier: through a fine slot of
the wake ring when that is at most ``RING - 1`` passes ahead, else through a coarse slot, one per window of
RING passes (a timing wheel), settled at the start of its window (:func:`settle`). See ``engine/lazy.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..compile import INBOX, STATE
from .bits import U64_1, lowest, set_bit
from . import rules
from .compiled import CACHE

__all__ = ["RING", "COARSE", "BLOCK", "NEVER", "plan_days", "materialize", "defer", "wake_at", "settle"]

BLOCK = 1 << 16          # agents per block: the unit of random streams and of parallel work
RING = 8                 # passes the wake ring looks ahead (H): its fine slots, one per pass
COARSE = 4               # coarse slots, one per window of RING passes beyond the fine slots
NEVER = 1 << 40
VIRTUAL = np.uint8(INBOX.VIRTUAL)
KEEP = np.uint8(0xFF ^ INBOX.VIRTUAL)
NOT_RECOVERING = np.uint8(0xFF ^ STATE.RECOVERING)
R = rules.make(njit(inline="always", nogil=True))  # recovery and its closed form (engine/rules.py)
steps, recovered = R.steps, R.recovered


@njit(inline="always", nogil=True)
def plan_days(sv, a, tier, rec_pts, rec_upto, mins):
    """Last day of quiet recovery steps, and the day of the step that crosses into a higher tier (or NEVER),
    for virtual score ``sv`` anchored at day ``a``: step j (j >= 1) falls on day a + j - 1."""
    n_up = steps(rec_upto - sv, rec_pts)
    last, cross = a + n_up - 1, NEVER
    if tier > 0 and mins[tier - 1] <= rec_upto:
        n_cr = steps(mins[tier - 1] - sv, rec_pts)
        if n_cr <= n_up:
            cross = a + n_cr - 1
            last = cross - 1
    return last, cross


@njit(inline="always", nogil=True)
def materialize(i, d, cell, score, last_off, inbox, state, rq, rp, ru, mins, lim, rd):
    """Bring a deferred agent to the end of day d-2 (pass d finishes d-1 itself) and cancel its planned
    recovery counts from day d-1 on."""
    sv = np.int64(score[i])
    a = max(np.int64(last_off[i]) + rq, 0)
    last, _ = plan_days(sv, a, (np.int64(state[i]) >> 3) & 7, rp, ru, mins)
    lo, hi = max(a, d - 1), min(last, lim)
    if lo <= hi:
        rd[lo, cell] -= 1
        rd[hi + 1, cell] += 1
    s = recovered(sv, a, d - 2, rp, ru)
    score[i] = s
    inbox[i] &= KEEP
    if s >= ru:  # the ceiling was reached: no longer recovering (as the dense engine's ``quick`` records it)
        state[i] &= NOT_RECOVERING


@njit(inline="always", nogil=True)
def defer(i, d, cell, score, last_off, inbox, state, rq, rp, ru, mins, lim, rd):
    """Leave a recovering idle agent alone after pass d; returns the pass to wake it at (or NEVER)."""
    s = np.int64(score[i])
    a = max(np.int64(last_off[i]) + rq, 0)
    sv = s - rp * max(0, d - a)
    last, cross = plan_days(sv, a, (np.int64(state[i]) >> 3) & 7, rp, ru, mins)
    lo, hi = max(a, d), min(last, lim)
    if lo <= hi:
        rd[lo, cell] += 1
        rd[hi + 1, cell] -= 1
    score[i] = sv
    inbox[i] = VIRTUAL
    return cross + 1 if cross <= lim else NEVER


@njit(nogil=True)
def wake_at(ring, wake, d, i):
    """Mark agent i, deferred at pass d, to be woken at pass ``wake``: in the fine slot of that pass when it
    is within RING passes, else in the coarse slot of its window (at most COARSE windows ahead; settling
    that window places it again). A plain call, not inlined: numba 0.68 miscompiled this function inlined
    (``inline="always"``) into the parallel pass."""
    if wake < d + RING:
        set_bit(ring[wake % RING], i)
    else:
        set_bit(ring[RING + min(wake // RING, d // RING + COARSE) % COARSE], i)



@njit(parallel=True, nogil=True, cache=CACHE)
def settle(lanes, n, d, ring, score, last_off, inbox, state, rq, rp, ru, mins, lim):
    """Start of window ``d // RING`` (``d`` a multiple of RING): move the agents in its coarse slot to the fine
    slot of their wake-up pass, or to a later window's coarse slot. The wake-up pass is worked out as ``defer``
    did (same virtual score, anchor and tier; same rules, since deferral never spans a change of rules);
    agents no longer deferred (visited since) are dropped."""
    slot = ring[RING + (d // RING) % COARSE]
    for ln in prange(lanes.shape[0]):
        for w in range(lanes[ln, 0] * (BLOCK // 64), min(lanes[ln, 1] * (BLOCK // 64), slot.shape[0])):
            m = slot[w]
            slot[w] = 0
            while m != 0:
                i = (w << 6) + np.int64(lowest(m))
                m &= m - U64_1
                if (inbox[i] & VIRTUAL) == 0:
                    continue
                sv = np.int64(score[i])
                a = max(np.int64(last_off[i]) + rq, 0)
                _, cross = plan_days(sv, a, (np.int64(state[i]) >> 3) & 7, rp, ru, mins)
                if cross > lim:
                    continue
                wake_at(ring, max(cross + 1, d), d, i)
