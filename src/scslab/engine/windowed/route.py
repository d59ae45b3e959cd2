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

from typing import NamedTuple

import numpy as np
from numba import njit

from ..bits import set_bit
from ..borrow import borrowed
from ..threads import in_threads
from .agent import KIDS, MARKED, NEVER, UNLISTED, agent, guess, listed_day, packed_lists
from .draws import (CACHE, act_code, act_day, act_net, child_of, crit_count, household, inc_code, inc_day,
                    network_acts, present)
from .friends import friends_batch, friends_of
from .model import CHUNKS, MAX_CRIT
from .redress import for_work_item

__all__ = ["penalties", "senders_of", "coarse_bits", "sweep", "sweep_blocks", "correct", "set_bits", "Scratch",
           "scratch", "CHUNKS", "BLOCK", "COARSE"]

SENDER_BATCH = 1024  # senders whose friends are found together
COARSE = 8192      # at most this many buckets in the penalties' scatter (more: two passes)
REDO_AGENTS = 64   # a correction's work items run at least this many agents each (at most CHUNKS items)
BLOCK = 12         # the sweep's blocks of 2**BLOCK agents; a penalty record: target in its bucket << REC_BITS |
REC_BITS = 13      # window day << 4 | kind (``draws.inc_code``: 9 bits of day, 4 of kind)


INC = 1024  # an agent's penalties received in a window, at most: MAX_CRIT acts from each of 4 friends and 15
           # household members


def no_metrics() -> tuple:
    """Metric arrays of the right types that a run which writes nothing is given."""
    return (np.zeros((1, 1, 1, 1), np.int64), np.zeros((1, 1, 1, 1), np.int64), np.zeros((1, 1, 1, 1), np.int64),
            np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1, 1, 1), np.int64),
            np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1), np.int64),
            np.zeros((1, 1, 1), np.int64), np.zeros((1, 1, 1, 1), np.int64), np.zeros((1, 1, 1, 1), np.int64),
            np.zeros((1, 1, 1), np.int64), np.zeros((1, KIDS), np.int64))


class Scratch(NamedTuple):
    """A work item's scratch arrays. Its caller allocates them (:func:`scratch`), so that the compiled function
    may borrow them with its other arguments (``engine/borrow.py``: it must not borrow what it allocates)."""

    bo: np.ndarray    # uint64[6]: a bitmap of an agent's days with other acts (``draws.pick_days``)
    bc: np.ndarray    # ... of its days with network acts
    out: np.ndarray   # int64[64]: an agent's network act days
    inc: np.ndarray   # int64[INC]: the network penalties it receives (``draws.inc_code``)
    tmp: np.ndarray   # int64[64]
    z1: np.ndarray    # int64[1]: no penalties coming in
    D0: tuple         # metric arrays that are not written (:func:`no_metrics`)
    one: np.ndarray   # int64[1]: one agent ...
    f4: np.ndarray    # int64[1, 4]: ... and its friends (``friends.friends_batch``)
    ids: np.ndarray   # int64[SENDER_BATCH]: a batch of senders ...
    f64: np.ndarray   # int64[SENDER_BATCH, 4]: ... and their friends


def scratch() -> Scratch:
    """A work item's :class:`Scratch`."""
    return Scratch(bo=np.empty(6, np.uint64), bc=np.empty(6, np.uint64), out=np.empty(64, np.int64),
                   inc=np.empty(INC, np.int64), tmp=np.empty(64, np.int64), z1=np.zeros(1, np.int64),
                   D0=no_metrics(), one=np.empty(1, np.int64), f4=np.empty((1, 4), np.int64),
                   ids=np.empty(SENDER_BATCH, np.int64), f64=np.empty((SENDER_BATCH, 4), np.int64))


@njit(inline="always")
def corrected(i, T):
    """Where sender i's corrected list is in the table ``T`` = (ids, counts, days), -1 if it has none."""
    p = np.searchsorted(T[0], i)
    return p if p < T[0].shape[0] and T[0][p] == i else -1


@njit(inline="always")
def start_of(i, S):
    """Agent i's state at the window's start (score, last offence, days listed and false record as
    ``agent.packed_lists`` packs them); ``S`` = (fresh, score, last offence, listed [list, agent], false records,
    base score): a fresh start has everyone at the base score, with no offence, on no list and no false record."""
    if S[0]:
        return np.int64(S[5]), np.int64(NEVER), np.int64(UNLISTED)
    return np.int64(S[1][i]), np.int64(S[2][i]), packed_lists(S[3], S[4], i)


