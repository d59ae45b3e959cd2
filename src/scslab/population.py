"""Procedural population: traits, households and friend ties computed from the agent id, zero storage.

- Regions are contiguous id blocks (``region_starts``).
- Class and group are hashed from the id (streams CLASS and GROUP), cached once in a uint8 ``traits`` column
  (``class * n_groups + group``) because re-hashing them every day would cost more than the byte.
- Households follow a fixed pattern of ``HH_BLOCK`` slots drawn once per seed from the size distribution:
  agent ``i`` lives in the household that covers slot ``i % HH_BLOCK``; the first member is always an adult,
  later members are children with the probability that gives the scenario's child share.
- Friend and colleague ties are ``K`` perfect matchings (the friends' first, then the colleagues').
  Matching ``k`` pairs ``i`` with ``perm_k^-1(perm_k(i) xor 1)``, ``perm_k`` a 4-round Feistel permutation
  with cycle walking over the region (local matchings: the friends' first ``round(degree * same_region)``
  and every colleague matching) or the whole population (global matchings). Symmetric, uniform, nothing
  stored.
- Each tie has a kind (``encodings.REL``), as the actor's: a household member's follows the places of the
  two in the household (:func:`make_ties`), a matched tie's its matching (the first friend matching is the
  best friends' when ``friends.best``).

The per-agent functions are built by :func:`make` for a given jit decorator (numba njit, numba-cuda device
functions, or the identity for plain Python), so every engine computes the same population.
"""

from __future__ import annotations

import numpy as np

from .encodings import REL
from .rng import Stream, mix64, stream_key

__all__ = ["HH_BLOCK", "ROUNDS", "make", "make_ties", "make_feistel", "household_pattern", "feistel_keys",
           "region_starts", "matchings", "kinds_present", "network_points"]

HH_BLOCK = 4096
ROUNDS = 4  # rounds of the Feistel network (make_feistel spells them out)


def region_starts(size: int, shares: list[float]) -> np.ndarray:
    """First id of each region, plus ``size`` at the end; the last region absorbs rounding."""
    cum = np.cumsum([0.0] + list(shares))
    starts = np.floor(cum * size + 1e-9).astype(np.int64)
    starts[-1] = size
    return starts


def matchings(pop) -> int:
    """The tie matchings of a population (``schema.Population``): its friends', then its colleagues'."""
    return pop.friends.degree + pop.colleagues.degree


def kinds_present(pop) -> dict:
    """Whether the population ``pop`` (``schema.Population``) has ties of each kind (``encodings.REL``)."""
    home = pop.households is not None
    return {REL.HOUSEHOLD: home, REL.PARTNER: home, REL.PARENTS: home, REL.CHILDREN: home,
            REL.BEST_FRIEND: pop.friends.best, REL.FRIENDS: pop.friends.degree > int(pop.friends.best),
            REL.COLLEAGUES: pop.colleagues.degree > 0}


def network_points(pop, network) -> list[int]:
    """The points each kind of tie (``encodings.REL``, in order) loses for an act of a behaviour whose network
    is ``network`` (``schema.Network``): 0 for a kind the population ``pop`` has none of."""
    has, points = kinds_present(pop), network.by_relation()
    return [points[rel.name.lower()] if has[rel] else 0 for rel in REL]


def household_pattern(sizes: dict[int, float], child_share: float, seed: int):
    """(offset_to_head, size, adult) arrays of length HH_BLOCK: the household layout of every block."""
    rng = np.random.default_rng(int(stream_key(seed, Stream.HOUSEHOLD, 0)))
    values = np.array(sorted(sizes), dtype=np.int64)
    probs = np.array([sizes[v] for v in sorted(sizes)], dtype=np.float64)
    probs = probs / probs.sum()
    mean = float((values * probs).sum())
    q = min(1.0, child_share * mean / (mean - 1.0)) if mean > 1.0 else 0.0
    head = np.zeros(HH_BLOCK, np.int32)
    size = np.zeros(HH_BLOCK, np.int32)
    adult = np.ones(HH_BLOCK, np.uint8)
    pos = 0
    while pos < HH_BLOCK:
        s = int(min(rng.choice(values, p=probs), HH_BLOCK - pos))
        for j in range(s):
            head[pos + j] = j
            size[pos + j] = s
            adult[pos + j] = 1 if j == 0 else int(rng.random() >= q)
        pos += s
    return head, size, adult


def feistel_keys(seed: int, degree: int) -> np.ndarray:
    """Round keys, shape (degree, ROUNDS) uint64."""
    keys = np.zeros((max(degree, 1), ROUNDS), np.uint64)
    with np.errstate(over="ignore"):
        _fill_keys(keys, seed, degree)
    return keys


def _fill_keys(keys: np.ndarray, seed: int, degree: int) -> None:
    for k in range(degree):
        base = stream_key(seed, Stream.FRIENDS + k, 0)
        for r in range(ROUNDS):
            keys[k, r] = mix64(np.uint64(base) + np.uint64(r + 1) * np.uint64(0x9E3779B97F4A7C15))


