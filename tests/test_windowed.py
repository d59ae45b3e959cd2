"""The lazy engine's windowed route (``engine/windowed``): same law as the day routes, exact where the model is
deterministic, the fixed point of the network penalties reached, its kernel held to a day-by-day replay.

``test_reference.py`` runs bench-v1 with ``engine="windowed"`` against the reference, ``test_baseline.py``
pins its results. This file adds what only the
route needs: harsh variants that reach the list and the people sanctioned through their ties, several windows,
threads and the friends (``test_routes.py``: the scenarios it must refuse, by feature).
"""

from __future__ import annotations

from types import SimpleNamespace

import numba
import numpy as np
import pytest
from agreement import Z_MAX, summaries

from scslab import population, simulate
from scslab.compile import compile_plan
from scslab.engine.cpu import run_cpu
from scslab.engine.histogram import run_snapshot_days, score_bins
from scslab.engine.windowed import run_windowed
from scslab.scenarios import load_scenario

BEHAVIOURS = ("jaywalking", "late_payment", "smoking_on_train", "traffic_violation", "excess_alcohol", "long_gaming",
              "criticize_government", "volunteering")
NO_ACTS = {f"behaviours.{b}.rate.{c}": 0.0 for b in BEHAVIOURS for c in ("compliant", "average", "risky")}
# every own penalty 8 times harsher (tiers C and D, the blacklist entered and left after 180 days), and a
# friend's criticism costing 400 points (people listed only because of their ties)
HARSH = {**{f"behaviours.{b}.points": p * 8 for b, p in zip(BEHAVIOURS, (-5, -10, -10, -10, -5, -3, -20))},
         "behaviours.criticize_government.network.friends": -400}


def _plan(n, days, seed, overrides=None, scenario="bench-v1"):
    return compile_plan(load_scenario(scenario, overrides or {}), size=n, days=days, seed=seed)


def only_network_behaviour():
    """bench-v1 with one behaviour, criticism, which costs its author 160 points and each friend 400: no
    behaviour is left without a network penalty."""
    s = load_scenario("bench-v1")
    crit = s.behaviours["criticize_government"]
    crit = crit.model_copy(update={"points": -160, "network": crit.network.model_copy(update={"friends": -400})})
    return s.model_copy(update={"behaviours": {"criticize_government": crit}})


@pytest.mark.parametrize("base", [700, 550, 1040])
@pytest.mark.parametrize("step, every", [(1, 1), (7, 1), (3, 30)])
def test_deterministic_runs_are_exact(base, step, every):
    """No acts: recovery (``step`` points a day) from 700 across tiers C, B and A; from 550, listed on day 0 and
    out after 180 days (sanctioned only by ties: nobody offended), on a publication day when the list is
    published ``every`` 30 days; from 1040, nothing. Metrics, snapshots and stories equal the dense engine's,
    value by value, across two windows (400 days)."""
    over = {**NO_ACTS, "score.base": base, "score.recovery.points_per_day": step,
            "lists.blacklist.publish_every_days": every}
    dense = simulate("bench-v1", population=3_000, days=400, seed=4, overrides=over, engine="dense")
    lazy = simulate("bench-v1", population=3_000, days=400, seed=4, overrides=over, engine="windowed")
    assert lazy.metrics.equals(dense.metrics)
    assert lazy.stories.equals(dense.stories)
    if base == 550:
        assert lazy.series("sanctioned_by_ties").iloc[0] == 3_000 and lazy.series("exited:blacklist").sum() == 3_000


def tiered(overrides=None, attempts=(0.01, 0.02)):
    """bench-v1 (with ``overrides``) and two consequences that follow tiers, with daily ``attempts``: a loan
    denial on tiers C and D, and a reward on tier AAA."""
    d = load_scenario("bench-v1", overrides or {}).model_dump(mode="json", exclude_none=True)
    d["consequences"]["loan_denial"] = {"on": ["tiers.C", "tiers.D"], "attempts_per_day": attempts[0]}
    d["consequences"]["green_channel"] = {"kind": "reward", "on": ["tiers.AAA"], "attempts_per_day": attempts[1]}
    return load_scenario(d)


@pytest.mark.parametrize("base", [550, 700, 1060])
def test_tier_sanctions_are_exact(base):
    """No acts, sanctions on tiers C and D beside the list's and a reward on AAA: from 550 (tier D, listed on day
    0) or 700 (tier C), recovery lifts everyone out of the sanctioned tiers; from 1060 everyone stays in AAA.
    Every metric but the attempts (counted in aggregate, as Binomial draws over the people under a
    consequence) equals the dense engine's, value by value, those sanctioned only through ties (nobody
    offended) included; the story agents' stories, their attempts included (drawn as the day engines draw
    them), are the dense engine's."""
    s = tiered({**NO_ACTS, "score.base": base, "run.story_agents": 200})
    windowed = _exact_but_attempts(s)
    events = set(windowed.stories["event"])
    assert ("reward_granted" if base == 1060 else "attempt_blocked") in events
    ties, denied = windowed.series("sanctioned_by_ties"), windowed.series("sanctioned:loan_denial")
    if base == 1060:
        assert ties.sum() == denied.sum() == 0 and (windowed.series("rewarded:green_channel") == 3_000).all()
    else:
        assert ties.iloc[0] == denied.iloc[0] == 3_000 and ties.iloc[-1] == denied.iloc[-1] == 0


