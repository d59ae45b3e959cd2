"""What a window's run reads (``M``, a :class:`Tables`), built once per window from the model: the thresholds
of the day's draws, the model's numbers, and the window's stream keys (``KEY``).

The kernel (``agent.py``) reads the fields by name; ``guess_loss`` and ``crit_tail`` are the two numbers the
route derives from the model besides (a guess's points per act day, and the chance that a window is too long
for ``MAX_CRIT`` network acts).

A day's events are drawn in two groups, each by inverse CDF over its behaviours: the *other* events (the
detected acts of the behaviours that cost ties nothing, then the false attributions) and the *network* acts
(of the behaviours ``Model.nets``, whose detection costs ties points).
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np

from ...rng import threshold
from .model import LS, MAX_CRIT, SC, Model

__all__ = ["KEY", "NO_LIST", "Tables", "crit_tail", "guess_loss", "passes_to_children", "tables"]

# the row of a scheme without lists: a black list no score enters (the kernel's loops over lists are unrolled
# over a tuple of rows, which cannot be empty)
NO_LIST = (-(1 << 20), 1 << 20, 0, 0, 1)
assert len(NO_LIST) == len(LS)


KEY = IntEnum("KEY", "COUNTS OTHER_DAYS CRIT_DAYS FIRST_ACT KEEP NEXT_ACT DROP CONTEST FIRST_NET NEXT_NET", start=0)
KEY.__doc__ = ("The window's streams (``Stream.WINDOW + KEY``): an agent's numbers of act days and network act days, "
               "the days of its other acts, the days of its network acts, a day's first other act, whether a "
               "deterred day keeps an act, the next act after one, whether a deterred day drops a network "
               "act, whether a false attribution is contested (``redress.py``), and a network day's first "
               "network act and the next after one.")


class Tables(NamedTuple):
    """``M``: what a window's run reads, built by :func:`tables` (numba reads the fields by name)."""

    keys: np.ndarray      # uint64[KEY]: the window's stream keys
    first: np.ndarray     # uint32 thresholds of a day's first other act [class, a] (over ``other``)
    tail: np.ndarray      # ... of the next act after act a [class, a, b]
    k_other: np.ndarray   # ... of the number of days with other acts [class, k]
    k_crit: np.ndarray    # ... of the number of days with a network act [class, k]
    nets: np.ndarray      # the network behaviours (``Model.nets``)
    nfirst: np.ndarray    # uint32 thresholds of a network day's first act [class, j] (over ``nets``)
    ntail: np.ndarray     # ... of the next network act after act j [class, j, j2]
    ties: np.ndarray      # int64[window day, kind]: a tie's points for a network act (``Model.ties``)
    kinds: np.ndarray     # int64[kind]: each kind's network behaviour j (``Model.kinds``)
    kind_of: np.ndarray   # int64[j, REL]: the kind of a penalty, -1 where it costs nothing (``Model.kind_of``)
    matched: np.ndarray   # int64[MAX_FRIENDS]: each matching's kind of tie (``Model.matched``)
    by_matching: np.ndarray  # int64[j, MAX_FRIENDS]: the kind of act j's penalty to each matching's tie (-1: none)
    at_home: np.ndarray   # bool[j]: whether act j costs some kind of household member points (``Model.at_home``)
    points: np.ndarray    # points per behaviour
    loss: int             # the points ``guess`` takes for each day with other acts (``guess_loss``)
    keep: np.ndarray      # uint32 threshold under which a day in state st keeps an act of b [b, st]
    kept: np.ndarray      # ... keeps a day's event a [a, st] (2**32 for a false attribution: never thinned)
    column: np.ndarray    # the column of a day's event a in the detected acts' changes (b, or NB + b when false)
    other: np.ndarray     # the behaviour of each of a day's events: the detected acts of the behaviours
                          # without a network penalty, in plan order (``SC.NACT``), then the false attributions
    mins: np.ndarray      # the floors of every tier but the last, descending
    sc: np.ndarray        # the model's scalars, by ``SC``
    lists: tuple          # the model's lists, a tuple of ints each, by ``LS`` (``NO_LIST`` when it has none)
    bins: np.ndarray      # the snapshot bin of each score [score - low]
    edges: np.ndarray     # each bin's lowest score
    before: np.ndarray    # the number of snapshot days before each window day
    tiers: np.ndarray     # the tier of each score [score - low]
    guide: np.ndarray     # per class, where the search for a day's first act drawn u starts [c, u >> 24]
    vary: np.ndarray | None   # with coverage over time, the thresholds (uint32 values, or 2**32: kept without a
                              # draw) under which a day's drawn event is kept [class, state, day, a] (from NO
                              # on: the network acts), else None (``draws.event_threshold``)
    adult: np.ndarray | None  # uint8[2**k]: 1 for an adult, 0 for a child, by slot of a household block (agent
                              # i's: i & (2**k - 1); ``population``), None without households (``draws.child_of``)
    by_state: np.ndarray | None  # ``keep`` where sanctions change act rates (four states), else None
    children: np.ndarray | None  # ``[the lists whose adults' children are sanctioned]`` where sanctions pass to
                                 # children (``passes_to_children``), else None
    house: tuple | None   # (the household's first id, its size), int64 by slot of the block (agent i's household:
                          # ids i - head[slot] .. + size[slot] - 1), None when no tie is a household member
                          # who loses points (``draws.household``)


