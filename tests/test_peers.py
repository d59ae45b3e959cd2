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
