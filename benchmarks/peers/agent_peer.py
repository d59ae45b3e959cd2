"""bench-v1 agent by agent: each agent's whole year at once, the route measured for issue 10.

scslab's engines go day by day over the population. This peer turns the loops around: it takes one agent
and runs its whole window of days (a year at most, ``agent_window.py``) before the next agent, with the
agent's state in registers. It is a peer of the benchmark, not an engine: it implements
``shared/reference/bench-v1.md`` only, returns the same daily metrics as the other peers, and the agreement
test (``benchmarks/peers/agree.py``, ``tests/test_peers.py``) checks it against scslab. Its purpose is to
measure, on the real model, how fast an agent-major engine can be (``docs/performance.md``, issue 10).

Agents are not independent: a detected criticism costs each friend 3 points the same day, and whether a
criticism is made depends on the critic's score (deterrence). A window is run in three steps:

1. **Guess every sender's criticisms.** Only agents with a detected criticism in the window (about 13 %)
   can send penalties. The guess keeps all of a sender's criticisms when every deterrence draw keeps them or
   its score is unlikely to fall below 850 before the last one; else it is the criticisms of its window run
   with no penalty coming in (at 21.7 M, 3,835 of 2.77 M senders are then corrected). The penalties of the
   guessed lists are bucketed by blocks of ``2**BLOCK`` targets, not sorted.
2. **Sweep.** Everyone's window, block by block in id order (a counting sort puts each block's penalties
   in order): states and metrics are written, and every sender whose run differs from its list in the
   table is flagged (a penalty that came in took it across the deterrence line).
3. **Correct.** The flagged senders' lists go into the table; their friends are run again from the window's
   start, their old metric changes taken back and the new ones added; senders among them whose lists
   change are flagged in turn, until none is. The result is the fixed point, which is the day-by-day
   model's outcome for these draws (a penalty acts on deterrence from the next day on); with ``verify`` a
   plain sweep with the final lists checks that, value by value.

Friends are scslab's Feistel matchings (``population``), computed four at a time. The result depends on the
seed only, not on threads. Memory: 7 bytes per agent, plus 4 per penalty and 18 per sender in a window.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from numba import njit, prange

from scslab import population
from scslab.engine.bits import set_bit
from scslab.rng import GOLDEN, mix64

from .agent_window import (CACHE, MAX_CRIT, MAX_W, NEVER, ONE, agent, agent_call, crit_count, d32, guess, mix,
                           model, next_day, pick_days)
from .numpy_peer import BEHAVIOURS, POINTS, TIERS

partner = population.make(njit, mix)[1]
ROUNDS = population.ROUNDS
CHUNKS = 64        # parallel work items; the result does not depend on it
MAX_DAYS = 32767   # the state keeps days in int16
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
def corrected(i, T):
    """Where sender i's corrected list is in the table ``T`` = (ids, counts, days), -1 if it has none."""
    p = np.searchsorted(T[0], i)
    return p if p < T[0].shape[0] and T[0][p] == i else -1


@njit(inline="always")
def start_of(i, S):
    """Agent i's state at the window's start; ``S`` = (fresh, score, last offence, listed)."""
    if S[0]:
        return np.int64(1000), np.int64(NEVER), np.int64(NEVER)
    return np.int64(S[1][i]), np.int64(S[2][i]), np.int64(S[3][i])


@njit(inline="always")
def listed(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, z2):
    """Append sender f's criticisms as the table has them to ``inc[k:]``: its corrected list if it has one,
    else the guess. Returns the new length."""
    p = corrected(f, T)
    if p >= 0:
        for q in range(T[1][p]):
            inc[k + q] = T[2][p, q]
        return k + T[1][p]
    s, lo, bl = start_of(f, S)
    return k + guess(f, d0, W, cls[f], s, lo, bl, M, inc[k:], bo, bc, z1, z2)[0]