def _same_day_scheme(red: bool):
    """bench-v1 without acts whose list changes on the day recovery lifts an agent out of a sanctioned tier: the
    blacklist left after 5 days once the score is back at C (its floor, 600, is the exit line), with a sanction
    on tier D, from 590; or a sanctioned red list entered at tier B (850), with a sanction on tier C, from 800."""
    d = load_scenario("bench-v1", {**NO_ACTS, "score.base": 800 if red else 590, "run.story_agents": 50}).model_dump(
        mode="json", exclude_none=True)
    d["provenance"] = {k: v for k, v in d["provenance"].items() if not k.startswith(("lists", "consequences"))}
    if red:
        d["lists"] = {"elite": {"kind": "red", "enter": {"tier_at_least": "B"}, "exit": {"tier_at_most": "C"}}}
        d["consequences"] = {"watched": {"on": ["lists.elite"]}, "loan_denial": {"on": ["tiers.C"]}}
    else:
        d["lists"]["blacklist"]["min_days"] = 5
        d["consequences"]["loan_denial"] = {"on": ["tiers.D"]}
    return load_scenario(d)


@pytest.mark.parametrize("red", [False, True], ids=["black", "red"])
def test_a_list_change_on_a_tier_change_day_is_exact(red):
    """A list change and a tier change at the end of the same quiet day, each moving a sanction: the people
    sanctioned only through their ties (nobody offended) change once, as the dense engine counts them, value by
    value: all of them until that day, none after (black), or all of them throughout (red)."""
    windowed = _exact_but_attempts(_same_day_scheme(red))
    ties = windowed.series("sanctioned_by_ties")
    assert ties.iloc[0] == 3_000 and ties.iloc[-1] == (3_000 if red else 0) and ties.min() >= 0


def test_a_cell_that_detects_nothing_leaves_deterrence_alone():
    """A region without records (data completeness 0) detects nothing: the deterrence factors the windowed
    scheduler keeps are those of the other cells (a scheme without that region's zero), not 1."""
    from scslab.engine.windowed.model import model_of

    cells = {**CELLS, "population.regions": {"east": {"share": 0.55}, "west": {"share": 0.45, "data_completeness": 0.0}}}
    plain = model_of(_plan(1_000, 30, 1, {**CELLS, "population.regions": {"east": {"share": 1.0}}}))
    assert (model_of(_plan(1_000, 30, 1, cells)).keep == plain.keep).all() and (plain.keep < 2**32).any()


def test_tier_sanctions_and_rewards_agree_with_days():
    """Harsh bench-v1 from a score of 1040 with a sanction on tiers C and D and a reward on AAA, both with daily
    attempts, over two windows: every metric's run summary has the same mean by windows and by days (10 seeds
    each), and the tiers' sanctions, rewards and attempts are reached."""
    names, z, days, windows = _z(None, 4_000, 420, range(1, 11), scenario=tiered({**HARSH, "score.base": 1040}))
    reached = _agreeing(names, z, days, windows)
    assert reached["sanctioned:loan_denial"] > 500 and reached["rewarded:green_channel"] > 50
    assert reached["blocked:loan_denial"] > 1_000 and reached["granted:green_channel"] > 500
    assert reached["sanctioned_by_ties"] > 50


def _z(overrides, n, days, seeds, scenario="bench-v1", by_cell=False):
    """Welch-type z of each metric's run summary, by days (lazy) against by windows, over ``seeds``: of the
    metrics summed over the cells, or of each metric in each cell (``by_cell``; named ``metric@cell``)."""
    runs = {True: [], False: []}
    plan = None
    for seed in seeds:
        plan = _plan(n, days, seed, overrides, scenario)
        for windowed in runs:
            counts = run_cpu(plan, engine="windowed" if windowed else "lazy").counts
            runs[windowed].append(counts.reshape(days, -1) if by_cell else counts.sum(axis=2))
    names, shape = plan.metric_names, plan
    if by_cell:
        names = [f"{m}@{c}" for m in plan.metric_names for c in range(plan.n_cells)]
        shape = SimpleNamespace(days=plan.days, is_level=np.repeat(plan.is_level, plan.n_cells))
    A, B = summaries(shape, runs[False]), summaries(shape, runs[True])
    z = np.abs(A.mean(0) - B.mean(0)) / np.sqrt(A.var(0, ddof=1) / len(A) + B.var(0, ddof=1) / len(B) + 1.0)
    return names, z, A.mean(0), B.mean(0)


def _agreeing(names, z, days, windows) -> dict:
    """Assert that no metric's z (``_z``) exceeds the agreement tests' tolerance; the means by windows, by name."""
    bad = [(m, round(float(zz), 2), float(a), float(b)) for m, zz, a, b in zip(names, z, days, windows) if zz > Z_MAX]
    assert not bad, f"metrics that differ between the routes: {bad}"
    return dict(zip(names, windows))


