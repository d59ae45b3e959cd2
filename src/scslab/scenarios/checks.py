"""Checks that relate fields of a scenario to each other (references, orderings, shares), which pydantic's
field-level validation cannot see. :func:`cross_check` returns every problem at once as
``(dotted.path, value, message)``; entity types (firms, authorities) are checked as the scenarios they run as,
their paths prefixed with ``entities.NAME.``.
"""

from __future__ import annotations

import math

from .entities import link_reach
from .schema import MAX_CELLS, MAX_DAYS, REGIONAL_PATHS, Exit, Scenario, is_regional_path

__all__ = ["cross_check", "scenario_warnings"]


def _shares(problems, path, shares: dict[str, float]):
    total = sum(shares.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        problems.append((path, round(total, 9), "shares must sum to 1"))


def _paths(key: str, value):
    """The paths (lists of names) a timeline change at ``key`` to ``value`` sets: ``key`` itself, and every path
    inside a table it sets."""
    yield key.split(".")
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(f"{key}.{k}", v)


def _sets(key: str, value, *fields: tuple[str, ...]) -> bool:
    """Whether a timeline change at ``key`` to ``value`` sets one of ``fields`` (paths of names, ``*``: any
    name, such as ``("lists", "*", "shaming")``) or something inside it; a name elsewhere in a path (a
    behaviour called ``shaming``) is not the field."""
    return any(len(parts) >= len(f) and all(n in ("*", x) for n, x in zip(f, parts))
               for parts in _paths(key, value) for f in fields)


def _fixed_economy(key: str, value) -> bool:
    """Whether a timeline change at ``key`` sets what stays the same through a run: ``economy``, a debt's
    ``amounts`` or a consequence's ``costs_work`` (the level metrics of work and debts follow them)."""
    return _sets(key, value, ("economy",), ("debt", "amounts"), ("consequences", "*", "costs_work"))


def _fixed_consequence(key: str, value) -> bool:
    """Whether a timeline change at ``key`` sets who is under a consequence or who delivers it: its ``kind``,
    ``on``, ``applies_to`` or ``agency``. The engines count the people under each consequence, and under so
    many agencies, as changes of each person's own state, so these stay the same through a run."""
    return _sets(key, value, *(("consequences", "*", field) for field in ("kind", "on", "applies_to", "agency")))


def _through_link_problems(s: Scenario, name: str, c) -> list[tuple[str, object, str]]:
    """A persons' consequence on the entities linked to a listed person (``applies_to = "links.ENTITY.LINK"``):
    the entity type and link must exist, and the consequence must follow lists (a listing is what passes)."""
    _, entity, link = c.applies_to.split(".")
    allowed = [f"links.{e}.{k}" for e, et in s.entities.items() for k in et.links]
    where = f"consequences.{name}"
    p = []
    if entity not in s.entities or link not in s.entities[entity].links:
        p.append((f"{where}.applies_to", c.applies_to, "unknown entity type or link; allowed: "
                  + (", ".join(allowed) or "(no entity type has links)")))
    if not all(ref.startswith("lists.") for ref in c.on):
        p.append((f"{where}.on", c.on, "a consequence on linked entities follows lists only: a person's listing is "
                                       "what falls on the entities linked to it"))
    return p


def _shaming_problems(s: Scenario) -> list[tuple[str, object, str]]:
    """What publishing a list does (``lists.NAME.shaming``) that the rest of the scenario cannot carry."""
    p = []
    pop = s.population
    for name, L in s.lists.items():
        x, where = L.shaming, f"lists.{name}.shaming"
        if x is None:
            continue
        if L.kind == "red":
            p.append((where, name, "a red list honours the people on it: only a black list shames"))
        if x.work > 0 and s.economy is None:
            p.append((f"{where}.work", x.work, "needs [economy]: who is in work, and at what income"))
        if x.ties > 0 and pop.friends.degree + pop.colleagues.degree == 0:
            p.append((f"{where}.ties", x.ties, "needs friends or colleagues (population.friends.degree or "
                                               "population.colleagues.degree above 0): household ties are never "
                                               "dropped"))
        if x.deters > 0 and not any(b.points < 0 or b.creates_debt for b in s.behaviours.values()):
            p.append((f"{where}.deters", x.deters, "changes nothing: no behaviour costs points or creates a court "
                                                   "debt"))
    return p


def cross_check(s: Scenario) -> list[tuple[str, object, str]]:
    """Relations between fields that pydantic cannot see; returns every problem found."""
    p: list[tuple[str, object, str]] = []
    pop = s.population
    _shares(p, "population.regions", {k: r.share for k, r in pop.regions.items()})
    _shares(p, "population.groups", {k: g.share for k, g in pop.groups.items()})
    _shares(p, "population.classes", dict(pop.classes))
    if pop.households is not None:
        _shares(p, "population.households.sizes", dict(pop.households.sizes))
    if len(pop.classes) * len(pop.groups) > 255:
        p.append(("population", len(pop.classes) * len(pop.groups), "classes x groups must be at most 255"))
    cells = len(pop.regions) * len(pop.classes) * len(pop.groups)
    if cells > MAX_CELLS:
        p.append(("population.regions", cells, f"regions x classes x groups must be at most {MAX_CELLS:,}: each "
                                               "day's tables and counts grow with them"))

    tiers = list(s.score.tiers.items())
    tier_names = [t for t, _ in tiers]
    for (a, va), (b, vb) in zip(tiers, tiers[1:]):
        if vb >= va:
            p.append((f"score.tiers.{b}", vb, f"tiers must be listed from highest to lowest minimum; "
                                              f"{b} must be below {a} ({va})"))
    lo, hi = s.score.bounds
    if lo >= hi:
        p.append(("score.bounds", [lo, hi], "lower bound must be below upper bound"))
    if not lo <= s.score.base <= hi:
        p.append(("score.base", s.score.base, f"must lie within score.bounds [{lo}, {hi}]"))
    for name, minimum in tiers:
        if minimum > hi:
            p.append((f"score.tiers.{name}", minimum, f"no score can reach this tier: its minimum is above the "
                                                      f"upper bound {hi} of score.bounds"))
    if tiers and tiers[-1][1] > lo:
        p.append((f"score.tiers.{tiers[-1][0]}", tiers[-1][1],
                  f"the lowest tier must start at or below the lower bound {lo} so every score has a tier"))

    def tier_ref(path, name):
        if name is not None and name not in s.score.tiers:
            p.append((path, name, f"unknown tier; allowed: {', '.join(tier_names)}"))

    channel_names = list(s.channels)
    for name, ch in s.channels.items():
        if isinstance(ch.coverage, list):
            days = [pt[0] for pt in ch.coverage]
            if not ch.coverage:
                p.append((f"channels.{name}.coverage", [], "needs at least one [day, value] point"))
            for i, (d, v) in enumerate(ch.coverage):
                if not math.isfinite(d) or d != int(d) or not 0 <= d <= MAX_DAYS:
                    p.append((f"channels.{name}.coverage.{i}", d, f"day must be an integer in [0, {MAX_DAYS}]"))
                if not (0.0 <= v <= 1.0) or math.isnan(v):
                    p.append((f"channels.{name}.coverage.{i}", v, "coverage must be in [0, 1]"))
            if days != sorted(days) or len(set(days)) != len(days):
                p.append((f"channels.{name}.coverage", days, "days must be strictly increasing"))

    for name, b in s.behaviours.items():
        path = f"behaviours.{name}"
        missing = set(pop.classes) - set(b.rate)
        extra = set(b.rate) - set(pop.classes)
        for c in sorted(extra):
            p.append((f"{path}.rate.{c}", c, f"unknown class; allowed: {', '.join(pop.classes)}"))
        for c in sorted(missing):
            p.append((f"{path}.rate", c, f"missing a rate for class {c!r}; every class needs one"))
        for i, ch in enumerate(b.channels):
            if ch not in s.channels:
                p.append((f"{path}.channels.{i}", ch, f"unknown channel; allowed: {', '.join(channel_names)}"))
        if b.account != "score" and b.account not in s.accounts:
            p.append((f"{path}.account", b.account, f"unknown account; allowed: score, {', '.join(s.accounts)}"))
        tier_ref(f"{path}.deterrence.below_tier", b.deterrence.below_tier)
        if b.repeat_points and s.score.strike_window_days is None and b.account == "score":
            p.append((f"{path}.repeat_points", b.repeat_points,
                      "escalation on the main score needs score.strike_window_days"))
        if b.creates_debt and s.debt is None:
            p.append((f"{path}.creates_debt", True, "needs a [debt] table with the repayment hazard"))
        net = b.network.model_dump()
        if any(net.values()) and b.account != "score":
            p.append((f"{path}.network", net, "network penalties apply to the main score only"))
        needs = {"household": (pop.households is not None, "population.households"),
                 "partner": (pop.households is not None, "population.households"),
                 "parents": (pop.households is not None, "population.households"),
                 "children": (pop.households is not None, "population.households"),
                 "friends": (pop.friends.degree > 0, "population.friends.degree > 0"),
                 "best_friend": (pop.friends.best, "population.friends.best = true"),
                 "colleagues": (pop.colleagues.degree > 0, "population.colleagues.degree > 0")}
        for kind, (present, what) in needs.items():
            if net[kind] and not present:
                p.append((f"{path}.network.{kind}", net[kind], f"needs {what}"))
    if len({c for b in s.behaviours.values() for c in b.channels}) > 8:
        p.append(("behaviours", None, "at most 8 distinct channels may be used by behaviours"))

    rec = s.score.recovery
    if rec.points_per_day and not lo <= rec.up_to <= hi:
        p.append(("score.recovery.up_to", rec.up_to, f"must lie within score.bounds [{lo}, {hi}]"))

    child_on: set[tuple[str, ...]] = set()
    for name, L in s.lists.items():
        path = f"lists.{name}"
        given = {k: v for k, v in L.enter.model_dump().items() if v is not None}
        if len(given) != 1:
            p.append((f"{path}.enter", given, "exactly one of tier_at_most, tier_at_least, account_zero, debt"))
        tier_ref(f"{path}.enter.tier_at_most", L.enter.tier_at_most)
        tier_ref(f"{path}.enter.tier_at_least", L.enter.tier_at_least)
        if L.enter.account_zero is not None and L.enter.account_zero not in s.accounts:
            p.append((f"{path}.enter.account_zero", L.enter.account_zero,
                      f"unknown account; allowed: {', '.join(s.accounts) or '(none defined)'}"))
        if L.enter.debt is False:
            p.append((f"{path}.enter.debt", False, "only debt = true is meaningful"))
        if L.enter.debt and s.debt is None:
            p.append((f"{path}.enter.debt", True, "needs a [debt] table"))
        if isinstance(L.exit, Exit):
            ex = {k: v for k, v in L.exit.model_dump().items() if v is not None}
            if len(ex) != 1:
                p.append((f"{path}.exit", ex,
                          'exactly one of tier_at_least, tier_at_most, account_restored, repaid; or "never"'))
            tier_ref(f"{path}.exit.tier_at_least", L.exit.tier_at_least)
            tier_ref(f"{path}.exit.tier_at_most", L.exit.tier_at_most)
            if L.exit.account_restored is not None and L.exit.account_restored not in s.accounts:
                p.append((f"{path}.exit.account_restored", L.exit.account_restored, "unknown account"))
            if L.exit.repaid is False:
                p.append((f"{path}.exit.repaid", False, "only repaid = true is meaningful"))
        if L.max_days is not None and L.max_days < L.min_days:
            p.append((f"{path}.max_days", L.max_days, f"must be at least min_days ({L.min_days})"))

    allowed_on = ([f"lists.{n}" for n in s.lists] + [f"tiers.{t}" for t in s.score.tiers]
                  + [f"accounts.{a}.zero" for a in s.accounts])
    for name, c in s.consequences.items():
        for i, ref in enumerate(c.on):
            if ref not in allowed_on:
                p.append((f"consequences.{name}.on.{i}", ref, f"unknown reference; allowed: {', '.join(allowed_on)}"))
        if link_reach(c.applies_to) == 1:
            p.append((f"consequences.{name}.applies_to", c.applies_to,
                      "persons have no links; links are defined on entity types ([entities.NAME.links]); a "
                      "person's listing falls on the entities linked to it as links.ENTITY.LINK"))
        elif link_reach(c.applies_to) == 2:
            p += _through_link_problems(s, name, c)
        if c.applies_to == "household.children":
            if pop.households is None:
                p.append((f"consequences.{name}.applies_to", c.applies_to, "needs population.households"))
            if not all(r.startswith("lists.") for r in c.on):
                p.append((f"consequences.{name}.on", c.on, "consequences passed to children must be list-based"))
            child_on.add(tuple(sorted(c.on)))
    if len(child_on) > 1:
        p.append(("consequences", sorted(child_on),
                  "all consequences passed to household children must share the same 'on' lists"))

    if s.economy is not None:
        _shares(p, "economy.income", {k: b.share for k, b in s.economy.income.items()})
    if s.debt is not None and s.debt.amounts:
        _shares(p, "debt.amounts", {k: b.share for k, b in s.debt.amounts.items()})
    for name, c in s.consequences.items():
        if c.costs_work > 0 and s.economy is None:
            p.append((f"consequences.{name}.costs_work", c.costs_work,
                      "needs [economy]: who is in work, and at what income"))
        if c.costs_work > 0 and (c.kind == "reward" or c.applies_to != "self"):
            p.append((f"consequences.{name}.costs_work", c.costs_work,
                      "only a sanction on the person itself (kind = \"sanction\", applies_to = \"self\") costs work"))

    if s.ostracism is not None:
        shun_on = [f"lists.{n}" for n in s.lists] + [f"tiers.{t}" for t in s.score.tiers]
        for i, ref in enumerate(s.ostracism.on):
            if ref not in shun_on:
                p.append((f"ostracism.on.{i}", ref, f"unknown reference; allowed: {', '.join(shun_on)}"))
        if pop.friends.degree + pop.colleagues.degree == 0:
            p.append(("ostracism", "ostracism", "needs friends or colleagues (population.friends.degree or "
                                                "population.colleagues.degree above 0): household ties are "
                                                "never dropped"))

    p += _shaming_problems(s)

    if s.awareness is not None and not any(b.points < 0 and b.deterrence.surveillance > 0
                                           for b in s.behaviours.values()):
        p.append(("awareness", "awareness", "changes nothing: only the chilling by surveillance depends on "
                                            "awareness, and no behaviour has deterrence.surveillance above 0"))

    days = [t.day for t in s.timeline]
    if days != sorted(days):
        p.append(("timeline", days, "entries must be in order of day"))
    for i, t in enumerate(s.timeline):  # a change after the run's end is allowed: it never happens
        for key in t.set:
            if key.startswith(("population.", "meta.", "run.", "timeline", "provenance", "entities")):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "the timeline may change behaviours, channels, score, accounts, lists, "
                          "consequences, debt and redress, not population, meta, run or provenance "
                          "(an entity type has its own timeline: entities.NAME.timeline)"))
            if key in ("awareness", "awareness.start"):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "who is aware at the start is drawn on day 0; the timeline may change "
                          "awareness.penalised, awareness.told and awareness.seen"))
            if _fixed_economy(key, t.set[key]):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "who is in work, their income, the work a sanction bars and a debt's amount stay the "
                          "same through a run; the timeline may change fines"))
            if _fixed_consequence(key, t.set[key]):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "what a consequence is, what it follows, whom it falls on and its agency stay the same "
                          "through a run; the timeline may change its attempts_per_day"))
            if _sets(key, t.set[key], ("lists", "*", "shaming")):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "what publishing a list does (lists.NAME.shaming) stays the same through a run"))
            if key in ("ostracism", "ostracism.on"):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "who is shunned stays the same through a run; the timeline may change ostracism.rate"))
        for j, region in enumerate(t.regions):
            if region not in pop.regions:
                p.append((f"timeline.{i}.regions.{j}", region, f"unknown region; allowed: {', '.join(pop.regions)}"))
        if len(set(t.regions)) != len(t.regions):
            p.append((f"timeline.{i}.regions", t.regions, "each region at most once"))
        if t.regions:
            for key in t.set:
                if not is_regional_path(key):
                    p.append((f"timeline.{i}.set.{key}", t.set[key],
                              "a change for some regions only may set what differs by region; allowed: "
                              + ", ".join(REGIONAL_PATHS) + " (* is a name)"))

    for name in s.entities:
        p += _entity_problems(s, name)

    for key, text in s.provenance.items():
        if not (text.startswith(("documented:", "calibrated:", "assumed:")) or text == "assumed"):
            p.append((f"provenance.{key}", text, "must be 'documented: <source>', 'calibrated: <targets>' or "
                                                 "'assumed' (optionally 'assumed: <note>')"))
    return p


