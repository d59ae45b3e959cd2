"""Which scenarios the windowed route runs, and the numbers it runs them with.

The windowed route (``engine/windowed``) runs each agent's window of days at once. It can do that when an
agent's days depend only on its own draws, its score and the penalties its ties send it: points, one
deterrence line, recovery, tiers, false attributions (of behaviours that cost ties no points), households
whose children neither act nor lose points, up to ``MAX_LISTS`` lists entered and left by tier (black lists,
or red lists of the well scored), sanctions on at most one of them, sanctions and rewards that follow a list
or tiers with their daily attempts, friends or none, and up to ``MAX_NET`` behaviours whose detection costs
friends or household members points, which a timeline may change (``engine.routes.SUPPORTS``). Everything is
read from the compiled plan (``compile.Plan``), so the law is the day engines' by construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from ...compile import BEH, CONS, ENTER, EXIT, LIST, P, Plan, cached
from ...encodings import HOUSEHOLD_RELATIONS
from ...population import make_ties
from ...rng import threshold
from ..threads import work_slots
from ..features import (MAX_DAYS, MAX_FRIENDS, MAX_KINDS, MAX_LISTS, MAX_N, MAX_NET, MAX_OTHER, deterred_from,
                        network_behaviours, penalty_kinds, rates_on_day_0, uses)

__all__ = ["CHUNKS", "LS", "MAX_CRIT", "MAX_DAYS", "MAX_LISTS", "MAX_N", "MAX_NET", "MAX_OTHER", "MAX_W", "SC",
           "Model", "followed_list", "marks_length", "model_of", "sanctions", "why_not", "windowed_bytes",
           "tie_points", "matched_relations", "MAX_KINDS"]

MAX_W = 384         # days of a window: an agent's act days fit a bitmap of 6 words
MAX_CRIT = 31       # network acts of one agent in a window (the window is cut so that more is below 1e-12)
CHUNKS = 64         # a window's parallel work items (route.py); the result does not depend on it


SC = IntEnum("SC", "BASE LOW HIGH QUIET UPTO DETER SLIST STEP STIERS NACT DTIER GUARD CLISTS", start=0)
SC.__doc__ = ("Slots of ``Model.scalars`` (and of the route's tables' ``sc``): base score, lowest and highest "
              "score, quiet days before recovery, recovery cap, deterrence line, "
              "the list that carries a sanction (-1: none; ``sanctioned_by_ties`` follows it), the "
              "points of a recovery step, the mask of the tiers that carry a sanction (bit t: tier t), the "
              "number of a day's events that are detected acts (``other``'s length; the events after them are "
              "false attributions), the first deterred tier, and the *guard*: the lowest score from which no "
              "higher score starts a day in a state that may drop an act (``guess``), and the lists whose "
              "adults' children are under sanctions (bit L: list L; ``compile``'s CHILD_LISTS).")

LS = IntEnum("LS", "ENTER LEAVE MIN_DAYS RED EVERY", start=0)
LS.__doc__ = ("Columns of ``Model.lists`` (a row per list): the listing line and the leaving line (the list's entry "
              "and exit conditions as scores: ending a day below the listing line is ending it in the entry tier "
              "or worse, at least the leaving line in the exit tier or better), the minimum listed days, 1 for a "
              "red list (entered at a score of at least the listing line, left below the leaving line), and the "
              "list's publication period in days (entries and exits on the days that are its multiples).")


@dataclass(frozen=True)
class Model:
    """The numbers of a windowed run, per cell ``c`` (region, class and group in ``compile``'s order: the route's
    tables say "class" for it) and behaviour ``b`` (``nets``: the network behaviours, whose detection costs
    ties points, ``features.network_behaviours``; ``other``: the others, both in plan order).

    A day's *state* st (:func:`state_codes`) is whether it starts deterred (bit 0) and, where sanctions change
    act rates, whether it starts under a sanction (bit 1). ``q[c, b]``: the chance of a detected act of b on
    an undeterred day (state 0); ``keep[b, st]``: the uint32 threshold under which a day in state st keeps it
    (its rate over state 0's, times ``2**32``); ``und[c, st, b]``: the chance of an
    undetected act of b given none detected (``engine/detected.py``); ``false[c, b]``: the chance of a false
    attribution of b on a day (deterrence does not change it), for the behaviours ``fb`` (in plan order, never
    ``nets``). ``ties[day, kind]``: the points each tie loses for a network act of the day, by the penalty's
    kind (``features.penalty_kinds``: ``kind_of[j, rel]`` for an act of behaviour ``nets[j]`` and a tie of kind
    rel, ``REL``, -1 where it costs nothing; ``kinds[kind]``: its j), every day of the run (a timeline may
    change them). ``matched[x]``: matching x's kind of tie.
    ``scalars``, by the slots ``SC``: base,
    low, high bounds, quiet days before recovery, recovery cap, deterrence line (a day starting below it is
    deterred), the list that carries a sanction (-1: none; ``sanctioned_by_ties``
    follows it), the points of a recovery step, the mask of the tiers that carry a sanction, the number of
    ``other``, the first deterred tier and the guard (``SC``). ``lists``:
    a row per list, by the columns ``LS``. ``mins``: the floors of every tier but the last, descending.
    ``adult``: per slot of a household block, 1 for an adult and 0 for a child (children neither act nor lose
    points, and keep the base score). ``by_day``: with coverage that changes over time, the rates of every
    day (:class:`DayRates`); ``q`` and ``false`` are then their highest over the run, the other rates day 0's."""

    q: np.ndarray
    keep: np.ndarray
    und: np.ndarray
    points: np.ndarray
    other: np.ndarray
    nets: np.ndarray    # the network behaviours
    ties: np.ndarray    # int64[day, kind]: a tie's points per network act, by day and kind (``kinds``)
    kinds: np.ndarray   # int64[kind]: each kind's network behaviour j
    kind_of: np.ndarray  # int64[j, REL]: the kind of act j's penalty to a tie of that kind, -1 where none
    matched: np.ndarray  # int64[MAX_FRIENDS]: each matching's kind of tie (``population.matching_relation``)
    at_home: np.ndarray  # bool[j]: whether act j costs some kind of household member points
    mins: np.ndarray
    scalars: tuple
    lists: np.ndarray   # int64[list, LS]
    deter_tier: int     # first deterred tier
    false: np.ndarray   # [cell, b]
    fb: np.ndarray      # the behaviours with false attributions
    adult: np.ndarray   # uint8: the household block's adults (``compile.Plan.hh_adult``; [1] without households)
    by_day: "DayRates | None" = None  # with coverage over time: the rates of every day of the run
    house: tuple | None = None  # with points lost by household members: (head, size) by slot (``Tables.house``)


class DayRates(NamedTuple):
    """The rates of each day of a run whose coverage changes: detected acts by state [day, cell, state, b]
    (:func:`state_codes`), false attributions [day, cell, b], and undetected acts given none detected
    [day, cell, state, b]."""

    q: np.ndarray
    false: np.ndarray
    und: np.ndarray


def state_codes(plan: Plan) -> list[int]:
    """The state codes (``kernels.state_code``: tier * 8 + sanctioned * 4 + holder * 2 + adult) of an adult's
    day by its windowed *state* st: bit 0 deterred (starting the day below the deterrence line), bit 1
    sanctioned (under a sanction at the start of the day). Two states (undeterred, deterred) where the
    rates do not depend on sanctions (``features``: deterrence-by-state), four where they do."""
    NT, first = len(plan.tier_names), deterred_from(plan)
    tier = [0, first if first < NT else 0]
    S = 4 if "deterrence-by-state" in uses(plan) else 2
    return [tier[st & 1] * 8 + (st >> 1) * 4 + 1 for st in range(S)]


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
    """(q, false, und) of one day from its ``detected.detected_rates``: the adults' rates of a detected act by
    state [cell, state, b] (:func:`state_codes`), of a false attribution [cell, b] (never deterred), and of an
    undetected act given none detected [cell, state, b]; of several days with a leading day axis."""
    codes = state_codes(plan)
    return q[..., codes, :], fa[..., 1, :], und[..., codes, :]


DAYS_AT_ONCE = 64  # the days whose rates are worked out together (a chunk's arrays: 64 x a day's)


def rates_by_day(plan: Plan) -> DayRates | None:
    """:class:`DayRates` of every day of a plan whose coverage changes over time, else None. The days of an
    epoch are worked out together, a chunk at a time (each day's numbers are its own, bit for bit)."""
    from ..features import rates_change_by_day

    if not rates_change_by_day(plan):
        return None
    from ...compile import probabilities
    from ..detected import rates_of

    parts, d0 = [], 0
    epoch_of = [plan.epochs.index(plan.epoch_at(d)) for d in range(plan.days)]
    while d0 < plan.days:
        index, d1 = epoch_of[d0], min(d0 + DAYS_AT_ONCE, plan.days)
        while epoch_of[d1 - 1] != index:  # one epoch at a time
            d1 -= 1
        covs = np.array([plan.coverage(d) for d in range(d0, d1)], np.float64)
        parts.append(day_rates(plan, *rates_of(plan, plan.epochs[index], *probabilities(plan, index, covs))))
        d0 = d1
    return DayRates(*(np.ascontiguousarray(np.concatenate(x)) for x in zip(*parts)))


def model_of(plan: Plan) -> Model:
    """The route's numbers for ``plan`` (which :func:`why_not` accepts), worked out once per plan."""
    return cached(plan, ("windowed_model",), lambda: _model_of(plan))


def _model_of(plan: Plan) -> Model:
    e = plan.epochs[0]
    prm, beh = e.prm, e.beh
    NT = len(plan.tier_names)
    first = deterred_from(plan)
    qs, false, und2 = day_rates(plan, *rates_on_day_0(plan))
    _check_states(plan, qs)
    q0 = qs[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a behaviour no cell detects: factor 1, never drawn
        # over the cells that detect b (a cell that never does, such as a region without records, says nothing)
        ratio = np.where(q0[:, None] > 0, qs / np.where(q0 > 0, q0, 1.0)[:, None], np.nan)   # [cell, state, b]
        factor = np.nan_to_num(np.nanmax(ratio, axis=0), nan=1.0)                          # [state, b]
    keep = np.ascontiguousarray(threshold(factor).T)      # [b, state]: state 0 keeps everything (2**32)
    mins = e.tier_mins.astype(np.int64)
    nets = network_behaviours(plan)
    other = np.array([b for b in range(len(plan.behaviour_names)) if b not in nets], np.int64)
    by_day = rates_by_day(plan)
    if by_day is not None:  # the highest rates of the run (each window draws at its own highest, then thins)
        q0, false = by_day.q[:, :, 0].max(axis=0), by_day.false.max(axis=0)
    false = false.copy()                                  # [class, b]: adults (false attributions are not deterred)
    fb = np.array([b for b in other if (false[:, b] > 0).any()], np.int64)
    deter = int(mins[first - 1]) if first < NT else -(1 << 20)    # a day starting below it is deterred
    lists = np.array([list_row(L, mins, NT) for L in e.lists], np.int64).reshape(len(e.lists), len(LS))
    slist, tiers = sanctions(e.cons)
    by_state = keep.shape[1] == 4
    scalars = (int(prm[P.BASE]), int(prm[P.LO]), int(prm[P.HI]), int(prm[P.REC_QUIET]), int(prm[P.REC_UPTO]),
               deter, slist, int(prm[P.REC_PTS]), tiers, len(other), first,
               _guard(prm, mins, deter, lists, slist, tiers) if by_state else deter, int(prm[P.CHILD_LISTS]))
    ties, kinds, kind_of = tie_points(plan, nets)
    at_home = np.any(kind_of[:, list(HOUSEHOLD_RELATIONS)] >= 0, axis=1)
    return Model(q=q0.copy(), keep=keep, und=und2, points=beh[:, BEH.POINTS].astype(np.int64), other=other, nets=nets,
                 ties=ties, kinds=kinds, kind_of=kind_of, matched=matched_relations(plan), at_home=at_home,
                 mins=mins[:-1].copy(), scalars=scalars, lists=lists, deter_tier=first, false=false, fb=fb,
                 adult=adult_pattern(plan), by_day=by_day,
                 house=household_pattern(plan, bool(at_home.any()) or prm[P.CHILD_LISTS] != 0))


def _check_states(plan: Plan, qs: np.ndarray) -> None:
    """Hold the rates of every tier to those of its state (:func:`state_codes`): one deterrence line, and
    sanctions that change rates the same way in every tier (``features`` refuses the schemes where not)."""
    q = rates_on_day_0(plan)[0]
    first, S = deterred_from(plan), qs.shape[1]
    for t in range(len(plan.tier_names)):
        for st in range(S):
            if (st & 1) == int(t >= first) and not np.array_equal(q[:, t * 8 + (st >> 1) * 4 + 1], qs[:, st]):
                raise ValueError(f"the rates of tier {plan.tier_names[t]} in state {st} are not their state's: the "
                                 "windowed route cannot run this scheme")


def _guard(prm, mins, deter: int, lists: np.ndarray, slist: int, stiers: int) -> int:
    """``SC.GUARD`` where sanctions change act rates: the lowest score from which no higher score is deterred,
    in a tier that carries a sanction, or entering the list that does."""
    scores = np.arange(int(prm[P.LO]), int(prm[P.HI]) + 1)
    tier = (scores[:, None] < mins[None, :-1]).sum(axis=1)
    bad = (scores < deter) | (((stiers >> tier) & 1) != 0)
    if slist >= 0:
        enter, red = lists[slist, LS.ENTER], lists[slist, LS.RED] != 0
        bad |= (scores >= enter) if red else (scores < enter)
    return int(scores[bad].max()) + 1 if bad.any() else int(scores[0])


def tie_points(plan: Plan, nets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Model.ties``, ``Model.kinds`` and ``Model.kind_of``: per day of the run and kind of penalty
    (``features.penalty_kinds``: a network behaviour ``nets[j]`` and the points some kinds of tie lose for
    it), the points, from the day's epoch (``Epoch.beh``: 0 for a kind of tie the population has none of)."""
    kind_of = penalty_kinds(plan)
    NK = int(kind_of.max()) + 1
    kinds = np.zeros(NK, np.int64)
    rel = np.zeros(NK, np.int64)
    for j, r in zip(*np.nonzero(kind_of >= 0)):
        kinds[kind_of[j, r]], rel[kind_of[j, r]] = j, r  # (a kind's pairs have the same points)
    out = np.zeros((plan.days, NK), np.int64)
    starts = [e.start for e in plan.epochs] + [plan.days]
    for k, e in enumerate(plan.epochs):
        rows = slice(max(e.start, 0), min(starts[k + 1], plan.days))
        out[rows] = e.beh[nets[kinds], BEH.NET + rel]
    return out, kinds, kind_of


def matched_relations(plan: Plan) -> np.ndarray:
    """``Model.matched``: the kind of tie (``REL``) of each of the first ``MAX_FRIENDS`` matchings, by the
    population's rule (``population.make_ties``)."""
    prm = plan.epochs[0].prm
    matching_relation = make_ties(lambda f: f)[1]
    return np.array([matching_relation(x, prm[P.K_FRIENDS], prm[P.BEST]) for x in range(MAX_FRIENDS)], np.int64)


def household_pattern(plan: Plan, needed: bool) -> tuple | None:
    """``Model.house``: by slot of the household block, the offset of the slot's household's first id and the
    household's size (``population``), when ``needed`` (household members lose points for a network act, or
    children are sanctioned for their adults' lists) and the scheme has households, else None."""
    if not needed or plan.scenario.population.households is None:
        return None
    head, size = np.asarray(plan.hh_head, np.int64), np.asarray(plan.hh_size, np.int64)
    if len(head) != len(plan.hh_adult):
        raise ValueError(f"household tables of {len(head)} and {len(plan.hh_adult)} slots")
    return head, size


def adult_pattern(plan: Plan) -> np.ndarray:
    """The household block's adults (``Model.adult``), a power of two long: agent i's is ``i & (len - 1)``."""
    adult = np.ascontiguousarray(plan.hh_adult, np.uint8)
    if len(adult) & (len(adult) - 1):
        raise ValueError(f"a household block of {len(adult)} agents: the windowed route needs a power of two")
    return adult


def _members(plan: Plan) -> float:
    """The mean number of a person's household members (itself not counted)."""
    sizes = {int(k): v for k, v in plan.scenario.population.households.sizes.items()}
    return sum(v * k * (k - 1) for k, v in sizes.items()) / sum(v * k for k, v in sizes.items())


def marks_length(m: Model, n: int) -> int:
    """The length of the false-record column of a windowed run of n agents: one entry per agent when the scheme
    has false attributions, else one, never set."""
    return n if len(m.fb) else 1


def windowed_bytes(plan: Plan) -> int:
    """What a windowed run holds beyond the base and the count tables: 5 bytes per agent and 2 per list (and 1
    for a false record carried, with false attributions, and 1 for the adult flags, with households), as
    many more but the class for a window's start state when there is more than one window, 1 for the traits
    (class and group) with several regions, a window's metric changes per cell for each work item running
    at once (``threads.work_slots``), and while a window's penalties are written 4 bytes per penalty and 20
    per sender (their friends and lists), at the expected numbers with a margin of 10 %, and a bit per agent
    (the senders' bitmap)."""
    m = model_of(plan)
    W = min(plan.days, 365)
    pop = plan.scenario.population
    shares = np.einsum("r,c,g->rcg", np.diff(plan.region_starts) / max(plan.size, 1),  # per cell, in compile's order
                       [pop.classes[c] for c in plan.class_names], [pop.groups[g].share for g in plan.group_names]).ravel()
    q = m.q[:, m.nets].sum(axis=1) if len(m.nets) else np.zeros(len(shares))
    senders = plan.size * float(np.sum(shares * (1.0 - (1.0 - q) ** W)))
    ties = (min(plan.epochs[0].prm[P.K], 4) + (_members(plan) if m.at_home.any() else 0))  # receivers per act
    penalties = ties * plan.size * float(np.sum(shares * q)) * W
    NL, NT, NB = len(m.lists), len(plan.tier_names), len(plan.behaviour_names)
    F = 1 if len(m.fb) else 0
    H = 1 if len(m.adult) > 1 else 0  # with households: the adult flags of the run's columns
    per_agent = (5 + 2 * NL + F + H + ((4 + 2 * NL + F) if plan.days > W else 0)
                 + (1 if len(plan.region_names) > 1 else 0))
    S = m.keep.shape[1]  # the states whose acts are counted apart (and the sanctioned by side, with four)
    window = 8 * work_slots() * plan.n_cells * (W + 1) * (NT + 2 * NL + 4 + S * NB * (1 + F) + F * (1 + NL)
                                                        + (2 if S == 4 else 0) + (1 if m.scalars[SC.CLISTS] else 0))
    return int(plan.size * per_agent + 1.1 * (4 * penalties + 20 * senders) + plan.size / 8 + window)
