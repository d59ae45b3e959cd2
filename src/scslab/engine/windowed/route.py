"""The windowed route's three steps over a window: guess, sweep, correct (see ``engine/windowed/__init__``).

Only agents with a detected network act in the window can send penalties: to their friends, and to the adults
of their household, by the points ``Tables.ties`` gives each kind of tie on the act's day (none where that is
0). Their lists are *guessed*
(``agent.guess``), the penalties of the guessed lists bucketed by blocks of ``2**BLOCK`` targets
(:func:`penalties`), everyone's window *swept* block by block with the penalties in order (:func:`sweep`,
which flags every sender whose run differs from its list), and the flagged senders' lists *corrected*:
their ties are run again from the window's start, old metric changes taken back and new ones added,
until no list changes (:func:`correct`). The result is the fixed point, the day-by-day model's outcome for
these draws (a penalty acts on deterrence from the next day on).

Friends are ``population``'s Feistel matchings (``friends.py``). The result depends on the seed only, not on
threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..bits import set_bit
from ..borrow import borrowed
from ..threads import in_threads
from .agent import NEVER, agent, packed_lists
from .draws import CACHE, child_of, crit_count, household, inc_day, present
from .friends import friends_of
from .incoming import INC, differs_call, incoming, lists_differ, scratch, sort_small, start_of, unpack_lists
from .model import CHUNKS, MAX_CRIT
from .penalties import BLOCK, REC_BITS, coarse_bits, kept_acts, penalties
from .redress import for_work_item

__all__ = ["sweep", "sweep_blocks", "correct", "verify", "set_bits", "redo", "receivers_of", "households_of"]

REDO_AGENTS = 64   # a correction's work items run at least this many agents each (at most CHUNKS items)


def sweep(n, d0, W, cls, cols, P, B, M, T, D, wrong, first, last, R=None):
    """Everyone's window, block by block of 2**B agents, with the penalties of the table's lists (``P``, what
    :func:`penalties` returns): writes the states ``cols`` and the metric changes ``D`` (per chunk) and sets,
    in the bitmap ``wrong``, every sender whose network acts differ from the table's. Blocks ``first ..
    last-1`` only (a slice of the window, for progress; the result does not depend on the slicing). The
    chunks run on threads (``engine/threads.py``)."""
    nb = last - first
    every = T[0].shape[0] > 0

    def chunk(ch, row):
        sweep_blocks(np.int64(row), first + ch * nb // CHUNKS, first + (ch + 1) * nb // CHUNKS, n, d0, W, cls, cols,
                     P, B, M, D, wrong, every, for_work_item(R))

    in_threads(chunk, CHUNKS, slots=D[0].shape[0])


@njit(inline="always")
def differs_kept(i, cl, mask, d0, W, out, no, M, tmp, bc):
    """Whether sender i's network acts ``out[:no]`` differ from the table's list, which :func:`penalties` kept
    as ``mask`` (bit x: its x-th detected network act is in the list)."""
    g = kept_acts(i, cl, crit_count(i, cl, M), mask, d0, W, M, bc, tmp)
    return lists_differ(tmp, g, out, no)


@njit(cache=CACHE, nogil=True)
def sweep_blocks(ch, b0, b1, n, d0, W, cls, cols, P, B, M, D, wrong, every, R):
    """``sweep``'s blocks b0 .. b1-1, adding to row ``ch`` of the metric changes ``D`` (held by this work item
    while it runs: ``threads.in_threads``); ``every``: check every sender (the table has
    corrected lists: only a verifying sweep's has). Where sanctions pass to children (``Tables.children``; a
    household lies within one block) a household's members run one after another."""
    cls, cols, P, M, D, wrong = borrowed(cls), borrowed(cols), borrowed(P), borrowed(M), borrowed(D), borrowed(wrong)
    score, last_off, listed_on, marks = cols
    rec, start, keep, rank = P
    size = 1 << B
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    out, inc, tmp = np.empty(64, np.int64), np.empty(INC, np.int64), np.empty(64, np.int64)
    at = np.empty(size + 1, np.int64)
    for b in range(b0, b1):
        r0, r1 = start[b], start[b + 1]
        j = rank[b]  # the rank of the next sender
        at[:] = 0  # the block's penalties by target (a counting sort): target x's days end at ``at[x]``
        for r in range(r0, r1):
            at[((rec[r] >> REC_BITS) & (size - 1)) + 1] += 1
        for x in range(size):
            at[x + 1] += at[x]
        day = np.empty(r1 - r0, np.int64)  # the penalties as ``draws.inc_code(day, kind)``
        for r in range(r0, r1):
            x = (rec[r] >> REC_BITS) & (size - 1)
            day[at[x]] = (d0 << 4) + (rec[r] & ((1 << REC_BITS) - 1))
            at[x] += 1
        c = 0
        for i in range(b << B, min((b + 1) << B, n)):
            k = 0
            while c < at[i & (size - 1)]:
                inc[k] = day[c]
                k += 1
                c += 1
            sort_small(inc, k)
            cl = cls[i]
            s0, lo0, bl0 = np.int64(score[i]), np.int64(last_off[i]), packed_lists(listed_on, marks, i)
            if present(M.children):
                before_member(i, n, M, D[13], ch)
            no, K, s, lo, bl, unc, fd = agent(i, d0, W, cl, s0, lo0, bl0, inc, k, M, np.bool_(True), np.int64(1), D, ch,
                                              out, bo, bc, R)
            if present(M.children):
                after_member(i, n, W, cls, M, D[13], D[12], ch, 1)
            if K > 0:
                # checked only when its run may differ from the guess (see ``agent``'s last two results)
                may = every or no != K or (k > 0 and inc_day(inc[0]) < unc and fd <= unc)
                if may and differs_kept(i, cl, keep[j], d0, W, out, no, M, tmp, bc):
                    set_bit(wrong, i)
                j += 1
            score[i], last_off[i] = s, lo
            unpack_lists(bl, listed_on, marks, i)


