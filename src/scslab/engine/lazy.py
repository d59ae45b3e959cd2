"""The lazy CPU engine: visit only the agents something happens to.

On most days most agents do nothing: no act, no points waiting, no timer. The dense engine still reads every
agent every day. The lazy engine reaches the agents that act by *geometric skipping* and the others by a
*wake ring*; everything in between is computed in closed form. The rules themselves are not repeated: a
visited agent runs the same compiled per-agent functions as in the dense engine (``engine.kernels``:
``quick`` / ``finish`` for the end of day, ``events`` for the day's acts).

A pass d (finish day d-1, act on day d) visits, in increasing id order within fixed blocks of 2**16 agents:

1. **Woken agents**: the bits of ``ring[d % H]``. An agent is woken for the next pass when it has points or
   flag changes waiting (its own acts, network penalties, redress), when it is BUSY (listed, sanctioned,
   indebted, a story agent: these draw attempts and repayments every day, exactly as in the dense engine),
   or when it is recovering and its recovery cannot be deferred. Deferred recoveries wake the agent on the
   day its recovery crosses into a higher tier: through a fine slot of the ring when that is at most
   ``H - 1`` passes ahead, else through a *coarse slot*, one per window of H passes (a timing wheel). At the
   start of each window its coarse slot is *settled*: the wake-up pass of each agent in it is worked out
   again from its state (``plan_days``, as ``defer`` did) and set in a fine slot, or the agent moves on to a
   later window. Settling reads the few agents in the slot; none is visited early.
2. **Candidates**: agents are grouped into bands of cells with similar gate rates (bitmaps, one bit per
   agent and band). Within a band with today's highest gate ``p``, the next candidate is ``k`` members on,
   ``k ~ Geometric(p)`` drawn from the counter-based stream ``SKIP`` keyed by (day, block, band). A candidate
   is accepted when ``v < gate[cell, state]``, with ``v`` uniform on ``[0, p)``: the thinning makes each
   agent's day have an event with exactly its own probability, and ``v`` given acceptance is uniform on
   ``[0, gate)`` as the dense engine's ``u`` is. The gate here counts only *detected* events: undetected acts
   change nothing but a count, and are counted in aggregate (``engine/detected.py``).

**Deferred recovery** (``engine/deferral.py``): a recovering idle agent whose recovery can be worked out in
closed form is left alone until the day it crosses into a higher tier. Deferral never spans a change of
rules (the day after a timeline change visits everyone).

The result depends on the seed only (not on threads or chunking), and agrees with the dense engine in law,
not draw for draw: the two engines use different random streams for who acts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..compile import FLAG, INBOX, STATE, P, Plan
from ..rng import GOLDEN, Stream
from .bits import ALL_ONES, U64_1, lowest, popcount, select, set_bit
from .compiled import CACHE, K
from .state import grow, records
from .deferral import BLOCK, COARSE, NEVER, RING, defer, materialize, settle, wake_at
from .attempts import count_tier_attempts, counted
from .detected import KeyedGenerator, count_undetected, detected_events, lazy_tables, undetected

__all__ = ["LazyState", "lazy_start", "lazy_days", "BLOCK", "RING", "COARSE", "ring_bytes", "ALL_ONES"]

MAX_LANES = 32           # parallel work items (contiguous runs of blocks); the result does not depend on it
MAX_BANDS = 4

# the end of day inlined: the pass runs it for every woken agent that ``quick`` cannot settle (on the court list
# every debtor, every day), and as a call its twenty-odd arrays made the court list's year at 21.7 M take 1.8
# times the CPU
finish, quick, quick_args, draw = K.finish_inlined, K.quick, K.quick_args, K.draw
mix = K.mix
# the story agents' own undetected acts (a path taken by a handful of agents) are called, not inlined into the
# pass: less machine code to compile (docs/performance.md, "Compilation")
undetected_story = njit(nogil=True)(getattr(undetected, "py_func", undetected))  # (the function itself without JIT)
VIRTUAL = np.uint8(INBOX.VIRTUAL)
ST_CODE, ST_RECOVERING, ST_BUSY = int(STATE.CODE), int(STATE.RECOVERING), int(STATE.BUSY)
F_STORY = FLAG.STORY
TWO53 = 1.0 / 9007199254740992.0


@dataclass
class LazyState:
    """What the lazy engine carries between passes besides the columns (saved in checkpoints).

    ``ring[p % RING]`` holds one bit per agent to visit at pass p, and ``ring[RING + w % COARSE]`` one bit
    per agent whose deferred recovery wakes it in window w (passes ``RING * w .. RING * w + RING - 1``), beyond
    the fine slots' reach; ``rec_diff[lane, day, cell]`` the daily changes of the ``recovering`` count from
    deferred recoveries (added up when the run finishes). ``people[code, cell]`` counts the agents (story
    agents aside) per state code as of the last pass; it is derived from the columns when a run starts or
    resumes, so checkpoints do not hold it."""

    ring: np.ndarray        # uint64[RING + COARSE, words]
    rec_diff: np.ndarray    # int64[lanes, days + 1, cells]
    people: np.ndarray | None = None  # int64[states, cells]


def ring_bytes(n: int, n_bands: int = MAX_BANDS) -> int:
    """Bytes of the lazy engine's bitmaps for n agents: the wake ring (fine and coarse slots) and the band
    bitmaps."""
    return (RING + COARSE + n_bands) * 8 * (-(-n // 64))


@njit(nogil=True)  # called once per block and band; inlined, it took 3.6 s more to compile
def block_candidates(words, b0, b1, key, lq, out):
    """A band's candidates in the block ``[b0, b1)``, in increasing order, as offsets from ``b0`` in ``out``;
    returns their number. Each is ``k ~ Geometric(p)`` members on from the one before (``lq = log(1 - p)``),
    ``k`` drawn from the band's stream ``key`` with counter 0, 1, 2, ... (one draw per candidate, and one
    that ends the block).

    A block's candidates are drawn before any of them is visited: the draws and logarithms of one candidate
    do not wait on the walk to the one before, so their latencies overlap."""
    nc = 0
    pos = b0
    c = 0
    while pos < b1:
        u = (np.float64(mix(key + np.uint64(c) * GOLDEN) >> np.uint64(11)) + 1.0) * TWO53
        c += 1
        x = np.log(u) / lq
        if x >= 1e12:
            break
        k = np.int64(x)
        w = pos >> 6
        m = words[w] & (ALL_ONES << np.uint64(pos & 63))
        i = b1
        while True:
            n = np.int64(popcount(m))
            if k < n:
                i = (w << 6) + select(m, k)
                break
            k -= n
            w += 1
            if (w << 6) >= b1:
                break
            m = words[w]
        if i >= b1:
            break
        out[nc] = i - b0
        nc += 1
        pos = i + 1
    return nc


# --- the pass ---------------------------------------------------------------------------------------------

@njit(parallel=True, nogil=True, cache=CACHE)
def lazy_pass(lanes, cur, cand, n, d, do_fin, do_act, full, can_defer, lim_c, lim_p, ring,
              bands, band_thr, band_lq, starts, cols, prm_f, mins_f, lists_f, cons_f, prm_c, mins_c, prm_a,
              mins_a, beh, rep, cum, det, gate, und, kf, ka, ks, cnt_f, cnt_a, rec_diff, emit, n_emit, margin):
    """Pass d over the woken agents and today's candidates, lane by lane (see the module docstring).

    Each block's candidates are drawn first, band by band, into ``cand[lane, band]`` (offsets in the block),
    then the block's woken agents and candidates are visited in id order. A lane that runs short of emit
    buffer stops before the agent that might not fit and saves its place in ``cur`` (block, agent); the
    driver grows the buffer and calls again, and the block's candidates are drawn again, the same.

    Agents visited for a detected event are counted by state code in ``cnt_a[lane, M_CODE + code]``: they
    and the story agents draw their undetected acts themselves (``engine/detected.py``)."""
    H = RING
    cap = emit.shape[1]
    NB = bands.shape[0]
    T = prm_a[P.T]
    score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, state, \
        ties, aware = cols
    rqf, rpf, ruf, lof, hif, plain, m_rec = quick_args(prm_f)
    m_code, m_acts = prm_a[P.M_CODE], prm_a[P.M_ACTS]
    rqc, rpc, ruc = prm_c[P.REC_QUIET], prm_c[P.REC_PTS], prm_c[P.REC_UPTO]
    rqa, rpa, rua = prm_a[P.REC_QUIET], prm_a[P.REC_PTS], prm_a[P.REC_UPTO]
    skip_key = ka[Stream.SKIP]
    gate_key = ka[Stream.GATE]
    slot = ring[d % H]
    nxt = ring[(d + 1) % H]
    for ln in prange(lanes.shape[0]):
        blk, pos = cur[ln, 0], cur[ln, 1]
        ne = n_emit[ln]
        cf, ca, em, rd = cnt_f[ln], cnt_a[ln], emit[ln], rec_diff[ln]
        cl = cand[ln]
        nc = np.zeros(NB, np.int64)   # candidates of each band in the current block
        at = np.zeros(NB, np.int64)   # the next one to visit
        while blk < lanes[ln, 1]:
            b0 = blk * BLOCK
            b1 = min(b0 + BLOCK, n)
            pos = max(pos, b0)
            for k in range(NB):
                nc[k] = 0
                if do_act and band_thr[k] != 0:
                    key = mix(skip_key + np.uint64(blk * 8 + k) * GOLDEN)  # the band's stream in this block
                    nc[k] = block_candidates(bands[k], b0, b1, key, band_lq[k], cl[k])
                at[k] = 0
                while at[k] < nc[k] and b0 + np.int64(cl[k, at[k]]) < pos:  # resuming: visited already
                    at[k] += 1
            r = np.searchsorted(starts, pos, side="right") - 1
            w = pos >> 6
            m = slot[w] & (ALL_ONES << np.uint64(pos & 63)) if pos < b1 else np.uint64(0)
            stopped = False
            while True:
                while m == 0 and ((w + 1) << 6) < b1:
                    w += 1
                    m = slot[w]
                iw = (w << 6) + np.int64(lowest(m)) if m != 0 else b1
                i, kb = iw, -1
                for k in range(NB):  # bands are disjoint: a candidate may only coincide with the woken agent
                    if at[k] < nc[k]:
                        ic = b0 + np.int64(cl[k, at[k]])
                        if ic < i:
                            i, kb = ic, k
                        elif ic == i:
                            kb = k
                if i >= b1:
                    break
                if ne + margin > cap:
                    pos, stopped = i, True
                    break
                woken = i == iw
                if woken:
                    bit = U64_1 << np.uint64(i & 63)
                    m ^= bit
                    slot[w] ^= bit
                while i >= starts[r + 1]:
                    r += 1
                cell = r * T + np.int64(traits[i])
                code = np.int64(state[i]) & ST_CODE
                virtual = (inbox[i] & VIRTUAL) != 0
                accepted = False
                v = np.uint64(0)
                if kb >= 0:
                    v = (draw(gate_key, i) * band_thr[kb]) >> np.uint64(32)
                if kb >= 0 and not woken:
                    # an idle agent's state code is its start-of-day code (a deferred recovery step never
                    # changes it), so it can be tested before its end of day
                    accepted = v < gate[cell, code]
                    fin = accepted and virtual and do_fin
                else:
                    fin = woken and do_fin
                if fin:  # end of day d-1: woken agents, and deferred ones about to act
                    if virtual:
                        materialize(i, d, cell, score, last_off, inbox, state, rqc, rpc, ruc, mins_c, lim_c, rd)
                    code = -1 if full else quick(i, d - 1, cell, score, pending, last_off, inbox, state, rqf, rpf,
                                                 ruf, lof, hif, plain, mins_f, cf, m_rec)
                    if code < 0:
                        code, ne = finish(i, d - 1, cell, score, pending, last_off, listed, on_lists, traits, flags, inbox,
                                          acct, strikes, outstanding, acct_since, state, ties, aware, prm_f, mins_f,
                                          lists_f, cons_f, kf, ks, cf, em, ne)
                if kb >= 0:
                    if woken:
                        accepted = v < gate[cell, code]
                    if accepted:
                        ne, found = detected_events(v, i, d, code, cell, r, score, pending, last_off, listed,
                                                    on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since,
                                                    state, prm_a, beh, rep, cum, det, ka, ca, em, ne)
                        story = (flags[i] & F_STORY) != 0
                        if not story:
                            ca[m_code + code, cell] += 1
                        ne = undetected(i, d, cell, code, found, story, und, ka, m_acts, ca, em, ne)
                    at[kb] += 1
                if woken and not accepted and do_act and state[i] >= ST_BUSY and (flags[i] & F_STORY) != 0:
                    ne = undetected_story(i, d, cell, code, 0, True, und, ka, m_acts, ca, em, ne)
                visited = woken or accepted
                if visited and do_act:  # who must be seen again, and when
                    st = np.int64(state[i])
                    if pending[i] != 0 or inbox[i] != 0 or st >= ST_BUSY:
                        set_bit(nxt, i)
                    elif (st & ST_RECOVERING) != 0:
                        if can_defer:
                            wake = defer(i, d, cell, score, last_off, inbox, state, rqa, rpa, rua, mins_a, lim_p, rd)
                            if wake != NEVER:
                                wake_at(ring, wake, d, i)
                        else:
                            set_bit(nxt, i)
            if stopped:
                break
            blk += 1
            pos = blk * BLOCK
        cur[ln, 0], cur[ln, 1] = blk, pos
        n_emit[ln] = ne


@njit(parallel=True, nogil=True, cache=CACHE)
def build_bitmaps(lanes, n, starts, T, traits, state, pending, inbox, flags, band_of_cell, bands, wake, people):
    """Band membership of every agent, the agents to wake at pass 1 (BUSY, recovering, or waiting), and the
    people (story agents aside) per state code and cell in ``people[lane]`` (when it has rows)."""
    for ln in prange(lanes.shape[0]):
        r = 0
        for i in range(lanes[ln, 0] * BLOCK, min(lanes[ln, 1] * BLOCK, n)):
            while i >= starts[r + 1]:
                r += 1
            cell = r * T + np.int64(traits[i])
            k = band_of_cell[cell]
            if k < bands.shape[0]:
                set_bit(bands[k], i)
            if people.shape[1] > 0 and (flags[i] & F_STORY) == 0:
                people[ln, np.int64(state[i]) & ST_CODE, cell] += 1
            if wake.shape[0] > 0 and (state[i] >= ST_RECOVERING or pending[i] != 0 or inbox[i] != 0):
                set_bit(wake, i)


# --- the driver -------------------------------------------------------------------------------------------

def lane_ranges(n: int) -> np.ndarray:
    """Contiguous runs of blocks, one per parallel work item: int64[lanes, 2] (first block, end block)."""
    blocks = max(1, -(-n // BLOCK))
    edges = np.linspace(0, blocks, min(blocks, MAX_LANES) + 1).round().astype(np.int64)
    return np.stack([edges[:-1], edges[1:]], axis=1)


def _band_cells(plan: Plan) -> np.ndarray:
    """Band of each cell: cells whose highest gate rate (sampled over the run) is within a factor 2 share a
    band; cells that never act on the sampled days join the last band, so no agent is ever out of reach."""
    days = sorted({0, plan.days - 1, *range(0, plan.days, max(1, plan.days // 16)),
                   *(e.start for e in plan.epochs if e.start < plan.days)})
    rate = np.zeros(plan.n_cells)
    for day in days:
        rate = np.maximum(rate, lazy_tables(plan, day)[0].max(axis=1) / 2.0**32)
    if not (rate > 0).any():
        return np.zeros(plan.n_cells, np.int64)
    k = np.full(plan.n_cells, MAX_BANDS - 1, np.int64)
    pos = rate > 0
    k[pos] = np.minimum(np.floor(np.log2(rate.max() / rate[pos])).astype(np.int64), MAX_BANDS - 1)
    used = np.unique(k)
    return np.searchsorted(used, k).astype(np.int64)


def _epoch_end(plan: Plan, day: int) -> int:
    """Last day (at most days - 1) ruled by the epoch in force on ``day``."""
    later = [e.start for e in plan.epochs if e.start > day]
    return min(min(later) - 1 if later else plan.days - 1, plan.days - 1)


def _can_defer(plan: Plan, d: int) -> bool:
    """May recoveries planned at pass d be deferred? Not across a change of rules, not with record retention
    or escalation (every recovery step is then a full end of day), and not where the virtual score might leave
    the int16 range."""
    if d < 1 or d >= plan.days or plan.epoch_at(d) is not plan.epoch_at(d - 1):
        return False
    prm = plan.epoch_at(d).prm
    return bool(prm[P.HAS_OUTSTANDING] == 0 and prm[P.HAS_STRIKES] == 0 and prm[P.REC_PTS] > 0
                and prm[P.LO] - prm[P.REC_PTS] * (plan.days + 1) > -32000)


def lazy_start(plan: Plan) -> LazyState:
    """The lazy engine's state before pass 0: an empty ring. Agents that are BUSY, recovering or waiting
    are set to be woken at pass 1 when the day function is made (:func:`lazy_days`, in the same pass over
    the population as the band bitmaps)."""
    n, lanes = plan.size, lane_ranges(plan.size)
    ring = np.zeros((RING + COARSE, -(-n // 64)), np.uint64)
    return LazyState(ring=ring, rec_diff=np.zeros((len(lanes), plan.days + 1, plan.n_cells), np.int64))


def lazy_days(plan: Plan, loop, emit_rows: int):
    """The lazy engine's day function for ``advance``: ``day(d, ...) -> (records, cnt_f, cnt_a)``."""
    from .kernels import EMIT_WIDTH, emit_margin

    n, lz, cols = plan.size, loop.lazy, loop.cols
    ct = cols.as_tuple()
    lanes = lane_ranges(n)
    L = len(lanes)
    band_of_cell = _band_cells(plan)
    NB = int(band_of_cell.max()) + 1
    bands = np.zeros((NB, lz.ring.shape[1]), np.uint64)
    NM, NS = len(plan.metric_names), plan.n_states
    people = np.zeros((L, NS, plan.n_cells), np.int64)
    wake = lz.ring[1] if loop.day == 0 else np.zeros(0, np.uint64)  # a fresh run: who pass 1 wakes
    build_bitmaps(lanes, n, plan.region_starts, plan.epochs[0].prm[P.T], cols.traits, cols.state, cols.pending,
                  cols.inbox, cols.flags, band_of_cell, bands, wake, people)
    lz.people = people.sum(axis=0)  # [code, cell] at the start of day loop.day - 1, kept up to date below
    members = [np.flatnonzero(band_of_cell == k) for k in range(NB)]
    cand = np.zeros((L, NB, BLOCK), np.uint16)  # each lane's candidates in its current block, band by band
    buf = {"emit": np.zeros((L, max(emit_rows, emit_margin(plan.epochs[0].prm) + 1), EMIT_WIDTH), np.int64)}
    tail = n % 64
    cur0 = np.stack([lanes[:, 0], lanes[:, 0] * BLOCK], axis=1)  # each lane's place: (block, agent)
    can_defer = [_can_defer(plan, d) for d in range(plan.days + 1)]
    ends = [_epoch_end(plan, d) for d in range(plan.days)]
    tables: dict = {}  # the day tables last used, and the bands' highest rates under them
    prm_of: dict = {}
    keyed = KeyedGenerator()

    def with_code_rows(ep):
        """The epoch's parameters with ``M_CODE`` naming the rows after the metrics (people per code), and
        attempts by tier counted in aggregate (``engine/attempts.py``)."""
        if id(ep) not in prm_of:
            prm_of[id(ep)] = prm = counted(ep.prm)
            prm[P.M_CODE] = NM
        return prm_of[id(ep)]

    def day(d, do_fin, do_act, full, ef, ea, lists_f, _gate, _cum, det, kf, ka, ks, NM_, NC):
        t = d if do_act else plan.days - 1
        key = (id(plan.epoch_at(t)), plan.coverage(t))
        if key != tables.get("key"):  # new day tables (coverage or rules): the lazy ones, bands' rates
            lazy = lazy_tables(plan, t)
            thr = np.array([int(lazy[0][m].max()) if len(m) else 0 for m in members], np.uint64)
            with np.errstate(divide="ignore"):
                lq = np.log1p(-thr.astype(np.float64) / 2.0**32)
            tables.update(key=key, lazy=lazy, thr=thr, lq=lq)
        gate, cum, und, _, groups = tables["lazy"]
        H = RING
        slot = lz.ring[d % H]
        if d % H == 0 and d > 0:  # a new window: its deferred wake-ups into the fine slots
            ep = plan.epoch_at(d - 1)
            settle(lanes, n, d, lz.ring, cols.score, cols.last_off, cols.inbox, cols.state, ep.prm[P.REC_QUIET],
                   ep.prm[P.REC_PTS], ep.prm[P.REC_UPTO], ep.tier_mins, ends[min(d - 1, plan.days - 1)])
        if full:  # the rules changed: everyone takes the full end of day
            slot[:] = ALL_ONES
            if tail:
                slot[-1] = np.uint64((1 << tail) - 1)
        ec = plan.epoch_at(max(d - 2, 0))
        cur = cur0.copy()
        cnt_f = np.zeros((L, NM + NS, NC), np.int64)
        cnt_a = np.zeros((L, NM + NS, NC), np.int64)
        n_emit = np.zeros(L, np.int64)
        margin = emit_margin(ea.prm)
        while True:
            lazy_pass(lanes, cur, cand, n, d, do_fin, do_act, full, can_defer[d], ends[max(d - 2, 0)],
                      ends[min(d, plan.days - 1)], lz.ring, bands, tables["thr"], tables["lq"], plan.region_starts,
                      ct, with_code_rows(ef), ef.tier_mins, lists_f, ef.cons, ec.prm, ec.tier_mins, with_code_rows(ea),
                      ea.tier_mins, ea.beh, ea.rep, cum, det, gate, und, kf, ka, ks, cnt_f, cnt_a, lz.rec_diff,
                      buf["emit"], n_emit, margin)
            if (cur[:, 0] >= lanes[:, 1]).all():
                break
            buf["emit"] = grow(buf["emit"])
        if do_fin:  # people per state code at the start of day d, and the attempts by tier they made on day d-1
            lz.people = lz.people + cnt_f[:, NM:].sum(axis=0)
            tried = count_tier_attempts(lz.people, ef.cons, keyed(kf[Stream.ATTEMPT_COUNT]))
            cnt_f[0, ef.prm[P.M_ATTEMPT]:ef.prm[P.M_ATTEMPT] + tried.shape[0]] += tried
        if do_act:  # undetected acts of the people not visited
            acts = count_undetected(lz.people, cnt_a[:, NM:].sum(axis=0), groups, keyed(ka[Stream.UNDETECTED_COUNT]))
            cnt_a[0, ea.prm[P.M_ACTS]:ea.prm[P.M_ACTS] + acts.shape[0]] += acts
        return records(buf["emit"], n_emit), cnt_f[:, :NM], cnt_a[:, :NM]

    return day
