"""The lazy engine visits an agent for what is *detected*; undetected acts are counted, not visited.

An undetected act changes nothing about the agent (no points, no flag, no record): it only adds one to the
day's ``acts:B`` metric, and one story event if the agent is a story agent. On bench-v1 a third of the days
with an act have only undetected acts. So the lazy engine splits each behaviour's act into two events of one
agent-day, with the same joint law as the dense engine's:

* a **detected act** of b, with probability ``p_b * delta_b`` (``delta_b``: detected by some channel), whose
  channel is drawn given detection; and false attributions as before. These are the events that reach an
  agent (:func:`lazy_tables`: ``gate`` and ``cum`` of the detected events only), resolved by
  :func:`detected_events`.
* an **undetected act** of b, which, given no detected act of b, has probability
  ``r_b = p_b (1 - delta_b) / (1 - p_b delta_b)``, independently over behaviours.

Agents visited for a detected event, and story agents (which are visited every day and log their acts), draw
their undetected acts themselves (:func:`undetected`). Everyone else has no detected event that day, so the
undetected acts of b among the ``n`` others of a (cell, state code) are Binomial(n, r_b): drawn in aggregate,
once a day, by :func:`count_undetected`. The counts of people per state code come from the end of day
(``kernels.finish`` keeps them when ``prm[M_CODE]`` names their rows) and the counts of visited agents from
the pass, in the same rows of the act counters.

The result is exact in law (sums of independent Bernoulli draws with one rate are binomial); like the rest of
the lazy engine it is not the dense engine draw for draw.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..compile import BEH, EVENT, FLAG, INBOX, SE, P, Plan, cached
from ..rng import S32, Stream, threshold
from .compiled import K

__all__ = ["detected_rates", "rates_of", "lazy_tables", "rate_groups", "detected_events", "undetected",
           "count_undetected", "KeyedGenerator"]

draw, put, apply_points, next_event = K.draw, K.put, K.apply_points, K.next_event
F_DEBT, IN_DEBT = FLAG.DEBT, INBOX.DEBT


def detected_rates(plan: Plan, day: int):
    """(q, und_p, false) float64 [cell, state, behaviour] for ``day``: the chance of a detected act of b
    (``p_b * delta_b``), of an undetected one given none detected (``r_b``), and of a false attribution."""
    e = plan.epoch_at(day)
    return rates_of(plan, e, *plan.day_probabilities(day))


def rates_of(plan: Plan, e, p: np.ndarray, det: np.ndarray):
    """:func:`detected_rates` from a day's ``p`` and ``det`` (``compile.probabilities``) under epoch ``e``, or
    from several days' (a leading day axis on every array in and out)."""
    R, G = len(plan.region_names), len(plan.group_names)
    C, NB = len(plan.class_names), len(plan.behaviour_names)
    nch = e.beh[:, BEH.N_CHANNELS].astype(np.int64)
    lead = det.shape[:-4]  # () for one day, (days,) for several
    delta = np.where(nch > 0, det[..., np.arange(NB), np.maximum(nch - 1, 0)], 0.0)  # [..., region, group, b]
    delta = np.broadcast_to(delta[..., None, :, :], (*lead, R, C, G, NB)).reshape(*lead, R * C * G, 1, NB)
    act = p[..., 0::2]
    with np.errstate(invalid="ignore", divide="ignore"):
        und_p = np.nan_to_num(act * (1.0 - delta) / (1.0 - act * delta), nan=0.0, posinf=0.0)
    return act * delta, und_p, p[..., 1::2]


def lazy_tables(plan: Plan, day: int):
    """(gate, cum, und, und_p, groups) for ``day``: ``gate[cell, state]`` and ``cum[cell, state, e]`` as the
    dense engine's tables (``compile._day_tables``) but for detected acts (2b) and false attributions (2b+1)
    only; ``und[cell, state, b]`` the inverse-CDF thresholds of the undetected acts given no detected act,
    ``und_p`` their probabilities ``r_b`` (float64), and ``groups`` those probabilities by
    :func:`rate_groups`."""
    e = plan.epoch_at(day)
    index, cov = plan.epochs.index(e), plan.coverage(day)

    def make():
        q, und_p, false = detected_rates(plan, day)
        pe = np.empty(q.shape[:2] + (2 * q.shape[2],))
        pe[:, :, 0::2], pe[:, :, 1::2] = q, false
        cum = threshold(1.0 - np.cumprod(1.0 - pe, axis=2))
        gate = cum[:, :, -1].copy() if q.shape[2] else np.zeros(q.shape[:2], np.uint64)
        und = threshold(1.0 - np.cumprod(1.0 - und_p, axis=2))
        return gate, cum, und, und_p, rate_groups(und_p)

    return cached(plan, ("lazy", index, cov), make)


def rate_groups(und_p: np.ndarray):
    """The state codes of each cell with the same undetected-act rates, as one group each: ``(group[cell,
    code], cell[g], rates[g, b])``, with group -1 where no act can go undetected. A sum of binomials with one
    rate is a binomial, so the day's counts need one draw per group and behaviour, not per code (on bench-v1,
    2 groups of 48 codes a cell: deterred or not). A cell's groups are numbered in the order of their rates
    (as ``np.unique`` sorts rows), the cells one after the other.

    One sort of all the rows, not ``np.unique`` once per cell: schemes whose coverage changes every day make
    these groups every day (press-2018 at 1 M agents spent 1.7 s of its 4.4 s on them)."""
    NC, NS, NB = und_p.shape
    rates = und_p.reshape(NC * NS, NB)
    cell = np.repeat(np.arange(NC, dtype=np.int64), NS)
    order = np.lexsort((*rates.T[::-1], cell))  # by cell, then by rates (the first behaviour first)
    rates, cell = rates[order], cell[order]
    first = np.ones(len(cell), np.bool_)  # the first row of each (cell, rates) pair
    first[1:] = (cell[1:] != cell[:-1]) | (rates[1:] != rates[:-1]).any(axis=1)
    pair = np.empty(len(cell), np.int64)
    pair[order] = np.cumsum(first) - 1
    keep = rates[first].any(axis=1)
    number = np.cumsum(keep) - 1
    group = np.where(keep[pair], number[pair], -1).reshape(NC, NS)
    return group, cell[first][keep], np.ascontiguousarray(rates[first][keep], dtype=np.float64)


