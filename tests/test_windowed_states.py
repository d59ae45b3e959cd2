"""Act rates that depend on sanctions on the windowed scheduler (``deterrence-by-state``): a day's state is its
side of the deterrence line and whether it starts under a sanction (``model.state_codes``), each state with
its own rates; the people in each state, counted from the agents' state changes, draw the undetected acts.
Held to the day routes in law and to the day-by-day replay agent by agent."""

from __future__ import annotations

import numpy as np
from test_windowed import HARSH, _agreeing, _plan, _z, one_agent
from test_windowed_households import HOUSEHOLDS

from scslab.compile import SE
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.engine.windowed import run_windowed

# harsh bench-v1 in households, where a sanction halves jaywalking, cuts criticism (whose detection costs friends
# points) to 30 % and late payment to 20 %; sanctions follow the blacklist (left after 300 days at the
# earliest, so people recover above the deterrence line while on it) and tier B (above the line)
STATES = {**HARSH, **HOUSEHOLDS, "behaviours.jaywalking.deterrence.when_sanctioned": 0.5,
          "behaviours.criticize_government.deterrence.when_sanctioned": 0.3,
          "behaviours.late_payment.deterrence.when_sanctioned": 0.2,
          "lists.blacklist.min_days": 300,
          "consequences.loan_denial": {"on": ["tiers.B"], "attempts_per_day": 0.01,
                                       "description": "loans refused in tier B"}}


def test_the_scheme_has_four_states_and_goes_by_windows():
    from scslab.engine.windowed.model import model_of, state_codes

    plan = _plan(1_000, 300, 1, STATES)
    assert "deterrence-by-state" in uses(plan) and choose_route(plan) == "windowed"
    m = model_of(plan)
    assert state_codes(plan) == [1, 4 * 8 + 1, 4 + 1, 4 * 8 + 4 + 1] and m.keep.shape == (len(plan.behaviour_names), 4)
    jay = plan.behaviour_names.index("jaywalking")
    assert np.allclose(m.keep[jay] / 2**32, [1.0, 0.5, 0.5, 0.25], atol=1e-9)  # deterred x0.5, sanctioned x0.5


def test_rates_by_state_agree_with_days():
    """Over two windows: every metric's run summary has the same mean by windows and by days (10 seeds each);
    people are sanctioned on both sides of the deterrence line."""
    names, z, days, windows = _z(STATES, 4_000, 420, range(1, 11))
    reached = _agreeing(names, z, days, windows)
    assert reached["listed:blacklist"] > 50 and reached["sanctioned:loan_denial"] > 100
    assert reached["acts:late_payment"] > 100


def test_each_agents_window_by_state_is_its_replay():
    """Agent by agent, from random start states around the lines (on the blacklist or not, in the sanctioned
    tiers or not), the kernel's end state, network acts kept, detected acts per day and state, and sanctioned
    people per side of the deterrence line (its changes) are the day-by-day replay's."""
    from scslab.engine.windowed.agent import NEVER, agent, listed_day, with_listed
    from scslab.engine.windowed.totals import window_arrays
    from scslab.engine.histogram import score_bins
    from scslab.engine.windowed.model import LS, SC
    from scslab.engine.windowed.replay import replay, undetected_keys

    W, seed = 300, 4
    plan = _plan(5_000, W, seed, STATES)
    m, M, _ = one_agent(plan, W, seed)
    NB, C = len(plan.behaviour_names), len(plan.class_names)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    ukeys = undetected_keys(seed, 0, W, NB)
    rng = np.random.default_rng(11)
    lines = [*m.lists[0, [LS.ENTER, LS.LEAVE]], m.scalars[SC.DETER], *m.mins]
    seen = np.zeros(4, np.int64)
    for i in rng.choice(plan.size, 300, replace=False):
        cls = int(rng.integers(C))
        s0 = int(np.clip(rng.choice(lines) + rng.integers(-80, 80), low, high))
        lo0 = -int(rng.integers(0, 60)) if rng.random() < 0.7 else NEVER
        on0 = -int(rng.integers(1, 250)) if rng.random() < 0.4 else NEVER
        D = window_arrays(C, W, len(plan.tier_names), NB, 0, score_bins(plan)[2], len(m.lists), False, 4)
        out, bo, bc = np.empty(64, np.int64), np.empty(6, np.uint64), np.empty(6, np.uint64)
        got = agent(int(i), 0, W, cls, s0, lo0, np.int64(with_listed(0, 0, on0)), np.zeros(1, np.int64),
                         np.int64(0), M, True, np.int64(1), D, np.int64(0), out, bo, bc, None)
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            r = replay(int(i), 0, W, cls, s0, lo0, (on0,), [], M, m.und[cls], ukeys)
        assert r["state"] == (got[2], got[3], (listed_day(got[4], 0),)), (i, s0, lo0, on0)
        assert out[:got[0]].tolist() == r["kept"], i
        acts = np.zeros((4, W + 1, NB), np.int64)
        for row in r["rows"]:
            if row[3] == SE.act_detected:
                acts[r["states"][row[2]], row[2], row[4] - 256] += 1
        assert (D[5][0, cls] == acts).all(), i
        # the sanctioned by side: the replay's states at the start of each day are the kernel's changes summed
        sanct = np.cumsum(D[11][0, cls], axis=1)   # [side, day]: at the end of each day, minus the start
        start = np.array(r["states"])
        on_start = np.zeros((2, W), np.int64)
        on_start[start[start >= 2] & 1, np.flatnonzero(start >= 2)] = 1
        first = np.zeros(2, np.int64)
        if start[0] >= 2:
            first[start[0] & 1] = 1
        assert (sanct[:, :W - 1] + first[:, None] == on_start[:, 1:]).all(), i
        seen += np.bincount(start, minlength=4)
    assert (seen > 500).all(), seen  # every state was run


def test_corrections_reach_the_fixed_point_by_state():
    """A plain sweep from each window's start with the final lists finds nothing to change, corrections were
    needed, and 300 story agents' day-by-day replays end where the sweep does (checked by the driver)."""
    plan = _plan(20_000, 500, 3, {**STATES, "run.story_agents": 300})
    stats = {}
    run_windowed(plan, stats=stats, verify=True)
    assert stats["verify_diff"] == 0 and sum(stats["corrected"]) > 0 and len(stats["corrected"]) >= 2
