"""``quick`` is a shortcut of ``finish``: wherever it answers, the full end of day gives the same agent.

Both engines take ``quick`` for an agent whose end of day cannot change a level metric or a list (not BUSY,
empty inbox, its tier unchanged) and ``finish`` otherwise. Generated single agents, on presets with and
without lists, accounts and record retention, check the shortcut against the full function (uncompiled,
as written): same columns, same counts, same state code, no emitted record; and when ``quick`` declines
(returns -1) it has changed nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scslab.compile import FLAG, LIST, P, compile_plan
from scslab.engine.kernels import EMIT_WIDTH, NONE_DAY, build, emit_margin
from scslab.rng import day_keys
from scslab.scenarios import load_scenario

K = build(lambda f: f)  # the per-agent functions as plain Python
PRESETS = ["bench-v1", "press-2018", "jinan-dog-points", "rongcheng-2018", "court-defaulters-national"]
PLANS = {name: compile_plan(load_scenario(name), size=1000, days=60, seed=3) for name in PRESETS}
D = 40  # the day being finished
FLAG_BITS = [int(FLAG.ADULT), int(FLAG.HOLDER), int(FLAG.FALSE_MARK), int(FLAG.DEBT), int(FLAG.CONFISCATED),
             int(FLAG.CHILD_SANCTION), int(FLAG.STORY), int(FLAG.SANCTIONED)]


def _agent(plan, score, pending, last_off, flag_bits, inbox):
    """Columns of one agent whose state byte is what the engine would have cached for it: ``score`` >= 0
    picks any score in the scenario's range, ``score`` in [-80, 0) one within 40 points of the base."""
    ep = plan.epochs[0]
    prm = ep.prm
    lo, hi = int(prm[P.LO]), int(prm[P.HI])
    s = lo + score % (hi - lo + 1) if score >= 0 else min(max(int(prm[P.BASE]) + score + 40, lo), hi)
    f = 0
    for bit, on in zip(FLAG_BITS, flag_bits):
        f |= bit if on else 0
    tier = K.tier_of(np.int64(s), ep.tier_mins, prm[P.NT])
    cols = dict(score=np.array([s], np.int16), pending=np.array([pending], np.int16),
                last_off=np.array([last_off], np.int16), listed=np.full((plan.n_dated_lists, 1), NONE_DAY, np.int16),
                on_lists=np.zeros(1, np.uint8), traits=np.zeros(1, np.uint8), flags=np.array([f], np.uint8), inbox=np.array([inbox], np.uint8),
                acct=np.array([prm[P.ACCT_PTS]], np.uint8), strikes=np.zeros(1, np.uint8),
                outstanding=np.zeros(1, np.int16), acct_since=np.full(1, NONE_DAY, np.int16),
                ties=np.zeros(1, np.uint32), aware=np.zeros(1, np.uint8))
    cols["state"] = np.array([K.pack_state(tier, f, 0, np.int64(s), prm)], np.uint8)
    return cols


@settings(max_examples=500, deadline=None)
@given(name=st.sampled_from(PRESETS), score=st.one_of(st.integers(0, 10**6), st.integers(-80, -1)),
       pending=st.one_of(st.just(0), st.integers(-12, 12), st.integers(-80, 80)),
       last_off=st.one_of(st.just(NONE_DAY), st.integers(D - 45, D)),
       flag_bits=st.tuples(st.booleans(), st.booleans(), st.sampled_from([-1, -1, -1, -1, 2, 3, 4, 5, 6, 7])).map(
           lambda b: [b[0], b[1]] + [k == b[2] for k in range(2, 8)]),  # adult, holder, at most one other
       inbox=st.sampled_from([0] * 8 + [1, 64]), publish=st.booleans())
def test_quick_agrees_with_finish(name, score, pending, last_off, flag_bits, inbox, publish):
    plan = PLANS[name]
    ep = plan.epochs[0]
    prm = ep.prm
    lists = ep.lists.copy()
    lists[:, LIST.PHASE] = 0 if publish else 1
    kf = ks = day_keys(plan.seed, D)
    NM, NC = len(plan.metric_names), plan.n_cells
    before = _agent(plan, score, pending, last_off, flag_bits, inbox)
    short = {k: v.copy() for k, v in before.items()}
    full = {k: v.copy() for k, v in before.items()}
    cnt_q, cnt_f = np.zeros((NM, NC), np.int64), np.zeros((NM, NC), np.int64)
    plain = prm[P.HAS_OUTSTANDING] == 0 and prm[P.HAS_STRIKES] == 0
    code = K.quick(0, D, 0, short["score"], short["pending"], short["last_off"], short["inbox"], short["state"],
                   prm[P.REC_QUIET], prm[P.REC_PTS], prm[P.REC_UPTO], prm[P.LO], prm[P.HI], plain, ep.tier_mins,
                   cnt_q, prm[P.M_RECOVERED])
    if code < 0:  # declined: nothing changed
        assert all(np.array_equal(short[k], before[k]) for k in before)
        assert not cnt_q.any()
        return
    emit = np.zeros((emit_margin(prm) + 1, EMIT_WIDTH), np.int64)
    code_f, ne = K.finish(0, D, 0, full["score"], full["pending"], full["last_off"], full["listed"], full["on_lists"],
                          full["traits"],
                          full["flags"], full["inbox"], full["acct"], full["strikes"], full["outstanding"],
                          full["acct_since"], full["state"], full["ties"], full["aware"], prm, ep.tier_mins, lists,
                          ep.cons, kf, ks, cnt_f, emit, 0)
    assert code == code_f
    assert ne == 0
    for k in before:
        assert np.array_equal(short[k], full[k]), (k, short[k], full[k])
    assert np.array_equal(cnt_q, cnt_f)


@pytest.mark.parametrize("name", ["bench-v1", "press-2018", "jinan-dog-points", "rongcheng-2018"])  # scored
def test_quick_takes_pending_points_within_a_tier(name):
    """The shortcut is not vacuous: an idle adult at the base score with one point pending takes it where
    there is no record retention or escalation (and declines where there is), and declines when the pending
    points take it into another tier."""
    plan = PLANS[name]
    prm, mins = plan.epochs[0].prm, plan.epochs[0].tier_mins
    lo, base = int(prm[P.LO]), int(prm[P.BASE])
    plain = prm[P.HAS_OUTSTANDING] == 0 and prm[P.HAS_STRIKES] == 0
    tier = K.tier_of(np.int64(base), mins, prm[P.NT])
    assert not (int(prm[P.BUSY_TIERS]) >> tier) & 1  # the base tier neither lists nor sanctions
    drop = base - int(mins[tier]) + 1  # the points that take the base score one below its tier

    def quick(pts):
        a = _agent(plan, base - lo, pts, D, [True] + [False] * 7, 0)
        code0 = int(a["state"][0]) & 63
        cnt = np.zeros((len(plan.metric_names), plan.n_cells), np.int64)
        code = K.quick(0, D, 0, a["score"], a["pending"], a["last_off"], a["inbox"], a["state"], prm[P.REC_QUIET],
                       prm[P.REC_PTS], prm[P.REC_UPTO], prm[P.LO], prm[P.HI], plain, mins, cnt, prm[P.M_RECOVERED])
        return code, code0, int(a["score"][0]), int(a["pending"][0])

    code, code0, score, pending = quick(-1)
    if plain:
        assert (code, score, pending) == (code0, base - 1, 0)
    else:
        assert (code, score, pending) == (-1, base, -1)
    assert quick(-drop)[0] == -1