@njit(inline="always")
def differs(i, d0, W, cls, s, lo, bl, out, no, M, T, tmp, bo, bc, z1, z2):
    """Whether sender i's criticisms ``out[:no]`` differ from the table's (``s, lo, bl``: its start state)."""
    p = corrected(i, T)
    if p >= 0:
        g = T[1][p]
        for q in range(g):
            tmp[q] = T[2][p, q]
    else:
        g = guess(i, d0, W, cls, s, lo, bl, M, tmp, bo, bc, z1, z2)[0]
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
    keep = np.empty(nsend[-1], np.uint16)     # which of their detected criticisms the table keeps
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
    """Senders i0 .. i1-1 (the first is the j-th): their friends, which criticisms the table keeps, and the
    penalties per target block."""
    hb = half_bits(n)
    f4, days = np.empty(4, np.int64), np.empty(MAX_CRIT, np.int64)
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    z1, z2 = np.zeros(1, np.int64), np.zeros((1, 1), np.int64)
    for i in range(i0, i1):
        K = crit_count(i, cls[i], M)
        if K:
            k = listed(i, d0, W, cls, S, M, T, days, 0, bo, bc, z1, z2)
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
def sweep(n, d0, W, cls, cols, rec, start, B, M, T, D, wrong):
    """Everyone's window, block by block of 2**B agents, with the penalties ``rec`` of the table's lists:
    writes the states ``cols`` and the metric changes ``D`` (per chunk) and sets, in the bitmap ``wrong``, every
    sender whose criticisms differ from the table's."""
    nb = start.shape[0] - 1
    for ch in prange(CHUNKS):
        _sweep_blocks(ch, ch * nb // CHUNKS, (ch + 1) * nb // CHUNKS, n, d0, W, cls, cols, rec, start, B, M, T, D,
                      wrong)


@njit(cache=CACHE)
def _sweep_blocks(ch, b0, b1, n, d0, W, cls, cols, rec, start, B, M, T, D, wrong):
    score, last_off, listed_on = cols
    tdiff, bdiff, detc, ndiff = D
    size = 1 << B
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    out, inc, tmp = np.empty(64, np.int64), np.empty(256, np.int64), np.empty(64, np.int64)
    z1, z2 = np.zeros(1, np.int64), np.zeros((1, 1), np.int64)
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
            no, K, s, lo, bl, unc, fd = agent(i, d0, W, cl, s0, lo0, bl0, inc, k, M, True, 1, tdiff[ch, cl],
                                          bdiff[ch, cl], detc[ch, cl], ndiff[ch], out, bo, bc)
            # checked only when its run may differ from the guess (see ``agent``'s last two results)
            may = K > 0 and (T[0].shape[0] > 0 or no != K or (k > 0 and inc[0] < unc and fd <= unc))
            if may and differs_call(i, d0, W, cl, s0, lo0, bl0, out, no, M, T, tmp, bo, bc, z1, z2):
                set_bit(wrong, i)
            score[i], last_off[i], listed_on[i] = s, lo, bl


