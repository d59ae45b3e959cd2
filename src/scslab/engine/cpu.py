"""CPU driver: Numba-parallel dense passes over agent chunks, then a small sparse pass (parallel by target).

A day is: pass d (finish day d-1, act day d) in parallel over chunks -> sparse pass (network penalties,
children's inherited sanctions, redress) -> metrics. Chunks never straddle a region, so a chunk knows its
region. Each chunk has its own counters and append buffer; a chunk that runs out of buffer stops before the
agent that might not fit and is resumed after the buffer has grown, so no record is ever dropped and the
result does not depend on chunk size or thread count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np
from numba import njit, prange

from ..compile import EVENT, FLAG, INBOX, SE, P, Plan
from ..rng import day_keys
from .kernels import EMIT_WIDTH, I16, NONE_DAY, build, emit_margin
from .bits import prefetch
from .histogram import run_snapshot_days, score_bins, score_histogram
from .jitcache import engine_cache
from .state import EMIT_ROWS, Columns, allocate, check_capacity
from .stories import pick_story_agents

__all__ = ["run_cpu", "run_dense", "start", "advance", "passes", "finish_run", "with_levels", "Loop", "RawRun", "DEFAULT_CHUNK"]

DEFAULT_CHUNK = 1 << 16


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
# below are module-level so that numba can cache their machine code on disk (``cache=True``).
_K = build(njit(inline="always", nogil=True))
_CACHE = engine_cache()
init_agent, finish, act, quick, levels, tier_of = _K.init_agent, _K.finish, _K.act, _K.quick, _K.levels, _K.tier_of
partner, household_head, region_of, clamp = _K.partner, _K.household_head, _K.region_of, _K.clamp


@njit(parallel=True, nogil=True, cache=_CACHE)
def init_pass(lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt):
    """Initial state of every agent, and the initial level metrics in ``cnt[chunk]``."""
    score, pending, last_off, listed, traits, flags, inbox, acct, strikes, outstanding, acct_since, state = cols
    T = prm[P.T]
    for ch in prange(lo.shape[0]):
        c = cnt[ch]
        for i in range(lo[ch], hi[ch]):
            init_agent(i, score, pending, last_off, listed, traits, flags, inbox, acct, strikes, outstanding,
                       acct_since, state, prm, mins, class_cum, group_cum, holder_t, hh_adult, skeys)
            levels(c, region[ch] * T + np.int64(traits[i]), 1, tier_of(score[i], mins, prm[P.NT]), 0,
                   flags[i], last_off[i] != NONE_DAY, prm, cons)

@njit(parallel=True, nogil=True, cache=_CACHE)
def dense_pass(lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f,
               prm_a, beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin):
    """Pass d: finish day d-1 (when ``do_fin``) and act on day d (when ``do_act``) for every agent.

    ``full`` forces the full end of day for everyone (the day after a timeline change, when cached
    state bytes may be stale)."""
    cap = emit.shape[1]
    T = prm_a[P.T]
    score, pending, last_off, listed, traits, flags, inbox, acct, strikes, outstanding, acct_since, state = cols
    rec_quiet, rec_pts, rec_upto = prm_f[P.REC_QUIET], prm_f[P.REC_PTS], prm_f[P.REC_UPTO]
    s_lo, s_hi = prm_f[P.LO], prm_f[P.HI]
    plain = prm_f[P.HAS_OUTSTANDING] == 0 and prm_f[P.HAS_STRIKES] == 0
    m_rec = prm_f[P.M_RECOVERED]
    for ch in prange(lo.shape[0]):
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
                code = np.int64(state[i]) & 63
            else:
                code = -1 if full else quick(i, d - 1, cell, score, pending, last_off, inbox, state,
                                               rec_quiet, rec_pts, rec_upto, s_lo, s_hi, plain, mins_f, cf, m_rec)
                if code < 0:
                    code, ne = finish(i, d - 1, cell, score, pending, last_off, listed, traits, flags, inbox,
                                      acct, strikes, outstanding, acct_since, state, prm_f, mins_f, lists_f,
                                      cons_f, kf, ks, cf, em, ne)
            if do_act:
                ne = act(i, d, code, cell, r, score, pending, last_off, listed, traits, flags, inbox, acct,
                         strikes, outstanding, acct_since, state, prm_a, beh, rep, gate, cum, det, ka,
                         ca, em, ne)
        resume[ch] = stop
        n_emit[ch] = ne

@njit(inline="always", nogil=True)
def wake_up(wake, m):
    """Mark agent m to be visited at the next pass (lazy engine; ``wake`` is empty for the dense engine)."""
    if wake.shape[0] > 0:
        wake[m >> 6] |= np.uint64(1) << np.uint64(m & 63)


@njit(inline="always", nogil=True)
def penalise(m, day, b, pts, pending, traits, flags, starts, T, net_cnt, out, nout, wake, src, rel):
    """Network penalty of ``pts`` for tie ``m``: pending points, the count, and a story row if m has one.
    Children are not scored (they keep the base score), so a tie who is a child loses nothing. The story row's
    argument packs the behaviour, the relation ``rel`` (0 household, 1 friend) and the tie ``src`` whose act
    it was: ``b + 256 * rel + 512 * (src + 1)`` (``metrics.network_source`` unpacks it)."""
    if (flags[m] & FLAG.ADULT) == 0:
        return nout
    pending[m] = clamp(np.int64(pending[m]) + pts, -I16, I16)
    wake_up(wake, m)
    net_cnt[region_of(m, starts) * T + np.int64(traits[m])] += 1
    if (flags[m] & FLAG.STORY) != 0:
        out[nout, 0], out[nout, 1], out[nout, 2] = EVENT.STORY, m, day
        out[nout, 3], out[nout, 4], out[nout, 5] = SE.network_penalty, b + 256 * rel + 512 * (src + 1), pts
        nout += 1
    return nout


@njit(parallel=True, nogil=True, cache=_CACHE)
def tie_targets(rec, prm, starts, keys, targets):
    """``targets[j, k]``: the tie in friend matching k of record j's agent, for the network records that
    penalise friends (-1 elsewhere): the Feistel work of the sparse pass, done once per record before
    :func:`sparse_pass` applies the penalties."""
    n = prm[P.N]
    for j in prange(rec.shape[0]):
        for k in range(targets.shape[1]):
            targets[j, k] = -1
        if rec[j, 0] == EVENT.NETWORK and rec[j, 5] != 0:
            a = rec[j, 1]
            ra = region_of(a, starts)
            for k in range(prm[P.K]):
                lo, hi = (starts[ra], starts[ra + 1]) if k < prm[P.K_LOCAL] else (0, n)
                targets[j, k] = partner(a, k, lo, hi, keys)


@njit(parallel=True, nogil=True, cache=_CACHE)
def sparse_pass(rec, targets, cols, prm, starts, hh_head, hh_size, hh_adult, parts, net_cnt, out, seq, n_out, wake):
    """Network penalties and children's inherited sanctions. Friends come from ``targets``
    (:func:`tie_targets`). Every agent whose points or inbox change is marked in ``wake`` (the lazy engine's
    next pass).

    Lane ``ln`` applies, in record order, every change whose target lies in ``parts[ln] .. parts[ln + 1]``
    (multiples of 64, so lanes share no wake word): each agent's points add up in record order, whatever
    the lanes. Story rows go to ``out[ln]``, with their place in the serial order in ``seq[ln]`` (record x
    (K + 16) + member or 16 + matching), for the driver to merge; ``n_out[ln]`` counts them."""
    pending, listed, traits, flags, inbox = cols[1], cols[3], cols[4], cols[5], cols[6]
    n = prm[P.N]
    T = prm[P.T]
    B = hh_head.shape[0]
    W = prm[P.K] + 16
    for ln in prange(parts.shape[0] - 1):
        t0, t1 = parts[ln], parts[ln + 1]
        nc, o, sq = net_cnt[ln], out[ln], seq[ln]
        nout = 0
        for j in range(rec.shape[0]):
            if j + 16 < rec.shape[0]:  # the ties of the record 16 on (-1 for other records): fetch their columns
                for k in range(targets.shape[1]):
                    mm = targets[j + 16, k]
                    if mm >= t0 and mm < t1:
                        prefetch(pending, mm)
                        prefetch(traits, mm)
                        prefetch(flags, mm)
            kind, a, day = rec[j, 0], rec[j, 1], rec[j, 2]
            if kind == EVENT.NETWORK:
                b, hh_pts, fr_pts = rec[j, 3], rec[j, 4], rec[j, 5]
                if hh_pts != 0 and prm[P.HAS_HH] != 0:
                    head = household_head(a, hh_head)
                    for m in range(max(head, t0), min(head + hh_size[a % B], n, t1)):
                        if m != a:
                            before = nout
                            nout = penalise(m, day, b, hh_pts, pending, traits, flags, starts, T, nc, o, nout, wake, a, 0)
                            if nout > before:
                                sq[before] = j * W + (m - head)
                if fr_pts != 0:
                    for k in range(prm[P.K]):
                        m = targets[j, k]
                        if m >= t0 and m < t1:
                            before = nout
                            nout = penalise(m, day, b, fr_pts, pending, traits, flags, starts, T, nc, o, nout, wake, a, 1)
                            if nout > before:
                                sq[before] = j * W + 16 + k
            elif kind == EVENT.LIST_CHANGE:
                head = household_head(a, hh_head)
                end = min(head + hh_size[a % B], n)
                if end <= t0 or head >= t1:
                    continue
                any_listed = False
                for m in range(head, end):
                    if hh_adult[m % B] == 1:
                        for l in range(listed.shape[0]):
                            if (prm[P.CHILD_LISTS] >> l) & 1 and listed[l, m] != NONE_DAY:
                                any_listed = True
                for m in range(max(head, t0), min(end, t1)):
                    if hh_adult[m % B] == 0:
                        if any_listed:
                            inbox[m] = (inbox[m] | INBOX.CHILD_ON) & (0xFF ^ INBOX.CHILD_OFF)
                        else:
                            inbox[m] = (inbox[m] | INBOX.CHILD_OFF) & (0xFF ^ INBOX.CHILD_ON)
                        wake_up(wake, m)
        n_out[ln] = nout


def sparse_parts(n: int) -> np.ndarray:
    """The sparse pass's target ranges, one per thread: multiples of 64 (no two share a wake word)."""
    L = max(1, numba.get_num_threads())
    parts = np.linspace(0, n, L + 1).astype(np.int64) // 64 * 64
    parts[-1] = n
    return parts


