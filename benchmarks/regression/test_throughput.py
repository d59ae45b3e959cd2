"""A small regression suite for scslab's speed (pytest-benchmark; not in the default test run).

    python -m pytest benchmarks/regression -m benchmark --benchmark-save=main          # on main
    python -m pytest benchmarks/regression -m benchmark --benchmark-compare \\
        --benchmark-compare-fail=median:10%                                            # on a branch

The second command compares with the newest saved run and fails when a median is more than 10 % slower.
Each case first runs once untimed, so that numba loads the compiled engine from its cache.
"""

import pytest

import scslab

pytestmark = pytest.mark.benchmark

CASES = {"bench-v1-1M-30d": ("bench-v1", 1_000_000, 30), "press-2018-1M-30d": ("press-2018", 1_000_000, 30),
         "jinan-dog-points-500k-60d": ("jinan-dog-points", 500_000, 60)}


def _runnable():
    """(case, engine) for ``auto`` and every scheduler that can run the case's preset."""
    from scslab.compile import compile_plan
    from scslab.engine.routes import refusal
    from scslab.scenarios import load_scenario

    for case in sorted(CASES):
        plan = compile_plan(load_scenario(CASES[case][0]), size=1_000, days=2)
        yield from ((case, e) for e in scslab.ENGINES if e == "auto" or refusal(plan, e) is None)


@pytest.mark.parametrize("case,engine", list(_runnable()))
def test_engine_speed(benchmark, case, engine):
    preset, n, days = CASES[case]
    scslab.simulate(preset, population=1_000, days=2, seed=1, engine=engine)
    result = benchmark.pedantic(scslab.simulate, args=(preset,),
                                kwargs=dict(population=n, days=days, seed=1, engine=engine), rounds=5,
                                warmup_rounds=1)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["agent_days_per_s"] = n * days / benchmark.stats.stats.median
    summary = result.summary()  # the timed run produced a real result: every agent is in a tier
    assert sum(v for k, v in summary.items() if k.startswith("tier:")) == n


def test_numpy_peer_speed(benchmark):
    """The plain NumPy peer, timed the same way: a change of machine shows in both, a regression only in ours."""
    from benchmarks.peers.numpy_peer import simulate

    out = benchmark.pedantic(simulate, args=(200_000, 30, 1), rounds=3, warmup_rounds=0)
    assert out["tier:A"][-1] > 0
