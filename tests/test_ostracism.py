"""Ostracism ([ostracism]): friends and colleagues drop their ties to shunned people (the listed, or those in a
low tier) at a daily rate; a dropped tie stays dropped and carries no penalty.

Held to the reference (both day schedulers), to exact bookkeeping (every tie end lost is counted), to the
partner function (each story row's tie is a tie of the person), to the closed form beside the rule, and
refused by name by the windowed scheduler."""

from __future__ import annotations

import re

import numpy as np
import pytest
from agreement import Z_MAX, compare
from crashed import resumed_as_whole

import scslab
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.engine.reference import _population
from scslab.engine.routes import choose_route, refusal
from scslab.errors import OptionError, ScenarioError
from scslab.metrics import network_source
from scslab.scenarios import load_scenario

# bench-v1 where criticism costs 200 points (tier C at once, a year on the blacklist after a second act) and
# each friend of the critic 60; the listed and those in tier C are shunned, each of their ties dropped with a
# chance of 5 % a day
SHUN = {"ostracism": {"on": ["lists.blacklist", "tiers.C"], "rate": 0.05},
        "behaviours.criticize_government.points": -200,
        "behaviours.criticize_government.network.friends": -60}


def scheme(rate=0.05, more=None):
    return load_scenario("bench-v1", {**SHUN, "ostracism": {**SHUN["ostracism"], "rate": rate}, **(more or {})})


def _last(metrics, day):
    m = metrics[(metrics["day"] == day) & (metrics["group"] == "all")]
    return dict(zip(m["metric"], m["value"].astype(int)))


@pytest.fixture(scope="module")
def runs():
    """A year at 20,000 people, with ostracism and with its rate at 0 (the same people shunned)."""
    return {rate: scslab.simulate(scheme(rate), population=20_000, days=365, seed=3, engine="dense")
            for rate in (0.05, 0.0)}


def test_the_network_thins_around_shunned_people(runs):
    """The bar: shunned people keep fewer ties than others (here under a fifth as many), and without the
    rate, as many (the matchings do not choose whom they pair). Some people lose ties with no act of their
    own: friends of the shunned, and people shunned through their ties."""
    per = {}
    for rate, r in runs.items():
        end = _last(r.metrics, 364)
        people = sum(v for k, v in end.items() if k.startswith("tier:"))
        assert end["shunned"] > 300
        per[rate] = (end["ties:shunned"] / end["shunned"], end["ties:others"] / (people - end["shunned"]))
    shunned, others = per[0.05]
    assert shunned < others / 5, per
    assert abs(per[0.0][0] - per[0.0][1]) < 0.1 and per[0.0][1] > 3.9, per
    end = _last(runs[0.05].metrics, 364)
    assert 0 < end["lost_ties_no_act"] < end["lost_ties"]
    assert _last(runs[0.0].metrics, 364)["lost_ties"] == 0


def test_every_tie_lost_is_counted(runs):
    """Each day, the ties everyone still has add up to the ties at the start less two ends per tie dropped
    so far, and the dropped ones cut the network penalties that travel (a critic's friends drop it)."""
    m = runs[0.05].metrics
    m = m[m["group"] == "all"]
    by = {k: g.sort_values("day")["value"].to_numpy() for k, g in m.groupby("metric")}
    had = by["ties:shunned"][0] + by["ties:others"][0] + 2 * by["ties_dropped"][0]
    assert had == 4 * 20_000  # four friend matchings, everyone paired
    assert np.array_equal(by["ties:shunned"] + by["ties:others"], had - 2 * np.cumsum(by["ties_dropped"]))
    net = {rate: int(r.metrics.query("metric == 'network_penalties' and group == 'all'")["value"].sum())
           for rate, r in runs.items()}
    assert net[0.05] < 0.9 * net[0.0], net  # (here 0.81: critics shunned after their first act)


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_ostracism_agrees_with_the_reference(engine):
    """Both day schedulers against the reference (which keeps its own set of broken ties and draws each break
    apart): every metric within the agreement bound, ostracism's among them."""
    names, z, eng, ref = compare("bench-v1", overrides=SHUN, engine=engine)
    assert float(z.max()) < Z_MAX, [(n, round(float(v), 1)) for n, v in zip(names, z) if v >= Z_MAX]
    assert eng[names.index("ties_dropped")] > 100 and eng[names.index("lost_ties_no_act")] > 30


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_each_story_names_a_tie_that_then_carries_nothing(engine):
    """Every ``shunned`` and ``tie_dropped`` story row names a friend the reference's population (derived apart)
    finds; after the day the tie broke, no network penalty passes along it in either direction."""
    s = scheme(more={"run.story_agents": 3_000})
    r = scslab.simulate(s, population=3_000, days=200, seed=2, engine=engine)
    st = r.stories
    people = _population(compile_plan(s, size=3_000, days=200, seed=2))
    broken = {}
    for event in ("shunned", "tie_dropped"):
        rows = st[st["event"] == event]
        assert len(rows) > 20
        for agent, day, reason in zip(rows["agent"], rows["day"], rows["reason"]):
            tie = int(re.search(r"\d+", reason).group())
            assert any(m == tie and k >= 0 for m, _, k in people[agent].ties), (agent, tie, reason)
            broken[min(agent, tie), max(agent, tie)] = min(day, broken.get((min(agent, tie), max(agent, tie)), day))
    net = st[st["event"] == "network_penalty"]
    checked = 0
    for agent, day, reason in zip(net["agent"], net["day"], net["reason"]):
        tie = int(re.search(r"\d+", reason).group())
        pair = (min(agent, tie), max(agent, tie))
        if pair in broken:
            checked += 1
            assert day <= broken[pair], (agent, tie, day, broken[pair])
    assert checked > 0


