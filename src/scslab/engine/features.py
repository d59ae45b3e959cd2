"""The features a scenario can use, by name: what each means, which schema fields set it, and when a plan uses it.

Schedulers (``engine.routes``) state which features they support; a scenario goes to the fastest scheduler
that supports every feature it uses, and a scheduler asked for by name refuses a scenario with the names of
the features it lacks. ``FIELDS`` maps every field of the scenario schema to the features it sets (a test
walks the schema and fails on a field that maps to none), so a new field cannot be silently ignored by a
scheduler that does not know it.

A feature here is a condition on the compiled plan (``compile.Plan``), so it is decided from the same numbers
the engines run, after timelines, defaults and sizes are applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..compile import BEH, CONS, LIST, ENTER, EXIT, P, REL, Plan, cached
from ..encodings import HOUSEHOLD_RELATIONS
from ..population import kinds_present
from ..scenarios.entities import link_reach
from ..scenarios.schema import Network
from ..shaming import bars_work, costs_ties, deters_others

__all__ = ["Feature", "FEATURES", "FIELDS", "uses", "feature_words", "field_features", "deterred_from",
           "rates_on_day_0", "network_behaviours", "MAX_DAYS", "MAX_N", "MAX_OTHER", "MAX_LISTS",
           "MAX_FRIENDS", "MAX_CELLS", "MAX_NET", "MAX_KINDS", "penalty_kinds", "agency_sources"]

MAX_DAYS = 32767    # the windowed route keeps days in int16 columns
MAX_N = 2**31 - 1   # ... and friends as int32
MAX_OTHER = 16      # ... and draw counters as act-day * 16 + the day's event (an act or a false attribution)
MAX_LISTS = 3       # ... and an agent's days listed as 16-bit fields of one integer
MAX_FRIENDS = 4     # ... and a sender's friends in 4 columns
MAX_CELLS = 64      # ... and a window's metric changes per cell and work item (an agent's cell in a uint8)
MAX_NET = 8         # ... and a network act as its day and which of (at most) 8 network behaviours it is, in 3 bits
MAX_KINDS = 16      # ... and a penalty as its day and its kind (``penalty_kinds``), in 4 bits


@dataclass(frozen=True)
class Feature:
    """A named feature: ``words`` says what a scenario using it does; ``used(plan)`` tells whether it does."""

    name: str
    words: str
    used: Callable[[Plan], bool]


def deterred_from(plan: Plan) -> int | None:
    """The first deterred tier (the tier count when nothing is deterred), or None when behaviours are
    deterred below different tiers."""
    below = {b.deterrence.below_tier for b in plan.scenario.behaviours.values()
             if b.points < 0 and b.deterrence.below_tier}
    if len(below) > 1:
        return None
    return plan.tier_names.index(below.pop()) + 1 if below else len(plan.tier_names)


def _rates_by_state(plan: Plan) -> bool:
    """Whether the chance of an act depends on more than the side of the deterrence line the day starts on
    (on sanctions or on holding an account)."""
    first = deterred_from(plan)
    if first is None:
        return False  # told by several-deterrence-lines
    q, und, _ = rates_on_day_0(plan)
    for c in range(q.shape[0]):
        for t in range(len(plan.tier_names)):
            for code in (t * 8 + 1, t * 8 + 5):
                ref = first * 8 + 1 if t >= first else 1
                if not (np.array_equal(q[c, code], q[c, ref]) and np.array_equal(und[c, code], und[c, ref])):
                    return True
    return False


def _false_behaviours(plan: Plan) -> np.ndarray:
    """Per behaviour, whether some cell attributes its acts falsely on some day: on day 0, the last day, or a day
    where a channel's coverage has a point of its own (a false attribution's rate follows coverage
    linearly, so it is positive on some day only if it is on one of these)."""
    def make():
        from .detected import detected_rates

        days = {0, plan.days - 1} | {int(d) for s in plan.all_rules() for c in s.channels.values()
                                     if isinstance(c.coverage, list)
                                     for d, _ in c.coverage if 0 < d < plan.days}
        rates = [rates_on_day_0(plan)[2]] + [detected_rates(plan, d)[2] for d in sorted(days - {0})]
        return np.any([np.any(r > 0, axis=(0, 1)) for r in rates], axis=0)

    return cached(plan, ("false_behaviours",), make)


def _false(plan: Plan) -> bool:
    return bool(_false_behaviours(plan).any())


_HOUSEHOLD = [BEH.NET + r for r in HOUSEHOLD_RELATIONS]        # ``Epoch.beh``'s columns of household ties
_MATCHED = [BEH.NET + r for r in REL if r not in HOUSEHOLD_RELATIONS]  # ... of matched ties (friends, colleagues)


def household_points(e) -> np.ndarray:
    """An epoch's points of household ties, per behaviour and kind of tie (0 without households: compile)."""
    return e.beh[:, _HOUSEHOLD]


