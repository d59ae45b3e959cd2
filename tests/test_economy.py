"""Money and work (``engine/economy.py``): the engines' levels of work and debts checked exactly against the
people's own state at the end of a run, fines against the acts, stories of lost work, the report's table, and
the refusals of scenarios that cannot mean what they say. The reference agrees on the court-list preset's
economy in ``tests/test_reference.py`` (its metrics are among those compared)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scslab import load_scenario, simulate
from scslab.compile import FLAG, compile_plan
from scslab.engine.cpu import run_cpu
from scslab.errors import ScenarioError
from scslab.rng import Stream, draw_array, stream_key, threshold

PRESET = "court-defaulters-national"
# many listings, so that dozens lose their work within a short run
BUSY = {"behaviours.court_default.rate": {"able": 0.002, "strained": 0.004, "refusing": 0.01},
        "consequences.executive_ban.costs_work": 0.3}


def _band(seed, stream, bands, ids):
    cum = threshold(np.cumsum([b.share for b in bands.values()]))[:-1]
    yuan = np.array([b.yuan for b in bands.values()])
    u = draw_array(stream_key(seed, stream, 0), ids).astype(np.uint64)
    return yuan[np.searchsorted(cum, u, side="right")]


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_levels_equal_the_peoples_own_state_at_the_end(engine):
    """Out of work, their income lost that day and debts owed on the last day, recomputed per person from the
    final columns and the id-drawn economy, equal the engine's counts to the yuan."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_scenario(PRESET, BUSY)
    plan = compile_plan(s, size=4_000, days=90, seed=3)
    raw = run_cpu(plan, engine=engine)
    last = raw.counts[-1].sum(axis=1) if raw.counts.ndim == 3 else raw.counts[-1]
    cols = raw.columns
    n = plan.size
    ids = np.arange(n, dtype=np.int64)
    adult = (cols.flags & FLAG.ADULT) != 0
    employed = draw_array(stream_key(plan.seed, Stream.EMPLOYED, 0), ids).astype(np.uint64) < threshold(0.67)
    income = np.where(employed & adult, _band(plan.seed, Stream.INCOME, s.economy.income, ids), 0)
    k = plan.consequence_names.index("executive_ban")
    barred = draw_array(stream_key(plan.seed, Stream.WORK + k, 0), ids).astype(np.uint64) < threshold(0.3)
    listed = cols.on_lists != 0
    out = listed & barred & (income > 0)
    debt = (cols.flags & FLAG.DEBT) != 0
    owed = _band(plan.seed, Stream.DEBT_AMOUNT, s.debt.amounts, ids)[debt].sum()
    row = {m: j for j, m in enumerate(plan.metric_names)}
    assert out.sum() > 10 and debt.sum() > 10  # something to compare
    assert last[row["out_of_work"]] == out.sum()
    assert last[row["income_lost_yuan"]] == income[out].sum()
    assert last[row["debt_owed_yuan"]] == owed
    totals = raw.counts.sum(axis=(0, 2)) if raw.counts.ndim == 3 else raw.counts.sum(axis=0)
    assert totals[row["jobs_lost"]] >= out.sum()
    amounts = {b.yuan for b in s.debt.amounts.values()}
    assert totals[row["repaid_yuan"]] >= min(amounts) * totals[row["repaid"]]
    assert totals[row["repaid_yuan"]] <= max(amounts) * totals[row["repaid"]]


def test_fines_follow_the_acts_and_false_attributions():
    over = {"behaviours.jaywalking.fine": 50, "behaviours.late_payment.fine": 200,
            "channels.records.false_match": 0.001}
    r = simulate("bench-v1", population=5_000, days=60, overrides=over, engine="lazy")
    t = r.metrics[r.metrics.group == "all"].groupby("metric").value.sum()
    detected = 50 * t["detected:jaywalking"] + 200 * t["detected:late_payment"]
    false = 50 * t["false:jaywalking"] + 200 * t["false:late_payment"]
    assert t["false:jaywalking"] + t["false:late_payment"] > 0
    assert t["fines_yuan"] == detected + false and t["fines_wrongful_yuan"] == false
    assert r.summary()["fines_wrongful_yuan (total)"] == false


