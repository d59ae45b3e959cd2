"""Joint punishment counted per person: ``under_agencies:K``, the people under the measures of exactly K agencies
at the end of each day (``engine.rules.agency_count`` of the agencies of the consequences that apply to each).

Checked against a recount from every person's own story rows (tier and lists, day by day) on both day
schedulers, against the identities of the presets (everyone on the court list is under four agencies'
measures, a child of a listed adult under one), on the windowed scheduler from its aggregates, and the
schedulers that cannot count it are refused by name."""

from __future__ import annotations

import numpy as np
import pytest

import scslab
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.errors import OptionError, ScenarioError
from scslab.scenarios import load_scenario

DAYS, N = 150, 3_000
# bench-v1's flight ban delivered by aviation, beside measures on tiers: a bank's on tiers C and D, aviation's
# own on D (one agency twice: counted once), civil affairs' on C and D, and a tourism perk on B (a reward
# is a measure too)
MIXED = {"consequences.flight_ban.agency": "aviation",
         "consequences.loan_denial": {"on": ["tiers.C", "tiers.D"], "agency": "banks"},
         "consequences.surcharge": {"on": ["tiers.D"], "agency": "aviation"},
         "consequences.counselling": {"on": ["tiers.C", "tiers.D"], "agency": "civil_affairs"},
         "consequences.perk": {"kind": "reward", "on": ["tiers.B"], "agency": "tourism"},
         "behaviours.criticize_government.points": -250, "run.story_agents": N}


def _all(result, metric, days=DAYS):
    m = result.metrics
    return (m[(m["metric"] == metric) & (m["group"] == "all")].set_index("day")["value"]
            .reindex(range(days), fill_value=0).to_numpy())


def _recount(result, s) -> np.ndarray:
    """[day, K] from every person's story rows: its tier after each ``tier_change`` (from the score after it) and
    its days on the blacklist, then the agencies of the measures that fall on it, as the scenario says."""
    thresholds = sorted(s.score.tiers.items(), key=lambda kv: -kv[1])
    tier_of = lambda score: next(t for t, low in thresholds if score >= low)  # noqa: E731
    st = result.stories
    tier = np.full((N, DAYS), tier_of(s.score.base), object)
    listed = np.zeros((N, DAYS), bool)
    for agent, rows in st[st["event"].isin(["tier_change", "list_enter", "list_exit"])].groupby("agent"):
        for day, event, score in zip(rows["day"], rows["event"], rows["score_after"]):
            if event == "tier_change":
                tier[agent, day:] = tier_of(score)
            else:
                listed[agent, day:] = event == "list_enter"
    out = np.zeros((DAYS, 5), np.int64)
    for i in range(N):
        for d in range(DAYS):
            agencies = set()
            for c in s.consequences.values():
                if any(ref == f"tiers.{tier[i, d]}" or (ref == "lists.blacklist" and listed[i, d]) for ref in c.on):
                    agencies.add(c.agency)
            out[d, len(agencies)] += 1
    return out[:, 1:]


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_each_persons_agencies_equal_a_recount_from_its_own_story(engine):
    s = load_scenario("bench-v1", MIXED)
    result = scslab.simulate(s, population=N, days=DAYS, seed=4, engine=engine)
    want = _recount(result, s)
    got = np.stack([_all(result, f"under_agencies:{k}") for k in (1, 2, 3, 4)], axis=1)
    assert want[:, 0].max() > 5 and want[:, 1].max() > 50 and want[:, 2].max() > 5  # each count is exercised
    # two measures of aviation count once: the listed in tier D are under three agencies' measures, not four
    assert not want[:, 3].any()
    assert np.array_equal(got, want)