def matched_points(e) -> np.ndarray:
    """An epoch's points of matched ties (best friends, friends, colleagues), per behaviour and kind of tie."""
    return e.beh[:, _MATCHED]


def network_behaviours(plan: Plan) -> np.ndarray:
    """The behaviours whose detection costs the actor's ties points on some day of the run (some kind of tie
    the population has, ``population.network_points``), in plan order: the *network behaviours*, whose acts
    the windowed scheduler draws apart from the others."""
    def make():
        net = np.zeros(len(plan.behaviour_names), bool)
        for e in plan.epochs:
            net |= np.any(e.beh[:, BEH.NET:] != 0, axis=1)
        return np.flatnonzero(net).astype(np.int64)

    return cached(plan, ("network_behaviours",), make)


def penalty_kinds(plan: Plan) -> np.ndarray:
    """``kind_of[j, rel]``: the kind of penalty that a network act of behaviour ``network_behaviours(plan)[j]``
    gives a tie of kind ``rel`` (``REL``), -1 where that kind of tie never loses points for it. Pairs of one
    behaviour whose points are the same in every epoch share a kind (in a scheme that sets only
    ``household``, the four household kinds are one); kinds are numbered in the order of (j, rel)."""
    def make():
        nets = network_behaviours(plan)
        cols = np.stack([e.beh[nets, BEH.NET:BEH.NET + len(REL)] for e in plan.epochs])  # [epoch, j, rel]
        kind_of = np.full((max(len(nets), 1), len(REL)), -1, np.int64)
        seen: dict = {}
        for j in range(len(nets)):
            for r in REL:
                col = tuple(int(v) for v in cols[:, j, r])
                if any(col):
                    kind_of[j, r] = seen.setdefault((j, col), len(seen))
        return kind_of

    return cached(plan, ("penalty_kinds",), make)


def _tie_kinds(plan: Plan) -> bool:
    """Whether two kinds of household tie, or two kinds of matched tie, that the population has lose different
    points for some behaviour on some day (the household's and the friends' points alone set none)."""
    has = kinds_present(_s(plan).population)
    household = [BEH.NET + r for r in HOUSEHOLD_RELATIONS if has[r]]
    matched = [BEH.NET + r for r in REL if r not in HOUSEHOLD_RELATIONS and has[r]]

    def differ(e, cols):
        return len(cols) > 1 and bool(np.any(e.beh[:, cols] != e.beh[:, cols[:1]]))

    return _any(plan, lambda e: differ(e, household) or differ(e, matched))


def _false_network(plan: Plan) -> bool:
    """False attributions of a network behaviour (:func:`network_behaviours`)."""
    return bool(np.any(_false_behaviours(plan)[network_behaviours(plan)]))


def _day_events(plan: Plan) -> int:
    """The kinds of event of a day that the windowed scheduler draws together: detected acts of each behaviour
    that is not a network behaviour, and false attributions of each of them that has some."""
    quiet = np.ones(len(plan.behaviour_names), bool)
    quiet[network_behaviours(plan)] = False
    return int(np.sum(quiet)) + int(np.sum(quiet & _false_behaviours(plan)))


# a timeline entry that sets ties' points: any field of a behaviour's ``network`` (every kind of tie), or all of it
_TIE_POINTS = re.compile(rf"^behaviours\.[^.]+\.network(\.({'|'.join(Network.model_fields)}))?$")


