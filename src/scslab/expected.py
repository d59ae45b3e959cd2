"""Closed forms beside the rules they summarise: what a scheme's population would do without the scheme.

:func:`undeterred_acts` is the baseline the chilling-effect figures divide by: the acts a day of each
behaviour when nobody is deterred. It follows the act rule of ``engine.kernels`` (and ``compile``'s
probability tables) with every deterrence factor at 1: each adult does behaviour ``b`` with its class's
rate; children never act; a behaviour charged to a domain account is done by the account's holders only.
``tests/test_expected.py`` checks it against runs with deterrence switched off.
"""

from __future__ import annotations

import functools

import numpy as np

from .compile import Plan

__all__ = ["adults", "undeterred_acts", "undeterred_baseline"]


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