def _binomial_cdf(W: int, p: float, size: int) -> np.ndarray:
    cdf = threshold(np.cumsum(_binomial_pmf(W, p, size)))
    cdf[-1] = 1 << 32
    return cdf


def _binomial_pmf(W: int, p: float, size: int) -> np.ndarray:
    pmf = np.zeros(size)
    pmf[0] = (1.0 - p) ** W
    for k in range(size - 1):
        pmf[k + 1] = pmf[k] * (W - k) / (k + 1) * p / (1.0 - p) if k < W and p < 1 else 0.0
    return pmf


def passes_to_children(m: Model) -> bool:
    """Whether sanctions pass to children: some list's adults' children are sanctioned and the population
    lives in households (``Tables.children``)."""
    return bool(m.scalars[SC.CLISTS] != 0 and m.house is not None)


def crit_tail(m: Model, W: int) -> float:
    """The chance that some agent's class draws more than ``MAX_CRIT`` network acts in a window of W days (the
    sum of its network behaviours' binomial counts)."""
    worst = 0.0
    for c in range(m.q.shape[0]):
        pmf = np.zeros(MAX_CRIT + 1)
        pmf[0] = 1.0
        for b in m.nets:
            pmf = np.convolve(pmf, _binomial_pmf(W, float(m.q[c, b]), MAX_CRIT + 1))[:MAX_CRIT + 1]
        worst = max(worst, 1.0 - float(pmf.sum()))
    return max(0.0, worst)


def guess_loss(m: Model) -> int:
    """The points ``guess`` takes for each day with other acts: the largest loss of one other act. Any value
    gives the same result (a wrong guess is corrected), only more or fewer corrections or window runs."""
    return int(max(0, -int(m.points[m.other].min()))) if len(m.other) else 0


def thinning(m: Model, d0: int, W: int) -> tuple:
    """(q, false, vary) of the window of W days from d0 of a run whose coverage changes: the window's highest
    rates [class, b] of a detected act and of a false attribution, at which its days draw their events, and
    the thresholds ``vary[class, st, day, a]`` under which a drawn event a (``Tables.other``'s order;
    then the network acts, ``NO + j`` for ``nets[j]``) of a window day is kept by a day in state st
    (``model.state_codes``): its rate that day over the one it was drawn at.
    Thinning independent events each with its own chance gives each its day's rate exactly."""
    r = m.by_day
    q, fa = r.q[d0:d0 + W], r.false[d0:d0 + W]    # [day, class, state, b], [day, class, b]
    qmax, fmax = q[:, :, 0].max(axis=0), fa.max(axis=0)
    nets, S = m.nets, q.shape[2]
    with np.errstate(invalid="ignore", divide="ignore"):
        def ratio(x, top):  # never drawn where the highest is 0
            return np.where(top > 0, x / np.where(top > 0, top, 1.0), 0.0)
        by_state = [np.concatenate([ratio(q[:, :, st, m.other], qmax[:, m.other]), ratio(fa[:, :, m.fb], fmax[:, m.fb]),
                                    ratio(q[:, :, st, nets], qmax[:, nets])], axis=2) for st in range(S)]
    # by class, then state: most days start in state 0, and the thresholds of the days in state 0 (a quarter of
    # the table where there are four states) stay in the core's cache (press-2018's sweep: 3 MB, read at
    # every event; by class and day, every state of an event side by side, they did not)
    vary = np.ascontiguousarray(threshold(np.stack(by_state, axis=3)).transpose(1, 3, 0, 2))
    return qmax, fmax, vary