def _sparse(plan: Plan, ep, rec: np.ndarray, ct, wake: np.ndarray, parts: np.ndarray):
    """The sparse pass over one pass's records: (story rows in record order, network penalties per cell)."""
    K = int(ep.prm[P.K])
    targets = np.empty((len(rec), K), np.int64)
    tie_targets(rec, ep.prm, plan.region_starts, plan.friend_keys, targets)
    L = len(parts) - 1
    # story rows: at most one per tie reached (a household has at most 16 members); uninitialised, as only
    # the rows written are read
    rows = int(np.count_nonzero(rec[:, 0] == EVENT.NETWORK)) * (K + 16) + 1
    out, seq = np.empty((L, rows, EMIT_WIDTH), np.int64), np.empty((L, rows), np.int64)
    n_out = np.zeros(L, np.int64)
    net_cnt = np.zeros((L, plan.n_cells), np.int64)
    sparse_pass(rec, targets, ct, ep.prm, plan.region_starts, plan.hh_head, plan.hh_size, plan.hh_adult, parts,
                net_cnt, out, seq, n_out, wake)
    stories = np.concatenate([out[ln, : n_out[ln]] for ln in range(L)])
    order = np.argsort(np.concatenate([seq[ln, : n_out[ln]] for ln in range(L)]), kind="stable")
    return stories[order], net_cnt.sum(axis=0)