@njit(parallel=True, cache=CACHE)
def redo(A, sgn, n, d0, W, cls, S, cols, M, T, fkeys, D, out_cnt, out_days):
    """Agents ``A`` again from their window's start, with the penalties of the table's lists. ``sgn`` +1: add
    their metric changes and store their states; -1: take back the changes the same run added; 0: only
    their criticisms, into ``out_cnt`` and ``out_days``. Returns, per agent, whether its criticisms differ
    from the table's."""
    m = A.shape[0]
    flag = np.zeros(m, np.bool_)
    for ch in prange(CHUNKS):
        _redo_some(ch, A[ch * m // CHUNKS:(ch + 1) * m // CHUNKS], ch * m // CHUNKS, sgn, n, d0, W, cls, S, cols,
                   M, T, fkeys, D, out_cnt, out_days, flag)
    return flag


@njit(cache=CACHE)
def _redo_some(ch, A, j0, sgn, n, d0, W, cls, S, cols, M, T, fkeys, D, out_cnt, out_days, flag):
    tdiff, bdiff, detc, ndiff = D
    hb = half_bits(n)
    f4 = np.empty(4, np.int64)
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    out, inc, tmp = np.empty(64, np.int64), np.empty(256, np.int64), np.empty(64, np.int64)
    z1, z2 = np.zeros(1, np.int64), np.zeros((1, 1), np.int64)
    for jj in range(A.shape[0]):
        a, j = A[jj], j0 + jj
        friends4_call(a, n, fkeys, hb, f4)
        k = 0
        for x in range(4):
            if f4[x] >= 0:
                k = listed_call(f4[x], d0, W, cls, S, M, T, inc, k, bo, bc, z1, z2)
        sort_small(inc, k)
        cl = cls[a]
        s0, lo0, bl0 = start_of(a, S)
        no, K, s, lo, bl, _, _ = agent_call(a, d0, W, cl, s0, lo0, bl0, inc, k, M, sgn != 0, sgn, tdiff[ch, cl],
                                    bdiff[ch, cl], detc[ch, cl], ndiff[ch], out, bo, bc)
        if sgn > 0:
            cols[0][a], cols[1][a], cols[2][a] = s, lo, bl
        if sgn == 0:
            out_cnt[j] = no
            out_days[j, :no] = out[:no]
        flag[j] = K > 0 and differs_call(a, d0, W, cl, s0, lo0, bl0, out, no, M, T, tmp, bo, bc, z1, z2)


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


@njit(parallel=True, cache=CACHE)
def start(n, key, cls, score, last_off, listed_on):
    for i in prange(n):
        u = d32(key, i, 0)
        cls[i] = 0 if u < np.uint64(3006477107) else (1 if u < np.uint64(4080218931) else 2)  # 70 / 25 / 5 %
        score[i] = 1000
        last_off[i] = NEVER
        listed_on[i] = NEVER


def simulate(n: int, days: int, seed: int = 0, points=POINTS, clock: dict | None = None,
             stats: dict | None = None, window: int = 365, verify: bool = False) -> dict[str, np.ndarray]:
    """Run bench-v1 and return daily metrics: name -> int64[days], as the other peers. ``clock`` gets
    ``setup_end``; ``stats`` gets the seconds of each step, per window the senders corrected and agents run
    again, and with ``verify`` the values in which a plain sweep with the final lists differs (0);
    ``window``: days run agent by agent before the next window (at most 384)."""
    if not 1 <= window <= MAX_W:
        raise ValueError(f"window must be 1..{MAX_W} days, got {window!r}")
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS} (the state keeps days in int16), got {days!r}")
    if not 1 <= n < 2**31:
        raise ValueError(f"n must be 1..{2**31 - 1} (friends are kept as int32), got {n!r}")
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        keys0 = np.array([mix64(np.uint64(seed) * np.uint64(1000003) + np.uint64(k)) for k in range(8)], np.uint64)
    fkeys = population.feistel_keys(seed, 4)
    cls = np.empty(n, np.uint8)
    cols = (np.empty(n, np.int16), np.empty(n, np.int16), np.empty(n, np.int16))  # score, last offence, listed
    start(n, keys0[7], cls, *cols)
    D = _diffs(days)
    st = {"penalties": 0.0, "sweep": 0.0, "corrections": 0.0, "corrected": [], "redone": [], "verify_diff": 0}
    if clock is not None:
        clock["setup_end"] = time.perf_counter()
    for d0 in range(0, days, min(days, window)):
        W = min(window, days - d0)
        with np.errstate(over="ignore"):
            keys = np.array([mix64(k ^ (np.uint64(d0 + 1) * GOLDEN)) for k in keys0[:7]], np.uint64)
        M = model(W, keys, points)
        S = (True, *cols) if d0 == 0 else (False, *(c.copy() for c in cols))
        T = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, MAX_CRIT), np.int64))
        t0 = time.perf_counter()
        rec, bstart = penalties(n, d0, W, cls, S, M, T, fkeys, BLOCK)
        t1 = time.perf_counter()
        wrong = np.zeros((n >> 6) + 1, np.uint64)
        sweep(n, d0, W, cls, cols, rec, bstart, BLOCK, M, T, D, wrong)
        del rec
        t2 = time.perf_counter()
        T, counts = correct(set_bits(wrong), n, d0, W, cls, S, cols, M, T, fkeys, D)
        t3 = time.perf_counter()
        if verify:
            st["verify_diff"] += _verify(n, d0, W, cls, S, cols, M, T, fkeys, D)
        st["corrected"].append(counts[0])
        st["redone"].append(counts[1])
        st["penalties"] += t1 - t0
        st["sweep"] += t2 - t1
        st["corrections"] += t3 - t2
    if stats is not None:
        stats.update(st)
    return _series(D, n, days)


