"""The windowed route's three steps over a window: guess, sweep, correct (see ``engine/windowed/__init__``).

Only agents with a detected network act in the window can send penalties. Their lists are *guessed*
(``agent.guess``), the penalties of the guessed lists bucketed by blocks of ``2**BLOCK`` targets
(:func:`penalties`), everyone's window *swept* block by block with the penalties in order (:func:`sweep`,
which flags every sender whose run differs from its list), and the flagged senders' lists *corrected*:
their friends are run again from the window's start, old metric changes taken back and new ones added,
until no list changes (:func:`correct`). The result is the fixed point, the day-by-day model's outcome for
these draws (a penalty acts on deterrence from the next day on).

Friends are ``population``'s Feistel matchings, computed four at a time (:func:`friends4`, equal to
``population.partner``, agent by agent: tested). The result depends on the seed only, not on threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ... import population
from ..bits import set_bit
from .agent import CACHE, NEVER, ONE, agent, agent_call, crit_count, d32, guess, mix, next_day, pick_days
from .model import MAX_CRIT

__all__ = ["penalties", "sweep", "correct", "friends4", "friends_of", "set_bits", "CHUNKS", "BLOCK"]

ROUNDS = population.ROUNDS
CHUNKS = 64        # parallel work items; the result does not depend on it
BLOCK = 12         # the sweep's blocks of 2**BLOCK agents; a penalty record: target in its block << 9 | window day


@njit(inline="always")
def _feistel(x, keys, k, b, mask, inverse):
    """population's Feistel permutation step (round keys ``keys[k]``) on uint64 halves of ``b`` bits."""
    left, right = x >> b, x & mask
    for step in range(ROUNDS):
        if inverse:
            left, right = right ^ (mix(left ^ keys[k, ROUNDS - 1 - step]) & mask), left
        else:
            left, right = right, left ^ (mix(right ^ keys[k, step]) & mask)
    return (left << b) | right


@njit(inline="always")
def _permute4(x0, x1, x2, x3, m, keys, b, mask, inverse):
    """The 4 matchings' permutations in lockstep (independent chains the core overlaps), cycle walking into
    [0, m) until every lane is inside."""
    a0, a1 = _feistel(x0, keys, 0, b, mask, inverse), _feistel(x1, keys, 1, b, mask, inverse)
    a2, a3 = _feistel(x2, keys, 2, b, mask, inverse), _feistel(x3, keys, 3, b, mask, inverse)
    while a0 >= m or a1 >= m or a2 >= m or a3 >= m:
        n0, n1 = _feistel(a0, keys, 0, b, mask, inverse), _feistel(a1, keys, 1, b, mask, inverse)
        n2, n3 = _feistel(a2, keys, 2, b, mask, inverse), _feistel(a3, keys, 3, b, mask, inverse)
        a0, a1 = n0 if a0 >= m else a0, n1 if a1 >= m else a1
        a2, a3 = n2 if a2 >= m else a2, n3 if a3 >= m else a3
    return a0, a1, a2, a3


@njit(inline="always")
def friends4(i, n, keys, b, out):
    """Agent i's partners in the 4 matchings over [0, n) into ``out`` (-1: unmatched): ``population``'s
    ``partner`` for k = 0..3, 1.5 times faster (checked equal in the tests). ``b``: ``half_bits(n)``."""
    if n < 2:
        out[:] = -1
        return
    m, bb = np.uint64(n), np.uint64(b)
    mask = (ONE << bb) - ONE
    x = np.uint64(i)
    q0, q1, q2, q3 = _permute4(x, x, x, x, m, keys, bb, mask, False)
    q0, q1, q2, q3 = q0 ^ ONE, q1 ^ ONE, q2 ^ ONE, q3 ^ ONE
    z = np.uint64(0)
    p0, p1, p2, p3 = _permute4(q0 if q0 < m else z, q1 if q1 < m else z, q2 if q2 < m else z, q3 if q3 < m else z,
                               m, keys, bb, mask, True)
    out[0] = np.int64(p0) if q0 < m else -1
    out[1] = np.int64(p1) if q1 < m else -1
    out[2] = np.int64(p2) if q2 < m else -1
    out[3] = np.int64(p3) if q3 < m else -1


@njit(cache=CACHE)
def half_bits(m):
    b = 1
    while (np.int64(1) << (2 * b)) < m:
        b += 1
    return b


@njit(inline="always")
def no_metrics():
    """Metric arrays of the right types that a run which writes nothing is given."""
    return (np.zeros((1, 1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64),
            np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1, 1, 1), np.int64),
            np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64))


