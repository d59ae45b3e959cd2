"""Ties' penalties on the windowed scheduler: several behaviours whose detection costs ties points, household
members who lose points for an adult's act, and ties' points that a timeline changes (``network-penalties``,
``household-penalties``, ``network-timeline``), held to the day routes in law, to the day-by-day replay agent
by agent, and to the fixed point of the corrections."""

from __future__ import annotations

import numpy as np
import pytest
from test_windowed import HARSH, _agreeing, _plan, _z, one_agent
from test_windowed_households import HOUSEHOLDS

import scslab
from scslab.compile import SE
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.engine.windowed import run_windowed
from scslab.scenarios import load_scenario

# harsh bench-v1 in households, where smoking on trains costs each friend 150 points and each household member
# 250, and criticism each household member 300 besides its friends' 400; from day 200 on criticism costs
# friends 600 and smoking costs the household nothing
TIES = {**HARSH, **HOUSEHOLDS, "behaviours.smoking_on_train.network.friends": -150,
        "behaviours.smoking_on_train.network.household": -250,
        "behaviours.criticize_government.network.household": -300,
        "timeline": [{"day": 200, "set": {"behaviours.criticize_government.network.friends": -600,
                                          "behaviours.smoking_on_train.network.household": 0}}]}


def test_the_ties_scheme_uses_the_features_and_goes_by_windows():
    plan = _plan(1_000, 300, 1, TIES)
    assert {"network-penalties", "household-penalties", "network-timeline"} <= set(uses(plan))
    assert "timeline" not in uses(plan)  # only ties' points change
    assert choose_route(plan) == "windowed"
    other = _plan(1_000, 300, 1, {**TIES, "timeline": [{"day": 200, "set": {"score.recovery.up_to": 990}}]})
    assert "timeline" in uses(other) and choose_route(other) == "lazy"


def test_ties_agree_with_days():
    """Over two windows (the timeline's change inside the first): every metric's run summary has the same mean
    by windows and by days (10 seeds each), with penalties through ties and people sanctioned only through
    them reached."""
    names, z, days, windows = _z(TIES, 4_000, 420, range(1, 11))
    reached = _agreeing(names, z, days, windows)
    assert reached["network_penalties"] > 300 and reached["sanctioned_by_ties"] > 5
    assert reached["acts:smoking_on_train"] > 20


def test_corrections_reach_the_fixed_point_with_every_kind_of_tie():
    """A plain sweep from each window's start with the final lists finds nothing to change, corrections were
    needed, and 300 story agents' day-by-day replays end where the sweep does (checked by the driver)."""
    plan = _plan(20_000, 500, 3, {**TIES, "run.story_agents": 300})
    stats = {}
    raw = run_windowed(plan, stats=stats, verify=True)
    assert stats["verify_diff"] == 0 and sum(stats["corrected"]) > 0 and len(stats["corrected"]) >= 2
    net = raw.counts[:, plan.metric_names.index("network_penalties")].sum()
    assert net > 1_000


def test_each_agents_window_with_ties_penalties_is_its_replay():
    """Agent by agent, with penalties of every kind coming in on random days (both network behaviours, from a
    friend and from a household member, before and after the timeline's change), the kernel's end state, its
    network acts kept (behaviour and day) and its penalties received are the day-by-day replay's."""
    from scslab.engine.windowed.agent import NEVER, agent, listed_day, with_listed
    from scslab.engine.windowed.totals import window_arrays
    from scslab.engine.windowed.model import LS, SC
    from scslab.engine.windowed.replay import replay, undetected_keys
    from scslab.engine.histogram import score_bins

    W, seed = 300, 4
    plan = _plan(5_000, W, seed, {**TIES, "behaviours.smoking_on_train.rate.compliant": 0.01})
    m, M, _ = one_agent(plan, W, seed)
    assert len(m.nets) == 2 and len(m.kinds) == 4 and M.house is not None
    assert M.ties[199].tolist() != M.ties[200].tolist()  # the timeline's change, inside the window
    NB, C = len(plan.behaviour_names), len(plan.class_names)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    ukeys = undetected_keys(seed, 0, W, NB)
    rng = np.random.default_rng(3)
    lines = m.lists[0, [LS.ENTER, LS.LEAVE]]
    seen = {"kept": 0, "both": 0, "penalties": 0, "dropped": 0}
    for i in rng.choice(plan.size, 300, replace=False):
        cls = int(rng.integers(C))
        s0 = int(np.clip(rng.choice(lines) + rng.integers(-60, 200), low, high))
        lo0 = -int(rng.integers(0, 60)) if rng.random() < 0.7 else NEVER
        on0 = -int(rng.integers(1, 200)) if rng.random() < 0.3 else NEVER
        k = int(rng.integers(0, 12))
        inc = np.sort((rng.integers(0, W, k) << 4) | rng.integers(0, len(m.kinds), k)).astype(np.int64)
        D = window_arrays(C, W, len(plan.tier_names), NB, 0, score_bins(plan)[2], len(m.lists), False)
        out, bo, bc = np.empty(64, np.int64), np.empty(6, np.uint64), np.empty(6, np.uint64)
        got = agent(int(i), 0, W, cls, s0, lo0, np.int64(with_listed(0, 0, on0)), inc, np.int64(k), M, True,
                         np.int64(1), D, np.int64(0), out, bo, bc, None)
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            r = replay(int(i), 0, W, cls, s0, lo0, (on0,), inc, M, m.und[cls], ukeys)
        assert r["state"] == (got[2], got[3], (listed_day(got[4], 0),)), (i, s0, lo0, on0, inc)
        assert out[:got[0]].tolist() == r["kept"], i  # (day << 3 | j) of each network act kept
        received = [row for row in r["rows"] if row[3] == SE.network_penalty]
        child = M.adult[int(i) & (len(M.adult) - 1)] == 0
        assert D[6][0, cls].sum() == len(received) == (0 if child else k), i
        assert sum(row[5] for row in received) == sum(int(M.ties[c >> 4, c & 15]) for c in inc) * (not child)
        seen["kept"] += got[0]
        seen["both"] += len({c & 7 for c in r["kept"]}) == 2
        seen["penalties"] += len(received)
        seen["dropped"] += got[1] - got[0]
    assert seen["kept"] > 30 and seen["both"] > 3 and seen["penalties"] > 500 and seen["dropped"] > 3, seen