def _chunks(plan: Plan, chunk: int):
    lo, hi, reg = [], [], []
    starts = plan.region_starts
    for r in range(len(starts) - 1):
        a = int(starts[r])
        while a < int(starts[r + 1]):
            b = min(a + chunk, int(starts[r + 1]))
            lo.append(a), hi.append(b), reg.append(r)
            a = b
    return np.array(lo, np.int64), np.array(hi, np.int64), np.array(reg, np.int64)


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


def start(plan: Plan, *, chunk: int = DEFAULT_CHUNK, engine: str = "dense") -> Loop:
    """Allocate the columns and set every agent's initial state: the loop before pass 0."""
    check_capacity(plan, engine=engine)
    cols = allocate(plan)
    lo, hi, reg = _chunks(plan, max(1, int(chunk)))
    e0 = plan.epoch_at(0)
    NM, NC = len(plan.metric_names), plan.n_cells
    level0 = np.zeros((len(lo), NM, NC), np.int64)
    init_pass(lo, hi, reg, cols.as_tuple(), e0.prm, e0.tier_mins, e0.cons, plan.class_cum, plan.group_cum,
              plan.holder_t, plan.hh_adult, day_keys(plan.seed, 0), level0)
    picks = pick_story_agents(plan, cols.traits, cols.flags, plan.scenario.run.story_agents)
    story_ids = np.array([a for a, _ in picks], np.int64)
    cols.flags[story_ids] |= np.uint8(FLAG.STORY)
    cols.state[story_ids] |= np.uint8(128)  # BUSY: story agents always take the full end of day
    lazy = None
    if engine == "lazy":
        from .lazy import lazy_start

        lazy = lazy_start(plan)
    return Loop(day=0, cols=cols, counts=np.zeros((plan.days, NM, NC), np.int64), level0=level0.sum(axis=0),
                story_ids=story_ids, story_scores=np.zeros((plan.days, len(story_ids)), np.int16),
                coverage=np.zeros((plan.days, len(plan.channel_names))),
                score_hist=np.zeros((len(run_snapshot_days(plan)), score_bins(plan)[2]), np.int64), stories=[],
                redress=np.zeros((0, EMIT_WIDTH), np.int64), lazy=lazy,
                entities={name: start(p, chunk=chunk, engine=engine) for name, p in plan.entities.items()})


