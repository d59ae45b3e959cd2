"""The CPU engine: bench-v1 targets, exact invariants, timeline, capacity, outputs."""

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest

import scslab
from scslab import CapacityError, RunDirError, simulate
from scslab.compile import compile_plan
from scslab.engine.budget import check_capacity


@pytest.fixture(scope="module")
def bench_200k():
    return simulate("bench-v1", population=200_000, days=365, seed=1)


def test_bench_v1_tier_shares(bench_200k):
    """docs/bench-v1.md targets at day 365 (N = 1 M): A 95.0 %, B 3.2 %, C 1.7 %, AA 0.02 %, D 0."""
    n = 200_000
    share = {t: bench_200k.final(f"tier:{t}") / n for t in ("AAA", "AA", "A", "B", "C", "D")}
    assert abs(share["A"] - 0.950) < 0.004
    assert abs(share["B"] - 0.032) < 0.003
    assert abs(share["C"] - 0.017) < 0.002
    assert share["AA"] < 0.001 and share["D"] == 0 and share["AAA"] == 0


def test_tiers_sum_to_population_every_day(bench_200k):
    m = bench_200k.metrics
    tiers = m[m.metric.str.startswith("tier:") & (m.group == "all")].groupby("day")["value"].sum()
    assert (tiers == 200_000).all() and len(tiers) == 365
    by_class = m[m.metric.str.startswith("tier:") & m.group.str.startswith("class:")].groupby("day")["value"].sum()
    assert (by_class == 200_000).all()


def test_network_penalties_equal_four_ties_per_detection(bench_200k):
    """With N even, every agent has exactly 4 partners: each detected criticism costs 4 deductions."""
    net = bench_200k.series("network_penalties").sum()
    crit = bench_200k.series("detected:criticize_government").sum()
    assert net == 4 * crit > 0


def test_detected_never_exceeds_acts(bench_200k):
    for b in ("jaywalking", "late_payment", "volunteering"):
        acts, det = bench_200k.series(f"acts:{b}"), bench_200k.series(f"detected:{b}")
        assert (det <= acts).all()
    assert (bench_200k.series("detected:volunteering") == bench_200k.series("acts:volunteering")).all()


def test_timeline_changes_rules_from_its_day():
    r = simulate("bench-v1", population=20_000, days=60, seed=3,
                 overrides={"timeline": [{"day": 30, "set": {"behaviours.jaywalking.rate.compliant": 0.0,
                                                             "behaviours.jaywalking.rate.average": 0.0,
                                                             "behaviours.jaywalking.rate.risky": 0.0}}]})
    acts = r.series("acts:jaywalking")
    assert acts.loc[:29].sum() > 100 and acts.loc[30:].sum() == 0


def test_capacity_refused_before_allocation():
    plan = compile_plan(scslab.load_scenario("bench-v1"), size=1_400_000_000)
    with pytest.raises(CapacityError) as info:
        check_capacity(plan, available=1 << 30)
    assert info.value.needed_bytes > 1.4e9 * 10 and "GiB" in str(info.value)


