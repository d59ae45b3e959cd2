"""The dense scheduler: every agent every day, in Numba-parallel passes over chunks of agents.

Chunks never straddle a region, so a chunk knows its region. Each chunk has its own counters and append
buffer; a chunk that runs out of buffer stops before the agent that might not fit and is resumed after the
buffer has grown, so no record is ever dropped and the result does not depend on chunk size or thread count.
``init_pass`` (every agent's initial state) serves both day schedulers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..compile import STATE, P, Plan
from .compiled import CACHE, K
from .kernels import EMIT_WIDTH, NONE_DAY, emit_margin
from .state import grow, records

__all__ = ["init_pass", "dense_pass", "make_init", "make_chunk", "chunks", "dense_days", "DEFAULT_CHUNK"]

DEFAULT_CHUNK = 1 << 16
ST_CODE = int(STATE.CODE)


def make_init(K, jit):
    """Every agent's initial state on one chunk, from the per-agent functions ``K`` (``kernels.build``),
    compiled with ``jit``: ``init_chunk(ch, ...)`` takes :func:`init_pass`'s arguments after the chunk's
    number (the CPU runs it for every chunk in a parallel loop, a GPU with a thread per chunk)."""
    init_agent, levels, tier_of, work_levels = K.init_agent, K.levels, K.tier_of, K.work_levels

    @jit
    def init_chunk(ch, lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt):
        score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, \
            state, ties, aware = cols
        T = prm[P.T]
        c = cnt[ch]
        for i in range(lo[ch], hi[ch]):
            init_agent(i, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding,
                       acct_since, state, prm, mins, class_cum, group_cum, holder_t, hh_adult, skeys)
            cell = region[ch] * T + np.int64(traits[i])
            tier = tier_of(score[i], mins, prm[P.NT])
            levels(c, cell, 1, tier, 0, flags[i], last_off[i] != NONE_DAY,
                   np.int64(ties[i]) if prm[P.HAS_SHUN] != 0 else np.int64(0), prm, cons)
            work_levels(c, cell, 1, i, tier, 0, flags[i], prm, cons, skeys)  # (engine.economy)

    return init_chunk


_init_chunk = make_init(K, njit(inline="always", nogil=True))


@njit(parallel=True, nogil=True, cache=CACHE)
def init_pass(lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt):
    """Initial state of every agent, and the initial level metrics in ``cnt[chunk]`` (:func:`make_init`)."""
    for ch in prange(lo.shape[0]):
        _init_chunk(ch, lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt)


def make_chunk(K, jit):
    """A pass's work on one chunk of agents, from the per-agent functions ``K`` (``kernels.build``), compiled
    with ``jit``: ``chunk(ch, lo, hi, ...)`` takes :func:`dense_pass`'s arguments after the chunk's number. The
    CPU's pass runs it for every chunk in a parallel loop; a GPU kernel can run it with a thread per chunk
    (``tests/test_rules_cuda.py``)."""
    quick, quick_args, finish, act = K.quick, K.quick_args, K.finish, K.act

    @jit
    def chunk(ch, lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a, beh,
              rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin):
        cap = emit.shape[1]
        T = prm_a[P.T]
        score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, \
            state, ties, aware = cols
        rec_quiet, rec_pts, rec_upto, s_lo, s_hi, plain, m_rec = quick_args(prm_f)
        ne = n_emit[ch]
        r = region[ch]
        stop = hi[ch]
        cf, ca, em = cnt_f[ch], cnt_a[ch], emit[ch]
        for i in range(resume[ch], hi[ch]):
            if ne + margin > cap:
                stop = i
                break
            cell = r * T + np.int64(traits[i])
            if not do_fin:
                code = np.int64(state[i]) & ST_CODE
            else:
                code = -1 if full else quick(i, d - 1, cell, score, pending, last_off, inbox, state,
                                               rec_quiet, rec_pts, rec_upto, s_lo, s_hi, plain, mins_f, cf, m_rec)
                if code < 0:
                    code, ne = finish(i, d - 1, cell, score, pending, last_off, listed, on_lists, traits, flags, inbox,
                                      acct, strikes, outstanding, acct_since, state, ties, aware, prm_f, mins_f,
                                      lists_f, cons_f, kf, ks, cf, em, ne)
            if do_act:
                tc = cell  # the tables' row: an unaware agent's is past the cells ([awareness])
                if prm_a[P.HAS_AWARE] != 0 and aware[i] == 0:
                    tc = cell + prm_a[P.R] * T
                ne = act(i, d, code, cell, tc, r, score, pending, last_off, listed, on_lists, traits, flags, inbox,
                         acct, strikes, outstanding, acct_since, state, prm_a, beh, rep, gate, cum, det, ka,
                         ca, em, ne)
        resume[ch] = stop
        n_emit[ch] = ne

    return chunk


_chunk = make_chunk(K, njit(inline="always", nogil=True))


@njit(parallel=True, nogil=True, cache=CACHE)
def dense_pass(lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f,
               prm_a, beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin):
    """Pass d: finish day d-1 (when ``do_fin``) and act on day d (when ``do_act``) for every agent, chunk by
    chunk (:func:`make_chunk`).

    ``full`` forces the full end of day for everyone (the day after a timeline change, when cached
    state bytes may be stale)."""
    for ch in prange(lo.shape[0]):
        _chunk(ch, lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a, beh,
               rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin)


def chunks(plan: Plan, chunk: int):
    """Agent ranges of at most ``chunk`` agents that never straddle a region: (lo, hi, region) arrays."""
    lo, hi, reg = [], [], []
    starts = plan.region_starts
    for r in range(len(starts) - 1):
        a = int(starts[r])
        while a < int(starts[r + 1]):
            b = min(a + chunk, int(starts[r + 1]))
            lo.append(a), hi.append(b), reg.append(r)
            a = b
    return np.array(lo, np.int64), np.array(hi, np.int64), np.array(reg, np.int64)


def dense_days(plan: Plan, loop, chunk: int, initial_emit: int):
    """The dense scheduler's day function for ``loop.advance`` (``loop``: an ``engine.loop.Loop``):
    ``day(d, ...) -> (records, cnt_f, cnt_a)``."""
    ct = loop.cols.as_tuple()
    lo, hi, reg = chunks(plan, max(1, int(chunk)))
    n_chunks = len(lo)
    buf = {"emit": np.zeros((n_chunks, max(initial_emit, emit_margin(plan.epoch_at(0).prm) + 1), EMIT_WIDTH),
                            np.int64)}

    def day(d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det, kf, ka, ks, NM, NC):
        cnt_f = np.zeros((n_chunks, NM, NC), np.int64)
        cnt_a = np.zeros((n_chunks, NM, NC), np.int64)
        n_emit = np.zeros(n_chunks, np.int64)
        resume = lo.copy()
        margin = emit_margin(ea.prm)
        while True:
            dense_pass(lo, hi, reg, resume, d, do_fin, do_act, full, ct, ef.prm, ef.tier_mins, lists_f, ef.cons,
                       ea.prm, ea.beh, ea.rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a,
                       buf["emit"], n_emit, margin)
            if np.all(resume >= hi):
                break
            buf["emit"] = grow(buf["emit"])
        return records(buf["emit"], n_emit), cnt_f, cnt_a

    return day