def test_court_list_reports_sums_repaid_and_work_lost_with_stories(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = simulate(PRESET, population=3_000, days=90, overrides={**BUSY, "run.story_agents": 200})
    s = r.summary()
    assert s["repaid_yuan (total)"] > 0 and s["jobs_lost (total)"] > 0 and s["income_lost_yuan (total)"] > 0
    lost = r.stories[r.stories.event == "work_lost"]
    assert len(lost) and lost.reason.str.contains("yuan a day").all() and (lost.points == 0).all()
    by_region = r.metrics[(r.metrics.metric == "jobs_lost") & r.metrics.group.str.startswith("class:")]
    assert by_region.value.sum() == s["jobs_lost (total)"]  # by group, adding up to everyone
    r.save(tmp_path / "run")
    from scslab.report import write_report

    page = write_report(tmp_path / "run").read_text()
    assert "Money and work" in page and "debts repaid (yuan)" in page


def test_a_fine_the_timeline_brings_in_is_counted_from_its_day():
    """A fine set by a timeline entry that replaces every behaviour: the fines rows exist from the start and
    count the acts from the change's day on, exactly."""
    behaviours = load_scenario("bench-v1").model_dump(mode="json", exclude_none=True)["behaviours"]
    behaviours["jaywalking"]["fine"] = 50
    r = simulate("bench-v1", population=3_000, days=30, engine="lazy",
                 overrides={"timeline": [{"day": 10, "set": {"behaviours": behaviours}}]})
    m = r.metrics[r.metrics.group == "all"]
    acts = m[m.metric.isin(["detected:jaywalking", "false:jaywalking"]) & (m.day >= 10)].value.sum()
    fines = m[m.metric == "fines_yuan"]
    assert acts > 0 and fines.value.sum() == 50 * acts and fines[fines.day < 10].value.sum() == 0


@pytest.mark.parametrize("over,path", [
    ({"economy": None}, "consequences.executive_ban.costs_work"),
    ({"economy.income.low.share": 0.9}, "economy.income"),
    ({"debt.amounts.small.share": 0.9}, "debt.amounts"),
    ({"consequences.private_school_denied.costs_work": 0.1}, "consequences.private_school_denied.costs_work"),
])
def test_scenarios_that_cannot_mean_what_they_say_are_refused(over, path):
    with pytest.raises(ScenarioError, match=path.replace(".", r"\.")):
        load_scenario(PRESET, over)


def test_the_timeline_cannot_change_who_is_in_work():
    with pytest.raises(ScenarioError, match="stay the same through a run"):
        load_scenario(PRESET, {"timeline": [{"day": 5, "set": {"economy.employed": 0.5}}]})
    with pytest.raises(ScenarioError, match="stay the same through a run"):
        load_scenario(PRESET, {"timeline": [{"day": 5, "set": {"consequences.executive_ban.costs_work": 0.5}}]})


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_engines_agree_with_the_reference_on_money_and_work(engine):
    """The court list with many listings: the engines against the slow reference (its own draws, each person's
    income, barred work and debt amount read from the id), metric by metric, as in test_reference."""
    from agreement import Z_MAX, compare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names, z, e, r = compare(PRESET, seeds=(1, 2, 3), engine=engine, overrides=BUSY, size=(1500, 90))
    for metric in ("out_of_work", "income_lost_yuan", "jobs_lost", "debt_owed_yuan", "repaid_yuan"):
        k = names.index(metric)
        assert e[k] > 10 and r[k] > 10, f"{metric}: too few to compare ({e[k]:.1f}, {r[k]:.1f})"
        assert z[k] < Z_MAX, f"{metric}: {engine} engine {e[k]:.1f} vs reference {r[k]:.1f} (z = {z[k]:.1f})"
