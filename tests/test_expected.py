"""The closed form of the undeterred acts (``scslab.expected``) against the act rule itself, and the chilling
baseline the report draws with it."""

import numpy as np
import pytest

from scslab import load_scenario, simulate
from scslab.compile import compile_plan
from scslab.expected import adults, undeterred_acts, undeterred_baseline

N, DAYS = 100_000, 60


def _undeterred(name: str) -> dict:
    """The preset with every deterrence switched off."""
    data = load_scenario(name).model_dump(mode="python")
    for b in data["behaviours"].values():
        b["deterrence"] = {"surveillance": 0.0, "factor": 1.0, "when_sanctioned": 1.0}
    data["timeline"] = []
    return data


@pytest.mark.parametrize("name", ["press-2018", "jinan-dog-points", "rongcheng-2018"])
def test_undeterred_acts_is_the_rule_without_deterrence(name):
    """Households with children (press-2018), holders of a domain account (jinan): the daily acts of a run
    with no deterrence average to the closed form, within 4 standard errors of a Poisson count."""
    data = _undeterred(name)
    r = simulate(data, population=N, days=DAYS, seed=5)
    expected = undeterred_acts(compile_plan(load_scenario(r.manifest["scenario"])))
    for behaviour, mean in expected.items():
        acts = r.series(f"acts:{behaviour}").to_numpy()
        assert len(acts) == DAYS
        assert abs(acts.mean() - mean) <= 4 * np.sqrt(mean / DAYS) + 1e-9, (behaviour, acts.mean(), mean)


def test_adults_follow_the_household_pattern():
    plan = compile_plan(load_scenario("press-2018"), size=10_007)
    assert adults(plan) == sum(int(plan.hh_adult[i % len(plan.hh_adult)]) for i in range(10_007))
    assert 0.8 < adults(plan) / 10_007 < 0.86  # child_share 0.17 of the members after the first
    assert adults(compile_plan(load_scenario("bench-v1"), size=999)) == 999  # no households: all adults


def test_press_2018_chilling_baseline_counts_adults_only():
    """Volunteering and blood donation are not deterred: against the baseline they sit at about 1.0 (they
    sat at about 0.83 when children were counted)."""
    r = simulate("press-2018", population=N, days=DAYS, seed=1)
    baseline = undeterred_baseline(r.manifest["scenario"])
    for behaviour in ("volunteering", "blood_donation"):
        ratio = r.series(f"acts:{behaviour}").mean() / baseline[behaviour]
        assert 0.97 < ratio < 1.03, (behaviour, ratio)
    assert r.series("acts:criticize_government").mean() / baseline["criticize_government"] < 0.9  # deterred
