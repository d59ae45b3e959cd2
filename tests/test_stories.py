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
