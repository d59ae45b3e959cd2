"""Which scenarios the windowed route runs, and the numbers it runs them with.

The windowed route (``engine/windowed``) runs each agent's window of days at once. It can do that when an
agent's days depend only on its own draws, its score and the penalties its friends send it: points, one
deterrence line, recovery, tiers, false attributions (of behaviours that cost no friend points), households
whose children neither act nor lose points, up to
``MAX_LISTS`` lists entered and left by tier (black lists, or red
lists of the well scored), sanctions on at most one of them, sanctions and rewards that follow a list or
tiers with their daily attempts, friends or none, and at most one behaviour whose detection costs friends
points (``engine.routes.SUPPORTS``). Everything is
read from the compiled plan (``compile.Plan``), so the law is the day engines' by construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from ...compile import BEH, CONS, ENTER, EXIT, LIST, P, Plan
from ...rng import threshold
from ..features import MAX_DAYS, MAX_LISTS, MAX_N, MAX_OTHER, deterred_from, rates_on_day_0

__all__ = ["CHUNKS", "LS", "MAX_CRIT", "MAX_DAYS", "MAX_LISTS", "MAX_N", "MAX_OTHER", "MAX_W", "SC", "Model",
           "followed_list", "marks_length", "model_of", "sanctions", "why_not", "windowed_bytes"]

MAX_W = 384         # days of a window: an agent's act days fit a bitmap of 6 words
MAX_CRIT = 15       # network acts of one agent in a window (the window is cut so that more is below 1e-12)
CHUNKS = 64         # a window's parallel work items (route.py), each with its metric changes; the result does not
                    # depend on it


SC = IntEnum("SC", "BASE LOW HIGH QUIET UPTO DETER NET CRIT SLIST STEP STIERS NACT", start=0)
SC.__doc__ = ("Slots of ``Model.scalars`` (and of the route's tables' ``sc``): base score, lowest and highest "
              "score, quiet days before recovery, recovery cap, deterrence line, network points, the network "
              "behaviour, the list that carries a sanction (-1: none; ``sanctioned_by_ties`` follows it), the "
              "points of a recovery step, the mask of the tiers that carry a sanction (bit t: tier t), and the "
              "number of a day's events that are detected acts (``other``'s length; the events after them are "
              "false attributions).")

LS = IntEnum("LS", "ENTER LEAVE MIN_DAYS RED EVERY", start=0)
LS.__doc__ = ("Columns of ``Model.lists`` (a row per list): the listing line and the leaving line (the list's entry "
              "and exit conditions as scores: ending a day below the listing line is ending it in the entry tier "
              "or worse, at least the leaving line in the exit tier or better), the minimum listed days, 1 for a "
              "red list (entered at a score of at least the listing line, left below the leaving line), and the "
              "list's publication period in days (entries and exits on the days that are its multiples).")


@dataclass(frozen=True)
class Model:
    """The numbers of a windowed run, per cell ``c`` (region, class and group in ``compile``'s order: the route's
    tables say "class" for it) and behaviour ``b`` (``other``: the behaviours without a
    network penalty, in plan order; ``crit``: the one with it, or -1 when there is none or no friends).

    ``q[c, b]``: the chance of a detected act of b on an undeterred day; ``keep[b]``: the uint32 threshold
    under which a deterred day keeps it (``factor * 2**32``); ``und[c, deterred, b]``: the chance of an
    undetected act of b given none detected (``engine/detected.py``); ``false[c, b]``: the chance of a false
    attribution of b on a day (deterrence does not change it), for the behaviours ``fb`` (in plan order, never
    ``crit``). ``scalars``, by the slots ``SC``: base,
    low, high bounds, quiet days before recovery, recovery cap, deterrence line (a day starting below it is
    deterred), network points, ``crit``, the list that carries a sanction (-1: none; ``sanctioned_by_ties``
    follows it), the points of a recovery step, the mask of the tiers that carry a sanction and the number of
    ``other``. ``lists``:
    a row per list, by the columns ``LS``. ``mins``: the floors of every tier but the last, descending.
    ``adult``: per slot of a household block, 1 for an adult and 0 for a child (children neither act nor lose
    points, and keep the base score). ``by_day``: with coverage that changes over time, the rates of every
    day (:class:`DayRates`); ``q`` and ``false`` are then their highest over the run, the other rates day 0's."""

    q: np.ndarray
    keep: np.ndarray
    und: np.ndarray
    points: np.ndarray
    other: np.ndarray
    crit: int
    mins: np.ndarray
    scalars: tuple
    lists: np.ndarray   # int64[list, LS]
    deter_tier: int     # first deterred tier
    false: np.ndarray   # [cell, b]
    fb: np.ndarray      # the behaviours with false attributions
    adult: np.ndarray   # uint8: the household block's adults (``compile.Plan.hh_adult``; [1] without households)
    by_day: "DayRates | None" = None  # with coverage over time: the rates of every day of the run