@njit(inline="always", nogil=True)
def detected_events(v, i, d, code, cell, region, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct,
                    strikes, outstanding, acct_since, state, prm, beh, rep, cum, det, ka, cnt, emit, ne):
    """The detected events of agent i's day given ``v`` uniform on [0, gate) (the lazy tables' gate): as
    ``kernels.events``, but every act that fires is detected, by a channel drawn given detection. Returns
    (emit count, bit mask of the behaviours with a detected act)."""
    e = 0
    while v >= cum[cell, code, e]:
        e += 1
    n_groups = det.shape[1]
    group = np.int64(traits[i]) % n_groups if n_groups > 1 else 0
    mask = 0
    while True:
        b = e >> 1
        false = (e & 1) == 1
        j = -1
        if not false:
            cnt[prm[P.M_ACTS] + b, cell] += 1
            cnt[prm[P.M_DETECTED] + b, cell] += 1
            nch = beh[b, BEH.N_CHANNELS]
            ud = (draw(ka[Stream.DETECT + b], i) * det[region, group, b, nch - 1]) >> S32  # given detection
            j = 0
            while j < nch - 1 and ud >= det[region, group, b, j]:
                j += 1
            if beh[b, BEH.DEBT] != 0 and (flags[i] & F_DEBT) == 0 and (inbox[i] & IN_DEBT) == 0:
                cnt[prm[P.M_NEW_DEBT], cell] += 1
            mask |= 1 << b
        else:
            cnt[prm[P.M_FALSE] + b, cell] += 1
        ne = apply_points(i, d, b, j, false, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct,
                          strikes, outstanding, acct_since, state, prm, beh, rep, ka, cnt, cell, emit, ne)
        e = next_event(cum, cell, code, e, ka[Stream.EVENT + e + 1], i)
        if e < 0:
            break
    return ne, mask


@njit(inline="always", nogil=True)
def undetected(i, d, cell, code, mask, story, und, ka, m_acts, cnt, emit, ne):
    """Undetected acts of an agent the pass visits (one draw when there are none, the common case): each
    behaviour b without a detected act today (bit b of ``mask`` clear) with probability r_b. A story agent
    logs each. Returns the emit count."""
    last = und.shape[2] - 1
    if last < 0:
        return ne
    u = draw(ka[Stream.UNDETECTED], i)
    if u >= und[cell, code, last]:
        return ne
    e = 0
    while u >= und[cell, code, e]:
        e += 1
    while e >= 0:
        if (mask >> e) & 1 == 0:
            cnt[m_acts + e, cell] += 1
            if story:
                ne = put(emit, ne, EVENT.STORY, i, d, SE.act_undetected, e, 0)
        e = next_event(und, cell, code, e, ka[Stream.UNDETECTED + e + 1], i)
    return ne


class KeyedGenerator:
    """A NumPy ``Generator`` on Philox, re-keyed per call: ``keyed(k)`` draws as ``Generator(Philox(key=k))``
    does, without building one (26 us; re-keying takes 5). One per run, so no state is shared."""

    def __init__(self):
        self._bits = np.random.Philox(key=0)
        self._state = self._bits.state
        self._generator = np.random.Generator(self._bits)

    def __call__(self, key) -> np.random.Generator:
        st = self._state
        st["state"]["counter"][:] = 0
        st["state"]["key"][:] = (int(key), 0)
        st["buffer_pos"], st["has_uint32"], st["uinteger"] = 4, 0, 0
        self._bits.state = st
        return self._generator


def count_undetected(people: np.ndarray, visited: np.ndarray, groups, gen: np.random.Generator) -> np.ndarray:
    """Undetected acts of everyone the pass did not visit: int64[behaviour, cell].

    ``people[code, cell]``: people (story agents aside) per start-of-day state code; ``visited[code, cell]``:
    those of them visited for a detected event, who drew their own; ``groups``: the codes of a cell with the
    same rates r_b (:func:`rate_groups`). Each of the others commits b undetected with probability r_b,
    independently: Binomial(others in the group, r_b), drawn with ``gen`` (the day's, keyed by its
    ``UNDETECTED_COUNT`` key)."""
    group, cell_of, rates = groups
    NC, NB = group.shape[0], rates.shape[1]
    others = (people - visited).T
    use = group >= 0
    n = np.bincount(group[use], weights=others[use], minlength=len(cell_of)).astype(np.int64)
    k = np.flatnonzero(n)
    if not len(k) or NB == 0:
        return np.zeros((NB, NC), np.int64)
    drawn = gen.binomial(n[k][:, None], rates[k])                                   # [group, b]
    where = (np.arange(NB) * NC + cell_of[k][:, None]).ravel()                      # (b, cell) of each count
    return np.bincount(where, weights=drawn.ravel(), minlength=NB * NC).astype(np.int64).reshape(NB, NC)