def test_the_court_list_puts_its_adults_under_four_agencies_and_their_children_under_one():
    result = scslab.simulate("court-defaulters-national", population=20_000, days=200, seed=3)
    listed, children = _all(result, "listed:court_list", 200), _all(result, "sanctioned:private_school_denied", 200)
    assert listed.max() > 10 and children.max() >= 3
    assert np.array_equal(_all(result, "under_agencies:4", 200), listed)
    assert np.array_equal(_all(result, "under_agencies:1", 200), children)
    for k in (2, 3, 5):  # five agencies, but no one is under all five (a child is never listed)
        assert not _all(result, f"under_agencies:{k}", 200).any()


@pytest.fixture(scope="module")
def beijing():
    return scslab.simulate("beijing-2020", population=300_000, days=200, seed=3)


def test_the_windowed_scheduler_counts_it_from_its_list_and_firms_count_their_own(beijing):
    """beijing-2020's persons (windowed): everyone on the blacklist is under four agencies' measures; its firms
    under the five agencies whose measures fall on the firm itself (the two on its representative fall on a
    person, ``firms.linked:C``, and are in neither population's count)."""
    result = beijing
    assert result.manifest["route"] == "windowed"
    listed = _all(result, "listed:blacklist", 200)
    assert listed.max() > 5
    assert np.array_equal(_all(result, "under_agencies:4", 200), listed)
    firms = _all(result, "firms.listed:blacklist", 200)
    assert firms.max() > 5
    assert np.array_equal(_all(result, "firms.under_agencies:5", 200), firms)
    assert "firms.under_agencies:6" not in set(result.metrics["metric"])


def test_the_joint_punishment_figure_shows_how_many_agencies_each_one_is_under(beijing):
    from scslab.report.entity_figures import joint

    fig = joint(beijing.metrics, {"scenario": beijing.manifest["scenario"]})
    panel = fig.axes[-1]
    assert panel.get_title() == "Under the measures of how many agencies"
    lines = {line.get_label(): line.get_ydata() for line in panel.get_lines()}
    assert list(lines) == ["persons under 4 agencies", "firms under 5 agencies"]  # the counts that occur, persons first
    assert np.array_equal(lines["persons under 4 agencies"], _all(beijing, "listed:blacklist", 200))


def test_the_windowed_scheduler_refuses_agencies_from_several_sources_by_name():
    s = load_scenario("bench-v1", MIXED)
    assert "mixed-joint-punishment" in uses(compile_plan(s, size=1_000, days=30, seed=1))
    with pytest.raises(OptionError, match="mixed-joint-punishment"):
        scslab.simulate(s, population=1_000, days=30, seed=1, engine="windowed")
    one = load_scenario("bench-v1", {"consequences.flight_ban.agency": "aviation"})
    assert "mixed-joint-punishment" not in uses(compile_plan(one, size=1_000, days=30, seed=1))


def test_without_agencies_there_is_no_count():
    result = scslab.simulate("bench-v1", population=1_000, days=20, seed=1)
    assert not any(m.startswith("under_agencies:") for m in set(result.metrics["metric"]))


@pytest.mark.parametrize("change", [{"consequences.flight_ban.agency": "x"},
                                    {"consequences.flight_ban.on": ["tiers.C"]},
                                    {"consequences.flight_ban": {"on": ["lists.blacklist"], "kind": "reward"}},
                                    {"consequences.flight_ban.applies_to": "household.children"}])
def test_a_timeline_may_not_change_what_a_consequence_follows_or_who_delivers_it(change):
    """The engines count the people under a consequence, and under so many agencies, as changes of each
    person's own state: a rule that changed mid-run would leave everyone whose state did not change counted
    under the old one (the count of a flight ban moved onto tier C stayed at the listed)."""
    with pytest.raises(ScenarioError, match=r"timeline\.0\.set\.consequences\.flight_ban.*stay the same through a run"):
        load_scenario("bench-v1", {"timeline": [{"day": 100, "set": change}]})
    # what it may change
    load_scenario("bench-v1", {"timeline": [{"day": 100, "set": {"consequences.flight_ban.attempts_per_day": 0.1}}]})

