"""Which scenarios the windowed route runs, and the numbers it runs them with.

The windowed route (``engine/windowed``) runs each agent's window of days at once. It can do that when an
agent's days depend only on its own draws, its score and the penalties its friends send it: points, one
deterrence line, recovery, tiers, one list entered and left by tier, sanctions that only follow the list,
and at most one behaviour whose detection costs friends points. Everything is read from the compiled plan
(``compile.Plan``), so the law is the day engines' by construction; :func:`why_not` checks each condition and
says which one a scenario fails, in words (the lazy engine then goes day by day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...compile import ENTER, EXIT, P, Plan, cached
from ...rng import threshold
from ..detected import detected_rates

__all__ = ["Model", "why_not", "model_of", "windowed_bytes", "MAX_W", "MAX_CRIT", "MAX_OTHER", "MAX_DAYS", "MAX_N"]

MAX_W = 384         # days of a window: an agent's act days fit a bitmap of 6 words
MAX_CRIT = 15       # network acts of one agent in a window (the window is cut so that more is below 1e-12)
MAX_OTHER = 16      # behaviours without a network penalty (draw counters are act-day * 16 + behaviour)
MAX_DAYS = 32767    # days are kept in int16 columns
MAX_N = 2**31 - 1   # friends are kept as int32


@dataclass(frozen=True)
class Model:
    """The numbers of a windowed run, per class ``c`` and behaviour ``b`` (``other``: the behaviours without a
    network penalty, in plan order; ``crit``: the one with it, or -1).

    ``q[c, b]``: the chance of a detected act of b on an undeterred day; ``keep[b]``: the uint32 threshold
    under which a deterred day keeps it (``factor * 2**32``); ``und[c, deterred, b]``: the chance of an
    undetected act of b given none detected (``engine/detected.py``). ``scalars``: base, low, high bounds,
    quiet days before recovery, recovery cap, deterrence line (a day starting below it is deterred), listing
    line (ending a day below it lists), leaving line (at least it), minimum listed days, network points,
    ``crit``, and 1 when the list carries a sanction (``sanctioned_by_ties`` counts). ``mins``: the floors of
    every tier but the last, descending."""

    q: np.ndarray
    keep: np.ndarray
    und: np.ndarray
    points: np.ndarray
    other: np.ndarray
    crit: int
    mins: np.ndarray
    scalars: tuple
    deter_tier: int     # first deterred tier


def _deterred_from(plan: Plan) -> int | None:
    """The first deterred tier (the tier count when nothing is deterred), or None when behaviours are
    deterred below different tiers."""
    below = {b.deterrence.below_tier for b in plan.scenario.behaviours.values()
             if b.points < 0 and b.deterrence.below_tier}
    if len(below) > 1:
        return None
    return plan.tier_names.index(below.pop()) + 1 if below else len(plan.tier_names)


def why_not(plan: Plan) -> str | None:
    """None when the windowed route can run ``plan``, else the first condition it fails, in words (worked out
    once per plan)."""
    return cached(plan, ("windowed",), lambda: _why_not(plan))


def _why_not(plan: Plan) -> str | None:
    s, e = plan.scenario, plan.epochs[0]
    prm = e.prm
    checks = [
        (len(plan.epochs) == 1 and not s.timeline, "the rules change during the run (timeline)"),
        (not plan.entities, "entity types (firms, authorities) run in lockstep"),
        (len(plan.region_names) == 1 and len(plan.group_names) == 1, "more than one region or group"),
        (s.population.households is None, "households"),
        (s.population.friends.degree == 4, f"friends.degree is {s.population.friends.degree}, not 4"),
        (s.debt is None and s.redress is None, "court debts or redress"),
        (not s.accounts and prm[P.HAS_ACCT] == 0, "a domain account"),
        (prm[P.HAS_STRIKES] == 0 and prm[P.HAS_OUTSTANDING] == 0 and prm[P.RETENTION] < 0,
         "escalating points or record retention"),
        (prm[P.REC_PTS] == 1, f"recovery of {prm[P.REC_PTS]} points a day (the route steps 1)"),
        (all(not isinstance(c.coverage, list) for c in s.channels.values()), "coverage that changes over time"),
        (plan.days <= MAX_DAYS, f"days = {plan.days} > {MAX_DAYS}"),
        (plan.size <= MAX_N, f"population = {plan.size} > {MAX_N}"),
        (e.lists.shape[0] == 1, f"{e.lists.shape[0]} lists (the route has one)"),
    ]
    for ok, why in checks:
        if not ok:
            return why
    L = e.lists[0]
    if not (L[0] == ENTER.TIER_AT_MOST and L[2] == EXIT.TIER_AT_LEAST and L[5] < 0 and L[6] == 0 and L[7] == 1):
        return "a list entered or left other than by tier each day, or with a maximum term"
    if not L[3] < L[1]:
        return "a list whose leaving tier is not above its entering tier"
    for k, name in enumerate(plan.consequence_names):
        row = e.cons[k]
        if not (row[0] == 1 and row[1] == 0 and row[2] == 0 and row[3] == 0 and row[5] == 0
                and s.consequences[name].attempts_per_day == 0):
            return f"consequence {name!r} does more than follow the list"
    beh = e.beh
    if np.any(beh[:, 1] >= 0) or np.any(beh[:, 2] != 0) or np.any(beh[:, 4] != 0) or np.any(beh[:, 7] != 0):
        return "a behaviour with account points, household penalties, debts or escalation"
    net = np.flatnonzero(beh[:, 3] != 0)
    if len(net) > 1 or (len(net) and beh[net[0], 3] > 0):
        return "more than one behaviour with a network penalty, or a network reward"
    if len(plan.behaviour_names) - len(net) > MAX_OTHER:
        return f"more than {MAX_OTHER} behaviours without a network penalty"
    q, und, false = detected_rates(plan, 0)
    if np.any(false > 0):
        return "false attributions"
    first = _deterred_from(plan)
    if first is None:
        return "behaviours deterred below different tiers"
    NT = len(plan.tier_names)
    for c in range(q.shape[0]):   # every state code the route uses has the rates of its tier's side of the line
        for t in range(NT):
            for code in (t * 8 + 1, t * 8 + 5):
                ref = first * 8 + 1 if t >= first else 1
                if not (np.array_equal(q[c, code], q[c, ref]) and np.array_equal(und[c, code], und[c, ref])):
                    return "rates that depend on more than the deterrence line (sanctions, holders)"
    return None


def model_of(plan: Plan) -> Model:
    """The route's numbers for ``plan`` (which :func:`why_not` accepts)."""
    e = plan.epochs[0]
    prm, beh, L = e.prm, e.beh, e.lists[0]
    q, und, _ = detected_rates(plan, 0)
    NT = len(plan.tier_names)
    first = _deterred_from(plan)
    q0 = q[:, 1]                                          # [class, b]: tier 0, undeterred
    qd = q[:, first * 8 + 1] if first < NT else q0
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(q0 > 0, qd / np.where(q0 > 0, q0, 1.0), 1.0).max(axis=0)
    keep = threshold(factor)
    mins = e.tier_mins.astype(np.int64)
    net = np.flatnonzero(beh[:, 3] != 0)
    crit = int(net[0]) if len(net) else -1
    other = np.array([b for b in range(len(plan.behaviour_names)) if b != crit], np.int64)
    deter = int(mins[first - 1]) if first < NT else -(1 << 20)    # a day starting below it is deterred
    enter = int(mins[L[1] - 1]) if L[1] > 0 else (1 << 20)        # tier >= L[1]: score below the tier above's floor
    leave = int(mins[L[3]]) if L[3] < NT - 1 else -(1 << 20)      # tier <= L[3]: score at least its floor
    scalars = (int(prm[P.BASE]), int(prm[P.LO]), int(prm[P.HI]), int(prm[P.REC_QUIET]), int(prm[P.REC_UPTO]),
               deter, enter, leave, int(L[4]), int(beh[crit, 3]) if crit >= 0 else 0, crit,
               int(len(plan.consequence_names) > 0))
    return Model(q=q0.copy(), keep=keep, und=np.stack([und[:, 1], und[:, first * 8 + 1] if first < NT else und[:, 1]],
                 axis=1), points=beh[:, 0].astype(np.int64), other=other, crit=crit, mins=mins[:-1].copy(),
                 scalars=scalars, deter_tier=first)


def windowed_bytes(plan: Plan) -> int:
    """What a windowed run holds beyond the base and the count tables: 7 bytes per agent, 6 more for a window's
    start state when there is more than one window, and while a window's penalties are written 4 bytes per
    penalty and 18 per sender (their friends and lists), at the expected numbers with a margin of 10 %."""
    m = model_of(plan)
    W = min(plan.days, 365)
    shares = np.array([plan.scenario.population.classes[c] for c in plan.class_names])
    q = m.q[:, m.crit] if m.crit >= 0 else np.zeros(len(shares))
    senders = plan.size * float(np.sum(shares * (1.0 - (1.0 - q) ** W)))
    penalties = 4 * plan.size * float(np.sum(shares * q)) * W
    per_agent = 7 + (6 if plan.days > W else 0)
    return int(plan.size * per_agent + 1.1 * (4 * penalties + 18 * senders))
