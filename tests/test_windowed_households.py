"""Households on the windowed scheduler: children neither act nor lose points (a tie who is a child loses
nothing), keep the base score, and count in every level metric as the day routes count them
(``engine/windowed``). Penalties within a household and sanctions passed to children are other features
(``household-penalties``: ``test_windowed_ties.py``; ``children-sanctions``, still run day by day)."""

from __future__ import annotations

import numpy as np

from scslab.encodings import REL
import pytest
from test_windowed import HARSH, NO_ACTS, _agreeing, _plan, _z, one_agent

from scslab import simulate
from scslab.engine.histogram import score_bins
from scslab.engine.routes import choose_route
from scslab.engine.windowed.agent import NEVER, UNLISTED, agent
from scslab.engine.windowed.draws import is_child
from scslab.engine.windowed.totals import window_arrays
from scslab.engine.windowed.model import SC

# a third of the people in households of one, the rest in households of two and four, 30 % children
HOUSEHOLDS = {"population.households": {"sizes": {"1": 0.3, "2": 0.3, "4": 0.4}, "child_share": 0.3}}


@pytest.mark.parametrize("base", [550, 700])
def test_households_without_acts_are_exact(base):
    """No acts: from 550 everyone, children too, is listed on day 0 and leaves after 180 days (sanctioned only
    by ties); from 700 everyone recovers across tiers. Metrics and stories (a child among the story agents)
    equal the dense engine's, value by value, across two windows."""
    over = {**NO_ACTS, "score.base": base, **HOUSEHOLDS}
    dense = simulate("bench-v1", population=3_000, days=400, seed=4, overrides=over, engine="dense")
    windowed = simulate("bench-v1", population=3_000, days=400, seed=4, overrides=over, engine="windowed")
    assert "child" in windowed.manifest["story_roles"].values()
    assert windowed.metrics.equals(dense.metrics)
    assert windowed.stories.equals(dense.stories)


def test_households_agree_with_days():
    """Harsh bench-v1 with households over two windows: every metric's run summary has the same mean by windows
    and by days (10 seeds each). Children act less than nobody: the acts per person fall by their share."""
    assert choose_route(_plan(1_000, 30, 1, {**HARSH, **HOUSEHOLDS})) == "windowed"
    names, z, days, windows = _z({**HARSH, **HOUSEHOLDS}, 4_000, 420, range(1, 11))
    reached = _agreeing(names, z, days, windows)
    assert reached["listed:blacklist"] > 50 and reached["sanctioned_by_ties"] > 5
    assert reached["network_penalties"] > 100


def test_a_child_does_nothing_and_loses_nothing():
    """Agent by agent, the kernel's window of a child, with a network penalty coming in on every day, leaves it
    at the base score with no act and no metric change but its start in a snapshot bin; an adult's with the
    same penalties coming in loses points."""
    W, seed = 200, 4
    plan = _plan(5_000, W, seed, {**HARSH, **HOUSEHOLDS})
    m, M, _ = one_agent(plan, W, seed)
    ids = np.arange(4096)
    child = np.array([is_child(int(i), M) for i in ids])
    assert 0.2 < child.mean() < 0.4 and np.array_equal(child, plan.hh_adult == 0)
    friend = int(M.kind_of[0, REL.FRIENDS])  # a friend's penalty for the first network behaviour
    assert friend >= 0
    inc = (np.arange(W, dtype=np.int64) << 4) | friend  # ... on every day (``draws.inc_code``)
    base = m.scalars[SC.BASE]
    for i in ids[:200]:
        D = window_arrays(len(plan.class_names), W, len(plan.tier_names), len(plan.behaviour_names), 0,
                           score_bins(plan)[2], len(m.lists), False)
        out, bo, bc = np.empty(64, np.int64), np.empty(6, np.uint64), np.empty(6, np.uint64)
        no, K, s, lo, bl, _, _ = agent(int(i), 0, W, 2, base, NEVER, UNLISTED, inc, np.int64(W), M, True,
                                            np.int64(1), D, np.int64(0), out, bo, bc, None)
        if child[i]:
            assert (no, K, s, lo, bl) == (0, 0, base, NEVER, UNLISTED)
            assert all(d.sum() == 0 for k, d in enumerate(D) if k != 7) and D[7].sum() == 1  # 7: the snapshots
        else:
            assert s < base and D[6].sum() == W  # 6: the network penalties received