def make_feistel(jit, mix):
    """The Feistel network of the friend matchings, compiled with ``jit``: ``(half_bits, forward, swap,
    feistel)``, on uint64 values. ``forward(x, r0, r1, r2, r3, b, mask)`` runs the 4 rounds with round keys
    ``r0..r3`` on halves of ``b`` bits; ``swap`` exchanges the halves; ``feistel(x, keys, k, b, mask,
    inverse)`` is matching ``k``'s permutation step, the inverse being the forward network with its round keys
    reversed between two swaps. Every engine, and the windowed scheduler's batched walks, use these."""

    @jit
    def half_bits(m):
        b = 1
        while (np.int64(1) << (2 * b)) < m:
            b += 1
        return b

    @jit
    def forward(x, r0, r1, r2, r3, b, mask):
        left, right = x >> b, x & mask
        left, right = right, left ^ (mix(right ^ r0) & mask)
        left, right = right, left ^ (mix(right ^ r1) & mask)
        left, right = right, left ^ (mix(right ^ r2) & mask)
        left, right = right, left ^ (mix(right ^ r3) & mask)
        return (left << b) | right

    @jit
    def swap(x, b, mask):
        return ((x & mask) << b) | (x >> b)

    @jit
    def feistel(x, keys, k, b, mask, inverse):
        if inverse:
            return swap(forward(swap(x, b, mask), keys[k, 3], keys[k, 2], keys[k, 1], keys[k, 0], b, mask), b, mask)
        return forward(x, keys[k, 0], keys[k, 1], keys[k, 2], keys[k, 3], b, mask)

    return half_bits, forward, swap, feistel


def make(jit, mix):
    """Per-agent population functions compiled with ``jit``; ``mix`` is the compiled SplitMix64 finaliser."""
    half_bits, _forward, _swap, feistel = make_feistel(jit, mix)

    @jit
    def region_of(i, starts):
        r = 0
        while i >= starts[r + 1]:
            r += 1
        return r

    @jit
    def permute(x, m, keys, k, inverse):
        b = np.uint64(half_bits(m))
        mask = (np.uint64(1) << b) - np.uint64(1)
        mu = np.uint64(m)
        y = feistel(np.uint64(x), keys, k, b, mask, inverse)
        while y >= mu:  # cycle walking keeps the permutation inside [0, m)
            y = feistel(y, keys, k, b, mask, inverse)
        return np.int64(y)

    @jit
    def partner(i, k, lo, hi, keys):
        """Partner of agent i in matching k over the id block [lo, hi); -1 if unmatched (odd block)."""
        m = hi - lo
        if m < 2:
            return np.int64(-1)
        q = permute(i - lo, m, keys, k, False) ^ 1
        if q >= m:
            return np.int64(-1)
        return lo + permute(q, m, keys, k, True)

    @jit
    def household_head(i, hh_head):
        return i - hh_head[i % HH_BLOCK]

    return region_of, partner, household_head


def make_ties(jit, region_of=None):
    """The kinds of ties and the matchings' blocks, compiled with ``jit``: ``(household_relation,
    matching_relation, matching_block)``; ``region_of`` (:func:`make`'s) is needed by ``matching_block`` alone.
    Every engine reads a tie's kind from these.

    A household's first member, and its second when an adult, are the parents' generation, partners of each
    other; every other member is their child, and a sibling of the others."""

    @jit
    def elder(j, head, hh_adult):  # (the block's length is a power of two: HH_BLOCK, or 1 without households)
        return j == 0 or (j == 1 and hh_adult[(head + 1) & (hh_adult.shape[0] - 1)] == 1)

    @jit
    def household_relation(a, m, head, hh_adult):
        """What household member m is to agent a (both in the household whose first id is ``head``)."""
        ea, em = elder(a - head, head, hh_adult), elder(m - head, head, hh_adult)
        if ea:
            return REL.PARTNER if em else REL.CHILDREN
        return REL.PARENTS if em else REL.HOUSEHOLD

    @jit
    def matching_relation(k, k_friends, best):
        """What an agent's tie in matching k is to it (``k_friends`` friend matchings come first)."""
        if k >= k_friends:
            return REL.COLLEAGUES
        return REL.BEST_FRIEND if k == 0 and best != 0 else REL.FRIENDS

    @jit
    def matching_block(i, k, starts, k_local, k_friends, n):
        """The id block [lo, hi) within which matching k pairs agent i: its region's for the first ``k_local``
        friend matchings and the colleague matchings, the whole population's for the others."""
        if k < k_local or k >= k_friends:
            r = region_of(i, starts)
            return np.int64(starts[r]), np.int64(starts[r + 1])
        return np.int64(0), np.int64(n)

    return household_relation, matching_relation, matching_block