def redo(A, sgn, n, d0, W, cls, S, cols, M, T, fkeys, D, out_cnt, out_days, R=None):
    """Agents ``A`` again from their window's start, with the penalties of the table's lists. ``sgn`` +1: add
    their metric changes and store their states; -1: take back the changes the same run added; 0: only
    their network acts, into ``out_cnt`` and ``out_days``. Returns, per agent, whether its network acts differ
    from the table's. The chunks run on threads (the compiled function releases the GIL)."""
    m = A.shape[0]
    flag = np.zeros(m, np.bool_)
    items = min(CHUNKS, max(1, m // REDO_AGENTS))  # (a work item costs more than running a few agents)

    cut = np.arange(items + 1) * m // items
    if watches(M):  # whole households in each work item (``correct`` runs whole households)
        head = A - M.house[0][A & (len(M.house[0]) - 1)]
        cut = np.searchsorted(A, head[np.minimum(cut, m - 1)])
        cut[-1] = m

    def chunk(ch, row):
        _redo_some(np.int64(row), A[cut[ch]:cut[ch + 1]], cut[ch], sgn, n, d0, W, cls, S,
                   cols, M, T, fkeys, D, out_cnt, out_days, flag, scratch(), for_work_item(R))

    in_threads(chunk, items, slots=D[0].shape[0])
    return flag


@njit(cache=CACHE, nogil=True)
def _redo_some(ch, A, j0, sgn, n, d0, W, cls, S, cols, M, T, fkeys, D, out_cnt, out_days, flag, work, R):
    cls, S, cols, M, T, D, work = borrowed(cls), borrowed(S), borrowed(cols), borrowed(M), borrowed(T), borrowed(D), \
        borrowed(work)
    A, out_cnt, out_days, flag, R = borrowed(A), borrowed(out_cnt), borrowed(out_days), borrowed(flag), borrowed(R)
    one, f4, bo, bc, out, inc, tmp, z1, D0 = work.one, work.f4, work.bo, work.bc, work.out, work.inc, work.tmp, \
        work.z1, work.D0
    for jj in range(A.shape[0]):
        a, j = A[jj], j0 + jj
        k = incoming(a, n, d0, W, cls, S, M, T, fkeys, one, f4, inc, bo, bc, z1, D0, R)
        cl = cls[a]
        s0, lo0, bl0 = start_of(a, S)
        if present(M.children):
            before_member(a, n, M, D[13], ch)
        no, K, s, lo, bl, _, _ = agent(a, d0, W, cl, s0, lo0, bl0, inc, k, M, sgn != 0, sgn, D, ch, out, bo, bc, R)
        if present(M.children) and sgn != 0:
            after_member(a, n, W, cls, M, D[13], D[12], ch, sgn)
        if sgn > 0:
            cols[0][a], cols[1][a] = s, lo
            unpack_lists(bl, cols[2], cols[3], a)
        if sgn == 0:
            out_cnt[j] = no
            for q in range(no):  # (element by element: see _split)
                out_days[j, q] = out[q]
        flag[j] = K > 0 and differs_call(a, d0, W, cl, s0, lo0, bl0, out, no, M, T, tmp, bo, bc, z1, D0, R)


def receivers_of(ids: np.ndarray, n: int, fkeys, M) -> np.ndarray:
    """Every agent that may receive a penalty from one of the agents ``ids``: their friends and the other
    members of their households (when household members lose points), sorted, once each."""
    A = [friends_of(ids, n, fkeys).ravel()]
    if M.house is not None:
        head, size = M.house
        slot = ids & (len(head) - 1)
        lo = ids - head[slot]
        for o in range(int(size.max())):
            m = lo + o
            A.append(m[(o < size[slot]) & (m != ids) & (m < n)])
    A = np.concatenate(A)
    return np.unique(A[A >= 0])


def watches(M) -> bool:
    """Whether sanctions pass to children (``Tables.children``): the runs write the days they give their
    households' children (``agent``, in the window's ``D[13]``: a work item's row of ``KIDS`` int64)."""
    return M.children is not None


def households_of(ids: np.ndarray, n: int, M) -> np.ndarray:
    """The agents ``ids`` with every other member of their households that have a child, sorted, once each. A
    household's runs write its children's sanctions together (:func:`after_member`, at its last member), so a
    correction runs such a household whole; a member of a household without children whose penalties did not
    change would add and take back the same changes (a correction of press-2018 at 21.7 M ran 41,003 agents
    again instead of 57,330)."""
    head, size = M.house
    slot = ids & (len(head) - 1)
    lo = ids - head[slot]
    members = [(lo + o, (o < size[slot]) & (lo + o < n)) for o in range(int(size.max()))]
    kid = np.zeros(len(ids), np.bool_)
    for m, ok in members:
        kid |= ok & (M.adult[m & (len(M.adult) - 1)] == 0)
    return np.unique(np.concatenate([ids[~kid]] + [m[ok & kid] for m, ok in members]))


@njit(inline="always")
def before_member(i, n, M, hb, ch):
    """Before agent i's run: at its household's first member, no day of the household's children yet
    (``hb[ch, :6]``)."""
    lo, _ = household(i, n, M.house)
    if i == lo:
        for w in range(6):
            hb[ch, w] = 0


@njit(inline="always")
def after_member(i, n, W, cls, M, hb, kid, ch, sgn):
    """After agent i's run: at the household's last member, each child adds ``sgn`` where a stretch of the
    household's days for its children (``hb[ch, :6]``, which its adults' runs marked: ``agent``) begins and
    takes it back after it ends (``kid[ch, cell, day]``: the children under a list's sanctions, as changes)."""
    lo, hi = household(i, n, M.house)
    if i != hi - 1:
        return
    empty = True
    for w in range(6):
        empty &= hb[ch, w] == 0
    if empty:
        return
    for c in range(lo, hi):
        if child_of(c, M.adult):
            cl, was = cls[c], False
            for t in range(W):
                on = (hb[ch, t >> 6] >> (t & 63)) & 1 != 0
                if on != was:
                    kid[ch, cl, t] += sgn if on else -sgn
                    was = on
            if was:
                kid[ch, cl, W] -= sgn


def set_bits(words: np.ndarray) -> np.ndarray:
    """The positions of the set bits of a uint64 bitmap, in order. Only the non-zero words are unpacked (a
    few thousand of 340,000 at 21.7 M agents: 3 ms instead of 80)."""
    nz = np.flatnonzero(words)
    bits = np.unpackbits(words[nz].view(np.uint8), bitorder="little").reshape(-1, 64).astype(bool)
    return (nz[:, None] * 64 + np.arange(64))[bits]


def correct(wrong, n, d0, W, cls, S, cols, M, T, fkeys, D, R=None):
    """Step 3: while some senders' runs differ from the table, their lists go into it and their friends are
    run again. Returns the final table and (senders corrected, agents run again)."""
    n_wrong, n_redone = 0, 0
    while len(wrong):
        cnt, days = np.zeros(len(wrong), np.int64), np.zeros((len(wrong), MAX_CRIT), np.int64)
        redo(wrong, 0, n, d0, W, cls, S, cols, M, T, fkeys, D, cnt, days, R)
        A = receivers_of(wrong, n, fkeys, M)
        if watches(M):  # their households' children's sanctions follow them: whole households with children
            A = households_of(A, n, M)
        redo(A, -1, n, d0, W, cls, S, cols, M, T, fkeys, D, cnt, days, R)
        keep = ~np.isin(T[0], wrong)
        ids = np.concatenate([T[0][keep], wrong])
        order = np.argsort(ids, kind="stable")
        T = (ids[order], np.concatenate([T[1][keep], cnt])[order], np.concatenate([T[2][keep], days])[order])
        flag = redo(A, 1, n, d0, W, cls, S, cols, M, T, fkeys, D, cnt, days, R)
        n_wrong, n_redone = n_wrong + len(wrong), n_redone + len(A)
        wrong = A[flag]
    return T, (n_wrong, n_redone)


def verify(n, d0, W, cls, S, cols, M, T, fkeys, D, R=None):
    """The number of values (metrics of the window, end states) in which the corrected run differs from one
    plain sweep from the window's start with the final table's penalties, plus the senders that sweep finds
    wrong. 0 when the corrections reached the fixed point."""
    plain = ((np.full(n, S[5], np.int16), np.full(n, NEVER, np.int16), np.full_like(S[3], NEVER),
              np.zeros_like(S[4])) if S[0] else tuple(c.copy() for c in S[1:5]))
    D2 = tuple(np.zeros_like(d) for d in D)
    R2 = None if R is None else R._replace(red=np.zeros_like(R.red))
    pen = penalties(n, d0, W, cls, S, M, T, fkeys, BLOCK, coarse_bits(n), R2)
    wrong = np.zeros((n >> 6) + 1, np.uint64)
    sweep(n, d0, W, cls, plain, pen, BLOCK, M, T, D2, wrong, 0, pen[1].shape[0] - 1, R2)
    bad = len(set_bits(wrong)) + sum(int((a != b).sum()) for a, b in zip(cols, plain))
    bad += 0 if R is None else int((R.red.sum(axis=0) != R2.red.sum(axis=0)).sum())
    return bad + sum(int((a.sum(axis=0) != b.sum(axis=0)).sum()) for a, b in zip(D[:13], D2[:13]))  # (D[13]: scratch)
