"""Friends for the windowed route: ``population``'s Feistel matchings, computed many at a time.

Agent i's partner in matching k is ``perm_k^-1(perm_k(i) xor 1)`` (``population.partner``), each permutation
a 4-round Feistel network on a domain of ``2**(2b)`` ids walked in cycles until it lands inside [0, n). The
walks are the cost: for n = 21.7 M or 1.4 billion only about a third of the domain is inside, so a
permutation takes three Feistel evaluations on average, and the longest of several lanes far more.

- :func:`friends_batch`, the partners of many agents (or of one: the corrections and the story agents), walks all of their permutations at once, one network
  evaluation per pass on every walk still outside (a loop without branches, compiled to SIMD), and moves
  the ones still outside to the front of the arrays, so no evaluation is wasted on a walk already inside.
  An inverse permutation is the forward network with its round keys reversed between two swaps of the
  halves, so both directions run the same loop.

It equals ``population.partner`` agent by agent (tested).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ... import population
from ..threads import in_threads
from .draws import CACHE, ONE, mix
from .model import CHUNKS

__all__ = ["friends_batch", "friends_of", "friends_spec", "half_bits"]

ROUNDS = population.ROUNDS
# population's Feistel network, inlined here: one network for every engine
_half_bits, forward, swap, feistel = population.make_feistel(njit(inline="always"), mix)


@njit(cache=CACHE)
def half_bits(m):
    return _half_bits(m)


@njit(inline="always")
def _walk(val, idx, A, m, rk, b, mask, inverse, out, k):
    """Walk ``val[:A]`` (the walks of the rows ``idx[:A]``) through the Feistel network with round keys ``rk``
    until each lands inside [0, m), writing each landed value into ``out[row, k]``. ``inverse``: the values
    are kept with their halves swapped (the inverse network is the forward one with its round keys reversed
    between two swaps), and tested and written swapped back.

    Each pass evaluates the network once on every walk still outside, in a loop without branches that the
    compiler turns into SIMD (eight 64-bit lanes with AVX-512), then moves those still outside to the front."""
    r0, r1, r2, r3 = rk[0], rk[1], rk[2], rk[3]
    while A > 0:
        for j in range(A):
            val[j] = forward(val[j], r0, r1, r2, r3, b, mask)
        c = 0
        for j in range(A):  # every walk writes its value (the last write is the landed one); no branch
            v = val[j]
            u = swap(v, b, mask) if inverse else v
            out[idx[j], k] = np.int64(u)
            idx[c] = idx[j]
            val[c] = v
            c += u >= m
        A = c


@njit(inline="always")
def _match(ids, j0, j1, lo, m, fw, bw, val, idx, out, k):
    """The partners of ``ids[j0:j1]`` (all in the id block [lo, lo + m)) in the matching over that block whose
    round keys are ``fw`` (``bw``: reversed), into ``out[j, k]`` (-1: unmatched)."""
    if m < 2:
        return
    b = np.uint64(_half_bits(m))
    mask, mm = (ONE << b) - ONE, np.uint64(m)
    A = j1 - j0
    for j in range(A):
        val[j], idx[j] = np.uint64(ids[j0 + j] - lo), j0 + j
    _walk(val, idx, A, mm, fw, b, mask, False, out, k)
    A = 0
    for j in range(j0, j1):  # the partner's position, walked back by the inverse permutation (if inside)
        q = np.uint64(out[j, k]) ^ ONE
        out[j, k] = -1
        idx[A], val[A] = j, swap(q, b, mask)
        A += q < mm
    _walk(val, idx, A, mm, bw, b, mask, True, out, k)
    for j in range(j0, j1):
        if out[j, k] >= 0:
            out[j, k] += lo


@njit(cache=CACHE, nogil=True)
def friends_batch(ids, n, F, out):
    """The partners of the agents ``ids`` in the population's matchings into ``out[j, k]`` (-1: unmatched), all
    of their walks at once, matching by matching (:func:`_walk`). ``F`` = (round keys, a row per matching;
    the regions' first ids and ``n``; the number of local friend matchings; the number of friend matchings):
    matching k pairs agents within their region's id block for k below the local matchings
    (``friends.same_region``) and for the colleague matchings after the friends', over [0, n) otherwise
    (``population.partner``, ``population.matching_block``). A friend per matching, at most ``out.shape[1]``; the columns past them are -1."""
    keys, starts, k_local, k_friends = F
    out[:] = -1
    cnt = ids.shape[0]
    val, idx = np.empty(cnt, np.uint64), np.empty(cnt, np.int64)
    fw, bw = np.empty(ROUNDS, np.uint64), np.empty(ROUNDS, np.uint64)
    for k in range(min(keys.shape[0], out.shape[1])):
        for r in range(ROUNDS):
            fw[r], bw[r] = keys[k, r], keys[k, ROUNDS - 1 - r]
        j0 = 0
        while j0 < cnt:  # the whole batch over [0, n), or runs of ids in one region's block
            lo, hi, j1 = np.int64(0), np.int64(n), cnt
            if k < k_local or k >= k_friends:  # (``population.matching_block``)
                r = 0
                while ids[j0] >= starts[r + 1]:
                    r += 1
                lo, hi, j1 = starts[r], starts[r + 1], j0 + 1
                while j1 < cnt and lo <= ids[j1] < hi:
                    j1 += 1
            _match(ids, j0, j1, lo, hi - lo, fw, bw, val, idx, out, k)  # (one call: its walks inlined once)
            j0 = j1


def friends_spec(plan) -> tuple:
    """``F`` for :func:`friends_batch`: the plan's round keys (4 rows of zeros without matched ties: never
    walked, nobody sends), region starts, local friend matchings and friend matchings."""
    from ...compile import P

    prm = plan.epochs[0].prm
    keys = plan.friend_keys if prm[P.K] > 0 else np.zeros((4, ROUNDS), np.uint64)
    return keys, plan.region_starts.astype(np.int64), np.int64(prm[P.K_LOCAL]), np.int64(prm[P.K_FRIENDS])


def friends_of(ids, n, F):
    """The agents ``ids``' partners in the matchings of ``F`` (:func:`friends_batch`; at most 4; -1: unmatched,
    and for the matchings past them); the chunks run on threads (``engine/threads.py``)."""
    f = np.empty((ids.shape[0], 4), np.int64)

    def chunk(ch):
        j0, j1 = ch * ids.shape[0] // CHUNKS, (ch + 1) * ids.shape[0] // CHUNKS
        friends_batch(ids[j0:j1], n, F, f[j0:j1])

    in_threads(chunk, CHUNKS)
    return f
