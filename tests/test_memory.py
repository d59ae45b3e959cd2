"""The memory estimate against reality: within 20 % of the measured peak RSS (slow: whole runs in subprocesses)."""

import pytest

from benchmarks.memory import measure


@pytest.mark.slow
@pytest.mark.parametrize("preset,agents", [("bench-v1", 1_000), ("bench-v1", 5_000_000), ("press-2018", 3_000_000),
                                           ("court-defaulters-national", 2_000_000), ("jinan-dog-points", 1_000_000)])
def test_estimate_within_20_percent_of_peak_rss(preset, agents):
    row = measure(preset, agents, 365)
    assert 0.8 <= row["ratio"] <= 1.2, row


@pytest.mark.slow
@pytest.mark.parametrize("case", ["cells-1020-lazy", "cells-1020-dense", "stories-busy", "stories-usual"])
def test_estimate_within_20_percent_with_many_cells_or_story_logs(case):
    """The inputs besides agents that scale memory: the cells (regions x classes x groups, at the schema's
    bound) and the story logs of many citizens of a busy scheme."""
    from benchmarks.memory import STRESS

    preset, agents, days, overrides, engine = STRESS[case]
    row = measure(preset, agents, days, overrides(), engine)
    assert 0.8 <= row["ratio"] <= 1.2, row


def test_only_lists_with_a_term_keep_entry_days():
    """press-2018's black and red lists have no term: membership is one bit each, no int16 entry day per
    agent (11 bytes per agent, not 15). A minimum term, or a maximum term that a timeline sets later, keeps
    the list's entry days (a row of ``listed``)."""
    from scslab.compile import LIST, compile_plan
    from scslab.engine.state import bytes_per_agent, column_specs
    from scslab.scenarios import load_scenario

    plan = compile_plan(load_scenario("press-2018"), size=1_000)
    specs = column_specs(plan)
    assert plan.n_dated_lists == 0 and specs["listed"][0] == (0, 1_000) and specs["on_lists"][0] == (1_000,)
    assert bytes_per_agent(plan) == 11
    termed = compile_plan(load_scenario("press-2018", {"lists.redlist.min_days": 30}), size=1_000)
    assert termed.epochs[0].lists[:, LIST.ROW].tolist() == [-1, 0] and bytes_per_agent(termed) == 13
    data = load_scenario("press-2018").model_dump(mode="python")
    data["timeline"].append({"day": 300, "set": {"lists.blacklist.max_days": 50}})
    later = compile_plan(load_scenario(data), size=1_000)
    assert [e.lists[0, LIST.ROW] for e in later.epochs] == [0] * len(later.epochs)
    assert column_specs(later)["listed"][0] == (1, 1_000)
