"""The windowed route's run: windows of up to a year, then the lazy engine's outputs (``RawRun``).

Per window of W days (``d0 .. d0+W-1``): the route's tables (``agent.tables``, keyed by ``Stream.WINDOW`` and
the window's first day), guess, sweep and correct (``route``), the story agents replayed (``replay``), and the
window's metric changes added into the run's. Memory: 5 bytes per agent and 2 per list (class, score, last
offence, day listed on each list), 1 more with false attributions (a false record carried), the window's
start state when a window follows another (as many more but the class), and 4 bytes per penalty, about 20
per sender and a bit per agent while a window's penalties are written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from ...compile import CONS, FLAG, LIST, SE, P, Plan
from ...rng import GOLDEN, Stream, stream_key
from ..histogram import run_snapshot_days, score_bins
from ..threads import in_threads, work_slots
from ..budget import check_capacity
from ..state import Columns, RawRun
from ..stories import pick_story_agents
from .agent import MARKED, MAX_W, NEVER, UNLISTED, agent
from .draws import ACT_BITS, CACHE, INC_BITS, child_of, household, mix, tie_relation
from .model import CHUNKS, MAX_CRIT, SC, followed_list, marks_length, model_of
from .redress import carry, for_work_item, no_refunds, redress_of
from .replay import day_stream_keys, replay, undetected_keys
from .friends import friends_batch, friends_spec
from .incoming import listed_call, scratch
from .penalties import BLOCK, coarse_bits, penalties
from .route import correct, set_bits, sweep
from .route import verify as verify_window
from .tables import KEY, crit_tail, passes_to_children, tables
from .totals import Totals, window_arrays

__all__ = ["run_windowed", "window_length", "WindowState", "SLICES"]

SLICES = 8          # the sweep of a window of many agents is run in this many slices of blocks, for progress
SLICE_AGENTS = 1 << 25  # ... when it has at least this many agents per slice (each slice waits for its slowest chunk)
TAIL = 1e-12        # a window is short enough that more than MAX_CRIT network acts has at most this chance


def window_length(m, days: int) -> int:
    """The longest window (at most a year) in which no class is likely to have too many network acts."""
    W = min(days, 365, MAX_W)
    while W > 1 and crit_tail(m, W) > TAIL:
        W -= 1
    return W


def start_state(plan: Plan, base, cls, score, last_off, listed_on, fresh, adult):
    """Everyone's cell (``compile``'s order: region, class, group; the class and group hashed from the id as the
    day engines hash them, streams CLASS and GROUP, the region the id's block) into ``cls``, and when
    ``fresh`` the start state; returns the people and the children per cell (``adult``: ``Model.adult``). The
    chunks run on threads (``engine/threads.py``)."""
    n = plan.size
    ckey, gkey = np.uint64(stream_key(plan.seed, Stream.CLASS, 0)), np.uint64(stream_key(plan.seed, Stream.GROUP, 0))
    per = np.zeros((CHUNKS, 2, plan.n_cells), np.int64)

    def chunk(ch):
        start_chunk(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, ckey, gkey, plan.class_cum, plan.group_cum,
                    plan.region_starts, base, cls, score, last_off, listed_on, fresh, adult, per[ch])

    in_threads(chunk, CHUNKS)
    return per.sum(axis=0)


@njit(cache=CACHE, nogil=True)
def start_chunk(i0, i1, ckey, gkey, class_cum, group_cum, starts, base, cls, score, last_off, listed_on, fresh, adult,
                per):
    """:func:`start_state` for agents ``i0 .. i1-1``, counting them per cell into ``per[0]``, and the children
    among them into ``per[1]``."""
    C, G = class_cum.shape[0], group_cum.shape[0]
    here = np.zeros(per.shape, np.int64)  # counted here, not in ``per``: the work items' rows share cache lines
    r = 0
    for i in range(i0, i1):
        while i >= starts[r + 1]:
            r += 1
        u = mix(ckey + np.uint64(i) * GOLDEN) >> np.uint64(32)
        c = 0
        while u >= class_cum[c]:
            c += 1
        g = 0
        if G > 1:
            u = mix(gkey + np.uint64(i) * GOLDEN) >> np.uint64(32)
            while u >= group_cum[g]:
                g += 1
        cell = (r * C + c) * G + g
        cls[i] = cell
        here[0, cell] += 1
        here[1, cell] += child_of(i, adult)
        if fresh:
            score[i] = base
            last_off[i] = NEVER
            for L in range(listed_on.shape[0]):
                listed_on[L, i] = NEVER
    for cell in range(per.shape[1]):  # (element by element: an array assigned to a slice compiles numba's
        per[0, cell] = here[0, cell]    # message for mismatched shapes, seconds of a first run's compiling)
        per[1, cell] = here[1, cell]


def _incoming(a, n, d0, W, cls, S, M, T, fkeys, R=None):
    """The network penalties agent a receives in the window from its ties' final lists: (codes
    ``draws.inc_code(day, kind)``, the tie each comes from, what a is to it: ``REL``), in the day engines'
    order: by day, then by the tie's records (by tie, each act's behaviour in order), then by the kind of tie (``REL``: a household
    member's penalty before a matched tie's, matchings in order).
    Plain Python over the route's compiled functions, called with the types they are compiled for (a story
    agent at a time), on a work item's scratch arrays (``incoming.scratch``)."""
    w = scratch()
    w.one[0] = a
    friends_batch(w.one, n, fkeys, w.f4)
    lo, hi = household(a, n, M.house)
    # each tie, and what a is to it (``REL``: a matching's tie is the same kind both ways)
    ties = [(int(f), int(M.matched[x])) for x, f in enumerate(w.f4[0]) if f >= 0] + [
        (m, int(tie_relation(np.int64(m), np.int64(a), lo, M.adult))) for m in range(lo, hi)
        if m != a and not child_of(m, M.adult)]
    got = []
    for f, rel in ties:
        k = listed_call(np.int64(f), d0, W, cls, S, M, T, w.inc, np.int64(0), w.bo, w.bc, w.z1, w.D0, for_work_item(R))
        for code in w.inc[:k]:
            day, j = int(code) >> ACT_BITS, int(code) & ((1 << ACT_BITS) - 1)
            kind = int(M.kind_of[j, rel])
            if kind >= 0 and M.ties[day - d0, kind]:
                got.append((day, f, j, rel, kind))
    got.sort()
    return (np.array([(d << INC_BITS) | kind for d, _, _, _, kind in got], np.int64),
            np.array([f for _, f, _, _, _ in got], np.int64), np.array([rel for _, _, _, rel, _ in got], np.int64))