def rates_change_by_day(plan: Plan) -> bool:
    """Whether a day's rates may differ from the day before's within a set of rules: a channel's coverage
    follows a ramp (in some region's rules), or perception lags it."""
    return plan.watching.lagging or any(isinstance(c.coverage, list) for s in plan.all_rules()
                                        for c in s.channels.values())


def _timeline_keys(plan: Plan) -> set[str]:
    """What the timeline changes: "network" for ties' points (``behaviours.*.network.*``), "rules" for anything
    else."""
    return {"network" if _TIE_POINTS.match(k) else "rules" for t in _s(plan).timeline if t.day < plan.days
            for k in t.set}


def rates_on_day_0(plan: Plan):
    """``detected.detected_rates(plan, 0)``, worked out once per plan (features and the windowed scheduler
    both read it)."""
    from .detected import detected_rates

    return cached(plan, ("detected_rates", 0), lambda: detected_rates(plan, 0))


def _any(plan: Plan, test) -> bool:
    """Whether ``test(epoch)`` holds in any epoch of the plan (a timeline may bring a feature in later)."""
    return any(bool(test(e)) for e in plan.epochs)


def _s(plan: Plan):
    return plan.scenario


def _black(L) -> bool:
    """A list entered at a tier or worse and left at a better tier."""
    return L[LIST.ENTER] == ENTER.TIER_AT_MOST and L[LIST.EXIT] == EXIT.TIER_AT_LEAST and L[LIST.EXIT_ARG] < L[LIST.ENTER_ARG]


def _sanctioning_lists(cons) -> int:
    """The lists that carry a sanction, as a mask (bit l: list l): a reward sanctions nobody."""
    return int(np.bitwise_or.reduce([int(r[CONS.LISTS]) for r in cons if r[CONS.REWARD] == 0] or [0]))


def agency_sources(cons) -> set:
    """What puts an agent under the measures of the agencies in an epoch's consequences (rows with a
    ``CONS.AGENCY`` bit): ``("list", l)`` for each list followed, ``"tiers"``, ``"account"``, ``"children"`` (its
    adults' listing). With one source, how many agencies' measures a person is under follows from how many
    people that source holds (the windowed scheduler counts it so, ``engine/windowed/totals.py``)."""
    out: set = set()
    for r in cons:
        if r[CONS.AGENCY] == 0:
            continue
        if r[CONS.CHILDREN] != 0:
            out.add("children")
            continue
        out.update(("list", l) for l in range(int(r[CONS.LISTS]).bit_length()) if (int(r[CONS.LISTS]) >> l) & 1)
        out.update(name for name, col in (("tiers", CONS.TIERS), ("account", CONS.ACCOUNT_ZERO)) if r[col] != 0)
    return out


def _never_left(L) -> bool:
    """A list entered at a tier (or worse, or better) and never left."""
    return L[LIST.ENTER] in (ENTER.TIER_AT_MOST, ENTER.TIER_AT_LEAST) and L[LIST.EXIT] == EXIT.NEVER


def _red(L) -> bool:
    """A list entered at a tier or better and left at a worse tier."""
    return L[LIST.ENTER] == ENTER.TIER_AT_LEAST and L[LIST.EXIT] == EXIT.TIER_AT_MOST and L[LIST.EXIT_ARG] > L[LIST.ENTER_ARG]