def run_cpu(plan: Plan, *, threads: int | None = None, chunk: int = DEFAULT_CHUNK,
            progress: Callable[[int], None] | None = None, initial_emit: int = EMIT_ROWS,
            loop: Loop | None = None, after_pass: Callable[[Loop], None] | None = None,
            engine: str = "dense", after_window=None) -> RawRun:
    """Run ``plan`` on the CPU and return the raw counts and story rows.

    ``engine`` is a scheduler (``windowed``, ``lazy`` or ``dense``) or ``auto``, the fastest that can run the
    plan (``engine.routes.choose_route``; a scheduler that cannot is refused by name). ``loop`` continues a
    day-by-day run from a checkpoint (a ``Loop``), or a windowed one (a ``WindowState``); the checkpoint's
    scheduler then runs. ``after_pass(loop)`` is called after every pass of a day-by-day run, when the loop is
    consistent (to write checkpoints, or to stop by raising), so it needs a day-by-day scheduler;
    ``after_window(state)`` is called after every window of a windowed run, for the same purposes.
    """
    from .routes import choose_route

    if loop is not None:
        engine = "windowed" if not isinstance(loop, Loop) else ("dense" if loop.lazy is None else "lazy")
    else:
        engine = choose_route(plan, engine, needs=("every-day",) if after_pass is not None else ())
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        if engine == "windowed":
            from .windowed import run_windowed

            return run_windowed(plan, progress=progress, state=loop, after_window=after_window)
        loop = start(plan, chunk=chunk, engine=engine) if loop is None else loop
        advance(plan, loop, chunk=chunk, progress=progress, initial_emit=initial_emit, after_pass=after_pass)
        return finish_run(plan, loop)
    finally:
        numba.set_num_threads(previous_threads)