def _exact_but_attempts(scheme):
    """``scheme`` run by the dense engine and the windowed scheduler (3,000 agents, 400 days, seed 4): the
    stories, and every metric but the attempts (counted in aggregate), are equal value by value. Returns the
    windowed run."""
    dense = simulate(scheme, population=3_000, days=400, seed=4, engine="dense")
    windowed = simulate(scheme, population=3_000, days=400, seed=4, engine="windowed")
    assert windowed.stories.equals(dense.stories)
    kept = ~windowed.metrics["metric"].str.startswith(("blocked:", "granted:"))
    assert windowed.metrics[kept].equals(dense.metrics[kept])
    return windowed


@pytest.mark.parametrize("overrides", [HARSH, {**HARSH, "lists.blacklist.publish_every_days": 7},
                                       {**HARSH, "lists.blacklist.exit": "never"}],
                         ids=["harsh", "published", "never-left"])
def test_harsh_windows_agree_with_days(overrides):
    """Harsh bench-v1 over two windows, its list published every day or every 7 days, or never left: every metric's run
    summary has the same mean by windows and by days (Welch-type z over 10 seeds each, the lazy test's
    tolerance), and the rules it is there for are reached."""
    names, z, days, windows = _z(overrides, 4_000, 420, range(1, 11))
    reached = _agreeing(names, z, days, windows)
    assert reached["listed:blacklist"] > 50 and reached["sanctioned_by_ties"] > 5 and reached["tier:D"] > 50


def test_two_friends_each_agree_with_days():
    """Harsh bench-v1 with 2 friends each (2 matchings) over two windows: the same means by windows and by days
    (10 seeds each), and penalties through ties are reached."""
    names, z, days, windows = _z({**HARSH, "population.friends.degree": 2}, 4_000, 420, range(1, 11))
    reached = _agreeing(names, z, days, windows)
    assert reached["network_penalties"] > 100 and reached["sanctioned_by_ties"] > 5


def test_a_scheme_of_network_behaviours_only_agrees_with_days():
    """Every behaviour costs friends points, so no act is drawn from the other behaviours' tables (they are
    empty): the windowed route runs it, in law as the day route does, and reaches the list through ties."""
    names, z, days, windows = _z(None, 3_000, 200, range(1, 11), scenario=only_network_behaviour())
    reached = _agreeing(names, z, days, windows)
    assert reached["network_penalties"] > 100 and reached["sanctioned_by_ties"] > 5


# xiamen-fuzhou-2018 with its red list churning: recovery up to 800 lists people on quiet days (the listing
# line is 650), late bills cost 60 points, and a listed agent below the line waits 20 days before it leaves,
# during which recovery may lift it back over the line
CHURN = {"score.recovery.up_to": 800, "lists.perks.min_days": 20, "behaviours.late_bill.points": -60}
# ... and recovery in steps of 4 points a day
CHURN_STEPS = {**CHURN, "score.recovery.points_per_day": 4}
# ... and a list published every 30 days
CHURN_PUBLISHED = {**CHURN, "lists.perks.publish_every_days": 30}


@pytest.mark.parametrize("overrides", [None, CHURN, CHURN_STEPS, CHURN_PUBLISHED],
                         ids=["preset", "churn", "steps", "published"])
def test_a_red_list_with_rewards_agrees_with_days(overrides):
    """xiamen-fuzhou-2018 (no friends, a red list entered at a good tier and left at a worse one, a reward with
    daily attempts) over two windows: every metric's run summary has the same mean by windows and by days
    (10 seeds each), and the list, its exits and the attempts are reached."""
    names, z, days, windows = _z(overrides, 5_000, 400, range(1, 11), scenario="xiamen-fuzhou-2018")
    reached = _agreeing(names, z, days, windows)
    assert reached["entered:perks"] > 100 and reached["exited:perks"] > 5 and reached["granted:free_rentals"] > 50


def test_corrections_reach_the_fixed_point_whatever_the_threads():
    """A plain sweep from each window's start with the final lists finds nothing to change (0 values differ,
    0 senders wrong), corrections were needed, 200 story agents' day-by-day replays end where the sweep
    does (checked by the driver), and one thread gives the same bytes as two."""
    plan = _plan(20_000, 500, 3, {**HARSH, "run.story_agents": 200})
    before, runs = numba.get_num_threads(), []
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            stats = {}
            runs.append(run_windowed(plan, stats=stats, verify=True))
            assert stats["verify_diff"] == 0 and sum(stats["corrected"]) > 0 and len(stats["corrected"]) == 2
    finally:
        numba.set_num_threads(before)
    a, b = runs
    assert (a.counts == b.counts).all() and (a.stories == b.stories).all() and (a.score_hist == b.score_hist).all()
    assert len(a.story_ids) == 200 and (a.score_hist.sum(axis=1) == 20_000).all()