def test_run_directory(tmp_path):
    r = simulate("press-2018", population=5_000, days=40, seed=2)
    out = r.save(tmp_path / "run")
    assert sorted(os.listdir(out)) == ["manifest.json", "metrics.parquet", "stories.parquet"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["seed"] == 2 and manifest["population"] == 5_000
    assert manifest["scenario"]["meta"]["name"] == "press_2018"
    assert set(manifest["files"]) == {"metrics.parquet", "stories.parquet"}
    table = pq.read_table(out / "metrics.parquet")
    assert [str(t) for t in table.schema.types] == ["int32", "string", "string", "int64"]
    assert table.column_names == ["day", "metric", "group", "value"]
    groups = set(table.column("group").to_pylist())
    assert {"all", "region:east", "group:minority", "class:risky"} <= groups
    with pytest.raises(RunDirError, match="already exists"):
        r.save(out)
    r.save(out, force=True)
    stories = pq.read_table(out / "stories.parquet").to_pandas()
    assert len(stories) > 0 and stories["reason"].str.len().min() > 3
    assert stories["score_after"].notna().all()
    assert set(stories["agent"]) <= set(manifest["story_agents"])


def test_press_exercises_the_model():
    r = simulate("press-2018", population=200_000, days=365, seed=1)
    s = r.summary()
    assert r.series("false:jaywalking").sum() > 0
    assert r.series("network_penalties").sum() > 0
    assert r.series("coverage_ppm:cameras").iloc[-1] > r.series("coverage_ppm:cameras").iloc[0]
    assert s["listed:blacklist"] > 0 and s["sanctioned:top_school_denied"] > 0


def test_court_list_debt_cycle():
    r = simulate("court-defaulters-national", population=50_000, days=200, seed=1)
    entered = r.series("entered:court_list").sum()
    exited = r.series("exited:court_list").sum()
    assert entered > 0 and exited > 0
    assert r.final("listed:court_list") == entered - exited
    assert r.series("repaid").sum() > 0 and r.series("blocked:flight_ban").sum() > 0


def test_dog_account_escalation_and_restoration():
    r = simulate("jinan-dog-points", population=20_000, days=300, seed=1)
    assert r.series("entered:confiscated_dogs").sum() > 0
    assert r.series("exited:confiscated_dogs").sum() > 0
    st = r.stories
    zero = st[st.event == "account_zero"]
    if len(zero):
        assert (zero.points < 0).all()


def test_prefetch_is_only_a_hint():
    """``prefetch`` (the sparse pass fetches the columns of ties a few records ahead) changes no value:
    compiled it is LLVM's prefetch, uncompiled nothing."""
    from numba import njit

    from scslab.engine.bits import prefetch

    @njit
    def read_after_prefetch(a, i):
        prefetch(a, i)
        prefetch(a, a.shape[0] - 1)
        return a[i]

    a = np.arange(-5, 5, dtype=np.int16)
    assert [read_after_prefetch(a, i) for i in range(10)] == list(range(-5, 5))
    assert prefetch(a, 3) is None and a.tolist() == list(range(-5, 5))


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_court_list_exit_comes_the_day_after_repayment(engine):
    """As docs/model.md says: a debt repaid on day t is settled after that day's lists are drawn up, so the
    person is still listed on day t and leaves on day t + 1 (no term ends within the run here)."""
    r = simulate("court-defaulters-national", population=100_000, days=200, seed=1, engine=engine,
                 overrides={"lists.court_list.max_days": 5000, "lists.court_list.extra_days_max": 0})
    listed, debtors = r.series("listed:court_list").to_numpy(), r.series("debtors").to_numpy()
    repaid, exited = r.series("repaid").to_numpy(), r.series("exited:court_list").to_numpy()
    assert repaid.sum() >= 10
    assert (listed == debtors + repaid).all()  # today's repayers are still on today's list
    assert (exited[1:] == repaid[:-1]).all() and exited[0] == 0  # and leave it the next day


def test_a_restored_dog_account_starts_again_without_strikes():
    """As docs/model.md says: restoring a confiscated account resets the repeat count, so the owner's next
    offence costs the first repeat penalty (-3), not the next one (well within the strike window)."""
    r = simulate("jinan-dog-points", population=3_000, days=500, seed=2,
                 overrides={"run.story_agents": 3_000, "channels.inspections.detect": 0.4,
                            "behaviours.dog_off_leash.rate.careful": 0.02,
                            "behaviours.dog_off_leash.rate.casual": 0.03, "accounts.dog.restore_days": 30})
    st = r.stories
    seen = 0
    for agent, own in st.groupby("agent"):
        events = own[(own["event"] == "account_restored") | (own["event"] == "act_detected")
                     & own["behaviour"].isin(["dog_off_leash", "dog_fouling"])]  # the escalating offences
        after = events[events["event"].shift() == "account_restored"]
        after = after[after["event"] == "act_detected"]
        assert (after["points"] == -3).all(), (agent, after)
        seen += len(after)
    assert seen >= 10


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_children_lose_no_points_through_ties(engine):
    """Children are not scored (docs/model.md): a caught tie costs an adult points, never a child."""
    from scslab.compile import compile_plan
    from scslab.scenarios import load_scenario

    r = simulate("press-2018", population=5_000, days=60, seed=3, engine=engine,
                 overrides={"run.story_agents": 5_000, "behaviours.criticize_government.network.household": -40,
                            "behaviours.criticize_government.rate.compliant": 0.05})
    plan = compile_plan(load_scenario(r.manifest["scenario"]))
    adult = plan.hh_adult[np.asarray(r.manifest["story_agents"]) % len(plan.hh_adult)] == 1
    assert (~adult).sum() > 500
    hit = r.stories[r.stories["event"] == "network_penalty"]
    is_adult = dict(zip(r.manifest["story_agents"], adult))
    assert len(hit) > 100 and all(is_adult[a] for a in hit["agent"])
    kids = [a for a, grown in is_adult.items() if not grown]
    scores = r.stories[r.stories["agent"].isin(kids)]["score_after"].dropna()
    assert (scores == plan.scenario.score.base).all()  # children keep the base score


@pytest.mark.parametrize("preset,engine", [("jinan-dog-points", "dense"), ("jinan-dog-points", "lazy"),
                                           ("press-2018", "dense"), ("press-2018", "lazy"),
                                           ("bench-v1", "windowed")])
def test_newly_penalised_counts_each_person_on_the_day_of_their_first_deduction(preset, engine):
    """``newly_penalised`` is a flow of people: each agent counts once, on the day of its first deduction for
    an act of its own (true or falsely attributed, on the score or an account), so its sum is the number of
    distinct people ever penalised. Checked day by day against the full event logs of every agent."""
    n = 6_000
    more = {"channels.inspections.detect": 0.6} if preset == "jinan-dog-points" else {}  # more owners caught
    r = simulate(preset, population=n, days=300, seed=3, engine=engine, overrides={"run.story_agents": n, **more})
    st = r.stories
    own = st[st["event"].isin(["act_detected", "false_attribution"]) & (st["points"] < 0)]
    first_days = own.groupby("agent")["day"].min()
    expected = np.bincount(first_days.to_numpy(), minlength=300)
    flow = r.series("newly_penalised").to_numpy()
    assert len(first_days) >= 50
    assert flow.tolist() == expected.tolist()
    detected = r.metrics[r.metrics["metric"].str.startswith("detected:") & (r.metrics["group"] == "all")]
    assert flow.sum() < detected["value"].sum()  # detected:* counts person-times
