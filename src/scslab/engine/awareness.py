"""Awareness of the scheme ([awareness]), between passes: the ties a person tells, or who see it come under a
sanction, become aware (shared by the day schedulers that run it: the dense one).

The rule: only aware people are chilled by the watching they perceive (``compile.probabilities`` makes the
tables' rows of the unaware without the chilling, and the pass reads an agent's row by its ``aware`` byte).
A share ``start`` of adults is aware on day 0. At the end of a day on which an unaware adult loses points it
becomes aware with the chance ``penalised`` (``kernels.finish``). One who has just become aware tells its ties
(household members, friends, colleagues; not along a tie dropped for ostracism) the next day, and each
unaware adult among them becomes aware with the chance ``told``; the ties of one who comes under a sanction
see it the next day and each becomes aware with the chance ``seen``. ``finish`` appends an ``AWARE`` record
for each of these at the end of day d-1; :func:`spread` applies them after pass d (during day d, after its
acts), in record order, so each tie's draw is its own whatever the threads: keyed by the day, the tie who
tells or is sanctioned, the tie's place among its ties, and the one who learns.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numba import njit

from ..compile import EVENT, FLAG, REC, STATE, P, Plan
from ..encodings import AWARE, AWARE_BY
from ..rng import GOLDEN, Stream, draw_array, stream_key
from .compiled import CACHE, K

__all__ = ["make", "init_aware", "spread"]

S32 = np.uint64(32)


def init_aware(plan: Plan, cols, level0: np.ndarray) -> None:
    """Who is aware on day 0: each adult with the chance ``awareness.start`` (its own draw), counted into the
    initial level ``level0[metric, cell]``."""
    prm = plan.epochs[0].prm
    ids = np.arange(plan.size, dtype=np.int64)
    u = draw_array(stream_key(plan.seed, Stream.AWARE, 0), ids).astype(np.uint64)
    adult = (cols.flags & FLAG.ADULT) != 0
    aware = adult & (u < np.uint64(prm[P.AWARE_T]))
    cols.aware[:] = np.where(aware, AWARE.YES, AWARE.NO).astype(np.uint8)
    region = np.searchsorted(plan.region_starts, ids[aware], side="right") - 1
    np.add.at(level0[prm[P.M_AWARE]], region * prm[P.T] + cols.traits[aware].astype(np.int64), 1)


def make(K, jit):
    """The spread between passes, from the per-agent functions ``K`` (``kernels.build``), compiled with
    ``jit``: ``spread(rec, ...)``, run by the CPU's driver below and by the GPU's (``engine/gpu.py``)."""
    partner, region_of, household_head, matching_block = K.partner, K.region_of, K.household_head, K.matching_block
    mix, tie_gone = K.mix, K.tie_gone

    @jit
    def learn(m, key, thr, how, aware, flags, state, traits, starts, prm, cnt):
        """Tie m learns with its draw under ``key`` (below ``thr``): an unaware adult becomes newly aware."""
        if aware[m] != AWARE.NO or (flags[m] & FLAG.ADULT) == 0:
            return
        if (mix(key + np.uint64(m) * GOLDEN) >> S32) < thr:
            aware[m] = AWARE.NEW
            state[m] = state[m] | STATE.BUSY  # its end of day tells its own ties
            cell = region_of(m, starts) * prm[P.T] + np.int64(traits[m])
            cnt[prm[P.M_AWARE], cell] += 1
            cnt[prm[P.M_AWARE_BY] + how, cell] += 1

    @jit
    def spread(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt):
        """Apply the ``AWARE`` records of a pass (made at the end of the day whose stream keys are ``keys``), in
        record order: each tie of the teller (``AWARE_BY.TOLD``) or of one newly sanctioned (``AWARE_BY.SEEN``)
        may become aware, counted in ``cnt[metric, cell]`` (the day after the records')."""
        n = prm[P.N]
        B = hh_head.shape[0]
        shun = prm[P.HAS_SHUN] != 0
        for j in range(rec.shape[0]):
            if rec[j, REC.KIND] != EVENT.AWARE:
                continue
            a, how = rec[j, REC.AGENT], rec[j, REC.A]
            if how == AWARE_BY.TOLD:
                thr, key = np.uint64(prm[P.AWARE_TOLD_T]), mix(keys[Stream.AWARE_TOLD] + np.uint64(a) * GOLDEN)
            else:
                thr, key = np.uint64(prm[P.AWARE_SEEN_T]), mix(keys[Stream.AWARE_SEEN] + np.uint64(a) * GOLDEN)
            if prm[P.HAS_HH] != 0:
                head = household_head(a, hh_head)
                for m in range(head, min(head + hh_size[a % B], n)):
                    if m != a:  # (a key per tie: one person both a household member and a friend has two chances)
                        learn(m, mix(key + np.uint64(m - head)), thr, how, aware, flags, state, traits, starts, prm,
                              cnt)
            for k in range(prm[P.K]):
                lo, hi = matching_block(a, k, starts, prm[P.K_LOCAL], prm[P.K_FRIENDS], n)
                m = partner(a, k, lo, hi, friend_keys)
                if m < 0 or (shun and tie_gone(np.int64(ties[a]), np.int64(ties[m]), k)):
                    continue  # no tie, or one dropped for ostracism
                learn(m, mix(key + np.uint64(16 + k)), thr, how, aware, flags, state, traits, starts, prm, cnt)

    return SimpleNamespace(spread=spread)


_spread = make(K, njit(inline="always", nogil=True)).spread


@njit(nogil=True, cache=CACHE)
def spread(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt):
    """A pass's ``AWARE`` records applied in record order (``make``'s ``spread``)."""
    _spread(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt)
