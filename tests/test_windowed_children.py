"""Sanctions passed to children on the windowed scheduler (``children-sanctions``): a child is under them from
the day after an adult of its household is put on one of their lists until the day after the last such adult
leaves it, as in the day engines. A household lies within one block of the sweep, so its adults' windows
mark the days and its children count them; a correction runs whole households again."""

from __future__ import annotations

import numpy as np
import pytest
from test_windowed import HARSH, NO_ACTS, _agreeing, _plan, _z
from test_windowed_households import HOUSEHOLDS

from scslab import simulate
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.engine.windowed import run_windowed

# bench-v1 in households, where the blacklist bars its adults' children from good schools (with attempts)
SCHOOLS = {**HOUSEHOLDS, "consequences.school_ban": {"on": ["lists.blacklist"], "applies_to": "household.children",
                                                      "attempts_per_day": 0.05,
                                                      "description": "children barred from good schools"}}


def test_the_scheme_passes_sanctions_to_children_by_windows():
    plan = _plan(1_000, 300, 1, SCHOOLS)
    assert "children-sanctions" in uses(plan) and choose_route(plan) == "windowed"
    press = _plan(1_000, 365, 1, scenario="press-2018")
    assert choose_route(press) == "windowed"


@pytest.mark.parametrize("base", [550, 700])
def test_childrens_sanctions_without_acts_are_exact(base):
    """No acts: from 550 every adult is listed on day 0 and leaves after 180 days, so every child is under the
    sanction from day 1 to day 180 (from 700 nobody is); across two windows every metric but the attempts
    (counted in aggregate) and every story row (a child among the story agents, with its attempts) equal the
    dense engine's."""
    over = {**NO_ACTS, "score.base": base, **SCHOOLS}
    dense = simulate("bench-v1", population=3_000, days=400, seed=4, overrides=over, engine="dense")
    windowed = simulate("bench-v1", population=3_000, days=400, seed=4, overrides=over, engine="windowed")
    assert "child" in windowed.manifest["story_roles"].values()
    assert windowed.stories.equals(dense.stories)
    kept = ~windowed.metrics["metric"].str.startswith(("blocked:", "granted:"))
    assert windowed.metrics[kept].equals(dense.metrics[kept])
    under = windowed.series("sanctioned:school_ban")
    assert (under.iloc[181:] == 0).all() and (under.iloc[1:181] > 0).all() == (base == 550)
    if base == 550:
        assert windowed.series("blocked:school_ban").sum() > 1_000
        assert (windowed.stories["event"] == "attempt_blocked").sum() > 0


def test_childrens_sanctions_agree_with_days():
    """Harsh bench-v1 over two windows: every metric's run summary has the same mean by windows and by days
    (10 seeds each), with children under the sanction reached."""
    names, z, days, windows = _z({**HARSH, **SCHOOLS}, 4_000, 420, range(1, 11))
    reached = _agreeing(names, z, days, windows)
    assert reached["sanctioned:school_ban"] > 20 and reached["blocked:school_ban"] > 20


def test_corrections_reach_the_fixed_point_with_children():
    """A plain sweep from each window's start with the final lists finds nothing to change (the children's
    counts included), corrections were needed, and 300 story agents' replays end where the sweep does."""
    plan = _plan(20_000, 500, 3, {**HARSH, **SCHOOLS, "run.story_agents": 300})
    stats = {}
    raw = run_windowed(plan, stats=stats, verify=True)
    assert stats["verify_diff"] == 0 and sum(stats["corrected"]) > 0 and len(stats["corrected"]) >= 2
    k = plan.metric_names.index("sanctioned:school_ban")
    assert raw.counts[:, k].sum() > 1_000


def test_press_2018_by_windows_agrees_with_days():
    """press-2018 (every mechanism it has: a coverage ramp, several channels and network behaviours, household
    penalties, a step-up of friends' penalties inside its year, sanctions passed to children and rates by
    sanction) at 20,000 people for a year: the same means by windows and by days over 6 seeds each."""
    names, z, days, windows = _z({}, 20_000, 365, range(1, 7), scenario="press-2018")
    reached = _agreeing(names, z, days, windows)
    assert reached["network_penalties"] > 1_000 and reached["listed:blacklist"] > 1
    assert np.isfinite(list(reached.values())).all()


def test_work_items_rows_for_children_share_no_cache_line():
    """Every agent's run reads and writes its work item's row of the children's days (``D[13]``): two rows
    in use at once must not share a 64-byte cache line, whatever the array's alignment (the row's words, then
    at least 56 unused bytes)."""
    from scslab.engine.windowed.agent import KIDS
    from scslab.engine.windowed.totals import window_arrays

    rows = window_arrays(C=2, W=10, NT=3, NB=2, n_snaps=1, n_bins=4, NL=2, kids=True, rows=4)[13]
    assert rows.shape[0] == 4
    assert rows.strides[0] - KIDS * rows.itemsize >= 56
    for base in range(0, 64, 8):  # every 8-byte alignment: the lines of row r's words and of row r + 1's
        used = {(base + rows.strides[0] * r + rows.itemsize * w) // 64 for r in (0, 2) for w in range(KIDS)}
        other = {(base + rows.strides[0] * r + rows.itemsize * w) // 64 for r in (1, 3) for w in range(KIDS)}
        assert not used & other, base