def run_dense(plan: Plan, **kw) -> RawRun:
    """:func:`run_cpu` with the dense engine unless ``engine=`` says otherwise (tests and benchmarks)."""
    return run_cpu(plan, **{"engine": "dense", **kw})


def finish_run(plan: Plan, loop: Loop) -> RawRun:
    """The raw result of a finished loop: level metrics added up from their daily changes."""
    if loop.day != plan.days + 1:
        raise ValueError(f"the loop is at pass {loop.day}, not finished ({plan.days + 1} passes)")
    counts = with_levels(plan, loop.counts, loop.level0)
    if loop.lazy is not None:  # deferred recovery steps, kept as daily changes
        counts[:, plan.epochs[0].prm[P.M_RECOVERED]] += np.cumsum(loop.lazy.rec_diff.sum(axis=0), axis=0)[:-1]
    return RawRun(counts, loop.story_rows(), loop.story_ids, loop.story_scores, loop.cols, loop.coverage,
                  loop.score_hist, {name: finish_run(p, loop.entities[name]) for name, p in plan.entities.items()})


def with_levels(plan: Plan, changes: np.ndarray, level0: np.ndarray) -> np.ndarray:
    """A copy of ``changes`` [days, metrics, ...] with the level metrics summed up from their daily changes,
    starting from ``level0`` [metrics, ...] (the levels before day 0)."""
    counts = changes.copy()
    lv = plan.is_level
    counts[:, lv] = np.cumsum(changes[:, lv], axis=0) + level0[lv]
    return counts


def advance(plan: Plan, loop: Loop, *, chunk: int = DEFAULT_CHUNK, progress=None, initial_emit: int = EMIT_ROWS,
            after_pass=None) -> None:
    """Run passes ``loop.day .. days`` in place (pass d finishes day d-1 and acts on day d).

    Entity types (``plan.entities``) run in lockstep: after the persons' pass d, each entity type's pass d,
    then ``after_pass``, so a checkpoint always finds every population at the same pass."""
    others = [passes(plan.entities[name], sub, chunk=chunk, initial_emit=initial_emit)
              for name, sub in loop.entities.items()]
    for _ in passes(plan, loop, chunk=chunk, progress=progress, initial_emit=initial_emit):
        for other in others:
            next(other)
        if after_pass is not None:
            after_pass(loop)


