"""What the table of a window's senders says each one sends, and what an agent receives from it.

A sender's network acts are its corrected list in the table ``T`` = (ids, counts, days) when it has one,
else its guess (``agent.guess``); the penalties an agent receives are those of its friends' and its
household's adults' acts, on the days and at the points ``Tables.ties`` gives each kind of penalty
(:func:`incoming`). The sweep, the penalties' step and the corrections all read senders this way
(``route.py``, ``penalties.py``); a work item's scratch arrays come from its caller (:class:`Scratch`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from .agent import KIDS, MARKED, NEVER, UNLISTED, guess, listed_day, packed_lists
from .draws import CACHE, act_day, act_net, crit_count, household, inc_code, tie_relation
from .friends import friends_batch

__all__ = ["INC", "SENDER_BATCH", "Scratch", "scratch", "no_metrics", "corrected", "start_of", "listed", "listed_keeps",
           "lists_differ", "differs", "unpack_lists", "sort_small", "listed_call", "differs_call", "as_received",
           "incoming"]

SENDER_BATCH = 1024  # senders whose friends are found together (``penalties.senders_of``)
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
def listed_keeps(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R):
    """Append sender f's network acts (``draws.act_code``) as the table has them to ``inc[k:]``: its corrected
    list if it has one, else the guess. Returns the new length, and which of f's detected network acts the
    list keeps (bit x: the x-th; -1 where only matching them tells: a corrected list, or a guess that ran the
    window, ``agent.guess``)."""
    p = corrected(f, T)
    if p >= 0:
        for q in range(T[1][p]):
            inc[k + q] = T[2][p, q]
        return k + T[1][p], np.int64(-1)
    s, lo, bl = start_of(f, S)
    g, _, mask = guess(f, d0, W, cls[f], s, lo, bl, M, inc[k:], bo, bc, z1, D0, R)
    return k + g, mask


@njit(inline="always")
def listed(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R):
    """:func:`listed_keeps`'s new length alone."""
    return listed_keeps(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R)[0]


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
    it, the agent being that tie's kind ``rel`` of tie (``REL``), written from ``inc[k]`` on
    (``draws.inc_code``; an act that costs this kind of tie 0 points that day sends none). Returns the new
    length. (k <= k0: written over what was read.)"""
    for q in range(k0, k1):
        day, j = act_day(inc[q]), act_net(inc[q])
        kind = M.kind_of[j, rel]
        if kind >= 0 and M.ties[day - d0, kind] != 0:
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
    # only senders send (and only they have corrected lists): the others, five in six of press-2018's ties, are
    # not called for (a call passes every array of the tables, and cost about as much as the agent's own run)
    for x in range(4):
        f = f4[0, x]
        if f >= 0 and crit_count(f, cls[f], M) > 0:
            k1 = listed_call(f, d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R)
            k = as_received(inc, k, k1, k, d0, M.matched[x], M)  # (a matching's tie is the same kind both ways)
    lo, hi = household(a, n, M.house)
    for m in range(lo, hi):
        if m != a and crit_count(m, cls[m], M) > 0:  # (a child is never a sender)
            k1 = listed_call(np.int64(m), d0, W, cls, S, M, T, inc, k, bo, bc, z1, D0, R)
            k = as_received(inc, k, k1, k, d0, tie_relation(np.int64(m), a, lo, M.adult), M)
    sort_small(inc, k)
    return k