@njit(inline="always")
def corrected(i, T):
    """Where sender i's corrected list is in the table ``T`` = (ids, counts, days), -1 if it has none."""
    p = np.searchsorted(T[0], i)
    return p if p < T[0].shape[0] and T[0][p] == i else -1


@njit(inline="always")
def start_of(i, S):
    """Agent i's state at the window's start; ``S`` = (fresh, score, last offence, listed, base score): a fresh
    start has everyone at the base score, with no offence and no listing."""
    if S[0]:
        return np.int64(S[4]), np.int64(NEVER), np.int64(NEVER)
    return np.int64(S[1][i]), np.int64(S[2][i]), np.int64(S[3][i])


@njit(inline="always")
def listed(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0):
    """Append sender f's network acts as the table has them to ``inc[k:]``: its corrected list if it has one,
    else the guess. Returns the new length."""
    p = corrected(f, T)
    if p >= 0:
        for q in range(T[1][p]):
            inc[k + q] = T[2][p, q]
        return k + T[1][p]
    s, lo, bl = start_of(f, S)
    return k + guess(f, d0, W, cls[f], s, lo, bl, M, inc[k:], bo, bc, z1, D0)[0]


@njit(inline="always")
def differs(i, d0, W, cls, s, lo, bl, out, no, M, T, tmp, bo, bc, z1, D0):
    """Whether sender i's network acts ``out[:no]`` differ from the table's (``s, lo, bl``: its start state)."""
    p = corrected(i, T)
    if p >= 0:
        g = T[1][p]
        for q in range(g):
            tmp[q] = T[2][p, q]
    else:
        g = guess(i, d0, W, cls, s, lo, bl, M, tmp, bo, bc, z1, D0)[0]
    if g != no:
        return True
    for q in range(no):
        if tmp[q] != out[q]:
            return True
    return False


@njit(inline="always")
def sort_small(a, k):
    for x in range(1, k):
        v = a[x]
        y = x - 1
        while y >= 0 and a[y] > v:
            a[y + 1] = a[y]
            y -= 1
        a[y + 1] = v


# the same functions compiled once as callees, for the paths that run them seldom (a call costs little there,
# and their code inlined again would cost compile time)
listed_call, differs_call = njit(cache=CACHE)(listed.py_func), njit(cache=CACHE)(differs.py_func)
friends4_call = njit(cache=CACHE)(friends4.py_func)


@njit(inline="always")
def incoming(a, n, hb, d0, W, cls, S, M, T, fkeys, f4, inc, bo, bc, z1, D0):
    """The days of the network penalties agent a receives in the window from its friends' lists in the table
    (or their guesses), sorted into ``inc``; returns their number."""
    friends4_call(a, n, fkeys, hb, f4)
    k = 0
    for x in range(4):
        if f4[x] >= 0:
            k = listed_call(f4[x], d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0)
    sort_small(inc, k)
    return k