class DayRates(NamedTuple):
    """The rates of each day of a run whose coverage changes: detected acts undeterred and deterred, false
    attributions, [day, cell, b], and undetected acts given none detected [day, cell, deterred, b]."""

    q: np.ndarray
    qd: np.ndarray
    false: np.ndarray
    und: np.ndarray


def why_not(plan: Plan) -> str | None:
    """None when the windowed route can run ``plan``, else the features it lacks, by name and in words
    (``engine.routes``: the one place schedulers state what they support)."""
    from ..routes import refusal

    return refusal(plan, "windowed")


def followed_list(mask: int) -> int:
    """The list a consequence or a set of them follows, from its mask of lists (``CONS.LISTS``, bit l: list l):
    its only list (the route runs no consequence on two lists, and sanctions on one list at most), -1 none."""
    return int(mask).bit_length() - 1


def sanctions(cons: np.ndarray) -> tuple[int, int]:
    """The list that carries a sanction (-1: none), and the mask of the tiers that do (bit t: tier t), from the
    epoch's consequences (``CONS``): a reward sanctions nobody; the route runs no consequence passed to
    children, and sanctions on one list at most (``features``: several-sanctioning-lists)."""
    sanctioning = [r for r in cons if r[CONS.REWARD] == 0 and r[CONS.CHILDREN] == 0]
    on = int(np.bitwise_or.reduce([int(r[CONS.LISTS]) for r in sanctioning] or [0]))
    return (followed_list(on), int(np.bitwise_or.reduce([int(r[CONS.TIERS]) for r in sanctioning] or [0])))


def list_row(L: np.ndarray, mins: np.ndarray, NT: int) -> tuple:
    """A list's row of ``Model.lists`` (``LS``) from its row of the plan (``LIST``) and the tier floors
    ``mins`` (descending, every tier's)."""
    red = int(L[LIST.ENTER] == ENTER.TIER_AT_LEAST)
    if red:  # entered at tier <= the entry tier (a score of at least its floor), left at tier >= the exit tier
        enter = int(mins[L[LIST.ENTER_ARG]]) if L[LIST.ENTER_ARG] < NT - 1 else -(1 << 20)
        leave = int(mins[L[LIST.EXIT_ARG] - 1]) if L[LIST.EXIT_ARG] > 0 else (1 << 20)
    else:  # entered at tier >= the entry tier (a score below the floor of the tier above), left at tier <= the exit tier
        enter = int(mins[L[LIST.ENTER_ARG] - 1]) if L[LIST.ENTER_ARG] > 0 else (1 << 20)
        leave = int(mins[L[LIST.EXIT_ARG]]) if L[LIST.EXIT_ARG] < NT - 1 else -(1 << 20)
    if L[LIST.EXIT] == EXIT.NEVER:  # a list never left: a leaving line no score reaches
        leave = -(1 << 20) if red else (1 << 20)
    return enter, leave, int(L[LIST.MIN_DAYS]), red, max(int(L[LIST.PUBLISH]), 1)


def day_rates(plan: Plan, q, und, fa) -> tuple:
    """(q, qd, false, und) of one day from its ``detected.detected_rates``: the adults' rates [cell, b] of a
    detected act undeterred and deterred (below the plan's one deterrence line), of a false attribution (never
    deterred), and of an undetected act given none detected [cell, deterred, b]."""
    NT, first = len(plan.tier_names), deterred_from(plan)
    q0 = q[:, 1]                                          # [class, b]: tier 0, undeterred, adult
    qd = q[:, first * 8 + 1] if first < NT else q0
    u = np.stack([und[:, 1], und[:, first * 8 + 1] if first < NT else und[:, 1]], axis=1)
    return q0, qd, fa[:, 1], u


def rates_by_day(plan: Plan) -> DayRates | None:
    """:class:`DayRates` of every day of a plan whose coverage changes over time, else None."""
    if not any(isinstance(c.coverage, list) for c in plan.scenario.channels.values()):
        return None
    from ..detected import detected_rates

    days = [day_rates(plan, *detected_rates(plan, d)) for d in range(plan.days)]
    return DayRates(*(np.ascontiguousarray(np.stack(x)) for x in zip(*days)))


