"""One agent's window replayed day by day, in plain Python: the windowed route's reference, and its stories.

The kernel (``agent.py``) jumps from one day with something happening to the next and computes the quiet
days in closed form. This replay steps every day with the day engines' order (acts on the start-of-day score,
points, network penalties, clamp, recovery, the list) from the same draws, so the two must end in the same
state with the same network acts: the tests hold them to each other, and the driver checks it for every story
agent. It is slow (a Python loop per day) and used for a handful of agents: the story agents, whose event
log it writes in the day engines' rows (``kernels``: kind, agent, day, event, arg, points).
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from ...compile import EVENT, SE
from ...encodings import network_arg
from ...rng import GOLDEN, Stream, day_keys, mix64, threshold
from .agent import NEVER, enters_at, leaves_at
from .draws import (ACT_BITS, FULL, INC_BITS, S32, U32, child_of, crit_thresholds, days_of, drop_counter,
                    event_threshold)
from .draws import d32_call as d32
from .model import MAX_NET, MAX_OTHER
from .tables import KEY
from .. import rules
from .model import LS, SC

R = rules.make(lambda f: f)  # the model's rules (engine/rules.py), uncompiled

__all__ = ["replay", "undetected_keys", "day_stream_keys"]


def _count_of(cdf, u) -> int:
    """The first k with ``u < cdf[k]`` (``draws.count_of``)."""
    return int(np.searchsorted(cdf, u, side="right"))


def day_stream_keys(seed: int, d0: int, W: int, first: int, k: int) -> np.ndarray:
    """The keys of the streams ``first + j`` (j < k) of days d0 .. d0+W-1: [day, j]."""
    return np.array([day_keys(seed, d)[first:first + k] for d in range(d0, d0 + W)], np.uint64).reshape(W, k)


def undetected_keys(seed: int, d0: int, W: int, NB: int) -> np.ndarray:
    """The keys of the streams ``UNDETECTED + b`` of days d0 .. d0+W-1: [day, b]."""
    return day_stream_keys(seed, d0, W, Stream.UNDETECTED, NB)


def replay(i: int, d0: int, W: int, cls: int, s: int, lo: int, bl: tuple, inc, M, und, ukeys, senders=None,
           relations=None, attempts=(), akeys=None, marked=False, redress=None, kid_days=frozenset()) -> dict:
    """Agent i's days d0 .. d0+W-1 from (score, last offence, day listed on each list; -32768: never) with the
    network penalties ``inc`` coming in (codes ``draws.inc_code(day, kind)``: ``Tables.ties[day, kind]`` points). ``und[st, b]`` (or ``und[day, st, b]``, with coverage over time; st the day's state, ``model.state_codes``): the chance of
    an undetected act given none detected, drawn from the day's stream ``UNDETECTED + b`` (``ukeys``: :func:`undetected_keys`). Returns the end state, the network
    acts kept (codes ``draws.act_code(day, j)``), the story rows, the end-of-day scores, and per day whether it
    started deterred, its state, and which behaviours had a detected act. ``senders``: the tie each of ``inc`` comes from,
    for the story rows (the day engines' packing, ``encodings.network_arg``; -1 for the tie without it), and
    ``relations`` what the agent is to it (``REL``; without them, the first kind of tie the penalty's kind
    covers). ``attempts``: the list's
    consequences with daily attempts, as (consequence, uint32 threshold, story event, the list it follows or
    -1, mask of the tiers it follows); the attempt of an agent it applies to on a day is drawn as the day
    engines draw it, from the day's stream ``ATTEMPT + consequence`` (``akeys``: :func:`day_stream_keys`).
    Also returns per day the consequences with attempts that apply to the agent at its end, and whether the
    agent ends the window carrying a false record (``marked``: whether it starts with one). A child
    (``Tables.adult``) does nothing and loses nothing: no acts, no penalties from ``inc``. ``redress``: the
    window's ``redress.Redress`` (None without redress): the agent's refunds carried into the window, and its
    contested false attributions refunded ``delay`` days later within it (a row ``SE.redress`` each, the false
    record cleared that day unless another comes). ``kid_days``: the window days on which the agent, a child,
    is under its household's adults' list sanctions (an attempt's 6th field says whether it is passed to
    children)."""
    keys, first, tail, k_other, k_crit, pts = M.keys, M.first, M.tail, M.k_other, M.k_crit, M.points
    keep, other, mins, sc = M.keep, M.other, M.mins, M.sc
    LOW, HIGH, QUIET, UPTO, DETER = (int(sc[k]) for k in (SC.LOW, SC.HIGH, SC.QUIET, SC.UPTO, SC.DETER))
    STEP, NACT = (int(sc[k]) for k in (SC.STEP, SC.NACT))
    nets = [int(b) for b in M.nets]
    bl = list(bl)  # (a scheme without lists has none, and the kernel's inert row ``agent.NO_LIST``)
    lists = [{k.name: int(v) for k, v in zip(LS, row)} for row in M.lists[:len(bl)]]
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        r = int(mix64(np.uint64(keys[KEY.COUNTS]) + np.uint64(i) * GOLDEN))
    Ko, Kc = _count_of(k_other[cls], np.uint64(r) & U32), _count_of(k_crit[cls], np.uint64(r) >> S32)
    child = child_of(i, M.adult)
    if child:  # children neither act nor lose points (a tie who is a child loses nothing)
        Ko, Kc, inc = 0, 0, ()
    act_days = {int(d): k for k, d in enumerate(days_of(keys[KEY.OTHER_DAYS], i, Ko, W))}
    crit_days = {int(d): k for k, d in enumerate(days_of(keys[KEY.CRIT_DAYS], i, Kc, W))}
    incoming = [(int(c) >> INC_BITS) - d0 for c in inc]
    kinds = [int(c) & ((1 << INC_BITS) - 1) for c in inc]
    sources = [-1] * len(incoming) if senders is None else [int(f) for f in senders]
    first_rel = {int(M.kind_of[j, r]): r for j in range(M.kind_of.shape[0]) for r in reversed(range(M.kind_of.shape[1]))}
    rels = [first_rel[k] for k in kinds] if relations is None else [int(r) for r in relations]
    refunds: dict = {}  # window day -> the behaviours whose points come back that day
    if redress is not None:
        for x in range(np.searchsorted(redress.agents, i), np.searchsorted(redress.agents, i, side="right")):
            refunds.setdefault(int(redress.days[x]) - d0, []).append(int(redress.beh[x]))
    floors = [int(v) for v in mins]
    ascending = sorted(floors)  # (the floors descend: v's tier is the number of floors above v)
    tier_of = lambda v: len(ascending) - bisect_right(ascending, v)  # noqa: E731
    und = np.asarray(und)
    und_rows = threshold(und).tolist()
    thresholds = und_rows if und.ndim == 3 else [und_rows] * W  # [day][state][b] (the same rows every day without a ramp)
    undetected_u = (mix64(ukeys + np.uint64(i) * GOLDEN) >> S32).tolist()  # [day][b], as draw32 draws them
    attempt_u = (mix64(akeys + np.uint64(i) * GOLDEN) >> S32).tolist() if attempts else None  # [day][consequence]
    rows, scores, deterred_on, states, detected_on, kept, applies = [], [], [], [], [], [], []
    S4 = M.by_state is not None  # sanctions change act rates: a day's state has a sanctioned bit
    SL, STIERS = int(sc[SC.SLIST]), int(sc[SC.STIERS])
    enters_at_, leaves_at_, drop_counter_ = (getattr(f, "py_func", f) for f in (enters_at, leaves_at, drop_counter))
    NO = len(other)
    for d in range(W):
        day = d0 + d
        deterred = s < DETER
        sanctioned = S4 and (SL >= 0 and bl[SL] != NEVER or (STIERS >> tier_of(s)) & 1 != 0)
        st = int(deterred) + 2 * int(sanctioned)
        s0, delta, offended, detected, false = s, 0, False, set(), set()
        if d in act_days:  # the day's other detected acts, drawn as the kernel draws them
            ko = act_days[d]
            u, a = d32(keys[KEY.FIRST_ACT], i, ko), 0
            while u >= first[cls, a]:
                a += 1
            while True:
                b = int(other[a])
                thr = int(event_threshold(M.vary, cls, d, a, st, M.kept[a]))
                if thr >= FULL or d32(keys[KEY.KEEP], i, ko * MAX_OTHER + a) < thr:
                    delta += int(pts[b])
                    offended |= pts[b] < 0
                    (false if a >= NACT else detected).add(b)  # false attributions come after the acts
                    if (redress is not None and a >= NACT and d + redress.delay < W
                            and d32(keys[KEY.CONTEST], i, ko * MAX_OTHER + a) < redress.thr):  # contested
                        refunds.setdefault(d + redress.delay, []).append(b)
                u = d32(keys[KEY.NEXT_ACT], i, ko * MAX_OTHER + a)
                if u >= tail[cls, a, NO - 1]:
                    break
                a0, a = a, a + 1
                while u >= tail[cls, a0, a]:
                    a += 1
        if d in crit_days:  # the day's network acts, drawn as the kernel draws them
            kc, NN = crit_days[d], len(nets)
            j = 0
            if NN > 1:
                u = d32(keys[KEY.FIRST_NET], i, kc)
                while u >= M.nfirst[cls, j]:
                    j += 1
            while j < NN:
                b = nets[j]
                u = d32(keys[KEY.DROP], i, drop_counter_(d, j))
                if u < crit_thresholds(M.vary, cls, d, NO + j, keep[b], st)[0]:
                    delta += int(pts[b])
                    offended |= pts[b] < 0
                    detected.add(b)
                    kept.append((day << ACT_BITS) | j)
                if j == NN - 1:
                    break
                u = d32(keys[KEY.NEXT_NET], i, kc * MAX_NET + j)
                if u >= M.ntail[cls, j, NN - 1]:
                    break
                j0, j = j, j + 1
                while u >= M.ntail[cls, j0, j]:
                    j += 1
        for b in range(und.shape[-1]):
            if b in detected:
                rows.append((EVENT.STORY, i, day, SE.act_detected, b + 256, int(pts[b])))
            elif not child and undetected_u[d][b] < thresholds[d][st][b]:
                rows.append((EVENT.STORY, i, day, SE.act_undetected, b, 0))
            if b in false:  # (the day engines' order: each behaviour's act, then its false attribution)
                rows.append((EVENT.STORY, i, day, SE.false_attribution, b, int(pts[b])))
        for f, kind, rel in ((f, kind, rel) for d_in, f, kind, rel in zip(incoming, sources, kinds, rels) if d_in == d):
            b, p = nets[int(M.kinds[kind])], int(M.ties[d, kind])
            delta += p
            rows.append((EVENT.STORY, i, day, SE.network_penalty, network_arg(b, rel, f), p))
        back = refunds.pop(d, [])  # refunds: points back (not an offence), the false record cleared
        for b in back:
            delta -= int(pts[b])
            rows.append((EVENT.STORY, i, day, SE.redress, b, -int(pts[b])))
        marked = bool(false) if back else (marked or bool(false))
        if offended:
            lo = day
        s = min(max(s + delta, LOW), HIGH)
        if R.recovers(s, day - lo, QUIET, STEP, UPTO):  # lo: -32768 when never (quiet for ever)
            s1 = R.recovery_step(s, STEP, UPTO)
            rows.append((EVENT.STORY, i, day, SE.recovery, -1, s1 - s))
            s = s1
        if tier_of(s) != tier_of(s0):
            rows.append((EVENT.STORY, i, day, SE.tier_change, tier_of(s), s - s0))
        for L, li in enumerate(lists):
            publish = R.published(day, li["EVERY"]) == day  # entries and exits on publication days only
            red = li["RED"] != 0
            if bl[L] == NEVER and publish and enters_at_(s, li["ENTER"], red):
                bl[L] = day
                rows.append((EVENT.STORY, i, day, SE.list_enter, L, 0))
            elif bl[L] != NEVER and R.leaves(publish, leaves_at_(s, li["LEAVE"], red), day - bl[L], li["MIN_DAYS"],
                                             False, -1, 0):
                rows.append((EVENT.STORY, i, day, SE.list_exit, L, 0))  # its days: metrics.stories_table
                bl[L] = NEVER
        applies.append([])
        for k, thr, code, on_list, on_tiers, children in attempts:  # attempts drawn as the day engines draw them
            if children and d in kid_days or on_list >= 0 and bl[on_list] != NEVER or (on_tiers >> tier_of(s)) & 1:
                applies[-1].append(k)
                if attempt_u[d][k] < thr:
                    rows.append((EVENT.STORY, i, day, code, k, 0))
        scores.append(s)
        deterred_on.append(deterred)
        states.append(st)
        detected_on.append(detected)
    return {"state": (s, lo, tuple(bl)), "marked": marked, "kept": kept, "rows": rows, "scores": scores, "deterred": deterred_on, "states": states,
            "detected": detected_on, "applies": applies}