def test_the_windowed_scheduler_refuses_ostracism_by_name():
    plan = compile_plan(scheme(), size=1_000, days=30)
    assert "ostracism" in uses(plan) and "ostracism" in refusal(plan, "windowed")
    assert choose_route(plan) == "lazy"
    with pytest.raises(OptionError, match="ostracism"):
        choose_route(plan, "windowed")
    assert "ostracism" not in uses(compile_plan(load_scenario("press-2018"), size=1_000, days=30))


def test_ostracism_is_checked():
    with pytest.raises(ScenarioError, match="ostracism.on.0.*unknown reference"):
        scheme(more={"ostracism": {"on": ["lists.nope"], "rate": 0.1}})
    with pytest.raises(ScenarioError, match="needs friends or colleagues"):
        scheme(more={"population.friends.degree": 0})
    with pytest.raises(ScenarioError, match="who is shunned stays the same"):
        scheme(more={"timeline": [{"day": 10, "set": {"ostracism.on": ["tiers.D"]}}]})


def test_the_rate_may_change_during_the_run():
    """Ostracism that starts on day 60: no tie breaks before, many after."""
    s = scheme(rate=0.0, more={"timeline": [{"day": 60, "set": {"ostracism.rate": 0.1}}]})
    m = scslab.simulate(s, population=5_000, days=120, seed=1, engine="lazy").metrics
    dropped = m.query("metric == 'ties_dropped' and group == 'all'").set_index("day")["value"]
    assert dropped.loc[:59].sum() == 0 and dropped.loc[60:].sum() > 100


def test_a_run_with_ostracism_resumes_to_the_same_bytes(tmp_path):
    """The ties word is part of the state a checkpoint keeps."""
    assert resumed_as_whole(scheme(), tmp_path, crash_on=50, every=20, population=5_000, days=90, seed=4,
                            engine="lazy")


def test_the_closed_form_is_the_rule_on_average():
    """Everyone shunned from the start (tier A, where nobody acts and so everyone stays for 30 days): the ties
    left follow the closed form beside the rule (``rules.ties_kept``) within 4 standard errors, each tie
    drawn at both its ends, so breaking with 1 - (1 - rate) ** 2 a day."""
    from scslab.engine.rules import make

    quiet = {f"behaviours.{b}.rate": {"compliant": 0.0, "average": 0.0, "risky": 0.0}
             for b in load_scenario("bench-v1").behaviours}
    s = load_scenario("bench-v1", {**quiet, "ostracism": {"on": ["tiers.A"], "rate": 0.01}})
    m = scslab.simulate(s, population=10_000, days=30, seed=5, engine="dense").metrics
    left = _last(m, 29)["ties:shunned"]
    expected = make(lambda f: f).ties_kept(40_000, 1 - (1 - 0.01) ** 2, 30)
    p = expected / 40_000  # a tie's chance to stand; its two ends count together
    assert abs(left - expected) < 4 * 2 * np.sqrt(20_000 * p * (1 - p)), (left, expected)
    assert abs(left - make(lambda f: f).ties_kept(40_000, 0.01, 30)) > 10 * np.sqrt(20_000 * p * (1 - p))
    assert _last(m, 29)["shunned"] == 10_000


def test_network_source_reads_the_stories_tie():
    from scslab.encodings import REL, network_arg

    assert network_source(network_arg(0, int(REL.FRIENDS), 41)) == (41, "friend")


def test_the_dashboard_moves_ostracism():
    from scslab.app.params import apply_knobs, knobs

    by = {k.key: k for k in knobs(scheme())}
    assert by["ostracism"].value == pytest.approx(5.0)
    changed, problems = apply_knobs(scheme(), {"ostracism": 1.5}, population=2_000, days=30)
    assert problems == {} and changed.ostracism.rate == pytest.approx(0.015)
    assert "ostracism" not in {k.key for k in knobs(load_scenario("press-2018"))}


def test_the_report_draws_the_thinning(runs, tmp_path):
    """The report's figure: ties per shunned person against everyone else's, and who lost ties."""
    from scslab.report.tie_figures import ostracism

    r = runs[0.05]
    fig = ostracism(r.metrics, r.manifest)
    left = fig.axes[0].get_lines()
    assert [line.get_label() for line in left] == ["shunned people", "everyone else"]
    assert left[0].get_ydata()[-1] < left[1].get_ydata()[-1] / 5
    assert ostracism(runs[0.0].metrics, runs[0.0].manifest) is not None  # shunned, nothing dropped: still drawn
    none = scslab.simulate("bench-v1", population=500, days=5, engine="dense")
    assert ostracism(none.metrics, none.manifest) is None


def test_the_odd_describes_ostracism_in_its_place():
    from scslab.odd import odd_markdown

    steps = [line for line in odd_markdown(scheme()).splitlines() if line[:3].rstrip(". ").isdigit()]
    at = next(i for i, line in enumerate(steps) if "Ostracism" in line)
    assert "List entries and exits" in steps[at - 1] and "Consequences" in steps[at + 1]
    assert "probability 0.05 a day" in steps[at] and "tier `C`" in steps[at]
    assert "Ostracism" not in odd_markdown(load_scenario("bench-v1"))
