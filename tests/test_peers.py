"""The peers of the benchmark (plain NumPy, Mesa) implement bench-v1: they agree with scslab statistically.

The test is stated in ``benchmarks/peers/agree.py``: 20 scslab seeds against a few peer seeds, every metric
summarised per run, and z < 4.5 for each. Twice per peer: bench-v1 as it is, and with penalties 8 times
harsher so that tiers C and D and the blacklist (entry and exit after 180 days) are compared too.
"""

import numpy as np
import pytest

from benchmarks.peers.agree import HARSH, POINTS, Z_MAX, compare


def check(peer, n, days, seeds, points):
    names, z, ours, theirs = compare(peer, n, days, peer_seeds=seeds, points=points)
    worst = int(np.argmax(z))
    assert z.max() < Z_MAX, f"{names[worst]}: scslab {ours[worst]:.1f}, peer {theirs[worst]:.1f}, z {z[worst]:.2f}"
    return dict(zip(names, ours))


@pytest.mark.parametrize("harsh", [False, True], ids=["bench-v1", "harsh"])
def test_numpy_peer_agrees(harsh):
    from benchmarks.peers.numpy_peer import simulate

    n, days = (5_000, 300) if harsh else (20_000, 120)
    means = check(simulate, n, days, range(1, 7), HARSH if harsh else POINTS)
    if harsh:  # the harsh variant really reaches the rules it is there to compare
        assert means["tier:D"] > 50 and means["listed:blacklist"] > 50


@pytest.mark.parametrize("harsh", [False, True], ids=["bench-v1", "harsh"])
def test_mesa_peer_agrees(harsh):
    from benchmarks.peers.mesa_peer import simulate

    n, days = (1_500, 240) if harsh else (3_000, 90)
    check(simulate, n, days, (1, 2, 3), HARSH if harsh else POINTS)


@pytest.mark.parametrize("harsh,window", [(False, 365), (True, 365), (True, 90)],
                         ids=["bench-v1", "harsh", "harsh-windows"])
def test_agent_peer_agrees(harsh, window):
    """The agent-by-agent peer (the route measured for issue 10) implements bench-v1, also when its days are
    cut into windows. Same sizes as the NumPy peer's test, so scslab's runs are shared."""
    from functools import partial

    from benchmarks.peers.agent_peer import simulate

    n, days = (5_000, 300) if harsh else (20_000, 120)
    means = check(partial(simulate, window=window), n, days, range(1, 7), HARSH if harsh else POINTS)
    if harsh:
        assert means["tier:D"] > 50 and means["listed:blacklist"] > 50


@pytest.mark.parametrize("window", [200, 70])
def test_agent_peer_corrections_reach_the_fixed_point_whatever_the_threads(window):
    """After the corrections, one plain sweep with the final lists of criticisms finds no sender wrong and
    gives the same metrics and states, value by value; corrections were needed (harsh penalties: many senders
    are deterred); the result does not depend on the thread count. With 70-day windows the later windows start
    from the states the earlier ones left."""
    import numba

    from benchmarks.peers.agent_peer import simulate

    stats, runs = {}, []
    before = numba.get_num_threads()
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            runs.append(simulate(20_000, 200, seed=3, points=HARSH, stats=stats, window=window, verify=True))
            assert stats["verify_diff"] == 0 and sum(stats["corrected"]) > 0 and sum(stats["redone"]) > 0
    finally:
        numba.set_num_threads(before)
    assert all((runs[0][k] == runs[1][k]).all() for k in runs[0])


@pytest.mark.parametrize("n", [2, 3, 1001, 20_000, 21_700_000])
def test_agent_peer_finds_scslabs_friends(n):
    """The peer's four-at-once Feistel matchings are population's, agent by agent (unmatched: -1)."""
    from benchmarks.peers.agent_peer import friends_of, partner
    from scslab import population

    keys = population.feistel_keys(7, 4)
    ids = np.unique(np.linspace(0, n - 1, min(n, 3000)).astype(np.int64))
    expected = np.array([[partner(i, k, 0, n, keys) for k in range(4)] for i in ids])
    assert (friends_of(ids, n, keys) == expected).all()
    if len(ids) == n:  # everyone: each matching leaves one agent out when n is odd
        assert ((expected < 0).sum(axis=0) == n % 2).all()


@pytest.mark.parametrize("kw,field", [({"window": 0}, "window"), ({"window": 400}, "window"), ({"days": 40_000}, "days"),
                                      ({"n": 0}, "n")])
def test_agent_peer_rejects_what_it_cannot_run(kw, field):
    from benchmarks.peers.agent_peer import simulate

    args = {"n": 100, "days": 10, **kw}
    with pytest.raises(ValueError, match=rf"{field} must be .*got {args[field]}"):
        simulate(**args)
