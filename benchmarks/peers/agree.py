"""Statistical agreement of a peer implementation of bench-v1 with scslab.

The test, the same as scslab's engine-versus-reference test:
- scslab runs ``SCSLAB_SEEDS`` seeds (it is fast) and the peer runs a few;
- each run is summarised per metric: the total over the run for flows (detections by behaviour, network
  penalties), and the mean over the last third of the days for levels (people per tier, blacklisted);
- both sides implement one model, so a run's summary has one distribution, whose variance scslab's runs
  estimate. For every metric we require

      z = |mean_scslab - mean_peer| / sqrt(var_scslab * (1/k_scslab + 1/k_peer) + 1) < Z_MAX.

    python -m benchmarks.peers.agree numpy 20000 120
    python -m benchmarks.peers.agree mesa 3000 90
    python -m benchmarks.peers.agree numpy 5000 300 --harsh     # penalties x 8: tiers C, D and the blacklist
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Callable

import numpy as np

from .numpy_peer import BEHAVIOURS, POINTS, TIERS

LEVELS = [f"tier:{t}" for t, _ in TIERS] + ["listed:blacklist"]
FLOWS = ["network_penalties"] + [f"detected:{b}" for b in BEHAVIOURS]
METRICS = LEVELS + FLOWS
SCSLAB_SEEDS = 20
Z_MAX = 4.5
# bench-v1 with every penalty 8 times harsher: many agents reach tiers C and D and the blacklist, and stay
# there long enough to leave it again (180 days), so those rules are compared too
HARSH = np.where(POINTS < 0, 8 * POINTS, POINTS)


def summarise(series: dict[str, np.ndarray], days: int) -> np.ndarray:
    return np.array([series[m][2 * days // 3:].mean() if m in LEVELS else series[m].sum() for m in METRICS], float)


def scslab_series(n: int, days: int, seed: int, points=POINTS) -> dict[str, np.ndarray]:
    return _scslab_series(n, days, seed, tuple(int(p) for p in points))


@lru_cache(maxsize=256)
def _scslab_series(n: int, days: int, seed: int, points: tuple) -> dict[str, np.ndarray]:
    """scslab's runs, kept for the next peer compared on the same size, days and points."""
    from scslab.compile import compile_plan
    from scslab.engine.cpu import run_dense
    from scslab.scenarios import load_scenario

    overrides = {f"behaviours.{b}.points": int(p) for b, p in zip(BEHAVIOURS, points)}
    plan = compile_plan(load_scenario("bench-v1", overrides), size=n, days=days, seed=seed)
    counts = run_dense(plan).counts.sum(axis=2)
    return {name: counts[:, k] for k, name in enumerate(plan.metric_names)}


def compare(peer: Callable[..., dict], n: int, days: int, peer_seeds=(1, 2, 3), points=POINTS):
    """(metric names, z scores, scslab means, peer means) for ``peer(n, days, seed, points)``."""
    S = np.array([summarise(scslab_series(n, days, seed, points), days) for seed in range(1, SCSLAB_SEEDS + 1)])
    P = np.array([summarise(peer(n, days, 1000 + seed, points), days) for seed in peer_seeds])
    var = S.var(0, ddof=1) * (1 / len(S) + 1 / len(P))
    z = np.abs(S.mean(0) - P.mean(0)) / np.sqrt(var + 1.0)
    return METRICS, z, S.mean(0), P.mean(0)


def peer_function(name: str):
    if name == "numpy":
        from .numpy_peer import simulate
    elif name == "mesa":
        from .mesa_peer import simulate
    else:
        raise SystemExit(f"unknown peer {name!r}; allowed: numpy, mesa")
    return simulate


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    name, n, days = argv[0], int(argv[1]), int(argv[2])
    harsh = "--harsh" in argv
    names, z, s, p = compare(peer_function(name), n, days, points=HARSH if harsh else POINTS)
    print(f"{'metric':<32} {'scslab':>12} {name:>12} {'z':>6}")
    for m, zi, a, b in zip(names, z, s, p):
        print(f"{m:<32} {a:>12.1f} {b:>12.1f} {zi:>6.2f}")
    print(f"max z = {z.max():.2f} (limit {Z_MAX})")


if __name__ == "__main__":
    main()