def test_score_snapshots_are_the_replayed_scores():
    """Everyone a story agent (replayed day by day in plain Python, which steps every day): the snapshot
    histogram, which the sweep writes only where a score changes bin, is the histogram of the replayed
    end-of-day scores on every snapshot day, value by value (harsh acts and recovery, two windows)."""
    n = 300
    plan = _plan(n, 420, 5, {**HARSH, "run.story_agents": n})
    run = run_windowed(plan)
    assert len(run.story_ids) == n
    low, width, bins = score_bins(plan)
    days = run_snapshot_days(plan)
    expected = np.array([np.bincount((run.story_scores[d].astype(np.int64) - low) // width, minlength=bins)
                         for d in days])
    assert (run.score_hist == expected).all()
    assert (np.count_nonzero(expected[1:], axis=1) > 10).all()  # scores spread over many bins after day 0


def test_penalties_bucketed_in_two_passes_equal_one(monkeypatch):
    """With more blocks than ``COARSE`` (1.4 billion agents), the penalties are scattered into wider buckets and
    each is split into its blocks: the same records per block, in the same order, and the same run."""
    from scslab.engine.windowed import penalties
    from scslab.engine.windowed.draws import crit_count
    from scslab.engine.windowed.driver import start_state
    from scslab.engine.windowed.friends import friends_spec
    from scslab.engine.windowed.model import MAX_CRIT, SC, model_of
    from scslab.engine.windowed.tables import KEY, tables
    from scslab.rng import Stream, stream_key

    plan = _plan(20_000, 300, 5, HARSH)
    one = run_windowed(plan)
    monkeypatch.setattr(penalties, "COARSE", 2)
    assert penalties.coarse_bits(20_000) == 14  # 2 buckets of 4 blocks of 4,096 agents
    two = run_windowed(plan)
    assert (one.counts == two.counts).all() and (one.stories == two.stories).all()
    assert (one.score_hist == two.score_hist).all()

    m, n = model_of(plan), plan.size
    cls = np.empty(n, np.uint8)
    cols = (np.empty(n, np.int16), np.empty(n, np.int16), np.empty((1, n), np.int16), np.zeros(1, np.uint8))
    base, low, high = m.scalars[SC.BASE], m.scalars[SC.LOW], m.scalars[SC.HIGH]
    start_state(plan, base, cls, *cols[:3], True, m.adult)
    keys = np.array([stream_key(5, Stream.WINDOW + j, 0) for j in KEY], np.uint64)
    M = tables(m, 300, keys, np.zeros(high - low + 1, np.int64), np.array([385], np.int64))
    S = (True, *cols, base)
    T = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, MAX_CRIT), np.int64))
    F = friends_spec(plan)
    r1, s1, k1, q1 = penalties.penalties(n, 0, 300, cls, S, M, T, F, 12, 12)
    r2, s2, k2, q2 = penalties.penalties(n, 0, 300, cls, S, M, T, F, 12, 14)
    assert len(r1) > 1_000 and (s1 == s2).all() and ((r1 & 0x1FFFFF) == (r2 & 0x1FFFFF)).all()  # 12 + 9 bits
    assert (k1 == k2).all() and (q1 == q2).all()
    senders = np.array([crit_count(i, cls[i], M) > 0 for i in range(n)])  # the senders before each block
    assert len(k1) == senders.sum() and (q1 == [senders[:b << 12].sum() for b in range(len(q1))]).all()


def test_set_bits_finds_every_set_bit_in_order():
    """The bitmap decoder (only non-zero words unpacked) against every bit unpacked, dense, sparse and empty."""
    from scslab.engine.windowed.route import set_bits

    rng = np.random.default_rng(3)
    for words in (rng.integers(0, 2**63, 50, dtype=np.uint64) * np.uint64(2), np.zeros(1000, np.uint64),
                  np.where(rng.random(1000) < 0.01, rng.integers(1, 2**63, 1000, dtype=np.uint64), np.uint64(0))):
        words[-1] |= np.uint64(1) << np.uint64(63) if words.any() else np.uint64(0)
        assert (set_bits(words) == np.flatnonzero(np.unpackbits(words.view(np.uint8), bitorder="little"))).all()
    assert len(set_bits(np.zeros(7, np.uint64))) == 0


def test_same_population_as_the_day_routes():
    """Classes are hashed from the ids as the day engines hash them, so the story agents are the same people."""
    plan = _plan(5_000, 30, 8)
    windowed, days = run_cpu(plan, engine="windowed"), run_cpu(plan, engine="lazy")
    assert (windowed.columns.traits == days.columns.traits).all()
    assert (windowed.story_ids == days.story_ids).all()


def test_progress_reaches_the_last_day():
    seen = []
    simulate("bench-v1", population=2_000, days=400, seed=1, progress=seen.append)
    assert seen == list(range(400))


@pytest.mark.parametrize("n, degree, regions, local, friends", [
    (2, 4, 1, 0, 4), (3, 4, 1, 0, 4), (1001, 4, 1, 0, 4), (20_000, 4, 1, 0, 4), (21_700_000, 4, 1, 0, 4),
    (1001, 1, 1, 0, 1), (20_000, 2, 1, 0, 2), (20_000, 3, 1, 0, 3), (20_000, 4, 3, 3, 4), (20_001, 2, 2, 2, 2),
    (5, 4, 3, 4, 4), (20_000, 4, 3, 1, 2), (20_001, 3, 2, 0, 1)])