@njit(inline="always")
def listed(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R):
    """Append sender f's network acts (``draws.act_code``) as the table has them to ``inc[k:]``: its corrected
    list if it has one, else the guess. Returns the new length."""
    p = corrected(f, T)
    if p >= 0:
        for q in range(T[1][p]):
            inc[k + q] = T[2][p, q]
        return k + T[1][p]
    s, lo, bl = start_of(f, S)
    return k + guess(f, d0, W, cls[f], s, lo, bl, M, inc[k:], bo, bc, z1, D0, R)[0]


@njit(inline="always")
def lists_differ(a, g, b, no):
    """Whether the days ``a[:g]`` and ``b[:no]`` differ."""
    if g != no:
        return True
    for q in range(no):
        if a[q] != b[q]:
            return True
    return False


@njit(inline="always")
def differs(i, d0, W, cls, s, lo, bl, out, no, M, T, tmp, bo, bc, z1, D0, R):
    """Whether sender i's network acts ``out[:no]`` differ from the table's (``s, lo, bl``: its start state)."""
    p = corrected(i, T)
    if p >= 0:
        g = T[1][p]
        for q in range(g):
            tmp[q] = T[2][p, q]
    else:
        g = guess(i, d0, W, cls, s, lo, bl, M, tmp, bo, bc, z1, D0, R)[0]
    return lists_differ(tmp, g, out, no)


@njit(inline="always")
def unpack_lists(bl, col, marks, i):
    """Store agent i's days listed ``bl`` (``agent.packed_lists``) into the columns ``col[list, agent]`` and
    ``marks[agent]`` (one entry, never marked, in a scheme without false attributions)."""
    for L in range(col.shape[0]):
        col[L, i] = listed_day(bl, L)
    if i < marks.shape[0]:
        marks[i] = 1 if (bl & MARKED) != 0 else 0


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
listed_call = njit(cache=CACHE)(getattr(listed, "py_func", listed))
differs_call = njit(cache=CACHE)(getattr(differs, "py_func", differs))


@njit(inline="always")
def as_received(inc, k0, k1, k, d0, rel, M):
    """The network acts ``inc[k0:k1]`` (``draws.act_code``) of one tie as the penalties an agent receives from
    it, written from ``inc[k]`` on (``draws.inc_code``; an act that costs this kind of tie 0 points that day
    sends none). Returns the new length. (k <= k0: written over what was read.)"""
    for q in range(k0, k1):
        day, j = act_day(inc[q]), act_net(inc[q])
        kind = 2 * j + rel
        if M.ties[day - d0, kind] != 0:
            inc[k] = inc_code(day, kind)
            k += 1
    return k


@njit(inline="always")
def incoming(a, n, d0, W, cls, S, M, T, fkeys, one, f4, inc, bo, bc, z1, D0, R):
    """The network penalties agent a receives in the window, from its ties' lists in the table (or their
    guesses): its friends' and its household's adults', sorted into ``inc`` (``draws.inc_code``); returns
    their number."""
    one[0] = a  # (``one``: int64[1], ``f4``: int64[1, 4]: friends_batch's signature, compiled once)
    friends_batch(one, n, fkeys, f4)
    k = np.int64(0)
    for x in range(4):
        if f4[0, x] >= 0:
            k1 = listed_call(f4[0, x], d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R)
            k = as_received(inc, k, k1, k, d0, 1, M)
    lo, hi = household(a, n, M.house)
    for m in range(lo, hi):
        if m != a and not child_of(m, M.adult):
            k1 = listed_call(np.int64(m), d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R)
            k = as_received(inc, k, k1, k, d0, 0, M)
    sort_small(inc, k)
    return k


@njit(inline="always")
def send(a, n, codes, k, d0, fr, M, CB, at, rec):
    """The penalties of sender a's network acts ``codes[:k]`` (``draws.act_code``, kept ones) to its friends
    ``fr`` (-1: none) and to the adults of its household: counted into ``at[target >> CB]``, or, with records
    ``rec`` (not empty), written at ``at[target >> CB]`` (which then moves on) as ``(target & (2**CB - 1)) <<
    REC_BITS | window day << 4 | kind``."""
    low = (np.int64(1) << CB) - 1
    write = rec.shape[0] > 0
    for q in range(k):
        e, j = act_day(codes[q]) - d0, act_net(codes[q])
        if M.ties[e, 2 * j + 1] != 0:
            for x in range(4):
                f = np.int64(fr[x])
                if f >= 0:
                    if write:
                        rec[at[f >> CB]] = ((f & low) << REC_BITS) | (e << 4) | (2 * j + 1)
                    at[f >> CB] += 1
        if M.ties[e, 2 * j] != 0:
            lo, hi = household(a, n, M.house)
            for m in range(lo, hi):
                if m != a and not child_of(m, M.adult):
                    if write:
                        rec[at[m >> CB]] = ((m & low) << REC_BITS) | (e << 4) | (2 * j)
                    at[m >> CB] += 1


