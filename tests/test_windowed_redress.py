"""Redress on the windowed scheduler (``engine/windowed/redress.py``): a contested false record is removed
``delay`` days later, its points refunded and the mark cleared; refunds that fall after a window are carried
into the next one (and into its checkpoint).

The kernel is held to the day-by-day replay agent by agent, and the route to the day routes in law; the
scheme of each test is ``redress_scheme``: harsh bench-v1 with false attributions (``test_windowed_false``)
and redress.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_windowed import HARSH, _agreeing, _plan, _z, one_agent
from test_windowed_false import false_scheme, resumes_bit_for_bit

from scslab.compile import P
from scslab.engine.routes import choose_route
from scslab.scenarios import load_scenario


def redress_scheme(contest=0.5, delay=30, false_match=0.02):
    """Harsh bench-v1 whose records channel attributes acts falsely, a record contested with chance ``contest``
    and removed ``delay`` days later."""
    d = false_scheme(HARSH, false_match=false_match).model_dump(mode="json", exclude_none=True)
    d["redress"] = {"contest_probability": contest, "delay_days": delay}
    return load_scenario(d)


@pytest.mark.parametrize("delay, days", [(30, 420), (200, 500)], ids=["30-days", "longer-than-a-window"])
def test_redress_agrees_with_days(delay, days):
    """Over two windows, with a delay of 30 days and one longer than a window can carry in one step (refunds
    carried twice): every metric's run summary has the same mean by windows and by days (10 seeds each), and
    records are removed."""
    scheme = redress_scheme(delay=delay)
    assert choose_route(_plan(1_000, days, 1, scenario=scheme)) == "windowed"
    names, z, by_days, windows = _z(None, 4_000, days, range(1, 11), scenario=scheme)
    reached = _agreeing(names, z, by_days, windows)
    assert reached["redressed"] > 20 and reached["carrying_false_record"] > 20


def test_each_agents_refunds_are_its_replays():
    """Agent by agent, from random start states (some carrying a false record, some with refunds carried into
    the window), the kernel's end state, its false record, and the records it removes per day (its writes for
    that agent alone) are the day-by-day replay's."""
    from scslab.compile import SE
    from scslab.engine.windowed.agent import MARKED, NEVER, agent, listed_day, with_listed
    from scslab.engine.windowed.totals import window_arrays
    from scslab.engine.windowed.model import LS, SC
    from scslab.engine.windowed.redress import for_work_item, redress_of
    from scslab.engine.windowed.replay import replay, undetected_keys
    from scslab.engine.histogram import score_bins

    W, seed, d0 = 200, 4, 0
    plan = _plan(5_000, W, seed, scenario=redress_scheme(delay=20, false_match=0.05))
    m, M, _ = one_agent(plan, W, seed)
    prm = plan.epochs[0].prm
    NB, C = len(plan.behaviour_names), len(plan.class_names)
    rng = np.random.default_rng(3)
    ids = np.sort(rng.choice(plan.size, 300, replace=False))
    # refunds carried into the window for a third of them: a day within it and a behaviour with false records
    carried = [(int(i), int(rng.integers(0, W + 30)), int(rng.choice(m.fb))) for i in ids if rng.random() < 0.3]
    carried.sort()
    table = tuple(np.array([c[k] for c in carried], np.int64) for k in range(3))
    R = for_work_item(redress_of(int(prm[P.CONTEST_T]), int(prm[P.REDRESS_DELAY]), plan.size, plan.n_cells, W, table))
    ukeys = undetected_keys(seed, d0, W, NB)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    lines = m.lists[0, [LS.ENTER, LS.LEAVE]]
    seen = {"removed": 0, "carried": 0, "cleared": 0}
    for i in ids:
        cls = int(rng.integers(C))
        s0 = int(np.clip(rng.choice(lines) + rng.integers(-60, 40), low, high))
        lo0 = -int(rng.integers(0, 60)) if rng.random() < 0.7 else NEVER
        on0 = -int(rng.integers(1, 200)) if rng.random() < 0.5 else NEVER
        mk0 = bool(rng.random() < 0.5)
        packed = with_listed(0, 0, on0) | (MARKED if mk0 else 0)
        D = window_arrays(C, W, len(plan.tier_names), NB, 0, score_bins(plan)[2], len(m.lists), True)
        R.red[:] = 0
        out, bo, bc = np.empty(64, np.int64), np.empty(6, np.uint64), np.empty(6, np.uint64)
        got = agent(int(i), d0, W, cls, s0, lo0, np.int64(packed), np.zeros(1, np.int64), np.int64(0), M, True,
                         np.int64(1), D, np.int64(0), out, bo, bc, R)
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            r = replay(int(i), d0, W, cls, s0, lo0, (on0,), [], M, m.und[cls], ukeys, marked=mk0, redress=R)
        assert r["state"] == (got[2], got[3], (listed_day(got[4], 0),)), (i, s0, lo0, on0, mk0)
        assert r["marked"] == bool(got[4] & MARKED), i
        removed = np.zeros(W + 1, np.int64)
        for row in r["rows"]:
            if row[3] == SE.redress:
                removed[row[2] - d0] += 1
                assert row[5] == -m.points[row[4]]  # the points back
        assert (R.red[0, cls] == removed).all(), i
        seen["removed"] += int(removed.sum())
        seen["carried"] += sum(1 for a, day, _ in carried if a == i and day < W)
        seen["cleared"] += int(mk0 and not r["marked"])
    assert seen["removed"] > 30 and seen["carried"] > 30 and seen["cleared"] > 10, seen


def test_corrections_reach_the_fixed_point_with_redress():
    """The corrected run of every window equals one plain sweep with the final lists, refunds included."""
    from scslab.engine.windowed import run_windowed

    st = {}
    run_windowed(_plan(8_000, 420, 5, scenario=redress_scheme()), stats=st, verify=True)
    assert st["verify_diff"] == 0 and sum(st["corrected"]) > 0


def test_refunds_carried_resume_bit_for_bit(tmp_path):
    """A run that crashes after the first window end resumes from its checkpoint, whose refunds carried into
    the next window are in it, and ends with the bytes of a run never stopped."""
    whole = resumes_bit_for_bit(redress_scheme(delay=60), tmp_path)
    assert whole.manifest["route"] == "windowed" and whole.series("redressed").iloc[365:425].sum() > 0
