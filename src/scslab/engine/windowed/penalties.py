"""The penalties' step of a window: every sender's guessed list (or its corrected one), and the penalties
of those lists, bucketed by blocks of ``2**BLOCK`` targets for the sweep (:func:`penalties`).

A sender is an agent with a detected network act in the window. The first pass finds them, a bit each in a
bitmap that the two passes after it read instead of drawing every agent's count again. Their friends are
found ``SENDER_BATCH`` at a time; a sender's list is read from the table (``incoming.listed_keeps``), and
which of its detected acts the list keeps is kept as a bitmask (from the guess, or by matching them; rebuilt
later by :func:`kept_acts`); its penalties are counted into buckets of ``2**CB`` targets, then written as
records ``(target & (2**CB - 1)) << REC_BITS | window day << 4 | kind``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..bits import lowest, popcount
from ..borrow import borrowed
from ..threads import in_threads
from .draws import CACHE, act_code, act_day, act_net, child_of, crit_count, household, network_acts, tie_relation
from .friends import friends_batch
from .incoming import SENDER_BATCH, listed_keeps, scratch
from .model import CHUNKS
from .redress import for_work_item

__all__ = ["penalties", "senders_of", "coarse_bits", "kept_acts", "send", "BLOCK", "COARSE", "REC_BITS"]

COARSE = 8192      # at most this many buckets in the penalties' scatter (more: two passes)
BLOCK = 12         # the sweep's blocks of 2**BLOCK agents; a penalty record: target in its bucket << REC_BITS |
REC_BITS = 13      # window day << 4 | kind (``draws.inc_code``: 9 bits of day, 4 of kind)


@njit(inline="always")
def send(a, n, codes, k, d0, fr, M, CB, at, rec):
    """The penalties of sender a's network acts ``codes[:k]`` (``draws.act_code``, kept ones) to its matched ties
    ``fr`` (-1: none) and to the adults of its household, by the kind of each (``Tables.kind_of``): counted into ``at[target >> CB]``, or, with records
    ``rec`` (not empty), written at ``at[target >> CB]`` (which then moves on) as ``(target & (2**CB - 1)) <<
    REC_BITS | window day << 4 | kind``."""
    low = (np.int64(1) << CB) - 1
    write = rec.shape[0] > 0
    lo, hi = household(a, n, M.house)
    for q in range(k):
        e, j = act_day(codes[q]) - d0, act_net(codes[q])
        for x in range(4):
            f = np.int64(fr[x])
            kind = M.by_matching[j, x]
            if f >= 0 and kind >= 0 and M.ties[e, kind] != 0:
                if write:
                    rec[at[f >> CB]] = ((f & low) << REC_BITS) | (e << 4) | kind
                at[f >> CB] += 1
        if not M.at_home[j]:
            continue  # the act costs no household member anything (press-2018's posts: most network acts)
        for m in range(lo, hi):
            if m != a and not child_of(m, M.adult):
                kind = M.kind_of[j, tie_relation(a, m, lo, M.adult)]
                if kind >= 0 and M.ties[e, kind] != 0:
                    if write:
                        rec[at[m >> CB]] = ((m & low) << REC_BITS) | (e << 4) | kind
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
    cut = _cuts(n)
    sent = np.empty((n >> 6) + 1, np.uint64)  # the senders, a bit each (a chunk starts at a word: cut)

    def count(ch):
        nsend[ch + 1] = _count_senders(cut[ch], cut[ch + 1], cls, M, sent)

    in_threads(count, CHUNKS)
    nsend = np.cumsum(nsend)
    fr = np.empty((nsend[-1], 4), np.int32)   # the senders' friends, found once
    keep = np.empty(nsend[-1], np.uint32)     # which of their detected network acts the table keeps
    rank = np.empty((n >> B) + 1, np.int64)   # the senders before each block
    nc = (n >> CB) + 1
    per = np.zeros((CHUNKS, nc), np.int64)

    def senders(ch):
        senders_of(cut[ch], cut[ch + 1], nsend[ch], n, d0, W, cls, S, M, T, fkeys, B, CB, fr, keep, rank, per[ch],
                   sent, scratch(), for_work_item(R))

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
        _records(cut[ch], cut[ch + 1], nsend[ch], n, d0, W, cls, M, CB, fr, keep, per[ch], rec, sent)

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


def _cuts(n: int) -> np.ndarray:
    """The first agent of each of the steps' work items (and n): ``ch * n // CHUNKS`` rounded down to a multiple
    of 64, so that no two work items set bits of one word of the senders' bitmap."""
    cut = (np.arange(CHUNKS + 1, dtype=np.int64) * n // CHUNKS) & ~np.int64(63)
    cut[-1] = n
    return cut


@njit(cache=CACHE, nogil=True)
def _count_senders(i0, i1, cls, M, sent):
    """The senders (agents with a detected network act in the window) among agents ``i0 .. i1-1`` (i0 a multiple
    of 64), a bit each into the words of ``sent`` from ``i0 >> 6`` on (a sender is then read there, not
    drawn again: by the two passes over the senders after this one); returns their number."""
    # borrowed: an inlined function's branches would otherwise update M's reference counts for every agent
    # (engine/borrow.py; six times this step's time)
    cls, M, sent = borrowed(cls), borrowed(M), borrowed(sent)
    k = 0
    for w in range(i0 >> 6, (i1 + 63) >> 6):
        word = np.uint64(0)
        for i in range(w << 6, min((w + 1) << 6, i1)):
            if crit_count(i, cls[i], M) > 0:
                word |= np.uint64(1) << np.uint64(i & 63)
        sent[w] = word
        k += np.int64(popcount(word))
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
def senders_of(i0, i1, j, n, d0, W, cls, S, M, T, fkeys, B, CB, fr, keep, rank, per, sent, work, R):
    """Senders i0 .. i1-1 (i0 a multiple of 64, the first sender the j-th; ``sent``: the senders' bitmap): their
    friends (``SENDER_BATCH`` senders at a time), which network acts the table keeps, the rank of each block's
    first sender, and the penalties per bucket of ``2**CB`` targets. ``work``: a :class:`Scratch`."""
    # every sender that may be deterred runs the agent kernel, a call with some forty arrays: borrowed, they
    # carry no reference counts to update (engine/borrow.py; half the step's time at 4 M agents)
    cls, S, M, T, work, R = borrowed(cls), borrowed(S), borrowed(M), borrowed(T), borrowed(work), borrowed(R)
    fr, keep, rank, per, sent = borrowed(fr), borrowed(keep), borrowed(rank), borrowed(per), borrowed(sent)
    ids, days, bo, bc, z1, D0, f64, tmp = work.ids, work.out, work.bo, work.bc, work.z1, work.D0, work.f64, work.tmp
    no_rec = np.empty(0, np.uint32)
    w, w1, word = i0 >> 6, (i1 + 63) >> 6, np.uint64(0)  # the next word of the bitmap to read, the end, and the
    # senders of the word read last (w - 1) not yet taken
    while w < w1 or word != 0:
        cnt = 0
        while cnt < SENDER_BATCH:
            if word == 0:
                if w == w1:
                    break
                if ((w << 6) & ((1 << B) - 1)) == 0:  # a block starts at the word (B >= 6)
                    rank[(w << 6) >> B] = j + cnt
                word = sent[w]
                w += 1
                continue
            ids[cnt] = ((w - 1) << 6) + np.int64(lowest(word))
            word &= word - np.uint64(1)
            cnt += 1
        friends_batch(ids[:cnt], n, fkeys, f64[:cnt])  # into int64, as friends_of: one compiled signature
        for q in range(cnt):  # (element by element: see _split)
            for x in range(4):
                fr[j + q, x] = f64[q, x]
        for q in range(cnt):
            a = ids[q]
            k, mask = listed_keeps(a, d0, W, cls, S, M, T, days, np.int64(0), bo, bc, z1, D0, R)
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
def _records(i0, i1, j, n, d0, W, cls, M, B, fr, keep, at, rec, sent):
    """The penalty records of senders i0 .. i1-1 (i0 a multiple of 64, the first sender the j-th; ``sent``: the
    senders' bitmap), written from ``at[block]`` on."""
    cls, M, fr, keep, at, rec = borrowed(cls), borrowed(M), borrowed(fr), borrowed(keep), borrowed(at), borrowed(rec)
    sent = borrowed(sent)
    bc, codes = np.empty(6, np.uint64), np.empty(64, np.int64)
    for w in range(i0 >> 6, (i1 + 63) >> 6):
        word = sent[w]
        while word != 0:
            i = (w << 6) + np.int64(lowest(word))
            word &= word - np.uint64(1)
            k = kept_acts(i, cls[i], crit_count(i, cls[i], M), keep[j], d0, W, M, bc, codes)
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