def coarse_bits(n: int, B: int = BLOCK) -> int:
    """The bits of the penalties' first buckets: ``B`` while there are at most ``COARSE`` blocks of ``2**B``
    targets, else wider buckets (``penalties`` then splits each into blocks in a second pass)."""
    CB = B
    while (n >> CB) + 1 > COARSE:
        CB += 1
    return CB


def penalties(n, d0, W, cls, S, M, T, fkeys, B, CB, R=None):
    """Every penalty of the table's lists, bucketed by target block (``target >> B``), not sorted within a
    block: the record is ``(target & (2**CB - 1)) << REC_BITS | window day << 4 | kind`` (uint32; the sweep
    reads the target's place in its block from the low B of the target's bits). Returns (records, block starts, the senders' kept acts
    (bit x: the x-th detected network act is in the table's list), each block's first sender's rank).

    The records are scattered into buckets of ``2**CB`` targets, then (when ``CB > B``) each bucket is split
    into its blocks: a scatter into hundreds of thousands of blocks at once (1.4 billion agents) would miss
    the caches and the TLB on nearly every record. Each step's work items run on threads
    (``engine/threads.py``)."""
    nsend = np.zeros(CHUNKS + 1, np.int64)

    def count(ch):
        nsend[ch + 1] = _count_senders(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, cls, M)

    in_threads(count, CHUNKS)
    nsend = np.cumsum(nsend)
    fr = np.empty((nsend[-1], 4), np.int32)   # the senders' friends, found once
    keep = np.empty(nsend[-1], np.uint32)     # which of their detected network acts the table keeps
    rank = np.empty((n >> B) + 1, np.int64)   # the senders before each block
    nc = (n >> CB) + 1
    per = np.zeros((CHUNKS, nc), np.int64)

    def senders(ch):
        senders_of(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, nsend[ch], n, d0, W, cls, S, M, T, fkeys, B, CB, fr,
                   keep, rank, per[ch], scratch(), for_work_item(R))

    in_threads(senders, CHUNKS)
    # bucket by bucket, chunk by chunk: each chunk's first place in the bucket, and the buckets' starts
    flat = per.T.ravel()
    ends = np.cumsum(flat)
    per[:] = (ends - flat).reshape(nc, CHUNKS).T
    cstart = np.zeros(nc + 1, np.int64)
    cstart[1:] = ends[CHUNKS - 1::CHUNKS]
    total = int(cstart[-1])
    rec = np.empty(total, np.uint32)

    def records(ch):
        _records(ch * n // CHUNKS, (ch + 1) * n // CHUNKS, nsend[ch], n, d0, W, cls, M, CB, fr, keep, per[ch], rec)

    in_threads(records, CHUNKS)
    if CB == B:
        return rec, cstart, keep, rank
    nb = (n >> B) + 1
    start = np.empty(nb + 1, np.int64)
    start[nb] = total
    F = 1 << (CB - B)

    def split(ch):
        for c in range(ch * nc // CHUNKS, (ch + 1) * nc // CHUNKS):
            _split(rec, cstart[c], cstart[c + 1], B, F, c * F, nb, start)

    in_threads(split, CHUNKS)
    return rec, start, keep, rank


@njit(cache=CACHE, nogil=True)
def _count_senders(i0, i1, cls, M):
    """The senders (agents with a detected network act in the window) among agents ``i0 .. i1-1``."""
    # borrowed: an inlined function's branches would otherwise update M's reference counts for every agent
    # (engine/borrow.py; six times this step's time)
    cls, M = borrowed(cls), borrowed(M)
    k = 0
    for i in range(i0, i1):
        k += crit_count(i, cls[i], M) > 0
    return k


@njit(cache=CACHE, nogil=True)
def _split(rec, r0, r1, B, F, b0, nb, start):
    """Order the records ``rec[r0:r1]`` of one bucket by their ``F`` blocks (a counting sort), and write the
    blocks' starts from ``start[b0]`` on (blocks from ``nb`` on do not exist)."""
    at = np.zeros(F + 1, np.int64)
    for r in range(r0, r1):
        at[((rec[r] >> (REC_BITS + B)) & (F - 1)) + 1] += 1
    for f in range(F):
        at[f + 1] += at[f]
    for f in range(F):
        if b0 + f < nb:
            start[b0 + f] = r0 + at[f]
    tmp = np.empty(r1 - r0, np.uint32)
    for r in range(r0, r1):
        f = (rec[r] >> (REC_BITS + B)) & (F - 1)
        tmp[at[f]] = rec[r]
        at[f] += 1
    for r in range(r0, r1):  # (element by element: a slice assigned from an array compiles numba's error
        rec[r] = tmp[r - r0]  # message for mismatched shapes, seconds of a first run's compiling)


@njit(cache=CACHE, nogil=True)
def senders_of(i0, i1, j, n, d0, W, cls, S, M, T, fkeys, B, CB, fr, keep, rank, per, work, R):
    """Senders i0 .. i1-1 (the first is the j-th): their friends (``SENDER_BATCH`` senders at a time), which
    network acts the table keeps, the rank of each block's first sender, and the penalties per bucket of
    ``2**CB`` targets. ``work``: a :class:`Scratch`."""
    # every sender that may be deterred runs the agent kernel, a call with some forty arrays: borrowed, they
    # carry no reference counts to update (engine/borrow.py; half the step's time at 4 M agents)
    cls, S, M, T, work = borrowed(cls), borrowed(S), borrowed(M), borrowed(T), borrowed(work)
    ids, days, bo, bc, z1, D0, f64, tmp = work.ids, work.out, work.bo, work.bc, work.z1, work.D0, work.f64, work.tmp
    no_rec = np.empty(0, np.uint32)
    i = i0
    while i < i1:
        cnt = 0
        while i < i1 and cnt < SENDER_BATCH:
            if i & ((1 << B) - 1) == 0:
                rank[i >> B] = j + cnt
            ids[cnt] = i
            cnt += crit_count(i, cls[i], M) > 0
            i += 1
        friends_batch(ids[:cnt], n, fkeys, f64[:cnt])  # into int64, as friends_of: one compiled signature
        for q in range(cnt):  # (element by element: see _split)
            for x in range(4):
                fr[j + q, x] = f64[q, x]
        for q in range(cnt):
            a = ids[q]
            p = corrected(a, T)
            if p >= 0:  # (listed's two cases, the guess's mask kept)
                k, mask = listed(a, d0, W, cls, S, M, T, days, np.int64(0), bo, bc, z1, D0, R), -1
            else:
                s, lo, bl = start_of(a, S)
                k, _, mask = guess(a, d0, W, cls[a], s, lo, bl, M, days, bo, bc, z1, D0, R)
            if mask < 0:  # which detected acts the list keeps, matched one by one
                K = network_acts(a, cls[a], crit_count(a, cls[a], M), W, M, bc, tmp)
                mask, c = 0, 0
                for x in range(K):
                    if c < k and days[c] == act_code(d0 + act_day(tmp[x]), act_net(tmp[x])):
                        mask |= 1 << x
                        c += 1
            keep[j] = mask
            send(a, n, days, k, d0, fr[j], M, CB, per, no_rec)
            j += 1


@njit(cache=CACHE, nogil=True)
def _records(i0, i1, j, n, d0, W, cls, M, B, fr, keep, at, rec):
    """The penalty records of senders i0 .. i1-1 (the first is the j-th), written from ``at[block]`` on."""
    cls, M, fr, keep, at, rec = borrowed(cls), borrowed(M), borrowed(fr), borrowed(keep), borrowed(at), borrowed(rec)
    bc, codes = np.empty(6, np.uint64), np.empty(64, np.int64)
    for i in range(i0, i1):
        K = crit_count(i, cls[i], M)
        if K:
            k = kept_acts(i, cls[i], K, keep[j], d0, W, M, bc, codes)
            send(i, n, codes, k, d0, fr[j], M, B, at, rec)
            j += 1


@njit(inline="always")
def kept_acts(i, cl, K, mask, d0, W, M, bc, codes):
    """Sender i's network acts (on its K network days) that :func:`penalties` kept as ``mask`` (bit x: its x-th
    detected network act is in the table's list), as codes ``draws.act_code(day, j)`` into ``codes``; returns
    their number."""
    g = 0
    for x in range(network_acts(i, cl, K, W, M, bc, codes)):
        if mask >> x & 1:
            codes[g] = act_code(d0 + act_day(codes[x]), act_net(codes[x]))
            g += 1
    return g


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
    change would add and take back the same changes (a correction of press-2018 at 21.7 M ran 57,222 agents
    twice instead of 43,000-odd)."""
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