def passes(plan: Plan, loop: Loop, *, chunk: int = DEFAULT_CHUNK, progress=None, initial_emit: int = EMIT_ROWS):
    """The passes of one population from ``loop.day`` on, as a generator that yields after each pass."""
    ct = loop.cols.as_tuple()
    ks = day_keys(plan.seed, 0)
    D, NM, NC = plan.days, len(plan.metric_names), plan.n_cells
    counts, cols = loop.counts, loop.cols
    no_wake = np.zeros(0, np.uint64)  # the dense engine marks nobody for the next pass
    snap = {int(day): k for k, day in enumerate(run_snapshot_days(plan))}
    if loop.lazy is None:
        day_pass, H = _dense_days(plan, loop, chunk, initial_emit), 1
    else:
        from .lazy import RING as H, lazy_days

        day_pass = lazy_days(plan, loop, initial_emit)
    parts = sparse_parts(plan.size)  # the thread count does not change during a run
    ka = day_keys(plan.seed, loop.day - 1)
    for d in range(loop.day, D + 1):
        do_fin, do_act = d > 0, d < D
        ef, ea = plan.epoch_at(max(d - 1, 0)), plan.epoch_at(min(d, D - 1))
        if do_act:
            gate, cum, det, cov = plan.day_tables(d)
            loop.coverage[d] = cov
        else:  # the last pass only finishes day D-1; the act tables are passed but not read
            gate, cum, det, _ = plan.day_tables(D - 1)
        kf, ka = ka, day_keys(plan.seed, d)  # day d-1's keys were day d-1's act keys
        full = d >= 2 and plan.epoch_at(d - 2) is not ef  # rules changed: cached state bytes may be stale
        lists_f = ef.lists
        if do_fin and len(lists_f):  # column 7: 0 on a publication day (kernels avoid a division per agent)
            lists_f = lists_f.copy()
            lists_f[:, 7] = (d - 1) % np.maximum(ef.lists[:, 7], 1)
        rec, cnt_f, cnt_a = day_pass(d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det, kf, ka, ks, NM, NC)
        wake = no_wake if loop.lazy is None else loop.lazy.ring[(d + 1) % H]
        if len(rec):
            n_kind = np.bincount(rec[:, 0], minlength=len(EVENT))
            if n_kind[EVENT.STORY]:
                loop.stories.append(rec[rec[:, 0] == EVENT.STORY])
            if n_kind[EVENT.NETWORK] or n_kind[EVENT.LIST_CHANGE]:  # ties' penalties, children's sanctions
                tie_stories, net_cnt = _sparse(plan, ea, rec, ct, wake, parts)
                loop.stories.append(tie_stories)
                if do_act:
                    counts[d, ea.prm[P.M_NET]] += net_cnt
            if n_kind[EVENT.REDRESS]:
                loop.redress = np.concatenate([loop.redress, rec[rec[:, 0] == EVENT.REDRESS]])
        if do_act and len(loop.redress):
            loop.redress = _apply_redress(plan, ea, cols, loop.redress, d, cnt_a, loop.stories, wake)
        if do_fin:
            counts[d - 1] += cnt_f.sum(axis=0)
            loop.story_scores[d - 1] = cols.score[loop.story_ids]
            if d - 1 in snap:
                loop.score_hist[snap[d - 1]] = score_histogram(plan, cols, d - 1, loop.lazy is not None)
        if do_act:
            counts[d] += cnt_a.sum(axis=0)
        loop.day = d + 1
        if progress is not None and do_act:
            progress(d)
        yield d


def _dense_days(plan: Plan, loop: Loop, chunk: int, initial_emit: int):
    """The dense engine's day function for ``advance``: ``day(d, ...) -> (records, cnt_f, cnt_a)``."""
    ct = loop.cols.as_tuple()
    lo, hi, reg = _chunks(plan, max(1, int(chunk)))
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


def _apply_redress(plan: Plan, ep, cols: Columns, redress: np.ndarray, d: int, cnt_a, stories,
                   wake: np.ndarray) -> np.ndarray:
    """Remove contested false records whose delay ends today: refund the points, clear the mark."""
    due = redress[:, 2] == d
    if not due.any():
        return redress[redress[:, 2] > d]
    r = redress[due]
    agents, b, pts = r[:, 1], r[:, 3], r[:, 4]
    on_score = ep.beh[b, 1] < 0
    for a, p in zip(agents[on_score], pts[on_score]):
        cols.pending[a] = np.int16(max(-30000, min(30000, int(cols.pending[a]) - int(p))))
    for a, p in zip(agents[~on_score], pts[~on_score]):
        cols.acct[a] = np.uint8(min(int(cols.acct[a]) - int(p), int(ep.prm[P.ACCT_PTS])))
    cols.inbox[agents] |= np.uint8(INBOX.CLEAR_FALSE)
    if len(wake):
        np.bitwise_or.at(wake, agents >> 6, np.uint64(1) << (agents & 63).astype(np.uint64))
    T = ep.prm[P.T]
    region = np.searchsorted(plan.region_starts, agents, side="right") - 1
    cells = region * T + cols.traits[agents].astype(np.int64)
    np.add.at(cnt_a[0, ep.prm[P.M_REDRESSED]], cells, 1)
    story = (cols.flags[agents] & FLAG.STORY) != 0
    if story.any():
        rows = np.zeros((int(story.sum()), EMIT_WIDTH), np.int64)
        rows[:, 0], rows[:, 1], rows[:, 2] = EVENT.STORY, agents[story], d
        rows[:, 3], rows[:, 4], rows[:, 5] = SE.redress, b[story], -pts[story]
        stories.append(rows)
    return redress[redress[:, 2] > d]

