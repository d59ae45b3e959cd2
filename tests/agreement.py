"""Shared helper: engine vs reference on one preset, several seeds (used by tests and by hand)."""

from __future__ import annotations

import numpy as np

from scslab.compile import compile_plan
from scslab.engine.cpu import run_dense
from scslab.engine.reference import run_reference
from scslab.scenarios import Scenario, load_scenario

# (agents, days) small enough for the reference; long enough for lists, recovery and timers to act
SIZES = {"bench-v1": (1000, 120), "press-2018": (1000, 120), "rongcheng-2018": (1000, 120),
         "court-defaulters-national": (3000, 120), "beijing-2020": (1000, 100),
         "jinan-dog-points": (2000, 150), "xiamen-fuzhou-2018": (1000, 120),
         "sesame-credit-2018": (1000, 120)}
Z_MAX = 4.5


def summaries(plan, counts_by_run):
    """Per run and metric: the total for flows, the mean over the last third of days for levels."""
    D = plan.days
    out = []
    for c in counts_by_run:
        lv = plan.is_level
        s = c.sum(axis=0).astype(float)
        s[lv] = c[2 * D // 3:, lv].mean(axis=0)
        out.append(s)
    return np.array(out)


ENGINE_SEEDS = 20
_REFERENCE: dict = {}  # reference runs by (scenario, seeds, size)


def compare(preset: str, seeds=(1, 2, 3), overrides=None, engine: str = "dense", size=None):
    """``preset`` is a preset name or a Scenario (taken as it is, not validated: an entity type's scenario).
    Returns (metric names, z scores, engine means, reference means) for the CPU ``engine``; ``size`` is
    (agents, days), by default the preset's entry in SIZES.

    The engine runs ENGINE_SEEDS seeds (it is fast), the reference one run per seed in ``seeds``. Under the
    hypothesis that both implement the same model, a run's summary has the same distribution in both, so
    the engine's many runs estimate its variance for both sides:
    z = |mean_e - mean_r| / sqrt(var_e * (1/k_e + 1/k_r) + 1).
    """
    n, d = size or SIZES[preset]
    scenario = preset if isinstance(preset, Scenario) else load_scenario(preset, overrides)
    eng, plan = [], None
    for seed in range(1, ENGINE_SEEDS + 1):
        plan = compile_plan(scenario, size=n, days=d, seed=seed)
        eng.append(run_dense(plan, engine=engine).counts.sum(axis=2))
    key = (scenario.model_dump_json(), tuple(seeds), (n, d))  # the scenario itself: variants share names
    if key not in _REFERENCE:  # the slow side, shared by both engines' comparisons
        _REFERENCE[key] = [run_reference(compile_plan(scenario, size=n, days=d, seed=s), seed=1000 + s)
                           for s in seeds]
    E, R = summaries(plan, eng), summaries(plan, _REFERENCE[key])
    var = E.var(0, ddof=1) * (1 / len(E) + 1 / len(R))
    z = np.abs(E.mean(0) - R.mean(0)) / np.sqrt(var + 1.0)
    return plan.metric_names, z, E.mean(0), R.mean(0)
