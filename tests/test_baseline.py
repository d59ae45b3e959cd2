"""Every engine's results are pinned: the digests of its raw run arrays equal ``baseline.json``.

A change of engine results is made on purpose, in a commit of its own that says why, with the file refreshed
by ``python tests/baseline.py --refresh`` (see ``baseline.py``)."""

import json

import pytest

from baseline import FILE, SEEDS, SIZES, case_digests

pytestmark = pytest.mark.determinism

PINNED = json.loads(FILE.read_text())


def test_baseline_covers_every_preset_and_seed():
    from scslab.scenarios.load import preset_names

    assert set(preset_names()) <= set(PINNED)
    assert all(set(PINNED[case]) == {str(s) for s in SEEDS} for case in PINNED)
    assert set(PINNED) == set(SIZES)


@pytest.mark.parametrize("case", sorted(SIZES))
def test_engine_results_are_as_pinned(case):
    for seed in SEEDS:
        now = case_digests(case, seed)
        assert now == PINNED[case][str(seed)], (
            f"{case}, seed {seed}: the engine's results changed. If that is intended, refresh the baseline "
            "(python tests/baseline.py --refresh) in a commit of its own that says why")
