"""Awareness of the scheme ([awareness]): only aware people are chilled by the watching they perceive; a share
is aware at the start, and awareness spreads through ties (one who has just learnt tells its ties), through
seeing a tie come under a sanction, and through losing points.

Held exactly to the runs it must equal (everyone aware: the scheme without [awareness]; nobody: the scheme
without the chilling), to the closed form beside the rule, and to the reference; refused by name by the
schedulers that cannot run it."""

from __future__ import annotations

import numpy as np
import pytest
from agreement import Z_MAX, compare
from crashed import resumed_as_whole

import scslab
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.engine.routes import choose_route, refusal
from scslab.errors import OptionError, ScenarioError
from scslab.expected import chilled_acts
from scslab.scenarios import load_scenario

# bench-v1 with households, jaywalking and late payment chilled by surveillance of half the acts; criticism
# costs 450 points (the blacklist at once) so that ties see people listed
CHILLED = {"population.households": {"sizes": {"1": 0.2, "2": 0.3, "3": 0.3, "4": 0.2}, "child_share": 0.15},
           "behaviours.jaywalking.deterrence": {"surveillance": 0.8},
           "behaviours.late_payment.deterrence": {"surveillance": 0.6},
           "channels.records.coverage": 0.5,
           "behaviours.criticize_government.points": -450}
SPREAD = {"start": 0.11, "penalised": 0.5, "told": 0.3, "seen": 0.5}


def scheme(awareness=None, more=None):
    extra = {} if awareness is None else {"awareness": awareness}
    return load_scenario("bench-v1", {**CHILLED, **extra, **(more or {})})


def _by_metric(result):
    m = result.metrics
    m = m[(m["group"] == "all") & ~m["metric"].str.startswith(("aware", "score:"))]
    return {k: g.sort_values("day")["value"].to_numpy() for k, g in m.groupby("metric")}


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_everyone_aware_is_the_scheme_without_awareness():
    """With everyone aware from the start and nobody else to tell, every count is the scheme's without
    [awareness], day for day: the tables of the aware are the scheme's own."""
    full = scslab.simulate(scheme({"start": 1.0, "told": 1.0, "seen": 1.0}), population=5_000, days=60, seed=2,
                           engine="dense")
    plain = scslab.simulate(scheme(), population=5_000, days=60, seed=2, engine="dense")
    _same(_by_metric(full), _by_metric(plain))
    adults = full.series("aware")
    assert adults.iloc[0] > 3_000 and (adults == adults.iloc[0]).all()


def test_nobody_aware_is_the_scheme_without_the_chilling():
    """With nobody aware and no way to learn, every count is the scheme's with no chilling by surveillance."""
    none = scslab.simulate(scheme({"start": 0.0}), population=5_000, days=60, seed=2, engine="dense")
    unchilled = scslab.simulate(scheme(more={"behaviours.jaywalking.deterrence": {"surveillance": 0.0},
                                             "behaviours.late_payment.deterrence": {"surveillance": 0.0}}),
                                population=5_000, days=60, seed=2, engine="dense")
    _same(_by_metric(none), _by_metric(unchilled))
    assert (none.series("aware") == 0).all()


def test_acts_follow_the_closed_form_of_a_share_aware():
    """With 30 % aware and no spreading, daily acts of the chilled behaviours average to ``chilled_acts`` with
    that share (the closed form beside the rule), within 4 Poisson standard errors, and not to what everyone
    aware would give."""
    days, n = 60, 100_000
    r = scslab.simulate(scheme({"start": 0.3}), population=n, days=days, seed=3, engine="dense")
    plan = compile_plan(load_scenario(r.manifest["scenario"]))
    for behaviour in ("jaywalking", "late_payment"):
        acts = float(r.series(f"acts:{behaviour}").sum())
        expected = sum(chilled_acts(plan, d)[behaviour] for d in range(days))
        everyone = sum(chilled_acts(plan, d, aware=1.0)[behaviour] for d in range(days))
        assert abs(acts - expected) <= 4 * np.sqrt(expected), (behaviour, acts, expected)
        assert abs(acts - everyone) > 8 * np.sqrt(everyone), (behaviour, acts, everyone)
    adults = plan.hh_adult.mean()
    assert abs(r.series("aware").iloc[0] / (0.3 * n * adults) - 1) < 0.05