def _entity_problems(s: Scenario, name: str) -> list[tuple[str, object, str]]:
    """An entity type's problems: those of the scenario it runs as, and its links."""
    from .entities import PERSONS, entity_scenario

    e = s.entities[name]
    where = f"entities.{name}"
    p = [(f"{where}.{path}", value, msg) for path, value, msg in cross_check(entity_scenario(s, name))
         if not path.startswith("consequences.") or "persons have no links" not in msg]
    if name == PERSONS:
        p.append((where, name, f"{PERSONS!r} names the persons; choose another name for an entity type"))
    if e.population.households is not None:
        p.append((f"{where}.population.households", "households", "entity types have no households"))
    for cname, c in e.consequences.items():
        if link_reach(c.applies_to) == 1:  # (links.ENTITY.LINK: reported above, persons' only)
            link = c.applies_to.split(".", 1)[1]
            if link not in e.links:
                p.append((f"{where}.consequences.{cname}.applies_to", c.applies_to,
                          f"unknown link; allowed: {', '.join(f'links.{k}' for k in e.links) or '(no links defined)'}"))
        elif c.applies_to == "household.children":
            pass  # reported above: entity types have no households
    return p


def scenario_warnings(s: Scenario) -> list[str]:
    """What a scenario allows but probably does not mean, as sentences: timeline changes on or after the
    run's last day, which never happen (a longer ``--days`` shows them)."""
    out = []
    sources = [("", s.timeline)] + [(f"entities.{name}.", e.timeline) for name, e in s.entities.items()]
    for prefix, timeline in sources:
        for i, t in enumerate(timeline):
            if t.day >= s.run.days:
                out.append(f"{prefix}timeline.{i} (day {t.day}) never happens: the run covers days 0 to "
                           f"{s.run.days - 1}; run at least {t.day + 1} days (--days) to include it")
    return out
