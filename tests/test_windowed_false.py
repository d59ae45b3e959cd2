"""False attributions on the windowed scheduler: drawn with a day's detected acts, never deterred, each
taking its behaviour's points and leaving the agent carrying a false record for good (``engine/windowed``).

The kernel is held to the day-by-day replay agent by agent, and the route to the day routes in law; the
scheme of each test is ``false_scheme``: bench-v1 whose records channel matches wrongly, with criticism
(the behaviour that costs friends points) on a channel of its own that never does.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_windowed import CELLS, HARSH, _agreeing, _plan, _z, one_agent

from scslab.scenarios import load_scenario


def false_scheme(overrides=None, false_match=0.01, cells=False):
    """bench-v1 (with ``overrides``) whose records channel attributes acts falsely at ``false_match`` per act
    it could see (criticism moves to an online channel that never does); with ``cells``, two regions and two
    groups (``test_windowed.CELLS``), the minority matched wrongly 10 times as often as the majority."""
    d = load_scenario("bench-v1", {**(overrides or {}), **(CELLS if cells else {})}).model_dump(
        mode="json", exclude_none=True)
    d["channels"]["records"]["false_match"] = false_match
    d["channels"]["online"] = {"kind": "government", "coverage": 1.0, "detect": 1.0}
    d["behaviours"]["criticize_government"]["channels"] = ["online"]
    if cells:
        d["population"]["groups"]["minority"]["false_match_factor"] = 10.0
    return load_scenario(d)


def test_false_attributions_agree_with_days():
    """Harsh bench-v1 with false attributions, over two windows: every metric's run summary has the same mean by
    windows and by days (10 seeds each); false attributions, people carrying a false record and innocent
    people on the blacklist are reached."""
    names, z, days, windows = _z(None, 4_000, 420, range(1, 11), scenario=false_scheme(HARSH))
    reached = _agreeing(names, z, days, windows)
    assert reached["false:jaywalking"] > 10 and reached["carrying_false_record"] > 50
    assert reached["innocent_listed:blacklist"] > 10 and reached["listed:blacklist"] > 50


def test_false_attributions_agree_with_days_cell_by_cell():
    """The same in two regions and two groups, the minority matched wrongly 10 times as often: each metric in
    each of the 12 cells has the same mean by windows and by days (10 seeds each), and a minority cell carries
    more false records per person than its majority cell."""
    names, z, days, windows = _z(None, 6_000, 400, range(1, 11), scenario=false_scheme(HARSH, cells=True),
                                 by_cell=True)
    reached = _agreeing(names, z, days, windows)
    # cells: region-major, then class, then group (majority, minority): compliant, east; 70 % against 30 %
    assert reached["carrying_false_record@1"] > 2 * reached["carrying_false_record@0"] > 0


@pytest.mark.parametrize("d0", [0, 9])
def test_each_agents_false_records_are_its_replays(d0):
    """Agent by agent, from random start states near the blacklist's lines (some listed, some carrying a false
    record already), the kernel's end state and false record, and its writes for that agent alone, are the
    day-by-day replay's: false attributions per behaviour and day, the day it first carries a false record,
    and the innocent listed (on the list with a false record) changing on the days the replay's list and
    record change."""
    from scslab.compile import SE
    from scslab.engine.windowed.agent import MARKED, NEVER, listed_day, with_listed
    from scslab.engine.windowed.model import LS, SC
    from scslab.engine.windowed.replay import replay, undetected_keys

    W, seed = 200, 4
    plan = _plan(5_000, W, seed, scenario=false_scheme(HARSH, false_match=0.05))
    m, M, run = one_agent(plan, W, seed)
    assert len(m.fb) == m.scalars[SC.NACT] == 7  # every behaviour but criticism (on records), volunteering too
    NB, C = len(plan.behaviour_names), len(plan.class_names)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    ukeys = undetected_keys(seed, d0, W, NB)
    rng = np.random.default_rng(11)
    seen = {"false": 0, "marked": 0, "innocent": 0}
    lines = m.lists[0, [LS.ENTER, LS.LEAVE]]
    for i in rng.choice(plan.size, 300, replace=False):
        cls = int(rng.integers(C))
        s0 = int(np.clip(rng.choice(lines) + rng.integers(-60, 40), low, high))
        lo0 = d0 - int(rng.integers(0, 60)) if rng.random() < 0.7 else NEVER
        on0 = d0 - int(rng.integers(1, 200)) if rng.random() < 0.5 else NEVER
        mk0 = bool(rng.random() < 0.3)
        packed = with_listed(0, 0, on0) | (MARKED if mk0 else 0)
        got, D = run(i, d0, cls, s0, lo0, packed)
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            r = replay(int(i), d0, W, cls, s0, lo0, (on0,), [], M, m.und[cls], ukeys, marked=mk0)
        assert r["state"] == (got[2], got[3], (listed_day(got[4], 0),)), (i, s0, lo0, on0, mk0)
        assert r["marked"] == bool(got[4] & MARKED), (i, mk0)
        # the replay's day by day: false attributions, carrying a record and being listed at each day's end
        false = np.zeros((W + 1, NB), np.int64)
        marked, listed = np.full(W + 1, mk0), np.full(W + 1, on0 != NEVER)
        for row in r["rows"]:
            d = row[2] - d0
            if row[3] == SE.false_attribution:
                false[d, row[4]] += 1
                marked[d:] = True
            elif row[3] in (SE.list_enter, SE.list_exit):
                listed[d:] = row[3] == SE.list_enter
        innocent = np.r_[mk0 and on0 != NEVER, marked[:W] & listed[:W]].astype(np.int64)
        assert (D[5][0, cls].sum(axis=0)[:, NB:] == false).all(), i
        assert (np.flatnonzero(D[9][0, cls]) == np.flatnonzero(np.diff(np.r_[mk0, marked[:W]]))).all(), i
        assert (D[10][0, cls, 0, :W] == np.diff(innocent)).all() and D[10][0, cls, 0, W] == 0, i
        seen["false"] += int(false.sum())
        seen["marked"] += int(D[9].sum())
        seen["innocent"] += int(np.abs(D[10]).sum())
    assert min(seen.values()) > 20, seen  # every write was tested on agents that make it


def test_false_records_resume_bit_for_bit(tmp_path):
    """Harsh bench-v1 with false attributions, 800 days in windows of 365: a run that crashes after the first
    window end resumes from its checkpoint (no checkpoint skipped as unreadable) and ends with the bytes of a
    run never stopped; false records carried from one window into the next are in the checkpoint."""
    whole = resumes_bit_for_bit(false_scheme(HARSH), tmp_path)
    carrying = whole.series("carrying_false_record")
    assert whole.manifest["route"] == "windowed" and carrying.iloc[364] > 10 and carrying.iloc[-1] > carrying.iloc[364]


def resumes_bit_for_bit(scheme, tmp_path):
    """Run ``scheme`` (3,000 agents x 800 days, windows of 365) whole, and again crashing on day 500 after its
    checkpoint at the first window end (none skipped as unreadable) and resumed: the same bytes. Returns the
    whole run."""
    import warnings

    from test_resume import Crash, crash_on, hashes

    from scslab import resume, run
    from scslab.output.checkpoint import list_checkpoints

    kw = {"population": 3_000, "days": 800, "seed": 6}
    warnings.simplefilter("error", RuntimeWarning)  # a checkpoint skipped would start the run again
    whole = run(scheme, tmp_path / "whole", **kw)
    out = tmp_path / "run"
    with pytest.raises(Crash):
        run(scheme, out, checkpoint_every=100, progress=crash_on(500), **kw)
    assert [p.name for p in list_checkpoints(out)] == ["pass-000365.npz"]
    assert resume(out).manifest["status"] == "complete"
    assert hashes(out) == hashes(tmp_path / "whole")
    return whole