def _kid_days(a, n, d0, W, cls, S, M, T, fkeys, D, R=None) -> set:
    """The window days on which child a is under its household's adults' list sanctions: each adult run again
    with its final penalties, writing nothing but those days (``sgn`` 0, into ``D[13][0]``: the story agents
    are replayed after the window's work items). Plain Python over the compiled kernel, called with the types
    it is compiled for (a story agent at a time)."""
    w = scratch()
    lo, hi = household(a, n, M.house)
    D[13][0, :6] = 0  # the household's days for its children, which its adults' runs mark
    for m in range(lo, hi):
        if child_of(m, M.adult):
            continue
        inc, _, _ = _incoming(m, n, d0, W, cls, S, M, T, fkeys, R)
        if S[0]:
            s0, lo0, bl0 = S[5], NEVER, UNLISTED
        else:
            s0, lo0 = int(S[1][m]), int(S[2][m])
            bl0 = UNLISTED
            for L in range(S[3].shape[0]):
                bl0 = (bl0 & ~(0xFFFF << (16 * L))) | ((int(S[3][L, m]) & 0xFFFF) << (16 * L))
            bl0 |= MARKED if m < len(S[4]) and S[4][m] else 0
        agent(np.int64(m), np.int64(d0), np.int64(W), cls[m], np.int64(s0), np.int64(lo0), np.int64(bl0),
                   np.ascontiguousarray(inc, np.int64), np.int64(len(inc)), M, np.bool_(True), np.int64(0), D,
                   np.int64(0), w.out, w.bo, w.bc, for_work_item(R))
    days = sum((int(D[13][0, x]) & 0xFFFFFFFFFFFFFFFF) << (64 * x) for x in range(6))
    return {t for t in range(W) if (days >> t) & 1}