@pytest.fixture(scope="module")
def everyone():
    """The ties scheme, every person a story agent, by windows."""
    scheme = load_scenario("bench-v1", {**TIES, "run.story_agents": 2_000})
    return scslab.simulate(scheme, population=2_000, days=300, seed=4, engine="windowed")


def test_penalties_name_the_tie_and_its_act(everyone):
    """Every network-penalty row names a friend or household member (by its kind) whose act of that behaviour was detected
    that day, with the points the day's rules give that kind of tie (the timeline's change included)."""
    st = everyone.stories
    net = st[st["event"] == "network_penalty"]
    parsed = net["reason"].str.extract(r"^(friend|partner|parent|child|household member) (\d+) was caught for (\w+):")
    assert parsed.notna().all().all() and set(parsed[0]) == {"friend", "partner", "parent", "child", "household member"}
    parsed[0] = parsed[0].where(parsed[0] == "friend", "household member")  # (one number for every household kind)
    assert set(parsed[2]) == {"smoking_on_train", "criticize_government"}
    acts = st[st["event"] == "act_detected"]
    done = set(zip(acts["day"], acts["agent"], acts["behaviour"]))
    for day, tie, behaviour in zip(net["day"], parsed[1].astype(int), net["behaviour"]):
        assert (day, tie, behaviour) in done
    points = {("friend", "criticize_government"): (-400, -600), ("household member", "criticize_government"): (-300, -300),
              ("friend", "smoking_on_train"): (-150, -150), ("household member", "smoking_on_train"): (-250, None)}
    for rel, behaviour, day, p in zip(parsed[0], parsed[2], net["day"], net["points"]):
        assert p == points[rel, behaviour][day >= 200], (rel, behaviour, day, p)
    assert everyone.manifest["route"] == "windowed"


def test_a_senders_guess_is_its_window_run_without_penalties():
    """``agent.guess``: where it does not run the sender's window (it returns which detected network acts it
    keeps), they are those of that run, from start states near the deterrence line too. On press-2018 (a
    day with other acts may lose up to 200 points, four times the margin from the start score to the line,
    and rewards of up to 30 points lead to its red list) the bound from the points of the events each day
    draws spares most senders the run: six in ten guesses from the start score return without one (nine in
    ten before the preset had rewards that reach the red list within a year)."""
    from scslab.compile import compile_plan
    from scslab.engine.windowed.agent import UNLISTED, agent, guess
    from scslab.engine.windowed.draws import crit_count
    from scslab.engine.windowed.incoming import no_metrics
    from scslab.engine.windowed.model import SC

    W = 365
    plan = compile_plan(load_scenario("press-2018"), size=200_000)
    m, M, _ = one_agent(plan, W, plan.seed)
    base, guard, C = int(m.scalars[SC.BASE]), int(m.scalars[SC.GUARD]), len(M.first)
    z1, D0, zero = np.zeros(1, np.int64), no_metrics(), np.int64(0)
    out, out2 = np.empty(64, np.int64), np.empty(64, np.int64)
    bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
    rng = np.random.default_rng(3)
    fresh = {"guesses": 0, "kept": 0}
    compared = 0
    for i in range(plan.size):
        cls = i % C
        if crit_count(i, cls, M) == 0:
            continue
        near = rng.random() < 0.3  # a start score near the line, with a recent offence
        s0 = np.int64(guard + int(rng.integers(0, 160)) if near else base)
        lo0 = np.int64(-int(rng.integers(1, 60)) if near else -32768)
        g, K, mask = guess(np.int64(i), zero, np.int64(W), np.int64(cls), s0, lo0, np.int64(UNLISTED), M, out, bo,
                           bc, z1, D0, None)
        if not near:
            fresh["guesses"] += 1
            fresh["kept"] += mask >= 0
        if mask < 0:
            continue
        run = agent(np.int64(i), zero, np.int64(W), np.int64(cls), s0, lo0, np.int64(UNLISTED), z1, zero, M,
                    np.bool_(False), zero, D0, zero, out2, bo, bc, None)
        assert run[:2] == (g, K), (i, s0, lo0)
        assert (out[:g] == out2[:g]).all(), (i, s0, lo0)
        compared += 1
    assert compared > 1_000
    assert fresh["kept"] > 0.55 * fresh["guesses"], fresh