@njit(parallel=True, cache=CACHE)
def penalties(n, d0, W, cls, S, M, T, fkeys, B):
    """Every penalty of the table's lists, bucketed by target block (``target >> B``), not sorted: the record
    is ``(target & (2**B - 1)) << 9 | window day`` (uint32). Returns (records, bucket starts)."""
    nsend = np.zeros(CHUNKS + 1, np.int64)
    for ch in prange(CHUNKS):
        for i in range(ch * n // CHUNKS, (ch + 1) * n // CHUNKS):
            nsend[ch + 1] += crit_count(i, cls[i], M) > 0
    nsend = np.cumsum(nsend)
    fr = np.empty((nsend[-1], 4), np.int32)   # the senders' friends, found once
    keep = np.empty(nsend[-1], np.uint16)     # which of their detected network acts the table keeps
    nb = (n >> B) + 1
    per = np.zeros((CHUNKS, nb), np.int64)
    for ch in prange(CHUNKS):
        _senders(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, nsend[ch], n, d0, W, cls, S, M, T, fkeys, B, fr, keep,
                 per[ch])
    start = np.zeros(nb + 1, np.int64)
    total = 0
    for b in range(nb):
        for ch in range(CHUNKS):
            x = per[ch, b]
            per[ch, b] = total
            total += x
        start[b + 1] = total
    rec = np.empty(total, np.uint32)
    for ch in prange(CHUNKS):
        _records(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, nsend[ch], W, cls, M, B, fr, keep, per[ch], rec)
    return rec, start


@njit(cache=CACHE)
def _senders(i0, i1, j, n, d0, W, cls, S, M, T, fkeys, B, fr, keep, per):
    """Senders i0 .. i1-1 (the first is the j-th): their friends, which network acts the table keeps, and the
    penalties per target block."""
    hb = half_bits(n)
    f4, days = np.empty(4, np.int64), np.empty(MAX_CRIT, np.int64)
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    z1, D0 = np.zeros(1, np.int64), no_metrics()
    for i in range(i0, i1):
        K = crit_count(i, cls[i], M)
        if K:
            k = listed(i, d0, W, cls, S, M, T, days, 0, bo, bc, z1, D0)
            pick_days(M[0][2], i, K, W, bc)
            mask, c = 0, 0
            for q in range(K):
                if c < k and days[c] == d0 + next_day(bc, W):
                    mask |= 1 << q
                    c += 1
            keep[j] = mask
            friends4(i, n, fkeys, hb, f4)
            for x in range(4):
                fr[j, x] = f4[x]
                if f4[x] >= 0:
                    per[f4[x] >> B] += k
            j += 1


@njit(cache=CACHE)
def _records(i0, i1, j, W, cls, M, B, fr, keep, at, rec):
    """The penalty records of senders i0 .. i1-1 (the first is the j-th), written from ``at[block]`` on."""
    bc = np.empty(6, np.uint64)
    low = (1 << B) - 1
    for i in range(i0, i1):
        K = crit_count(i, cls[i], M)
        if K:
            pick_days(M[0][2], i, K, W, bc)
            for q in range(K):
                e = next_day(bc, W)
                if keep[j] >> q & 1:
                    for x in range(4):
                        f = np.int64(fr[j, x])
                        if f >= 0:
                            rec[at[f >> B]] = ((f & low) << 9) | e
                            at[f >> B] += 1
            j += 1


@njit(parallel=True, cache=CACHE)
def sweep(n, d0, W, cls, cols, rec, start, B, M, T, D, wrong, first, last):
    """Everyone's window, block by block of 2**B agents, with the penalties ``rec`` of the table's lists:
    writes the states ``cols`` and the metric changes ``D`` (per chunk) and sets, in the bitmap ``wrong``, every
    sender whose network acts differ from the table's. Blocks ``first .. last-1`` only (a slice of the window,
    for progress; the result does not depend on the slicing)."""
    nb = last - first
    for ch in prange(CHUNKS):
        _sweep_blocks(ch, first + ch * nb // CHUNKS, first + (ch + 1) * nb // CHUNKS, n, d0, W, cls, cols, rec, start,
                      B, M, T, D, wrong)


@njit(cache=CACHE)
def _sweep_blocks(ch, b0, b1, n, d0, W, cls, cols, rec, start, B, M, T, D, wrong):
    score, last_off, listed_on = cols
    size = 1 << B
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    out, inc, tmp = np.empty(64, np.int64), np.empty(256, np.int64), np.empty(64, np.int64)
    z1, D0 = np.zeros(1, np.int64), no_metrics()
    at = np.empty(size + 1, np.int64)
    for b in range(b0, b1):
        r0, r1 = start[b], start[b + 1]
        at[:] = 0  # the block's penalties by target (a counting sort): target x's days end at ``at[x]``
        for r in range(r0, r1):
            at[(rec[r] >> 9) + 1] += 1
        for x in range(size):
            at[x + 1] += at[x]
        day = np.empty(r1 - r0, np.int64)
        for r in range(r0, r1):
            x = rec[r] >> 9
            day[at[x]] = d0 + (rec[r] & 511)
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
            s0, lo0, bl0 = np.int64(score[i]), np.int64(last_off[i]), np.int64(listed_on[i])
            no, K, s, lo, bl, unc, fd = agent(i, d0, W, cl, s0, lo0, bl0, inc, k, M, True, 1, D, ch, out, bo, bc)
            # checked only when its run may differ from the guess (see ``agent``'s last two results)
            may = K > 0 and (T[0].shape[0] > 0 or no != K or (k > 0 and inc[0] < unc and fd <= unc))
            if may and differs_call(i, d0, W, cl, s0, lo0, bl0, out, no, M, T, tmp, bo, bc, z1, D0):
                set_bit(wrong, i)
            score[i], last_off[i], listed_on[i] = s, lo, bl


@njit(parallel=True, cache=CACHE)
def redo(A, sgn, n, d0, W, cls, S, cols, M, T, fkeys, D, out_cnt, out_days):
    """Agents ``A`` again from their window's start, with the penalties of the table's lists. ``sgn`` +1: add
    their metric changes and store their states; -1: take back the changes the same run added; 0: only
    their network acts, into ``out_cnt`` and ``out_days``. Returns, per agent, whether its network acts differ
    from the table's."""
    m = A.shape[0]
    flag = np.zeros(m, np.bool_)
    for ch in prange(CHUNKS):
        _redo_some(ch, A[ch * m // CHUNKS:(ch + 1) * m // CHUNKS], ch * m // CHUNKS, sgn, n, d0, W, cls, S, cols,
                   M, T, fkeys, D, out_cnt, out_days, flag)
    return flag


@njit(cache=CACHE)
def _redo_some(ch, A, j0, sgn, n, d0, W, cls, S, cols, M, T, fkeys, D, out_cnt, out_days, flag):
    hb = half_bits(n)
    f4 = np.empty(4, np.int64)
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    out, inc, tmp = np.empty(64, np.int64), np.empty(256, np.int64), np.empty(64, np.int64)
    z1, D0 = np.zeros(1, np.int64), no_metrics()
    for jj in range(A.shape[0]):
        a, j = A[jj], j0 + jj
        k = incoming(a, n, hb, d0, W, cls, S, M, T, fkeys, f4, inc, bo, bc, z1, D0)
        cl = cls[a]
        s0, lo0, bl0 = start_of(a, S)
        no, K, s, lo, bl, _, _ = agent_call(a, d0, W, cl, s0, lo0, bl0, inc, k, M, sgn != 0, sgn, D, ch,
                                            out, bo, bc)
        if sgn > 0:
            cols[0][a], cols[1][a], cols[2][a] = s, lo, bl
        if sgn == 0:
            out_cnt[j] = no
            out_days[j, :no] = out[:no]
        flag[j] = K > 0 and differs_call(a, d0, W, cl, s0, lo0, bl0, out, no, M, T, tmp, bo, bc, z1, D0)


@njit(parallel=True, cache=CACHE)
def friends_of(ids, n, fkeys):
    """The agents ``ids``' partners in the 4 matchings (-1: unmatched)."""
    f = np.empty((ids.shape[0], 4), np.int64)
    for ch in prange(CHUNKS):
        j0, j1 = ch * ids.shape[0] // CHUNKS, (ch + 1) * ids.shape[0] // CHUNKS
        _friends(ids[j0:j1], n, fkeys, f[j0:j1])
    return f


@njit(cache=CACHE)
def _friends(ids, n, fkeys, f):
    hb = half_bits(n)
    for j in range(ids.shape[0]):
        friends4_call(ids[j], n, fkeys, hb, f[j])


def set_bits(words: np.ndarray) -> np.ndarray:
    """The positions of the set bits of a uint64 bitmap, in order."""
    return np.flatnonzero(np.unpackbits(words.view(np.uint8), bitorder="little"))


def correct(wrong, n, d0, W, cls, S, cols, M, T, fkeys, D):
    """Step 3: while some senders' runs differ from the table, their lists go into it and their friends are
    run again. Returns the final table and (senders corrected, agents run again)."""
    n_wrong, n_redone = 0, 0
    while len(wrong):
        cnt, days = np.zeros(len(wrong), np.int64), np.zeros((len(wrong), MAX_CRIT), np.int64)
        redo(wrong, 0, n, d0, W, cls, S, cols, M, T, fkeys, D, cnt, days)
        A = friends_of(wrong, n, fkeys).ravel()
        A = np.unique(A[A >= 0])
        redo(A, -1, n, d0, W, cls, S, cols, M, T, fkeys, D, cnt, days)
        keep = ~np.isin(T[0], wrong)
        ids = np.concatenate([T[0][keep], wrong])
        order = np.argsort(ids, kind="stable")
        T = (ids[order], np.concatenate([T[1][keep], cnt])[order], np.concatenate([T[2][keep], days])[order])
        flag = redo(A, 1, n, d0, W, cls, S, cols, M, T, fkeys, D, cnt, days)
        n_wrong, n_redone = n_wrong + len(wrong), n_redone + len(A)
        wrong = A[flag]
    return T, (n_wrong, n_redone)


def verify(n, d0, W, cls, S, cols, M, T, fkeys, D):
    """The number of values (metrics of the window, end states) in which the corrected run differs from one
    plain sweep from the window's start with the final table's penalties, plus the senders that sweep finds
    wrong. 0 when the corrections reached the fixed point."""
    plain = (tuple(np.full(n, v, np.int16) for v in (S[4], NEVER, NEVER)) if S[0] else
             tuple(c.copy() for c in S[1:4]))
    D2 = tuple(np.zeros_like(d) for d in D)
    rec, bstart = penalties(n, d0, W, cls, S, M, T, fkeys, BLOCK)
    wrong = np.zeros((n >> 6) + 1, np.uint64)
    sweep(n, d0, W, cls, plain, rec, bstart, BLOCK, M, T, D2, wrong, 0, bstart.shape[0] - 1)
    bad = len(set_bits(wrong)) + sum(int((a != b).sum()) for a, b in zip(cols, plain))
    return bad + sum(int((a.sum(axis=0) != b.sum(axis=0)).sum()) for a, b in zip(D, D2))