@dataclass
class WindowState:
    """Everything a windowed run carries from one window to the next, enough to resume it bit for bit (a
    checkpoint): ``day``, the first day of the next window; the columns (score, last offence, day listed
    [list, agent], false record carried: one entry, never set, in a scheme without false attributions); the
    refunds of contested false records carried into the next window (``redress.py``: none without redress);
    the metrics and story logs so far (``totals.Totals.ARRAYS``, and ``rows``)."""

    day: int
    cols: tuple
    totals: dict
    refunds: tuple = no_refunds()  # carried into the next window: (agents, days, behaviours), ``redress.py``

    def arrays(self) -> dict:
        return {"win_score": self.cols[0], "win_last_off": self.cols[1], "win_listed": self.cols[2],
                "win_marks": self.cols[3], "win_refund_agents": self.refunds[0], "win_refund_days": self.refunds[1],
                "win_refund_beh": self.refunds[2],
                **{f"win_{k}": v for k, v in self.totals.items()}}

    @classmethod
    def from_arrays(cls, day: int, z) -> "WindowState":
        if z["win_listed"].ndim != 2:
            raise ValueError("a windowed checkpoint's days listed are not kept per list: it was written by an "
                             "older scslab")
        if "win_marks" not in z:
            raise ValueError("a windowed checkpoint without false records: it was written by an older scslab")
        if "win_refund_agents" not in z:
            raise ValueError("a windowed checkpoint without refunds carried: it was written by an older scslab")
        cols = (z["win_score"], z["win_last_off"], z["win_listed"], z["win_marks"])
        refunds = tuple(np.asarray(z[f"win_refund_{k}"], np.int64) for k in ("agents", "days", "beh"))
        return cls(day, cols, {k: z[f"win_{k}"] for k in (*Totals.ARRAYS, "rows")}, refunds)


