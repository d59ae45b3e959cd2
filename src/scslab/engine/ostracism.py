"""Ostracism between passes: the ties that shunned people's friends and colleagues drop (shared by the day
schedulers).

The rule is in ``engine/rules.py`` (who is shunned) and ``engine/kernels.py`` (``finish`` draws, for a shunned
person, which of its standing ties break at the end of the day and appends a ``SHUN`` record). This module keeps
the state: each person's ``ties`` word (``encodings.TIE``) holds the matchings whose ties broke because it was
shunned, how many ties it has lost (either end) and how many it had. A tie in matching k between ``a`` and its
partner ``m`` is gone when bit k is set in either word, so no penalty travels along it
(``engine.sparse.tie_targets``).

:func:`break_ties` applies a pass's ``SHUN`` records in record order, one at a time, so a tie two shunned people
both drop breaks once, whatever the threads; it counts the break and moves both ends' level metrics by
``engine.levels`` itself (the ties each still has, whether it has lost one).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from numba import njit, prange

from ..compile import EVENT, FLAG, INBOX, REC, SE, STATE, P, Plan
from ..encodings import TIE
from .. import encodings
from .compiled import CACHE, K
from .kernels import EMIT_WIDTH, NONE_DAY

__all__ = ["make", "count_ties", "break_ties", "apply_breaks"]

partner, region_of, matching_block, matching_relation = K.partner, K.region_of, K.matching_block, K.matching_relation
levels, tie_gone = K.levels, K.tie_gone
network_arg = njit(inline="always", nogil=True)(encodings.network_arg)
TIE_LOST, TIE_HAD = int(TIE.LOST), int(TIE.HAD)


def make(K, jit):
    """Ostracism's work between passes, from the per-agent functions ``K`` (``kernels.build``), compiled with
    ``jit``: ``had_ties(i, ...)`` (one person's word at the start) and ``breaks(rec, ...)`` (a pass's breaks, in
    record order), run by the CPU's drivers below and by the GPU's (``engine/gpu.py``)."""
    partner, region_of, matching_block, matching_relation = K.partner, K.region_of, K.matching_block, K.matching_relation
    levels, tie_gone = K.levels, K.tie_gone
    network_arg = jit(encodings.network_arg)

    @jit
    def had_ties(i, ties, prm, starts, keys):
        """Person i's ``ties`` word at the start: no tie broken or lost, and the matchings in which it has a
        partner (its friends and colleagues)."""
        n = prm[P.N]
        had = 0
        for k in range(prm[P.K]):
            lo, hi = matching_block(i, k, starts, prm[P.K_LOCAL], prm[P.K_FRIENDS], n)
            if partner(i, k, lo, hi, keys) >= 0:
                had += 1
        ties[i] = had << TIE_HAD

    @jit
    def lose(x, cell, ties, on_lists, state, flags, last_off, inbox, prm, cons, cnt):
        """Person x loses a tie: its end of day's level metrics move from its ``ties`` word before to the word
        after, as ``engine.levels`` counts them (its state as its end of day left it)."""
        tw = np.int64(ties[x])
        on = np.int64(on_lists[x]) if on_lists.shape[0] == prm[P.N] else 0  # (a placeholder without lists)
        tier = (np.int64(state[x]) & STATE.CODE) >> 3
        # an act of its own on record at the end of the day (one today is not: kernels.finish's ``own0``)
        own = last_off[x] != NONE_DAY and (inbox[x] & INBOX.FIRST_OWN) == 0
        levels(cnt, cell, -1, tier, on, flags[x], own, tw, prm, cons)
        levels(cnt, cell, 1, tier, on, flags[x], own, tw + (1 << TIE_LOST), prm, cons)
        ties[x] = tw + (1 << TIE_LOST)

    @jit
    def story(out, nout, x, other, day, code, rel, flags):
        """A story row for x, if it has a story: event ``code`` with the tie ``other`` of kind ``rel``."""
        if (flags[x] & FLAG.STORY) != 0:
            out[nout, REC.KIND], out[nout, REC.AGENT], out[nout, REC.DAY] = EVENT.STORY, x, day
            out[nout, REC.A], out[nout, REC.B], out[nout, REC.C] = code, network_arg(0, rel, other), 0
            nout += 1
        return nout

    @jit
    def breaks(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys, cnt, out):
        """Apply the ``SHUN`` records of a pass in record order: each drawn tie still standing breaks (bit k in
        the shunned person's word), counted once in ``ties_dropped`` (the shunned person's cell); both ends
        lose it. A drawn tie that is gone already (its other end broke it) or was never there sets the bit too,
        so the shunned person draws it no more (the draws are keyed by matching: none other moves).
        Story rows (``shunned`` for the shunned person, ``tie_dropped`` for the friend who dropped it) go to
        ``out``; returns how many."""
        n = prm[P.N]
        T = prm[P.T]
        nout = 0
        for j in range(rec.shape[0]):
            if rec[j, REC.KIND] != EVENT.SHUN:
                continue
            a, day, drawn = rec[j, REC.AGENT], rec[j, REC.DAY], rec[j, REC.A]
            for k in range(prm[P.K]):
                if ((drawn >> k) & 1) == 0:
                    continue
                lo, hi = matching_block(a, k, starts, prm[P.K_LOCAL], prm[P.K_FRIENDS], n)
                m = partner(a, k, lo, hi, keys)
                if m < 0 or tie_gone(np.int64(ties[a]), np.int64(ties[m]), k):
                    ties[a] = np.int64(ties[a]) | (1 << k)  # no tie here, or its other end broke it: draw it no more
                    continue
                ties[a] = np.int64(ties[a]) | (1 << k)
                cell_a = region_of(a, starts) * T + np.int64(traits[a])
                cell_m = region_of(m, starts) * T + np.int64(traits[m])
                cnt[prm[P.M_BROKEN], cell_a] += 1
                lose(a, cell_a, ties, on_lists, state, flags, last_off, inbox, prm, cons, cnt)
                lose(m, cell_m, ties, on_lists, state, flags, last_off, inbox, prm, cons, cnt)
                rel = matching_relation(k, prm[P.K_FRIENDS], prm[P.BEST])
                nout = story(out, nout, a, m, day, SE.shunned, rel, flags)
                nout = story(out, nout, m, a, day, SE.tie_dropped, rel, flags)
        return nout

    return SimpleNamespace(had_ties=had_ties, breaks=breaks)


O = make(K, njit(inline="always", nogil=True))
_had_ties, _breaks = O.had_ties, O.breaks


@njit(parallel=True, nogil=True, cache=CACHE)
def count_ties(ties, prm, starts, keys):
    """Every person's ``ties`` word at the start (``make``'s ``had_ties``)."""
    for i in prange(prm[P.N]):
        _had_ties(i, ties, prm, starts, keys)


@njit(nogil=True, cache=CACHE)
def break_ties(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys, cnt, out):
    """A pass's breaks, in record order (``make``'s ``breaks``); returns the story rows written."""
    return _breaks(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys, cnt, out)


def apply_breaks(plan: Plan, ep, rec: np.ndarray, cols, cnt: np.ndarray) -> np.ndarray:
    """Break the ties a pass's ``SHUN`` records draw (``ep``: the epoch of the day they end), counting into
    ``cnt[metric, cell]``; returns the story rows, in record order."""
    shun = rec[rec[:, REC.KIND] == EVENT.SHUN]
    out = np.empty((2 * int(ep.prm[P.K]) * len(shun), EMIT_WIDTH), np.int64)  # (only the rows written are read)
    nout = break_ties(shun, cols.ties, cols.on_lists, cols.state, cols.traits, cols.flags, cols.last_off, cols.inbox,
                      ep.prm, ep.cons, plan.region_starts, plan.friend_keys, cnt, out)
    return out[:nout]