def test_finds_populations_friends(n, degree, regions, local, friends):
    """The route's Feistel matchings, all walks of a batch at once (``friends_batch``, by chunks on threads or
    for one agent at a time), are ``population``'s, agent by agent (unmatched, or past the ``degree``
    matchings: -1), the first ``local`` of them within each of ``regions`` id blocks, and the colleagues'
    (the matchings from ``friends`` on) too."""
    from scslab.engine.compiled import K
    partner = K.partner
    from scslab.engine.windowed.friends import friends_batch, friends_of

    keys = population.feistel_keys(7, degree)
    starts = population.region_starts(n, [1 / regions] * regions)
    F = (keys, starts, np.int64(local), np.int64(friends))
    ids = np.unique(np.linspace(0, n - 1, min(n, 3000)).astype(np.int64))
    region = np.searchsorted(starts, ids, side="right") - 1
    expected = np.array([[partner(i, k, *((starts[r], starts[r + 1]) if k < local or k >= friends else (0, n)), keys)
                          if k < degree else -1 for k in range(4)] for i, r in zip(ids, region)])
    assert (friends_of(ids, n, F) == expected).all()
    assert (friends_of(ids[:3], n, F) == expected[:3]).all()  # fewer agents than the chunks
    four = np.empty((1, 4), np.int64)
    for i, row in zip(ids[::7], expected[::7]):
        friends_batch(np.full(1, i, np.int64), n, F, four)
        assert (four[0] == row).all()
    if len(ids) == n and regions == 1:  # everyone: each matching leaves one agent out when n is odd
        assert ((expected[:, :degree] < 0).sum(axis=0) == n % 2).all()
    if local:  # local friends are in the agent's region
        friends = expected[:, :min(local, degree)]
        assert (np.where(friends >= 0, np.searchsorted(starts, friends, side="right") - 1, region[:, None])
                == region[:, None]).all()


def test_checkpoints_do_not_change_the_route(tmp_path):
    """A seed gives the same bytes with and without checkpoints: a windowed run of one window has no window end
    to write one at and writes none, and a run that fails leaves nothing behind."""
    from test_resume import Crash, crash_on

    from scslab import run

    plain = run("bench-v1", tmp_path / "plain", population=3_000, days=50, seed=2)
    asked = run("bench-v1", tmp_path / "asked", population=3_000, days=50, seed=2, checkpoint_every=5)
    assert asked.manifest["route"] == plain.manifest["route"] == "windowed"
    assert asked.metrics.equals(plain.metrics) and asked.manifest["checkpoint_every"] == 5
    assert not list((tmp_path / "asked").glob("checkpoints/*.npz"))
    with pytest.raises(Crash):
        run("bench-v1", tmp_path / "crashed", population=3_000, days=50, seed=2, progress=crash_on(20))
    assert not (tmp_path / "crashed").exists()


def test_windowed_runs_resume_at_window_ends(tmp_path):
    """Harsh bench-v1 with three lists (``three_lists``), 800 days in windows of 365: checkpoints asked for every 100 days are written at the window ends (days
    365 and 730). A crash after the first, another after the second, and Ctrl-C: each resumes from the newest
    window end (no checkpoint skipped as unreadable), and the run ends with the bytes of a run never stopped
    (which wrote no checkpoint)."""
    import os
    import signal
    import warnings

    from test_resume import OUTPUTS, Crash, crash_on, hashes

    from scslab import RunInterrupted, resume, run
    from scslab.output.checkpoint import list_checkpoints

    scheme = three_lists(HARSH)
    kw = dict(population=3_000, days=800, seed=6)
    warnings.simplefilter("error", RuntimeWarning)  # a checkpoint skipped would start the run again
    whole = run(scheme, tmp_path / "whole", **kw)
    assert whole.manifest["route"] == "windowed" and whole.series("listed:watch").max() > 0
    out = tmp_path / "run"
    with pytest.raises(Crash):
        run(scheme, out, checkpoint_every=100, progress=crash_on(500), **kw)
    assert [p.name for p in list_checkpoints(out)] == ["pass-000365.npz"]
    with pytest.raises(Crash):
        resume(out, progress=crash_on(760))
    assert [p.name for p in list_checkpoints(out)] == ["pass-000365.npz", "pass-000730.npz"]
    assert resume(out, threads=1).manifest["status"] == "complete"
    assert hashes(out) == hashes(tmp_path / "whole")

    stopped = tmp_path / "stopped"  # Ctrl-C on day 100: the run stops at the end of its window
    with pytest.raises(RunInterrupted):
        run(scheme, stopped, progress=lambda d: d == 100 and os.kill(os.getpid(), signal.SIGINT), **kw)
    assert [p.name for p in list_checkpoints(stopped)] == ["pass-000365.npz"]
    resume(stopped)
    assert all((stopped / name).exists() for name in OUTPUTS) and hashes(stopped) == hashes(tmp_path / "whole")