def run_windowed(plan: Plan, *, progress=None, stats: dict | None = None, verify: bool = False,
                 state: WindowState | None = None, after_window=None):
    """Run ``plan`` by windows; ``stats`` gets the seconds of each step and, per window, the senders corrected
    and agents run again (and with ``verify`` the values in which a plain sweep with the final lists differs
    from the corrected run: 0). ``state`` resumes a run at the start of a window (a checkpoint);
    ``after_window(state)`` is called after every window with the run's :class:`WindowState` (to write a
    checkpoint, or to stop by raising)."""
    import time


    check_capacity(plan, engine="windowed")
    m = model_of(plan)
    n, days, seed = plan.size, plan.days, plan.seed
    NT, NB, C = len(plan.tier_names), len(plan.behaviour_names), plan.n_cells  # C: cells, as the model's rates
    base, low = m.scalars[SC.BASE], m.scalars[SC.LOW]
    Wmax = window_length(m, days)
    NL = len(m.lists)
    NS = m.keep.shape[1]  # the states whose acts are counted apart (model.state_codes)
    KD = passes_to_children(m)
    kid = -1  # with four states, a child whose state each day is every child's
    if NS == 4 and len(m.adult) > 1:
        kids_at = np.flatnonzero(m.adult == 0)
        kid = int(kids_at[0]) if len(kids_at) and kids_at[0] < n else -1
    NM = marks_length(m, n)  # false records kept (one entry, never set, without false attributions)
    if state is not None and (state.day % Wmax or not 0 < state.day < days or state.cols[0].shape != (n,)
                              or state.cols[2].shape != (NL, n) or state.cols[3].shape != (NM,)):
        raise ValueError(f"a windowed run of {n:,} agents x {days} days in windows of {Wmax} days, {NL} lists and "
                         f"{NM:,} false records cannot resume at day {state.day} with {state.cols[0].shape[0]:,} "
                         f"agents, days listed of shape {state.cols[2].shape} and {state.cols[3].shape[0]:,} "
                         "false records")
    cls = np.empty(n, np.uint8)
    # score, last offence, day listed [list, agent], false record (a checkpoint's are used in place: a national
    # run holds them once)
    cols = ((np.empty(n, np.int16), np.empty(n, np.int16), np.empty((NL, n), np.int16), np.zeros(NM, np.uint8))
            if state is None else (*(np.ascontiguousarray(c, np.int16) for c in state.cols[:3]),
                                   np.ascontiguousarray(state.cols[3], np.uint8)))
    people, kids = start_state(plan, base, cls, *cols[:3], state is None, m.adult)
    # traits: class and group (the cell without its region: the region is the id's block)
    traits = cls if len(plan.region_names) == 1 else (cls % (len(plan.class_names) * len(plan.group_names))).astype(np.uint8)
    # no accounts: the adults (everyone without households) flagged adult
    flags = (np.broadcast_to(np.uint8(FLAG.ADULT), (n,)) if len(m.adult) == 1
             else np.resize(m.adult * np.uint8(FLAG.ADULT), n))
    false = len(m.fb) > 0
    story = [a for a, _ in pick_story_agents(plan, traits, flags, plan.scenario.run.story_agents)]
    no_ties = plan.epochs[0].prm[P.K] == 0 and m.house is None  # no tie loses points (nor a household's)
    fkeys = friends_spec(plan)  # the friend matchings (without friends never walked: nobody sends)
    cons = plan.epochs[0].cons
    attempts = [(k, int(cons[k, CONS.ATTEMPT]), SE.reward_granted if cons[k, CONS.REWARD] else SE.attempt_blocked,
                 -1 if cons[k, CONS.CHILDREN] else followed_list(cons[k, CONS.LISTS]),
                 0 if cons[k, CONS.CHILDREN] else int(cons[k, CONS.TIERS]), bool(cons[k, CONS.CHILDREN]))
                for k in range(len(cons)) if cons[k, CONS.ATTEMPT] > 0]
    blo, width, n_bins = score_bins(plan)
    bins = (np.arange(low, m.scalars[SC.HIGH] + 1, dtype=np.int64) - blo) // width
    snap_days = run_snapshot_days(plan)
    out = Totals(plan, m, story, cls[story] if story else np.zeros(0, np.int64))
    first = 0
    refunds = no_refunds()  # the refunds carried into the next window (redress.py)
    if state is not None:
        out.restore(state.totals)
        first = state.day
        refunds = state.refunds
    # redress: contested false records refunded after a delay (None: a scheme without, or without false records)
    prm = plan.epochs[0].prm
    contest = (int(prm[P.CONTEST_T]), int(prm[P.REDRESS_DELAY])) if false and prm[P.CONTEST_T] > 0 else None
    st = {"penalties": 0.0, "sweep": 0.0, "corrections": 0.0, "stories": 0.0, "corrected": [], "redone": [],
          "verify_diff": 0}
    done = first - 1  # the last day reported to ``progress``
    for d0 in range(first, days, Wmax):
        W = min(Wmax, days - d0)
        keys = np.array([stream_key(seed, Stream.WINDOW + j, d0) for j in KEY], np.uint64)
        mine = snap_days[(snap_days >= d0) & (snap_days < d0 + W)]
        snaps = np.r_[mine - d0, MAX_W + 1].astype(np.int64)
        M = tables(m, W, keys, bins, snaps, d0)
        S = (True, *cols, base) if d0 == 0 else (False, *(c.copy() for c in cols), base)
        T = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, MAX_CRIT), np.int64))
        slots = work_slots()  # the rows of the window's metric changes: one per work item running at once
        D = window_arrays(C, W, NT, NB, len(mine), n_bins, NL, false, NS, KD, rows=slots)
        R = None if contest is None else redress_of(*contest, n, C, W, refunds, rows=slots)
        t0 = time.perf_counter()
        pen = penalties(n, d0, W, cls, S, M, T, fkeys, BLOCK, coarse_bits(n), R)
        t1 = time.perf_counter()
        wrong = np.zeros((n >> 6) + 1, np.uint64)
        nb = pen[1].shape[0] - 1
        slices = max(1, min(SLICES, n // SLICE_AGENTS))
        for k in range(slices):
            sweep(n, d0, W, cls, cols, pen, BLOCK, M, T, D, wrong, k * nb // slices, (k + 1) * nb // slices, R)
            if progress is not None:  # the days are reported as the share of the window's agents swept
                done = _report(progress, done, d0 + (k + 1) * W // slices - 1)
        del pen
        t2 = time.perf_counter()
        T, counts = correct(set_bits(wrong), n, d0, W, cls, S, cols, M, T, fkeys, D, R)
        if R is not None:  # (out of the last window they would fall after the run: none are carried)
            refunds = carry(n, d0, W, cls, M, R) if d0 + W < days else no_refunds()
        t3 = time.perf_counter()
        if verify:
            st["verify_diff"] += verify_window(n, d0, W, cls, S, cols, M, T, fkeys, D, R)
        ukeys = undetected_keys(seed, d0, W, NB) if story else None
        akeys = day_stream_keys(seed, d0, W, Stream.ATTEMPT, len(cons)) if story and attempts else None
        for a in story:
            inc, senders, relations = ((np.zeros(0, np.int64),) * 3 if no_ties else
                                       _incoming(a, n, d0, W, cls, S, M, T, fkeys, R))
            s0 = (base, NEVER, (NEVER,) * NL, False) if S[0] else _state_of(a, S[1:5])
            with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
                und = m.und[cls[a]] if m.by_day is None else m.by_day.und[d0:d0 + W, cls[a]]
                kd = (_kid_days(a, n, d0, W, cls, S, M, T, fkeys, D, R) if KD and child_of(a, m.adult) else set())
                r = replay(a, d0, W, int(cls[a]), *s0[:3], inc, M, und, ukeys, senders=senders, relations=relations,
                           attempts=attempts, akeys=akeys, marked=s0[3], redress=R, kid_days=kd)
            if (*r["state"], r["marked"]) != _state_of(a, cols):
                raise RuntimeError(f"windowed route: agent {a}'s replay ends in {r['state']}, the sweep in "
                                   f"{_state_of(a, cols)} (window from day {d0})")
            out.add_story(a, d0, r, int(cls[a]))
        if kid >= 0:  # the children's state each day: a child's (they neither act nor lose points)
            s0 = (base, NEVER, (NEVER,) * NL, False) if S[0] else _state_of(kid, S[1:5])
            with np.errstate(over="ignore"):
                r = replay(kid, d0, W, int(cls[kid]), *s0[:3], (), M, m.und[0], undetected_keys(seed, d0, W, NB))
            out.kid_state[d0:d0 + W] = r["states"]
        out.add_window(d0, W, D, np.searchsorted(snap_days, mine), None if R is None else R.red)
        st["stories"] += time.perf_counter() - t3
        st["corrected"].append(counts[0])
        st["redone"].append(counts[1])
        st["penalties"] += t1 - t0
        st["sweep"] += t2 - t1
        st["corrections"] += t3 - t2
        if progress is not None:
            done = _report(progress, done, d0 + W - 1)
        if after_window is not None:
            after_window(WindowState(d0 + W, cols, out.saved(), refunds))
    if stats is not None:
        stats.update(st)
    coverage = np.array([plan.national(d) for d in range(days)], np.float64).reshape(days, len(plan.channel_names))
    rows = plan.epochs[0].lists[:, LIST.ROW]  # the lists that keep their days listed, in their rows' order
    dated = np.argsort(np.where(rows >= 0, rows, NL), kind="stable")[:plan.n_dated_lists]
    if false:  # some carrying a false record
        flags = flags | np.where(cols[3] != 0, np.uint8(FLAG.FALSE_MARK), np.uint8(0))
    on_lists = (cols[2][0] != NEVER).astype(np.uint8) if NL else np.zeros(1, np.uint8)
    for L in range(1, NL):
        on_lists |= (cols[2][L] != NEVER).astype(np.uint8) << np.uint8(L)
    columns = Columns(score=cols[0], pending=np.zeros(1, np.int16), last_off=cols[1],
                      listed=cols[2][:len(dated)] if (dated == np.arange(len(dated))).all() else cols[2][dated],
                      on_lists=on_lists,
                      traits=traits, flags=flags, inbox=np.zeros(1, np.uint8), acct=np.zeros(1, np.uint8),
                      strikes=np.zeros(1, np.uint8), outstanding=np.zeros(1, np.int16),
                      acct_since=np.zeros(1, np.int16), state=np.zeros(1, np.uint8), ties=np.zeros(1, np.uint32),
                      aware=np.zeros(1, np.uint8))
    return RawRun(out.counts(people, kids), out.story_rows(), np.array(story, np.int64), out.story_scores, columns, coverage,
                  out.hist, {})


def _state_of(a: int, cols: tuple) -> tuple:
    """Agent a's (score, last offence, (day listed on each list), whether it carries a false record) in the
    columns ``cols``."""
    return (int(cols[0][a]), int(cols[1][a]), tuple(int(v) for v in cols[2][:, a]),
            bool(a < len(cols[3]) and cols[3][a]))


def _report(progress, done: int, day: int) -> int:
    """Call ``progress`` with each day after ``done`` up to ``day`` (the contract: each finished day once)."""
    for d in range(done + 1, day + 1):
        progress(d)
    return max(done, day)