def model_of(plan: Plan) -> Model:
    """The route's numbers for ``plan`` (which :func:`why_not` accepts)."""
    e = plan.epochs[0]
    prm, beh = e.prm, e.beh
    NT = len(plan.tier_names)
    first = deterred_from(plan)
    q0, qd, false, und2 = day_rates(plan, *rates_on_day_0(plan))
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a behaviour no cell detects: factor 1, never drawn
        # over the cells that detect b (a cell that never does, such as a region without records, says nothing)
        factor = np.nan_to_num(np.nanmax(np.where(q0 > 0, qd / np.where(q0 > 0, q0, 1.0), np.nan), axis=0), nan=1.0)
    keep = threshold(factor)
    mins = e.tier_mins.astype(np.int64)
    net = np.flatnonzero(beh[:, BEH.NET_FR] != 0)
    crit = int(net[0]) if len(net) and plan.scenario.population.friends.degree > 0 else -1  # no friends: no ties' penalties
    other = np.array([b for b in range(len(plan.behaviour_names)) if b != crit], np.int64)
    by_day = rates_by_day(plan)
    if by_day is not None:  # the highest rates of the run (each window draws at its own highest, then thins)
        q0, false = by_day.q.max(axis=0), by_day.false.max(axis=0)
    false = false.copy()                                  # [class, b]: adults (false attributions are not deterred)
    fb = np.array([b for b in other if (false[:, b] > 0).any()], np.int64)
    deter = int(mins[first - 1]) if first < NT else -(1 << 20)    # a day starting below it is deterred
    lists = np.array([list_row(L, mins, NT) for L in e.lists], np.int64).reshape(len(e.lists), len(LS))
    slist, tiers = sanctions(e.cons)
    scalars = (int(prm[P.BASE]), int(prm[P.LO]), int(prm[P.HI]), int(prm[P.REC_QUIET]), int(prm[P.REC_UPTO]),
               deter, int(beh[crit, BEH.NET_FR]) if crit >= 0 else 0, crit, slist, int(prm[P.REC_PTS]), tiers, len(other))
    return Model(q=q0.copy(), keep=keep, und=und2, points=beh[:, BEH.POINTS].astype(np.int64), other=other, crit=crit,
                 mins=mins[:-1].copy(), scalars=scalars, lists=lists, deter_tier=first, false=false, fb=fb,
                 adult=adult_pattern(plan), by_day=by_day)


def adult_pattern(plan: Plan) -> np.ndarray:
    """The household block's adults (``Model.adult``), a power of two long: agent i's is ``i & (len - 1)``."""
    adult = np.ascontiguousarray(plan.hh_adult, np.uint8)
    if len(adult) & (len(adult) - 1):
        raise ValueError(f"a household block of {len(adult)} agents: the windowed route needs a power of two")
    return adult


def marks_length(m: Model, n: int) -> int:
    """The length of the false-record column of a windowed run of n agents: one entry per agent when the scheme
    has false attributions, else one, never set."""
    return n if len(m.fb) else 1


def windowed_bytes(plan: Plan) -> int:
    """What a windowed run holds beyond the base and the count tables: 5 bytes per agent and 2 per list (and 1
    for a false record carried, with false attributions, and 1 for the adult flags, with households), as
    many more but the class for a window's start state when there is more than one window, 1 for the traits
    (class and group) with several regions, a window's metric changes per work item and cell, and while a window's penalties are written 4 bytes per
    penalty and 18 per sender (their friends and lists), at the expected numbers with a margin of 10 %."""
    m = model_of(plan)
    W = min(plan.days, 365)
    pop = plan.scenario.population
    shares = np.einsum("r,c,g->rcg", np.diff(plan.region_starts) / max(plan.size, 1),  # per cell, in compile's order
                       [pop.classes[c] for c in plan.class_names], [pop.groups[g].share for g in plan.group_names]).ravel()
    q = m.q[:, m.crit] if m.crit >= 0 else np.zeros(len(shares))
    senders = plan.size * float(np.sum(shares * (1.0 - (1.0 - q) ** W)))
    penalties = 4 * plan.size * float(np.sum(shares * q)) * W
    NL, NT, NB = len(m.lists), len(plan.tier_names), len(plan.behaviour_names)
    F = 1 if len(m.fb) else 0
    H = 1 if len(m.adult) > 1 else 0  # with households: the adult flags of the run's columns
    per_agent = (5 + 2 * NL + F + H + ((4 + 2 * NL + F) if plan.days > W else 0)
                 + (1 if len(plan.region_names) > 1 else 0))
    window = 8 * CHUNKS * plan.n_cells * (W + 1) * (NT + 2 * NL + 4 + 2 * NB * (1 + F) + F * (1 + NL))  # metric
    # changes per work item
    return int(plan.size * per_agent + 1.1 * (4 * penalties + 18 * senders) + window)