def test_awareness_agrees_with_the_reference():
    """The dense scheduler against the reference (its own per-person awareness, told, seen and penalised
    apart): every metric within the agreement bound; each way of learning occurs."""
    critics = {"behaviours.criticize_government.rate": {"compliant": 0.002, "average": 0.01, "risky": 0.05}}
    names, z, eng, ref = compare("bench-v1", overrides={**CHILLED, **critics, "awareness": SPREAD}, engine="dense")
    assert float(z.max()) < Z_MAX, [(n, round(float(v), 1)) for n, v in zip(names, z) if v >= Z_MAX]
    for how in ("penalty", "told", "seen"):
        assert eng[names.index(f"aware_by:{how}")] > 20, how


def test_awareness_spreads():
    """From 11 % aware, people learn through their ties, seeing ties listed and losing points; the aware share
    grows, and the chilled acts fall as it does."""
    r = scslab.simulate(scheme(SPREAD), population=20_000, days=200, seed=1, engine="dense")
    aware = r.series("aware")
    assert aware.iloc[-1] > 2 * aware.iloc[0]
    assert {how: int(r.series(f"aware_by:{how}").sum()) > 50 for how in ("penalty", "told", "seen")} == \
        {"penalty": True, "told": True, "seen": True}
    acts = r.series("acts:jaywalking")
    assert acts.iloc[-30:].mean() < acts.iloc[:30].mean()


def test_only_the_dense_scheduler_runs_awareness():
    plan = compile_plan(scheme(SPREAD), size=1_000, days=30)
    assert "awareness" in uses(plan)
    assert "awareness" in refusal(plan, "lazy") and "awareness" in refusal(plan, "windowed")
    assert choose_route(plan) == "dense"
    with pytest.raises(OptionError, match="awareness"):
        choose_route(plan, "lazy")


def test_awareness_is_checked():
    with pytest.raises(ScenarioError, match="changes nothing"):
        load_scenario("bench-v1", {"awareness": SPREAD})
    with pytest.raises(ScenarioError, match="drawn on day 0"):
        scheme(SPREAD, {"timeline": [{"day": 10, "set": {"awareness.start": 0.5}}]})
    later = scheme(SPREAD, {"timeline": [{"day": 10, "set": {"awareness.told": 0.9}}]})
    assert compile_plan(later, size=100, days=20).epochs[1].scenario.awareness.told == 0.9


def test_a_run_with_awareness_resumes_to_the_same_bytes(tmp_path):
    """The aware byte is part of the state a checkpoint keeps."""
    assert resumed_as_whole(scheme(SPREAD), tmp_path, crash_on=40, every=15, population=3_000, days=70, seed=4)


def test_the_dashboard_the_report_and_the_odd_show_awareness():
    from scslab.app.params import apply_knobs, knobs
    from scslab.odd import odd_markdown
    from scslab.report.awareness_figure import awareness

    s = scheme(SPREAD)
    by = {k.key: k for k in knobs(s)}
    assert by["aware"].value == pytest.approx(11.0) and by["told"].value == pytest.approx(30.0)
    changed, problems = apply_knobs(s, {"aware": 50, "told": 5}, population=2_000, days=30)
    assert problems == {} and (changed.awareness.start, changed.awareness.told) == pytest.approx((0.5, 0.05))
    assert "aware" not in {k.key for k in knobs(scheme())}
    steps = [line for line in odd_markdown(s).splitlines() if line[:3].rstrip(". ").isdigit()]
    at = next(i for i, line in enumerate(steps) if line.split(". ", 1)[1].startswith("Awareness"))
    assert "List entries" in steps[at - 1] and "Consequences" in steps[at + 1] and "(0.3 each)" in steps[at]
    r = scslab.simulate(s, population=5_000, days=90, seed=1, engine="dense")
    fig = awareness(r.metrics, r.manifest)
    share = fig.axes[0].get_lines()[0].get_ydata()
    assert share[-1] > share[0] > 5
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["lost points themselves", "told by a tie",
                                                                      "saw a tie sanctioned"]
    plain = scslab.simulate(scheme(), population=500, days=5, engine="dense")
    assert awareness(plain.metrics, plain.manifest) is None
