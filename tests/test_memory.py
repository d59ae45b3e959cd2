"""The memory estimate against reality: within 20 % of the measured peak RSS (slow: whole runs in subprocesses)."""

import pytest

from benchmarks.memory import measure


@pytest.mark.slow
@pytest.mark.parametrize("preset,agents", [("bench-v1", 1_000), ("bench-v1", 5_000_000), ("press-2018", 3_000_000),
                                           ("court-defaulters-national", 2_000_000), ("jinan-dog-points", 1_000_000)])
def test_estimate_within_20_percent_of_peak_rss(preset, agents):
    row = measure(preset, agents, 365)
    assert 0.8 <= row["ratio"] <= 1.2, row