def _events(qo: np.ndarray) -> tuple:
    """The chance of a day with at least one of independent events [class, a] (chances ``qo``), and the uint32
    thresholds by which such a day's events are drawn in order by inverse CDF: the first (``first[c, a]``:
    events before a and a itself, given at least one), and the next after event a (``tail[c, a, a2]``)."""
    C, NO = qo.shape
    G = 1.0 - np.prod(1.0 - qo, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        first = threshold(np.nan_to_num((1.0 - np.cumprod(1.0 - qo, axis=1)) / G[:, None]))
    if NO:  # a group with no chance of an event (G = 0: never drawn)
        first[:, -1] = 1 << 32
    tail = np.zeros((C, NO, NO), np.uint64)
    for c in range(C):
        for a in range(NO):
            tail[c, a, a + 1:] = threshold(1.0 - np.cumprod(1.0 - qo[c, a + 1:]))
    return G, first, tail


def tables(m: Model, W: int, keys: np.ndarray, bins: np.ndarray, snaps: np.ndarray, d0: int = 0) -> Tables:
    """``M`` for a window of W days: the uint32 thresholds of the first act of a day (``first[c, a]``, over
    ``other``), of the next one after act a (``tail[c, a, b]``), and of the numbers of act days and network
    act days (``k_other``, ``k_crit``), with the model's numbers, ``bins[score - low]``, the bins' lowest
    scores, the window's snapshot days ``snaps`` (window days, ascending, then a day past the window) as the
    number of them before each day, each score's tier, and per class where the search for a day's first act
    starts, by the top 8 bits of its draw.

    With coverage over time (``Model.by_day``) the days of the window from ``d0`` on draw their events at the
    window's highest rates, and ``vary`` thins them to each day's (:func:`thinning`)."""
    q, false, vary = m.q, m.false, None
    if m.by_day is not None:
        q, false, vary = thinning(m, d0, W)
    qo = np.concatenate([q[:, m.other], false[:, m.fb]], axis=1)  # a day's events (``Tables.other``)
    C, NO = qo.shape
    G, first, tail = _events(qo)
    Gn, nfirst, ntail = _events(q[:, m.nets])
    k_other = np.array([_binomial_cdf(W, g, W + 2) for g in G])
    k_crit = np.array([_binomial_cdf(W, g, MAX_CRIT + 1) for g in Gn])
    before = np.searchsorted(snaps[:-1], np.arange(W + 2), side="left").astype(np.int64)
    edges = np.searchsorted(bins, np.arange(bins[-1] + 1), side="left").astype(np.int64) + m.scalars[SC.LOW]
    scores = np.arange(m.scalars[SC.LOW], m.scalars[SC.HIGH] + 1)
    tiers = (scores[:, None] < m.mins[None, :]).sum(axis=1).astype(np.int64)  # floors descending
    guide = np.array([np.minimum(np.searchsorted(f, np.arange(256, dtype=np.uint64) << np.uint64(24), side="right"),
                                 max(NO - 1, 0)) for f in first], np.int64).reshape(C, 256)
    NB = len(m.points)
    kept = np.concatenate([m.keep[m.other], np.full((len(m.fb), m.keep.shape[1]), 1 << 32)]).astype(np.uint64)
    M = Tables(keys=keys, first=first, tail=tail, k_other=k_other, k_crit=k_crit, nets=m.nets, nfirst=nfirst,
               ntail=ntail, ties=m.ties[d0:d0 + W], kinds=m.kinds, kind_of=m.kind_of, matched=m.matched,
               by_matching=m.kind_of[:, m.matched], at_home=m.at_home,
               points=m.points, loss=guess_loss(m), keep=m.keep, kept=kept,
               column=np.r_[m.other, NB + m.fb].astype(np.int64), other=np.concatenate([m.other, m.fb]),
               mins=m.mins, sc=np.array(m.scalars, np.int64),
               lists=tuple(tuple(int(v) for v in row) for row in m.lists) or (NO_LIST,),
               bins=bins, edges=edges, before=before, tiers=tiers, guide=guide, vary=vary,
               adult=m.adult if len(m.adult) > 1 else None, house=m.house,
               by_state=m.keep if m.keep.shape[1] == 4 else None,
               children=np.array([m.scalars[SC.CLISTS]], np.int64) if passes_to_children(m) else None)
    return _contiguous(M)


def _contiguous(M: Tables) -> Tables:
    """``M`` with every array C-contiguous: numba compiles the kernel once per type of ``M``, and an array's
    layout is part of its type (a class's thresholds ``first`` came out Fortran-ordered for some schemes, and each
    such scheme compiled the whole kernel again)."""
    def c(x):
        if isinstance(x, np.ndarray):
            return np.ascontiguousarray(x)
        return tuple(c(v) for v in x) if isinstance(x, tuple) else x

    return Tables(*(c(v) for v in M))
