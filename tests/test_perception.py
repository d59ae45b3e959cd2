"""Perceived watching ([perception], ``population.groups.*.perceives``): deterrence's chilling effect responds
to the coverage people perceive, which lags the actual one from a start value and may be overstated; a
group may perceive less of it (0: unaware of the scheme).

Held to the closed form beside the rule (``expected.chilled_acts``), to the reference, and on the windowed
scheduler to the day scheduler in law."""

from __future__ import annotations

import numpy as np
import pytest
from agreement import Z_MAX, compare

from scslab import simulate
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.errors import ScenarioError
from scslab.expected import chilled_acts
from scslab.scenarios import load_scenario

# bench-v1 without tier deterrence, jaywalking and late payment chilled by surveillance; records cover 50 %;
# people start perceiving no watching, catch up with a mean lag of 30 days and overstate it by half (75 %);
# 11 % of people are aware of the scheme, the rest perceive nothing of it
PERCEIVED = {"behaviours.jaywalking.deterrence": {"surveillance": 0.8},
             "behaviours.late_payment.deterrence": {"surveillance": 0.6},
             "channels.records.coverage": 0.5,
             "perception": {"lag_days": 30, "start": 0.0, "overstatement": 1.5},
             "population.groups": {"aware": {"share": 0.11}, "unaware": {"share": 0.89, "perceives": 0.0}}}


def scheme(more=None):
    return load_scenario("bench-v1", {**PERCEIVED, **(more or {})})


def test_the_perceived_coverage_lags_and_overstates():
    """``perceived_ppm`` follows p(d) = p(d-1) + (0.5 - p(d-1)) / 31 from p(0) = 0, times 1.5; the actual
    coverage rows stay at 50 %."""
    r = simulate(scheme(), population=1_000, days=120, engine="dense")
    seen = r.series("perceived_ppm:records").to_numpy()
    p, expect = 0.0, []
    for _ in range(120):
        expect.append(round(min(1.0, p * 1.5) * 1e6))
        p = p + (0.5 - p) / 31
    assert seen.tolist() == expect
    assert set(r.series("coverage_ppm:records").tolist()) == {500_000}
    assert seen[0] == 0 and 0.7e6 < seen[-1] < 0.75e6


@pytest.mark.parametrize("groups", ["aware-and-unaware", "everyone-aware"])
def test_acts_follow_the_closed_form_of_the_perceived_chilling(groups):
    """Daily acts of the chilled behaviours average to ``chilled_acts`` as perceived, within 4 standard
    errors of a Poisson count; with everyone aware (and a lag of 10 days), not to what the actual coverage
    would give (a test that can fail)."""
    plan_days, n = 90, 100_000
    more = {} if groups == "aware-and-unaware" else {
        "population.groups": {"all": {"share": 1.0}}, "perception": {"lag_days": 10, "start": 0.0,
                                                                    "overstatement": 1.5}}
    r = simulate(scheme(more), population=n, days=plan_days, seed=3, engine="dense")
    plan = compile_plan(load_scenario(r.manifest["scenario"]))
    for behaviour in ("jaywalking", "late_payment", "volunteering"):
        acts = float(r.series(f"acts:{behaviour}").sum())
        perceived = sum(chilled_acts(plan, d)[behaviour] for d in range(plan_days))
        actual = sum(chilled_acts(plan, d, perceived=False)[behaviour] for d in range(plan_days))
        assert abs(acts - perceived) <= 4 * np.sqrt(perceived), (behaviour, acts, perceived)
        if behaviour != "volunteering" and groups == "everyone-aware":  # (a reward is never chilled)
            assert abs(acts - actual) > 8 * np.sqrt(actual), (behaviour, acts, actual)


