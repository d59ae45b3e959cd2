"""The memory estimate against reality: within 20 % of the measured peak RSS (slow: whole runs in subprocesses)."""

import pytest

from benchmarks.memory import measure


@pytest.mark.slow
@pytest.mark.parametrize("preset,agents", [("bench-v1", 1_000), ("bench-v1", 5_000_000), ("press-2018", 3_000_000),
                                           ("court-defaulters-national", 2_000_000), ("jinan-dog-points", 1_000_000)])
def test_estimate_within_20_percent_of_peak_rss(preset, agents):
    row = measure(preset, agents, 365)
    assert 0.8 <= row["ratio"] <= 1.2, row


@pytest.mark.slow
@pytest.mark.parametrize("case", ["cells-1020-lazy", "cells-1020-dense", "stories-busy", "stories-usual"])
def test_estimate_within_20_percent_with_many_cells_or_story_logs(case):
    """The inputs besides agents that scale memory: the cells (regions x classes x groups, at the schema's
    bound) and the story logs of many citizens of a busy scheme."""
    from benchmarks.memory import STRESS

    preset, agents, days, overrides, engine = STRESS[case]
    row = measure(preset, agents, days, overrides(), engine)
    assert 0.8 <= row["ratio"] <= 1.2, row
