"""Attempts by tier, counted in aggregate: what lets the lazy scheduler leave a tier's people alone.

A consequence on a tier (``on = ["tiers.good"]``) applies to everyone in that tier, and each of them attempts
the sanctioned or rewarded activity with the consequence's daily chance, at the end of every day
(``kernels.finish``). An attempt changes nothing about the agent: it adds one to the day's ``attempts`` count
of the consequence, and one story event if the agent is a story agent. Drawn agent by agent, it makes every
member of such a tier BUSY, visited every day: in beijing-2020, where a reward follows the two tiers that hold
99 % of residents, the lazy scheduler visited nearly everyone every day.

So a scheduler that keeps the people per state code at the end of each day (the lazy one, ``engine/lazy.py``)
counts these attempts instead: among the ``n`` people (story agents aside) whose end-of-day tier is one of
consequence k's tiers, the attempts are Binomial(n, p_k), one draw per consequence and cell and day
(:func:`count_tier_attempts`). Its copy of the parameters (:func:`counted`) tells ``finish`` not to draw them
again (``TIER_ATTEMPTS``) and leaves those tiers out of ``BUSY_TIERS``; attempts a consequence makes through a
list, a zeroed account or a parent are still drawn agent by agent, and story agents draw all of theirs.

Exact in law (a sum of independent Bernoulli draws with one rate is binomial); not the dense scheduler draw
for draw.
"""

from __future__ import annotations

import numpy as np

from ..compile import CONS, P

__all__ = ["counted", "count_tier_attempts"]


def counted(prm: np.ndarray) -> np.ndarray:
    """A copy of an epoch's parameters for a scheduler that counts attempts by tier in aggregate."""
    out = prm.copy()
    out[P.TIER_ATTEMPTS] = 1
    out[P.BUSY_TIERS] = prm[P.LIST_TIERS] | prm[P.SHUN_TIERS]  # (the shunned draw their ties' breaks daily)
    return out


def count_tier_attempts(people: np.ndarray, cons: np.ndarray, gen: np.random.Generator) -> np.ndarray:
    """The day's attempts by tier of everyone but the story agents: int64[consequence, cell].

    ``people[code, cell]``: people (story agents aside) per end-of-day state code (the tier is ``code >> 3``);
    ``cons``: the epoch's consequence table; ``gen``: the day's generator (keyed by its ``ATTEMPT_COUNT``
    key)."""
    NS, NC = people.shape
    out = np.zeros((cons.shape[0], NC), np.int64)
    tier = np.arange(NS) >> 3
    for k in range(cons.shape[0]):
        thr = int(cons[k, CONS.ATTEMPT])
        if thr == 0 or cons[k, CONS.TIERS] == 0 or cons[k, CONS.CHILDREN] != 0:
            continue
        rows = ((int(cons[k, CONS.TIERS]) >> tier) & 1) == 1
        n = people[rows].sum(axis=0)
        some = np.flatnonzero(n)
        if len(some):
            out[k, some] = gen.binomial(n[some], thr / 2.0**32)
    return out