@pytest.mark.parametrize("scenario, overrides", [
    ("bench-v1", {}), ("bench-v1", {"lists.blacklist.enter.tier_at_most": "C", "lists.blacklist.exit.tier_at_least": "A"}),
    ("bench-v1", {"lists.blacklist.exit": "never"}), ("xiamen-fuzhou-2018", {"lists.perks.exit": "never"}),
    ("xiamen-fuzhou-2018", {}), ("xiamen-fuzhou-2018", {"lists.perks.enter.tier_at_least": "excellent",
                                                        "lists.perks.exit.tier_at_most": "low"}),
    ("rongcheng-2018", {})])
def test_the_list_lines_are_the_tier_conditions(scenario, overrides):
    """The windowed scheduler tests a list's entry and exit conditions on the score (``agent.enters_at`` and
    ``leaves_at`` with ``LS.ENTER``, ``LS.LEAVE``, ``LS.RED``): for every score they equal the rules' conditions on its tier
    (``engine/rules.py``), for each list of the scheme (``rongcheng-2018``: a red list and a black list)."""
    from scslab.compile import ENTER, LIST
    from scslab.engine.rules import make
    from scslab.engine.windowed.agent import enters_at, leaves_at
    from scslab.engine.windowed.model import LS, SC, model_of

    R = make(lambda f: f)
    plan = _plan(1_000, 30, 1, overrides, scenario)
    m = model_of(plan)
    assert len(m.lists) == len(plan.list_names) > 0
    for row, L in zip(m.lists, plan.epochs[0].lists):
        red = bool(row[LS.RED])
        assert red == (L[LIST.ENTER] == ENTER.TIER_AT_LEAST)
        for s in range(m.scalars[SC.LOW], m.scalars[SC.HIGH] + 1):
            tier = int((s < m.mins).sum())
            enters, leaves = enters_at(s, row[LS.ENTER], red), leaves_at(s, row[LS.LEAVE], red)
            assert enters == R.enters(L[LIST.ENTER], L[LIST.ENTER_ARG], tier, False, False), s
            assert leaves == R.exit_met(L[LIST.EXIT], L[LIST.EXIT_ARG], tier, False, False), s


def test_red_list_windows_are_their_replays():
    """The kernel's closed forms for a red list (entered on a quiet day by recovery, left after the minimum
    term unless recovery lifts the score first) end where the day-by-day replay ends, for 400 story agents of
    2,000 over two windows (the driver checks every story agent and raises on a difference)."""
    plan = _plan(2_000, 400, 3, {**CHURN, "run.story_agents": 400}, "xiamen-fuzhou-2018")
    raw = run_windowed(plan)
    kinds = set(raw.stories[:, 3].tolist())
    from scslab.compile import SE

    assert {SE.list_enter, SE.list_exit, SE.reward_granted, SE.recovery} <= kinds


# two regions (records less complete in the west) and two groups (the second detected half as often); friends
# within the region (the default, ``friends.same_region = 1``)
CELLS = {"population.regions": {"east": {"share": 0.55}, "west": {"share": 0.45, "data_completeness": 0.6}},
         "population.groups": {"majority": {"share": 0.7}, "minority": {"share": 0.3, "detect_factor": 0.5}}}


def test_regions_and_groups_are_exact():
    """No acts, two regions and two groups (12 cells), from 550 (listed on day 0, recovering): every metric of
    every cell and every story equals the dense engine's, value by value: each agent is in the day engines'
    cell."""
    s = load_scenario("bench-v1", {**NO_ACTS, **CELLS, "score.base": 550, "run.story_agents": 60})
    dense = simulate(s, population=3_000, days=400, seed=4, engine="dense")
    windowed = simulate(s, population=3_000, days=400, seed=4, engine="windowed")
    assert windowed.manifest["route"] == "windowed"
    assert windowed.metrics.equals(dense.metrics) and windowed.stories.equals(dense.stories)
    assert {"region:east", "region:west", "group:majority", "group:minority"} <= set(windowed.metrics["group"])


@pytest.mark.parametrize("same_region", [1.0, 0.5, 0.0])
def test_regions_and_groups_agree_with_days_cell_by_cell(same_region):
    """Harsh bench-v1 in two regions and two groups (``CELLS``), with all, half or none of the 4 friends in the
    agent's region, over two windows: each metric in each of the 12 cells has the same mean by windows and by
    days (10 seeds each), and the cells differ as their detection does (the minority, detected half as
    often, has fewer detected acts per person)."""
    over = {**HARSH, **CELLS, "population.friends.same_region": same_region}
    names, z, days, windows = _z(over, 6_000, 420, range(1, 11), by_cell=True)
    reached = _agreeing(names, z, days, windows)
    # cells: region-major, then class, then group (3 classes x 2 groups per region): compliant, east
    majority, minority = reached["detected:jaywalking@0"], reached["detected:jaywalking@1"]
    assert majority > 3 * minority > 0  # 70 % against 30 % of people, detected half as often
    assert sum(v for k, v in reached.items() if k.startswith("sanctioned_by_ties@")) > 5