def test_unaware_people_are_not_chilled():
    """By group: the unaware act at the undeterred rate, the aware less once they perceive the watching."""
    r = simulate(scheme(), population=60_000, days=120, seed=4, engine="dense")
    m = r.metrics
    late = m[(m["metric"] == "acts:jaywalking") & (m["day"] >= 60)].groupby("group")["value"].sum()
    per_person = late["group:aware"] / 0.11, late["group:unaware"] / 0.89
    assert per_person[0] < 0.6 * per_person[1]


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_perception_agrees_with_the_reference(engine):
    """60 % aware, perceiving the coverage with a 10-day lag and overstated by 60 %: both day schedulers
    agree with the reference, which works perception out on its own, day by day."""
    s = scheme({"population.groups": {"aware": {"share": 0.6}, "unaware": {"share": 0.4, "perceives": 0.0}},
                "perception": {"lag_days": 10, "start": 0.0, "overstatement": 1.6}})
    names, z, eng, _ = compare(s, engine=engine, size=(1000, 120))
    assert float(z.max()) < Z_MAX, [(n, round(float(v), 1)) for n, v in zip(names, z) if v >= Z_MAX]
    assert eng[names.index("acts:jaywalking")] > 100


def test_the_windowed_scheduler_runs_perception_in_law():
    """Perception makes every day's rates its own, as a coverage ramp does: the windowed scheduler draws at the
    window's highest rates and keeps each event with its day's; every metric agrees with the lazy scheduler
    over 10 seeds."""
    from test_windowed import _agreeing, _plan, _z

    s = scheme()
    plan = _plan(1_000, 200, 1, scenario=s)
    assert {"perception", "coverage-over-time"} <= set(uses(plan)) and choose_route(plan) == "windowed"
    names, z, days, windows = _z(None, 4_000, 200, range(1, 11), scenario=s)
    reached = _agreeing(names, z, days, windows)
    assert reached["acts:jaywalking"] > 1_000


def test_a_region_may_perceive_differently():
    """Perception is one of the things a region may change for itself (an awareness campaign there)."""
    data = {**PERCEIVED, "population.regions": {"east": {"share": 0.5}, "west": {"share": 0.5}},
            "timeline": [{"day": 0, "regions": ["east"], "set": {"perception.overstatement": 2.0}}]}
    r = simulate(load_scenario("bench-v1", data), population=2_000, days=60, engine="dense")
    m = r.metrics
    seen = m[(m["metric"] == "perceived_ppm:records") & (m["day"] == 59)].set_index("group")["value"]
    assert abs(seen["region:east"] / 2.0 - seen["region:west"] / 1.5) <= 1  # the same lag, overstated x2, x1.5
    assert seen["all"] == seen["region:west"]  # group all: the scenario's own coverage and perception


def test_perception_is_checked():
    with pytest.raises(ScenarioError, match="perception.start"):
        load_scenario("bench-v1", {"perception.start": 1.5})
    with pytest.raises(ScenarioError, match="perceives"):
        load_scenario("bench-v1", {"population.groups": {"all": {"share": 1.0, "perceives": -1.0}}})


def test_default_perception_writes_no_perceived_rows():
    r = simulate("bench-v1", population=500, days=10, engine="dense")
    assert not r.metrics["metric"].str.startswith("perceived_ppm:").any()
    assert "perception" not in uses(compile_plan(load_scenario("press-2018"), size=1_000, days=30))


def test_the_dashboard_moves_perception():
    """Where watching chills, the dashboard has knobs for how much of it people perceive and how late."""
    from scslab.app.params import apply_knobs, knobs

    press = load_scenario("press-2018")
    by = {k.key: k for k in knobs(press)}
    assert by["overstatement"].value == 1.0 and by["lag"].value == 0
    changed, problems = apply_knobs(press, {"overstatement": 1.4, "lag": 60}, population=5_000, days=40)
    assert problems == {}
    assert (changed.perception.overstatement, changed.perception.lag_days) == (1.4, 60)
    assert "overstatement" not in {k.key for k in knobs(load_scenario("bench-v1"))}  # nothing chilled there
