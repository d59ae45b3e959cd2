"""The score distribution (``engine/histogram.py``) against independent counts of the same scores."""

import numpy as np
import pytest

from scslab import simulate
from scslab.compile import compile_plan
from scslab.engine.cpu import run_cpu
from scslab.engine.histogram import SNAPSHOTS, score_bins, snapshot_days
from scslab.scenarios import load_scenario

# press-2018 with tier thresholds on multiples of the bin width (20 for bounds 0..1300), so every bin lies
# inside one tier and the histogram's tier totals must equal the tier counts the engines keep incrementally
ALIGNED = {"score.tiers.AAA": 1060, "score.tiers.AA": 1040, "score.tiers.B": 840}


def test_snapshot_days_and_bins():
    assert list(snapshot_days(20, 7)) == [0, 7, 14, 19] and list(snapshot_days(15, 7)) == [0, 7, 14]
    assert list(snapshot_days(20)) == [*range(0, 20, 2), 19]  # by default about SNAPSHOTS a run
    assert list(snapshot_days(365)) == [*range(0, 365, 31), 364] and SNAPSHOTS == 12
    plan = compile_plan(load_scenario("press-2018", ALIGNED), size=64, days=3)
    assert score_bins(plan) == (0, 20, 66)


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_histogram_tier_totals_equal_the_tier_counts(engine):
    """In the lazy engine idle recovering agents hold a deferred (virtual) score: the histogram must add
    their earned recovery steps to agree with the tier counts, which the engine keeps on every change."""
    result = simulate("press-2018", population=20_000, days=150, seed=5,
                      overrides={**ALIGNED, "run.score_every_days": 5},
                      engine=engine)
    m = result.metrics
    tiers = result.manifest["scenario"]["score"]["tiers"]
    bins = m[m["metric"].str.startswith("score:")].copy()
    bins["low"] = bins["metric"].str.slice(6).str.split("..", regex=False).str[0].astype(int)
    recovering = result.series("recovering")
    assert recovering.sum() > 1000  # recovery (deferred in the lazy engine) really happens
    for day, snap in bins.groupby("day"):
        tier_of_bin = np.array([next(t for t, low in tiers.items() if lo >= low) for lo in snap["low"]])
        from_hist = {t: int(snap["value"][tier_of_bin == t].sum()) for t in tiers}
        kept = {t: int(m[(m["day"] == day) & (m["metric"] == f"tier:{t}") & (m["group"] == "all")]["value"].iloc[0])
                for t in tiers}
        assert from_hist == kept, f"day {day}"
    assert bins["day"].nunique() == len(snapshot_days(150, 5)) == 31  # 0, 5, ..., 145 and 149


def test_dense_last_snapshot_is_the_final_score_column():
    plan = compile_plan(load_scenario("bench-v1"), size=5_000, days=30, seed=2)
    raw = run_cpu(plan)
    low, width, n = score_bins(plan)
    expected = np.bincount((raw.columns.score.astype(np.int64) - low) // width, minlength=n)
    assert np.array_equal(raw.score_hist[-1], expected) and raw.score_hist[-1].sum() == 5_000