def three_lists(overrides=None, every=30):
    """bench-v1 (with ``overrides``) and two more lists: honours, a red list entered at tier B or better and left
    at tier C or worse after 20 days, published every ``every`` days, with a reward with daily attempts; and
    watch, a black list entered at tier C or worse and never left, published every 7 days. Only the blacklist
    carries a sanction."""
    d = load_scenario("bench-v1", overrides or {}).model_dump(mode="json", exclude_none=True)
    d["lists"]["honours"] = {"kind": "red", "enter": {"tier_at_least": "B"}, "exit": {"tier_at_most": "C"},
                             "min_days": 20, "publish_every_days": every}
    d["lists"]["watch"] = {"enter": {"tier_at_most": "C"}, "exit": "never", "publish_every_days": 7}
    d["consequences"]["honour_perk"] = {"kind": "reward", "on": ["lists.honours"], "attempts_per_day": 0.02}
    return load_scenario(d)


@pytest.mark.parametrize("base", [550, 700, 1040])
def test_three_lists_are_exact(base):
    """No acts, three lists (``three_lists``, the red list published every 30 days): from 550 everyone is on the
    blacklist and the watch list on day 0, recovers past the blacklist's exit line and, from tier B on, joins
    the honours on a publication day; from 700 (tier C) the watch list on day 0 and the honours later; from
    1040 the honours on day 0, for good. Every metric but the attempts (counted in aggregate) and every story
    equals the dense engine's, value by value, across two windows."""
    s = three_lists({**NO_ACTS, "score.base": base, "run.story_agents": 100})
    windowed = _exact_but_attempts(s)
    honours, watch = windowed.series("listed:honours"), windowed.series("listed:watch")
    assert honours.iloc[-1] == 3_000 and watch.iloc[-1] == (0 if base == 1040 else 3_000)
    assert (windowed.series("exited:blacklist").sum() == 3_000) == (base == 550)


def test_three_lists_agree_with_days():
    """Harsh bench-v1 with three lists (``three_lists``, the red list published every 7 days), over two windows:
    every metric's run summary has the same mean by windows and by days (10 seeds each), and each list, its
    exits and the reward's attempts are reached."""
    names, z, days, windows = _z(None, 4_000, 420, range(1, 11), scenario=three_lists(HARSH, every=7))
    reached = _agreeing(names, z, days, windows)
    assert reached["listed:blacklist"] > 50 and reached["listed:watch"] > 50 and reached["exited:honours"] > 5
    assert reached["granted:honour_perk"] > 50 and reached["sanctioned_by_ties"] > 5


def test_rongcheng_agrees_with_days():
    """rongcheng-2018 (a red list and a black list published monthly, rewards on the red list and on tiers, a
    sanction on the black list, no friends), with community work worth 40 points, traffic violations -40 and
    drunk driving -700 so that both lists fill and the red list churns: the same means by windows and by days
    (10 seeds each)."""
    over = {"behaviours.community_work.points": 40, "behaviours.traffic_violation.points": -40,
            "behaviours.drunk_driving.points": -700, "behaviours.drunk_driving.rate.average": 0.002}
    names, z, days, windows = _z(over, 5_000, 400, range(1, 11), scenario="rongcheng-2018")
    reached = _agreeing(names, z, days, windows)
    assert reached["listed:redlist"] > 20 and reached["exited:redlist"] > 2 and reached["entered:blacklist"] > 100
    assert reached["granted:heating_discount"] > 5 and reached["blocked:loss_of_subsidies"] > 20


def no_list(overrides=None):
    """bench-v1 (with ``overrides``) without its list and the sanction on it."""
    from test_routes import _no_list

    d = load_scenario("bench-v1", overrides or {}).model_dump(mode="json", exclude_none=True)
    _no_list(d)
    return load_scenario(d)


def test_a_scheme_without_lists_is_exact_and_agrees_with_days():
    """bench-v1 without a list: with no acts from 550 (recovery to 1000), every metric and story equals the dense
    engine's; harsh, the same means by windows and by days (10 seeds each)."""
    s = no_list({**NO_ACTS, "score.base": 550, "run.story_agents": 50})
    dense = simulate(s, population=2_000, days=400, seed=3, engine="dense")
    windowed = simulate(s, population=2_000, days=400, seed=3, engine="windowed")
    assert windowed.manifest["route"] == "windowed" and not windowed.metrics["metric"].str.startswith("listed:").any()
    assert windowed.metrics.equals(dense.metrics) and windowed.stories.equals(dense.stories)
    assert _agreeing(*_z(None, 3_000, 420, range(1, 11), scenario=no_list(HARSH)))["tier:D"] > 50


