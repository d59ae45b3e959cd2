"""A person's listing that falls on the entities linked to it (``applies_to = "links.ENTITY.LINK"``,
``scslab.through_links``): the firms under it each day equal a recount from every person's own story rows and
the links (drawn apart, per firm), their attempts follow the rate, joint punishment counts them, and the
schedulers that cannot run it refuse it by name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import scslab
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.errors import OptionError, ScenarioError
from scslab.scenarios import load_scenario
from scslab.scenarios.entities import linked_persons

PRESET = "court-defaulters-national"
# the firms of which a listed person is a manager (two per firm) are barred from government procurement
BAN = {"consequences.firm_procurement_ban": {"on": ["lists.court_list"], "applies_to": "links.firms.managers",
                                            "attempts_per_day": 0.2, "agency": "finance"},
       "behaviours.court_default.rate": {"able": 0.002, "strained": 0.004, "refusing": 0.01},
       "run.story_agents": 10_000}


def scheme(more=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_scenario(PRESET, {**BAN, **(more or {})})


@pytest.fixture(scope="module")
def run():
    return scslab.simulate(scheme(), population=10_000, days=200, seed=3)


def _all(result, metric):
    m = result.metrics
    return m[(m["metric"] == metric) & (m["group"] == "all")].set_index("day")["value"].reindex(range(200),
                                                                                                fill_value=0)


def test_firms_under_it_are_those_with_a_listed_manager_each_day(run):
    """Every person is a story agent here: from their ``list_enter`` and ``list_exit`` rows, each person's days on
    the court list; a firm is under the ban on a day when one of its two managers (``linked_persons``, drawn
    apart) is listed at the end of it. The engine's count equals that, day by day."""
    s = scheme()
    plan = compile_plan(s, size=10_000, days=200, seed=3)
    st = run.stories
    st = st[st["population"] == "persons"] if "population" in st else st
    listed = np.zeros((plan.size, 200), bool)
    for agent, rows in st[st["event"].isin(["list_enter", "list_exit"])].groupby("agent"):
        since = None
        for day, event in zip(rows["day"], rows["event"]):
            if event == "list_enter":
                since = day
            else:
                listed[agent, since:day] = True
                since = None
        if since is not None:
            listed[agent, since:] = True
    sub = plan.entities["firms"]
    adult = (lambda ids: plan.hh_adult[ids % len(plan.hh_adult)] == 1) if s.population.households else None
    managers = linked_persons(plan.scenario, "firms", "managers", np.arange(sub.size), region_starts=plan.region_starts,
                              entity_region_starts=sub.region_starts, adult=adult)
    want = listed[managers].any(axis=1).sum(axis=0)
    got = _all(run, "firms.through_link:firm_procurement_ban").to_numpy()
    assert want.max() > 20
    assert np.array_equal(got, want)
    # persons' own sanction count: every listed person is under it, and has no attempt rows of its own
    assert np.array_equal(_all(run, "sanctioned:firm_procurement_ban").to_numpy(), listed.sum(axis=0))
    assert "blocked:firm_procurement_ban" not in set(run.metrics["metric"])


def test_their_attempts_follow_the_rate_and_joint_punishment_counts_them(run):
    under = _all(run, "firms.through_link:firm_procurement_ban")
    tries = _all(run, "firms.through_link_blocked:firm_procurement_ban")
    n = under.sum()
    assert abs(tries.sum() - 0.2 * n) < 4 * np.sqrt(n * 0.2 * 0.8), (tries.sum(), n)
    firms_own = sum(_all(run, f"firms.sanctioned:{c}") for c, q in scheme().entities["firms"].consequences.items()
                    if q.agency == "finance" and not q.applies_to.startswith("links."))
    assert np.array_equal(_all(run, "agency:finance"), under + firms_own)
    summary = run.summary()
    assert summary["firms.through_link:firm_procurement_ban"] == under.iloc[-1]
    assert summary["firms.through_link_blocked:firm_procurement_ban (total)"] == tries.sum()


def test_the_same_firms_on_both_day_schedulers_in_law():
    """Dense and lazy draw differently but follow one model: the mean firms under the ban agree."""
    means = {e: _all(scslab.simulate(scheme(), population=10_000, days=200, seed=s, engine=e),
                     "firms.through_link:firm_procurement_ban").mean() for e in ("dense", "lazy") for s in (1,)}
    assert means["dense"] > 10 and abs(means["dense"] - means["lazy"]) < 0.35 * means["dense"], means


def test_the_windowed_scheduler_refuses_it_by_name():
    plan = compile_plan(scheme(), size=1_000, days=30)
    assert "linked-entities" in uses(plan) and "linked-stories" not in uses(plan)
    with pytest.raises(OptionError, match="linked-entities"):
        choose_route(plan, "windowed")


@pytest.mark.parametrize("over,match", [
    ({"consequences.firm_procurement_ban.applies_to": "links.firms.nobody"}, "unknown entity type or link"),
    ({"consequences.firm_procurement_ban.applies_to": "links.shops.managers"}, "unknown entity type or link"),
    ({"consequences.firm_procurement_ban.on": ["tiers.bad"]}, "follows lists only"),
    ({"consequences.firm_procurement_ban.applies_to": "links.managers"}, "persons have no links"),
    ({"entities.firms.consequences.rep_flight_ban.applies_to": "links.firms.managers"}, "unknown entity type"),
])
def test_what_cannot_pass_is_refused(over, match):
    with pytest.raises(ScenarioError, match=match):
        scheme(over)


def test_the_odd_says_which_firms_a_listing_reaches():
    from scslab.odd import odd_markdown

    assert "falls on the firms linked to it: `firm_procurement_ban`" in odd_markdown(scheme())
