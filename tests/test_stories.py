"""Story citizens are chosen by the role a story needs, from the scenario, reproducibly."""

import numpy as np
import pytest

import scslab
from scslab.compile import compile_plan
from scslab.scenarios import load_scenario

EXPECTED = {
    "press-2018": {"model citizen", "frequent offender", "critic", "child", "group minority", "region west"},
    "court-defaulters-national": {"debtor", "child"},
    "jinan-dog-points": {"dog account holder"},
    "beijing-2020": {"group migrant", "region outer"},
}


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_roles_are_filled(preset):
    r = scslab.simulate(preset, population=30_000, days=5, seed=2)
    roles = r.manifest["story_roles"]
    assert EXPECTED[preset] <= set(roles.values())
    assert sorted(map(int, roles)) == r.manifest["story_agents"]
    plan = compile_plan(load_scenario(preset), size=30_000, days=5, seed=2)
    for agent, role in roles.items():
        if role.startswith("region "):
            k = plan.region_names.index(role.split(" ", 1)[1])
            assert plan.region_starts[k] <= int(agent) < plan.region_starts[k + 1]


def test_roles_do_not_depend_on_threads_and_change_with_the_seed():
    a = scslab.simulate("press-2018", population=30_000, days=3, seed=2, threads=1).manifest
    b = scslab.simulate("press-2018", population=30_000, days=3, seed=2, threads=2).manifest
    c = scslab.simulate("press-2018", population=30_000, days=3, seed=3).manifest
    assert a["story_roles"] == b["story_roles"]
    assert a["story_agents"] != c["story_agents"]
    assert len(np.unique(a["story_agents"])) == len(a["story_agents"]) == 24


@pytest.mark.parametrize("size", [1_000_000, 50_000_000])
def test_sampled_citizens_come_from_every_region_in_proportion(size):
    """Story agents are drawn over the whole population, not from its first ids (the first region)."""
    from scslab.engine.stories import pick_story_agents
    from scslab.engine.cpu import start

    data = load_scenario("press-2018").model_dump(mode="python")
    data["run"]["story_agents"] = 400
    plan = compile_plan(load_scenario(data), size=size)
    n = plan.size
    traits = np.zeros(n, np.uint8) if size > 1_000_000 else start(plan).cols.traits
    flags = np.full(n, 1, np.uint8)  # adults
    picks = pick_story_agents(plan, traits, flags, 400)
    region = np.searchsorted(plan.region_starts, [a for a, _ in picks], side="right") - 1
    shares = np.bincount(region, minlength=len(plan.region_names)) / len(picks)
    for k, name in enumerate(plan.region_names):
        assert abs(shares[k] - plan.scenario.population.regions[name].share) < 0.08, (name, shares)


def test_press_2018_story_agents_come_from_every_region():
    r = scslab.simulate("press-2018", population=1_000_000, days=2, seed=0)
    plan = compile_plan(load_scenario(r.manifest["scenario"]))
    region = np.searchsorted(plan.region_starts, r.manifest["story_agents"], side="right") - 1
    assert set(region) == set(range(len(plan.region_names)))
    assert np.bincount(region).max() <= 12  # of 24 (east holds 45 % of the people)