def one_agent(plan, W, seed):
    """The windowed model of ``plan``, the tables of a window of W days (the first window's keys, no snapshot
    day), and ``run(i, d0, cls, s0, lo0, packed)``: agent i's window from day d0 run alone by the kernel from a
    start state (``packed``: its days listed, ``agent.packed_lists``), returning the kernel's results and its
    metric changes (work item 0 of ``totals.window_arrays``)."""
    from scslab.engine.windowed.agent import MAX_W, agent
    from scslab.engine.windowed.totals import window_arrays
    from scslab.engine.windowed.model import SC, model_of
    from scslab.engine.windowed.tables import KEY, tables
    from scslab.rng import Stream, stream_key

    m = model_of(plan)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    blo, width, n_bins = score_bins(plan)
    bins = (np.arange(low, high + 1, dtype=np.int64) - blo) // width
    keys = np.array([stream_key(seed, Stream.WINDOW + j, 0) for j in KEY], np.uint64)
    M = tables(m, W, keys, bins, np.array([MAX_W + 1], np.int64))
    shape = (len(plan.class_names), W, len(plan.tier_names), len(plan.behaviour_names), 0, n_bins, len(m.lists),
             len(m.fb) > 0)

    def run(i, d0, cls, s0, lo0, packed):
        D = window_arrays(*shape)
        out, bo, bc = np.empty(64, np.int64), np.empty(6, np.uint64), np.empty(6, np.uint64)
        got = agent(int(i), d0, W, cls, s0, lo0, np.int64(packed), np.zeros(1, np.int64), np.int64(0), M, True,
                         np.int64(1), D, np.int64(0), out, bo, bc, None)
        return got, D

    return m, M, run


@pytest.mark.parametrize("scenario, overrides, d0", [
    ("xiamen-fuzhou-2018", CHURN, 0), ("xiamen-fuzhou-2018", CHURN_STEPS, 0),
    ("xiamen-fuzhou-2018", CHURN_PUBLISHED, 17), ("xiamen-fuzhou-2018", {**CHURN, "lists.perks.exit": "never"}, 0),
    ("bench-v1", HARSH, 0), ("bench-v1", {**HARSH, "score.recovery.points_per_day": 3}, 0),
    ("bench-v1", {**HARSH, "lists.blacklist.publish_every_days": 7, "lists.blacklist.min_days": 20}, 5),
    ("three-lists", HARSH, 11), ("rongcheng-2018", {"behaviours.community_work.points": 40}, 0)])
def test_each_agents_list_days_are_its_replays(scenario, overrides, d0):
    """Agent by agent, from random start states (score, last offence, day listed on each list, before the window
    from day ``d0``), the kernel's entry and exit days on each list (its metric writes for that agent alone)
    are the day-by-day replay's, and so is its end state: the closed forms across quiet days put each entry
    and exit on the right day, a publication day where a list is published every so many days."""
    from scslab.compile import SE
    from scslab.engine.windowed.agent import NEVER, listed_day, with_listed
    from scslab.engine.windowed.model import LS, SC
    from scslab.engine.windowed.replay import replay, undetected_keys

    W, seed = 200, 4
    plan = _plan(5_000, W, seed, overrides, three_lists() if scenario == "three-lists" else scenario)
    m, M, run = one_agent(plan, W, seed)
    NL, C = len(m.lists), len(plan.class_names)
    low, high = m.scalars[SC.LOW], m.scalars[SC.HIGH]
    ukeys = undetected_keys(seed, d0, W, len(plan.behaviour_names))
    rng = np.random.default_rng(7)
    lines = sorted(set(m.lists[:, [LS.ENTER, LS.LEAVE]].ravel().tolist()) & set(range(low, high + 1)))
    moved = np.zeros(NL, np.int64)
    for i in rng.choice(plan.size, 300, replace=False):
        cls = int(rng.integers(C))
        s0 = int(np.clip(rng.choice(lines) + rng.integers(-60, 40), low, high))  # near the lists' lines
        lo0 = d0 - int(rng.integers(0, 60)) if rng.random() < 0.7 else NEVER
        bl0 = tuple(d0 - int(rng.integers(1, 40)) if rng.random() < 0.5 else NEVER for _ in range(NL))
        packed = 0
        for L, day in enumerate(bl0):
            packed = with_listed(packed, L, day)
        assert tuple(listed_day(packed, L) for L in range(NL)) == bl0
        got, D = run(i, d0, cls, s0, lo0, packed)
        with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
            r = replay(int(i), d0, W, cls, s0, lo0, bl0, [], M, m.und[cls], ukeys)
        assert r["state"] == (got[2], got[3], tuple(listed_day(got[4], L) for L in range(NL))), (i, s0, lo0, bl0)
        for L in range(NL):
            days = {k: [row[2] for row in r["rows"] if row[3] == k and row[4] == L] for k in (SE.list_enter, SE.list_exit)}
            for k, writes in ((SE.list_enter, D[1][0, cls, L]), (SE.list_exit, D[2][0, cls, L])):
                assert (np.flatnonzero(writes) + d0).tolist() == days[k], (i, L, k)
                assert set(writes[writes != 0].tolist()) <= {1}, (i, L, k)
            moved[L] += len(days[SE.list_enter]) + len(days[SE.list_exit])
    assert (moved > 30).all(), moved  # entries and exits were tested on every list, not only agents that never move
