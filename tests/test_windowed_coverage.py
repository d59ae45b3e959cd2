"""Coverage that changes over time on the windowed scheduler (``engine/windowed``): a window draws each agent's
events at its highest daily rates, then keeps each drawn event with its day's rate over that one, so every
day has its own rates exactly (deterrence thins the same way, by the day's deterred rate).

The kernel is held to the day-by-day replay agent by agent, and the route to the day routes in law; the
scheme of each test is ``ramp_scheme``: harsh bench-v1 whose records channel goes from 30 % to full coverage
over 200 days, with jaywalking chilled by surveillance.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_windowed import HARSH, _agreeing, _plan, _z, one_agent

from scslab import simulate
from scslab.engine.routes import choose_route
from scslab.scenarios import load_scenario


def ramp_scheme(overrides=None, false_match=0.0):
    """Harsh bench-v1 (with ``overrides``) whose records channel covers 30 % on day 0 rising linearly to 100 % on
    day 200, jaywalking chilled by surveillance (half its rate at full coverage); with ``false_match`` the
    records channel attributes acts falsely (criticism moves to an online channel that never does)."""
    d = load_scenario("bench-v1", {**HARSH, **(overrides or {})}).model_dump(mode="json", exclude_none=True)
    records = d["channels"]["records"]
    records.update(coverage=[[0, 0.3], [200, 1.0]], interpolate="linear", false_match=false_match)
    if false_match:
        d["channels"]["online"] = {"kind": "government", "coverage": 1.0, "detect": 1.0}
        d["behaviours"]["criticize_government"]["channels"] = ["online"]
    d["behaviours"]["jaywalking"]["deterrence"]["surveillance"] = 0.5
    return load_scenario(d)


@pytest.mark.parametrize("false_match", [0.0, 0.01], ids=["ramp", "ramp-false"])
@pytest.mark.parametrize("days", [100, 420])
def test_a_coverage_ramp_agrees_with_days(false_match, days):
    """Over the ramp's first 100 days, and over two windows (420 days), every metric's run summary has the same
    mean by windows and by days (10 seeds each): the ramp's rates, not the window's highest, are the ones run."""
    scheme = ramp_scheme(false_match=false_match)
    assert choose_route(_plan(1_000, days, 1, scenario=scheme)) == "windowed"
    names, z, by_days, windows = _z(None, 4_000, days, range(1, 11), scenario=scheme)
    reached = _agreeing(names, z, by_days, windows)
    assert reached["network_penalties"] > 50 and reached["detected:jaywalking"] > 100
    if false_match:
        assert reached["false:jaywalking"] > 2 and reached["carrying_false_record"] > 10


def test_detections_follow_the_ramp():
    """Detected acts per day rise with coverage (30 % to 100 % over 200 days) while jaywalking itself falls
    (chilled by surveillance)."""
    r = simulate(ramp_scheme(), population=20_000, days=300, seed=2)
    assert r.manifest["route"] == "windowed"
    det, acts = r.series("detected:late_payment"), r.series("acts:jaywalking")
    assert det.iloc[250:300].sum() > 1.5 * det.iloc[0:50].sum()  # (deterrence, growing, holds it back)
    assert acts.iloc[250:300].sum() < 0.9 * acts.iloc[0:50].sum()
    assert r.series("coverage_ppm:records").iloc[[0, 100, 200]].tolist() == [300_000, 650_000, 1_000_000]


@pytest.mark.parametrize("false_match", [0.0, 0.05])
def test_each_agents_window_under_a_ramp_is_its_replay(false_match):
    """Agent by agent, from random start states around the blacklist's lines, the kernel's end state, its
    network acts kept and its detected acts and false attributions per day and behaviour are the day-by-day
    replay's, under a coverage ramp (events thinned to the day's rates; deterred days by their own)."""
    from scslab.compile import SE
    from scslab.engine.windowed.agent import NEVER, listed_day, with_listed
    from scslab.engine.windowed.model import LS, SC
    from scslab.engine.windowed.replay import replay, undetected_keys

    W, seed = 200, 4
    plan = _plan(5_000, W, seed, scenario=ramp_scheme(false_match=false_match))
    m, M, run = one_agent(plan, W, seed)
    assert M.vary is not None and M.vary.shape[1:] == (2, W, M.other.shape[0] + 1)
    NB, C = len(plan.behaviour_names), len(plan.class_names)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    ukeys = undetected_keys(seed, 0, W, NB)
    rng = np.random.default_rng(5)
    lines = m.lists[0, [LS.ENTER, LS.LEAVE]]
    seen = {"acts": 0, "network": 0, "false": 0}
    for i in rng.choice(plan.size, 300, replace=False):
        cls = int(rng.integers(C))
        s0 = int(np.clip(rng.choice(lines) + rng.integers(-60, 40), low, high))
        lo0 = -int(rng.integers(0, 60)) if rng.random() < 0.7 else NEVER
        on0 = -int(rng.integers(1, 200)) if rng.random() < 0.5 else NEVER
        got, D = run(i, 0, cls, s0, lo0, with_listed(0, 0, on0))
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            r = replay(int(i), 0, W, cls, s0, lo0, (on0,), [], M, m.by_day.und[:W, cls], ukeys)
        assert r["state"] == (got[2], got[3], (listed_day(got[4], 0),)), (i, s0, lo0, on0)
        assert got[0] == len(r["kept"]), i  # the network acts kept
        acts = np.zeros((W + 1, 2 * NB), np.int64)
        for row in r["rows"]:
            if row[3] == SE.act_detected:
                acts[row[2], row[4] - 256] += 1
            elif row[3] == SE.false_attribution:
                acts[row[2], NB + row[4]] += 1
        written = D[5][0, cls].sum(axis=0)  # [day, column]: detected acts, then false attributions
        assert (written[:, :NB] == acts[:, :NB]).all(), i
        if false_match:
            assert (written[:, NB:] == acts[:, NB:]).all(), i
        seen["acts"] += int(acts[:, :NB].sum())
        seen["network"] += int(got[0])
        seen["false"] += int(acts[:, NB:].sum())
    assert seen["acts"] > 100 and seen["network"] > 5 and (seen["false"] > 5 or not false_match), seen


@pytest.mark.parametrize("days", [30, 700])  # one chunk of days; several, across press-2018's timeline
def test_the_days_rates_worked_out_together_are_each_days_own(days):
    """``rates_by_day`` works out the days of an epoch together, a chunk at a time; every day's rates are bit
    for bit those the day engines work out for that day alone (``detected_rates``)."""
    from scslab.compile import compile_plan
    from scslab.engine.detected import detected_rates
    from scslab.engine.windowed.model import DAYS_AT_ONCE, day_rates, rates_by_day

    plan = compile_plan(load_scenario("press-2018", {"run.days": days}), size=10_000)
    assert len(plan.epochs) > 1 and (days < DAYS_AT_ONCE or plan.days > 2 * DAYS_AT_ONCE)
    together = rates_by_day(plan)
    for d in range(plan.days):
        alone = day_rates(plan, *detected_rates(plan, d))
        for name, a, b in zip(together._fields, together, alone):
            assert a[d].tobytes() == b.tobytes(), (d, name)