FEATURES: tuple[Feature, ...] = (
    Feature("scores", "points for detected acts, tiers, score bounds, detection by channel", lambda p: True),
    Feature("deterrence", "a deterrence line: fewer acts below a tier", lambda p: True),
    Feature("recovery", "points recovered after quiet days", lambda p: True),
    Feature("stories", "story agents and score snapshots", lambda p: True),
    Feature("one-list", "one list", lambda p: _any(p, lambda e: e.lists.shape[0] == 1)),
    Feature("list-sanctions", "sanctions that follow a list", lambda p: len(p.consequence_names) > 0),
    Feature("friends", "ties to friends or colleagues", lambda p: p.epochs[0].prm[P.K] > 0),
    Feature("network-penalty", "one behaviour whose detection costs the actor's friends or colleagues points",
            lambda p: _any(p, lambda e: int(np.sum(np.any(matched_points(e) < 0, axis=1))) == 1)),
    Feature("tie-kinds", "kinds of tie that lose different points: partners, parents, children, other household "
            "members, best friends, friends, colleagues", _tie_kinds),
    Feature("colleagues", "colleague ties", lambda p: _s(p).population.colleagues.degree > 0),
    Feature("awareness", "people unaware of the scheme, and awareness that spreads: through ties, through seeing "
            "ties sanctioned, through losing points", lambda p: _s(p).awareness is not None),
    Feature("ostracism", "friends and colleagues who drop their ties to shunned people (the listed, or a low "
            "tier)", lambda p: _s(p).ostracism is not None),
    Feature("shaming", "a published list that costs the listed their ties or their work (lists.NAME.shaming: ties, "
            "work)", lambda p: costs_ties(_s(p)) or bars_work(_s(p))),
    Feature("published-deterrence", "acts deterred by the share of the region's people on a published list "
            "(lists.NAME.shaming.deters)", lambda p: deters_others(_s(p))),
    Feature("timeline", "rules that change during the run (other than the points ties lose)",
            lambda p: "rules" in _timeline_keys(p)),
    Feature("network-timeline", "points that ties lose, changed during the run",
            lambda p: "network" in _timeline_keys(p)),
    Feature("local-rules", "rules that differ by region (timeline changes for some regions only)",
            lambda p: any(t.regions for t in _s(p).timeline if t.day < p.days)),
    Feature("coverage-over-time", "channel coverage, or the coverage people perceive, that changes over time",
            rates_change_by_day),
    Feature("perception", "watching perceived other than as it is: a lag, an overstatement, groups that "
            "perceive less", lambda p: not p.watching.as_it_is or any(g.perceives != 1.0 for g in
                                                                        _s(p).population.groups.values())),
    Feature("entity-types", "entity types, such as firms and authorities, run beside the persons", lambda p: bool(p.entities)),
    Feature("regions", "more than one region", lambda p: len(p.region_names) > 1),
    Feature("groups", "more than one group", lambda p: len(p.group_names) > 1),
    Feature("regional-friends", "friends drawn within their region (friends.same_region above 0), or colleagues, "
            "in several regions", lambda p: len(p.region_names) > 1 and (p.epochs[0].prm[P.K_LOCAL] > 0 or
                                                                          p.epochs[0].prm[P.K] > p.epochs[0].prm[P.K_FRIENDS])),
    Feature("many-cells", f"more than {MAX_CELLS} cells (regions x classes x groups)", lambda p: p.n_cells > MAX_CELLS),
    Feature("households", "households with children, and what passes within them",
            lambda p: _s(p).population.households is not None),
    Feature("friends-degree", f"more than {MAX_FRIENDS} friends and colleagues",
            lambda p: p.epochs[0].prm[P.K] > MAX_FRIENDS),
    Feature("no-friends", "no friends or colleagues", lambda p: p.epochs[0].prm[P.K] == 0),
    Feature("court-debt", "court debts and their repayment",
            lambda p: _any(p, lambda e: _s(p).debt is not None or bool(np.any(e.beh[:, BEH.DEBT] != 0)))),
    Feature("redress", "contested false records removed after a delay", lambda p: _s(p).redress is not None),
    Feature("linked-stories", "stories of the persons an entity's listing sanctions through a link",
            lambda p: p.epochs[0].prm[P.LINK_LISTS] != 0
            and any(link_reach(q.applies_to) == 1 for q in _s(p).consequences.values())),
    Feature("linked-entities", "measures a person's listing brings on the entities linked to it (the firms it "
            "represents)", lambda p: any(link_reach(q.applies_to) == 2 for q in _s(p).consequences.values())),
    Feature("fines", "fines in yuan for recorded acts", lambda p: "fines_yuan" in p.metric_names),
    Feature("work", "sanctions or published lists that cost work and income ([economy], costs_work, shaming.work)",
            lambda p: p.epochs[0].prm[P.HAS_WORK] != 0),
    Feature("debt-amounts", "court debts with amounts in yuan", lambda p: p.epochs[0].prm[P.HAS_AMOUNTS] != 0),
    Feature("accounts", "a domain account whose points can reach zero",
            lambda p: _any(p, lambda e: bool(_s(p).accounts) or e.prm[P.HAS_ACCT] != 0 or bool(np.any(e.beh[:, BEH.ACCOUNT] >= 0)))),
    Feature("escalation", "escalating points for repeated acts",
            lambda p: _any(p, lambda e: e.prm[P.HAS_STRIKES] != 0 or bool(np.any(e.beh[:, BEH.N_REPEAT] != 0)))),
    Feature("retention", "records kept for a retention period that can end within the run",
            lambda p: _any(p, lambda e: 0 <= e.prm[P.RETENTION] < p.days)),
    Feature("recovery-steps", "recovery of other than 1 point a day", lambda p: _any(p, lambda e: e.prm[P.REC_PTS] != 1)),
    Feature("long-runs", f"more than {MAX_DAYS:,} days", lambda p: p.days > MAX_DAYS),
    Feature("huge-populations", f"more than {MAX_N:,} agents", lambda p: p.size > MAX_N),
    Feature("no-list", "no list", lambda p: _any(p, lambda e: e.lists.shape[0] == 0)),
    Feature("several-lists", "more than one list", lambda p: _any(p, lambda e: e.lists.shape[0] > 1)),
    Feature("many-lists", f"more than {MAX_LISTS} lists", lambda p: _any(p, lambda e: e.lists.shape[0] > MAX_LISTS)),
    Feature("several-sanctioning-lists", "sanctions on more than one list",
            lambda p: _any(p, lambda e: _sanctioning_lists(e.cons).bit_count() > 1)),
    Feature("multi-list-consequences", "a sanction or reward that follows more than one list",
            lambda p: _any(p, lambda e: any(int(r[CONS.LISTS]).bit_count() > 1 for r in e.cons))),
    Feature("mixed-joint-punishment", "agencies' measures that follow more than one thing: two lists, or a list "
            "and the tiers, a zeroed account or a listed adult (a person's count of agencies then needs its own state)",
            lambda p: len(set().union(*(agency_sources(e.cons) for e in p.epochs))) > 1),
    Feature("red-list", "a list of the well scored: entered at a tier or better, left at a worse tier",
            lambda p: _any(p, lambda e: any(_red(L) for L in e.lists))),
    Feature("never-left", "a list entered at a tier and never left (only a maximum term ends a listing)",
            lambda p: _any(p, lambda e: any(_never_left(L) for L in e.lists))),
    Feature("list-rules", "a list entered or left other than by tier, or left at a tier not beyond its entry",
            lambda p: _any(p, lambda e: any(not (_black(L) or _red(L) or _never_left(L)) for L in e.lists))),
    Feature("list-terms", "a list with a maximum term or a random extra term",
            lambda p: _any(p, lambda e: any(L[LIST.MAX_DAYS] >= 0 or L[LIST.EXTRA_MAX] != 0 for L in e.lists))),
    Feature("publication", "lists published every few days, entries and exits on publication days only",
            lambda p: _any(p, lambda e: any(L[LIST.PUBLISH] != 1 for L in e.lists))),
    Feature("tier-sanctions", "sanctions or rewards that follow tiers",
            lambda p: _any(p, lambda e: any(r[CONS.TIERS] != 0 for r in e.cons))),
    Feature("mixed-sanctions", "a sanction or reward that follows both a list and tiers",
            lambda p: _any(p, lambda e: any(r[CONS.LISTS] != 0 and r[CONS.TIERS] != 0 for r in e.cons))),
    Feature("account-sanctions", "sanctions on an account reaching zero",
            lambda p: _any(p, lambda e: any(r[CONS.ACCOUNT_ZERO] != 0 for r in e.cons))),
    Feature("rewards", "rewards granted on tiers or lists", lambda p: _any(p, lambda e: any(r[CONS.REWARD] != 0 for r in e.cons))),
    Feature("attempts", "daily attempts to use what a sanction blocks, such as flights and trains",
            lambda p: any(c.attempts_per_day > 0 for c in _s(p).consequences.values())),
    Feature("children-sanctions", "sanctions passed on to children",
            lambda p: _any(p, lambda e: any(r[CONS.CHILDREN] != 0 for r in e.cons))),
    Feature("household-penalties", "points taken from the actor's household",
            lambda p: _any(p, lambda e: bool(np.any(household_points(e) != 0)))),
    Feature("network-penalties", "more than one behaviour whose detection costs friends or colleagues points",
            lambda p: _any(p, lambda e: int(np.sum(np.any(matched_points(e) < 0, axis=1))) > 1)),
    Feature("network-rewards", "a behaviour whose detection gives ties points",
            lambda p: _any(p, lambda e: bool(np.any(e.beh[:, BEH.NET:] > 0)))),
    Feature("many-network-behaviours", f"more than {MAX_NET} behaviours whose detection costs ties points",
            lambda p: len(network_behaviours(p)) > MAX_NET),
    Feature("many-penalty-kinds", f"more than {MAX_KINDS} kinds of network penalty (a behaviour and the points a "
            "kind of tie loses for it)", lambda p: int(penalty_kinds(p).max()) + 1 > MAX_KINDS),
    Feature("many-behaviours", f"more than {MAX_OTHER} behaviours without a network penalty (each with false "
            "attributions counted twice)", lambda p: _day_events(p) > MAX_OTHER),
    Feature("false-attribution", "acts attributed to the wrong person", _false),
    Feature("false-network-attribution", "false attributions of a behaviour whose detection costs friends points",
            _false_network),
    Feature("several-deterrence-lines", "behaviours deterred below different tiers",
            lambda p: deterred_from(p) is None),
    Feature("deterrence-by-state", "act rates that depend on sanctions or on holding an account",
            _rates_by_state),
)
BY_NAME = {f.name: f for f in FEATURES}

