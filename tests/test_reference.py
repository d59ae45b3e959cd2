"""Every CPU scheduler (dense, lazy, and windowed where it runs the preset) agrees statistically with the slow per-agent reference on every preset.

Test: for each preset, 20 engine runs (seeds 1-20) and 3 reference runs (on the populations of seeds 1-3,
with the reference's own random numbers). Per run and metric we take the total over the run (flows) or the
mean over the last third of the days (levels). Under the hypothesis that both implement the same model the
two have one distribution, whose variance the 20 engine runs estimate; we require
|mean_engine - mean_reference| / sqrt(var_engine * (1/20 + 1/3) + 1) < 4.5 for every metric. With about
40 metrics per preset the chance of a false alarm is below 1 in 1000 per preset.
"""

import pytest

from agreement import SIZES, Z_MAX, compare
from scslab.compile import compile_plan
from scslab.engine.routes import refusal
from scslab.scenarios import load_scenario


def _routes():
    """(preset, scheduler) for every scheduler that runs the preset (the others refuse it by name)."""
    for preset in sorted(SIZES):
        plan = compile_plan(load_scenario(preset), size=SIZES[preset][0], days=SIZES[preset][1], seed=1)
        for scheduler in ("dense", "lazy", "windowed"):
            if refusal(plan, scheduler) is None:
                yield preset, scheduler


@pytest.mark.parametrize("preset,engine", list(_routes()))
def test_engine_agrees_with_reference(preset, engine):
    names, z, e, r = compare(preset, seeds=(1, 2, 3), engine=engine)
    worst = max(range(len(z)), key=lambda k: z[k])
    assert z[worst] < Z_MAX, f"{preset}: {names[worst]} {engine} engine {e[worst]:.1f} vs reference {r[worst]:.1f}"
    # the comparison must have something to compare: most activity metrics are non-zero
    assert sum(1 for k, n in enumerate(names) if n.startswith("acts:") and e[k] > 0) >= 1


# every kind of tie press-2018 sets, harsh
HARSH_TIES = {f"behaviours.criticize_government.network.{k}": -400
              for k in ("household", "partner", "parents", "children", "best_friend", "friends")}


@pytest.mark.parametrize("engine", ["dense", "lazy"])  # press-2018: not the windowed scheduler's
def test_people_sanctioned_only_because_of_ties_agree_with_reference(engine):
    """press-2018 with penalties for a tie's criticism harsh enough to sanction people who did nothing: the
    engines' ``sanctioned_by_ties`` (levels kept incrementally, first own deduction flagged in the inbox)
    against the reference's plain per-person check (sanctioned, no own deduction, no debt, account intact)."""
    names, z, e, r = compare("press-2018", seeds=(1, 2, 3), overrides=HARSH_TIES, engine=engine, size=(600, 90))
    for metric in ("sanctioned_by_ties", "network_penalties"):
        k = names.index(metric)
        assert e[k] > 10 and r[k] > 10, f"{metric}: too few to compare ({e[k]:.1f}, {r[k]:.1f})"
        assert z[k] < Z_MAX, f"{metric}: {engine} engine {e[k]:.1f} vs reference {r[k]:.1f} (z = {z[k]:.1f})"
