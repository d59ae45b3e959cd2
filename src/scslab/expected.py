"""Closed forms beside the rules they summarise: what a scheme's population would do without the scheme.

:func:`undeterred_acts` is the baseline the chilling-effect figures divide by: the acts a day of each
behaviour when nobody is deterred. :func:`chilled_acts` is the act rule with the chilling effect alone, as
people perceive the watching or as it is: the difference is the chilling their perception explains. It follows the act rule of ``engine.kernels`` (and ``compile``'s
probability tables) with every deterrence factor at 1: each adult does behaviour ``b`` with its class's
rate; children never act; a behaviour charged to a domain account is done by the account's holders only.
``tests/test_expected.py`` checks it against runs with deterrence switched off.
"""

from __future__ import annotations

import functools

import numpy as np

from .compile import Plan

__all__ = ["adults", "undeterred_acts", "undeterred_baseline", "chilled_acts", "chilling_explained"]


def adults(plan: Plan, lo: int = 0, hi: int | None = None) -> int:
    """The number of adults among the plan's agents ``lo`` to ``hi`` (default: all; the household pattern
    repeats every len(hh_adult) ids; without households everybody is an adult)."""
    pattern = np.asarray(plan.hh_adult, np.int64)

    def below(n: int) -> int:
        full, rest = divmod(n, len(pattern))
        return int(full * pattern.sum() + pattern[:rest].sum())

    return below(plan.size if hi is None else hi) - below(lo)


def undeterred_acts(plan: Plan) -> dict[str, float]:
    """Expected acts per day of each behaviour with no deterrence, under the rules of day 0: the adults of
    each region x the class-weighted rate in force there (x the holders' share for a behaviour charged to a
    domain account)."""
    s = plan.scenario
    holders = float(plan.holder_t) / 2**32 if s.accounts else 1.0
    starts = plan.region_starts
    people: dict[int, list] = {}  # the adults under each set of rules (regions that share rules together)
    for r, rules in enumerate(plan.epoch_at(0).regional):
        people.setdefault(id(rules), [rules, 0])[1] += adults(plan, int(starts[r]), int(starts[r + 1]))
    out = dict.fromkeys(plan.behaviour_names, 0.0)
    for rules, n_adults in people.values():
        for name in plan.behaviour_names:
            b = rules.behaviours[name]
            rate = sum(s.population.classes[c] * b.rate[c] for c in plan.class_names)
            out[name] += n_adults * rate * (holders if b.account != "score" else 1.0)
    return out


def undeterred_baseline(scenario) -> dict[str, float]:
    """:func:`undeterred_acts` of a resolved scenario (a Scenario, or its dict as a manifest holds it): the
    baseline of the chilling-effect figures of the report and the dashboard."""
    import json

    from .scenarios.schema import Scenario

    text = scenario.model_dump_json() if isinstance(scenario, Scenario) else json.dumps(scenario)  # order matters
    return dict(_baseline(text))


@functools.lru_cache(maxsize=16)
def _baseline(text: str) -> tuple:
    import json

    from .compile import compile_plan
    from .scenarios.load import load_scenario

    return tuple(undeterred_acts(compile_plan(load_scenario(json.loads(text)))).items())


def chilled_acts(plan: Plan, day: int, perceived: bool = True, aware: float | None = None) -> dict[str, float]:
    """Expected acts of each behaviour on ``day`` with the chilling effect as the only deterrence (no tier or
    sanction factors): in each region, class and group, its adults x the rate in force there x (1 -
    surveillance x the coverage people perceive there (the highest over the behaviour's channels) x the
    group's ``perceives``). With ``perceived=False``, the actual coverage instead: what the chilling would
    hold back if people saw the watching as it is. Only the share ``aware`` of adults aware of the scheme is
    chilled (by default everyone, or with [awareness] its ``start``: the share while awareness does not
    spread). Classes and groups are drawn apart from the id, so a region's adults split by their shares."""
    s = plan.scenario
    holders = float(plan.holder_t) / 2**32 if s.accounts else 1.0
    starts = plan.region_starts
    K = len(plan.channel_names)
    watch = plan.local_coverage(day)[1 if perceived else 0]  # [region, channel]
    class_share = np.array([s.population.classes[c] for c in plan.class_names])
    groups = [s.population.groups[g] for g in plan.group_names]
    if aware is None:
        aware = s.awareness.start if s.awareness is not None else 1.0
    out = dict.fromkeys(plan.behaviour_names, 0.0)
    for r, rules in enumerate(plan.epoch_at(day).regional):
        n_adults = adults(plan, int(starts[r]), int(starts[r + 1]))
        for name in plan.behaviour_names:
            b = rules.behaviours[name]
            rate = float((class_share * np.array([b.rate[c] for c in plan.class_names])).sum())
            seen = max((watch[r, plan.channel_names.index(c)] for c in b.channels), default=0.0) if K else 0.0
            chill = sum(g.share * (1.0 - b.deterrence.surveillance * seen * g.perceives * aware) for g in groups) \
                if b.points < 0 else 1.0
            out[name] += n_adults * rate * chill * (holders if b.account != "score" else 1.0)
    return out


def chilling_explained(scenario, aware=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days, held back as perceived, held back if seen as it is): the acts a day that the chilling effect
    holds back (``undeterred_acts`` - ``chilled_acts``, summed over behaviours) on up to about 400 days of a
    resolved scenario's run (a Scenario, or its dict as a manifest holds it), as people perceive the watching
    and as they would if they saw it as it is. With [awareness], ``aware`` gives the run's people aware of the
    scheme on each day (its ``aware`` metric), of whom alone the chilling holds acts back."""
    import json

    from .scenarios.schema import Scenario

    text = scenario.model_dump_json() if isinstance(scenario, Scenario) else json.dumps(scenario)
    return _explained(text, None if aware is None else tuple(int(v) for v in aware))


@functools.lru_cache(maxsize=4)
def _explained(text: str, aware: tuple | None = None):
    import json

    from .compile import compile_plan
    from .scenarios.load import load_scenario

    plan = compile_plan(load_scenario(json.loads(text)))
    base = sum(undeterred_acts(plan).values())
    days = np.arange(0, plan.days, max(1, -(-plan.days // 400)))
    share = (np.array(aware, np.float64) / max(adults(plan), 1)) if aware is not None else None
    held = np.array([[base - sum(chilled_acts(plan, int(d), perceived=p,
                                              aware=None if share is None else float(share[d])).values())
                      for p in (True, False)] for d in days])
    return days, held[:, 0], held[:, 1]