def _diffs(days):
    """Per chunk and class: daily changes of the tier counts and the blacklist, detections by behaviour, and
    per chunk the penalties received."""
    return (np.zeros((CHUNKS, 3, days + 1, len(TIERS)), np.int64), np.zeros((CHUNKS, 3, days + 1), np.int64),
            np.zeros((CHUNKS, 3, days + 1, len(BEHAVIOURS)), np.int64), np.zeros((CHUNKS, days + 1), np.int64))


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


def _verify(n, d0, W, cls, S, cols, M, T, fkeys, D):
    """The number of values (metrics of the window, end states) in which the corrected run differs from one
    plain sweep from the window's start with the final table's penalties, plus the senders that sweep finds
    wrong. 0 when the corrections reached the fixed point."""
    plain = tuple(np.full(n, v, np.int16) for v in (1000, NEVER, NEVER)) if S[0] else tuple(c.copy() for c in S[1:])
    D2 = tuple(np.zeros_like(d) for d in D)
    rec, bstart = penalties(n, d0, W, cls, S, M, T, fkeys, BLOCK)
    wrong = np.zeros((n >> 6) + 1, np.uint64)
    sweep(n, d0, W, cls, plain, rec, bstart, BLOCK, M, T, D2, wrong)
    bad = len(set_bits(wrong)) + sum(int((a != b).sum()) for a, b in zip(cols, plain))
    for a, b in zip(D, D2):
        a, b = a.sum(axis=0), b.sum(axis=0)
        bad += int((a[..., d0:d0 + W] != b[..., d0:d0 + W]).sum() if a.ndim < 3 else
                   (a[:, d0:d0 + W] != b[:, d0:d0 + W]).sum())
    return bad


def _series(D, people, days):
    tdiff, bdiff, detc, ndiff = (d.sum(axis=0) for d in D)
    tiers = np.cumsum(tdiff.sum(axis=0), axis=0)[:days]
    tiers[:, TIERS.index(("A", 960))] += people
    series = {f"tier:{name}": tiers[:, k] for k, (name, _) in enumerate(TIERS)}
    series["listed:blacklist"] = np.cumsum(bdiff.sum(axis=0))[:days]
    series["network_penalties"] = ndiff[:days]
    for b, name in enumerate(BEHAVIOURS):
        series[f"detected:{name}"] = detc.sum(axis=0)[:days, b]
    return series


def main(argv=None) -> None:
    """``python -m benchmarks.peers.agent_peer N [DAYS] [REPEATS]``: time a run (after a small warm-up)."""
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 1_000_000
    days = int(argv[1]) if len(argv) > 1 else 365
    repeats = int(argv[2]) if len(argv) > 2 else 1
    simulate(2_000, days, seed=1)
    for r in range(repeats):
        st: dict = {}
        t = time.perf_counter()
        out = simulate(n, days, seed=1 + r, stats=st)
        wall = time.perf_counter() - t
        shares = {k: round(100 * float(out[k][-1]) / n, 3) for k in ("tier:AA", "tier:A", "tier:B", "tier:C")}
        print(f"n={n:,} days={days}: {wall:.2f} s ({n * days / wall:.3g} agent-days/s); penalties "
              f"{st['penalties']:.2f} s, sweep {st['sweep']:.2f} s, corrections {st['corrections']:.2f} s "
              f"({st['corrected']} senders corrected, {st['redone']} agents run again); last day % {shares}",
              flush=True)


if __name__ == "__main__":
    main()