# Every schema field (``*``: any entry of a table) and the features it sets. A field maps to the features a
# scheduler must support for a scenario that sets it to anything but its default.
FIELDS: dict[str, tuple[str, ...]] = {
    "meta.*": ("scores",), "provenance": ("scores",),
    "run.days": ("scores", "long-runs", "retention"), "run.seed": ("scores",),
    "run.story_agents": ("stories",), "run.score_every_days": ("stories",),
    "population.size": ("scores", "huge-populations"), "population.classes": ("scores", "many-cells"),
    "population.regions.*": ("regions", "scores", "many-cells", "regional-friends"), "population.groups.*.share": ("groups", "many-cells"),
    "population.groups.*.detect_factor": ("groups",),
    "population.groups.*.false_match_factor": ("groups", "false-attribution", "false-network-attribution"),
    "population.groups.*.perceives": ("groups", "perception"),
    "perception.*": ("perception", "coverage-over-time"),
    "ostracism.*": ("ostracism",),
    "awareness.*": ("awareness",),
    "population.households.*": ("households",),
    "population.friends.degree": ("friends", "friends-degree", "no-friends", "regional-friends"),
    "population.friends.same_region": ("friends", "regions", "regional-friends"),
    "population.friends.best": ("tie-kinds",),
    "population.colleagues.degree": ("colleagues", "friends", "friends-degree", "no-friends", "regional-friends"),
    "channels.*.kind": ("scores",), "channels.*.detect": ("scores",), "channels.*.description": ("scores",),
    "channels.*.coverage": ("scores", "coverage-over-time"), "channels.*.interpolate": ("coverage-over-time",),
    "channels.*.false_match": ("false-attribution", "false-network-attribution", "many-behaviours"),
    "behaviours.*.rate": ("scores",), "behaviours.*.channels": ("scores",), "behaviours.*.detect": ("scores",),
    "behaviours.*.points": ("scores",), "behaviours.*.description": ("scores",),
    "behaviours.*.repeat_points": ("escalation",), "behaviours.*.account": ("accounts",),
    "behaviours.*.network.household": ("household-penalties", "network-rewards", "many-network-behaviours",
                                       "many-penalty-kinds"),
    "behaviours.*.network.partner": ("household-penalties", "network-rewards", "many-network-behaviours", "tie-kinds",
                                   "many-penalty-kinds"),
    "behaviours.*.network.parents": ("household-penalties", "network-rewards", "many-network-behaviours", "tie-kinds",
                                   "many-penalty-kinds"),
    "behaviours.*.network.children": ("household-penalties", "network-rewards", "many-network-behaviours", "tie-kinds",
                                   "many-penalty-kinds"),
    "behaviours.*.network.friends": ("network-penalty", "network-penalties", "network-rewards",
                                     "many-network-behaviours", "many-penalty-kinds"),
    "behaviours.*.network.best_friend": ("network-penalty", "network-penalties", "network-rewards",
                                         "many-network-behaviours", "tie-kinds", "many-penalty-kinds"),
    "behaviours.*.network.colleagues": ("network-penalty", "network-penalties", "network-rewards",
                                        "many-network-behaviours", "tie-kinds", "many-penalty-kinds"),
    "behaviours.*.deterrence.below_tier": ("deterrence", "several-deterrence-lines"),
    "behaviours.*.deterrence.factor": ("deterrence",),
    "behaviours.*.deterrence.when_sanctioned": ("deterrence-by-state",),
    "behaviours.*.deterrence.surveillance": ("deterrence", "coverage-over-time"),
    "behaviours.*.creates_debt": ("court-debt",), "behaviours.*.fine": ("fines",),
    "behaviours.*.context": ("scores",), "consequences.*.context": ("list-sanctions",),
    "consequences.*.costs_work": ("work",), "economy.*": ("work",), "debt.amounts": ("debt-amounts",),
    "score.base": ("scores",), "score.bounds": ("scores",), "score.tiers": ("scores",),
    "score.recovery.*": ("recovery", "recovery-steps"),
    "score.retention_days": ("retention",), "score.strike_window_days": ("escalation",),
    "accounts.*": ("accounts", "deterrence-by-state"),
    "lists.*.kind": ("one-list", "several-lists", "no-list", "many-lists", "several-sanctioning-lists"),
    "lists.*.description": ("one-list",),
    "lists.*.enter.tier_at_most": ("one-list",), "lists.*.exit.tier_at_least": ("one-list",),
    "lists.*.enter.tier_at_least": ("red-list", "list-rules"), "lists.*.exit.tier_at_most": ("red-list", "list-rules"),
    "lists.*.enter.account_zero": ("list-rules", "accounts"), "lists.*.exit.account_restored": ("list-rules", "accounts"),
    "lists.*.enter.debt": ("list-rules", "court-debt"), "lists.*.exit.repaid": ("list-rules", "court-debt"),
    "lists.*.exit": ("never-left",), "lists.*.min_days": ("one-list",), "lists.*.max_days": ("list-terms",), "lists.*.extra_days_max": ("list-terms",),
    "lists.*.publish_every_days": ("publication",),
    "lists.*.shaming.ties": ("shaming",), "lists.*.shaming.work": ("shaming", "work"),
    "lists.*.shaming.deters": ("published-deterrence",), "lists.*.shaming.description": ("one-list",),
    "consequences.*.kind": ("list-sanctions", "rewards"),
    "consequences.*.on": ("list-sanctions", "tier-sanctions", "mixed-sanctions", "account-sanctions",
                          "several-sanctioning-lists", "multi-list-consequences", "mixed-joint-punishment"),
    "consequences.*.attempts_per_day": ("attempts",),
    "consequences.*.applies_to": ("children-sanctions", "linked-stories", "linked-entities",
                                  "mixed-joint-punishment"),
    "consequences.*.agency": ("list-sanctions", "mixed-joint-punishment"), "consequences.*.description": ("list-sanctions",),
    "debt.*": ("court-debt",), "redress.*": ("redress",), "timeline.*": ("timeline", "network-timeline", "local-rules"),
    "entities.*": ("entity-types",),
}


def uses(plan: Plan) -> tuple[str, ...]:
    """The names of the features ``plan`` uses, in ``FEATURES`` order (worked out once per plan)."""
    return cached(plan, ("features",), lambda: tuple(f.name for f in FEATURES if f.used(plan)))


def feature_words(names) -> str:
    """``name (words), ...`` for feature names."""
    return "; ".join(f"{n} ({BY_NAME[n].words})" for n in names)


def field_features(path: str) -> tuple[str, ...]:
    """The features of a schema field path (``behaviours.*.points``), by the most specific entry of FIELDS."""
    parts = path.split(".")
    for k in range(len(parts), 0, -1):
        for key in (".".join(parts[:k]), ".".join(parts[:k]) + ".*"):
            if key in FIELDS:
                return FIELDS[key]
    return ()
