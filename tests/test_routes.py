"""Features and routes: every schema field maps to a named feature, every scheduler supports a feature or
refuses it by name, one function decides the route, and the manifest names the route that ran."""

from __future__ import annotations

import typing

import pytest
from pydantic import BaseModel

from scslab import simulate
from scslab.compile import compile_plan
from scslab.engine import SCHEDULERS
from scslab.engine.features import BY_NAME, FEATURES, field_features, uses
from scslab.engine.routes import SUPPORTS, choose_route, missing, refusal
from scslab.scenarios.entities import entity_scenario
from scslab.errors import OptionError
from scslab.scenarios import Scenario, load_scenario
from test_windowed import only_network_behaviour


def schema_fields(model=Scenario, prefix=""):
    """Every leaf field of the scenario schema as a dotted path, ``*`` for any entry of a table."""
    for name, f in model.model_fields.items():
        subs = []

        def find(t, star=""):
            if isinstance(t, type) and issubclass(t, BaseModel):
                subs.append((t, star))
                return
            for a in typing.get_args(t):
                find(a, ".*" if typing.get_origin(t) is dict else star)

        find(f.annotation)
        if subs:
            for t, star in subs:
                yield from schema_fields(t, f"{prefix}{name}{star}.")
        else:
            yield prefix + name


def test_every_schema_field_maps_to_known_features():
    fields = list(schema_fields())
    assert len(fields) > 100 and "behaviours.*.network.friends" in fields
    unmapped = [f for f in fields if not field_features(f)]
    assert not unmapped, f"schema fields that map to no feature (add them to engine.features.FIELDS): {unmapped}"
    unknown = {n for f in fields for n in field_features(f) if n not in BY_NAME}
    assert not unknown


def _bench(edit=None, **size):
    """A plan of bench-v1 (1,000 agents x 30 days unless told), its scenario dict changed by ``edit``."""
    d = load_scenario("bench-v1").model_dump(mode="json", exclude_none=True)
    if edit is not None:
        edit(d)
    return compile_plan(load_scenario(d), size=size.get("size", 1_000), days=size.get("days", 30), seed=1)


def _behaviour(d, name):
    return d["behaviours"][name]


def _seventeen(d):
    for k in range(10):
        d["behaviours"][f"extra_{k}"] = {**_behaviour(d, "jaywalking"), "description": ""}


def _nine_network(d):
    for k in range(8):
        d["behaviours"][f"extra_{k}"] = {**_behaviour(d, "criticize_government"), "description": ""}


def _seventeen_penalty_kinds(d):
    """Three behaviours that cost friends and colleagues (best friend, friend, colleague) apart: 9 kinds, and
    two that cost household kinds apart: 8 more."""
    d["population"].update(friends={"degree": 2, "best": True}, colleagues={"degree": 1},
                           households={"sizes": {"3": 1.0}, "child_share": 0.2})
    for k, name in enumerate(("jaywalking", "late_payment", "criticize_government")):
        _behaviour(d, name)["network"] = {"friends": -1 - k, "best_friend": -5, "colleagues": -9}
    for name in ("smoking_on_train", "traffic_violation"):
        _behaviour(d, name)["network"] = {"household": -1, "partner": -2, "parents": -3, "children": -4}


def _no_list(d):
    d.update(lists={}, consequences={})
    d["provenance"] = {k: v for k, v in d["provenance"].items() if not k.startswith(("lists", "consequences"))}


# For every feature the windowed scheduler lacks: a plan that uses it (bench-v1 changed as little as can be)
EXAMPLES = {
    "timeline": lambda: _bench(lambda d: d.update(timeline=[{"day": 10, "set": {"score.recovery.up_to": 990}}])),
    "local-rules": lambda: _bench(lambda d: d["population"].update(regions={"a": {"share": 0.5}, "b": {"share": 0.5}})
                                  or d.update(timeline=[{"day": 0, "regions": ["a"],
                                                         "set": {"behaviours.jaywalking.detect": 0.9}}])),
    "many-cells": lambda: _bench(lambda d: d["population"].update(
        regions={f"r{k}": {"share": 0.1} for k in range(10)}, groups={f"g{k}": {"share": 0.1} for k in range(10)})),
    "friends-degree": lambda: _bench(lambda d: d["population"]["friends"].update(degree=5)),
    "court-debt": lambda: _bench(lambda d: _behaviour(d, "late_payment").update(creates_debt=True)
                                 or d.update(debt={"repay_per_day": 0.01})),
    "accounts": lambda: compile_plan(load_scenario("jinan-dog-points"), size=1_000, days=30, seed=1),
    "escalation": lambda: _bench(lambda d: _behaviour(d, "jaywalking").update(repeat_points=[-5, -10])
                                 or d["score"].update(strike_window_days=365)),
    "retention": lambda: _bench(lambda d: d["score"].update(retention_days=20)),
    "long-runs": lambda: _bench(days=40_000),
    "huge-populations": lambda: _bench(size=3_000_000_000),
    "many-lists": lambda: _bench(lambda d: d["lists"].update({f"more_{k}": dict(d["lists"]["blacklist"]) for k in range(3)})),
    "several-sanctioning-lists": lambda: _bench(lambda d: d["lists"].update(second=dict(d["lists"]["blacklist"]))
                                                or d["consequences"].update(second_ban={"on": ["lists.second"]})),
    "multi-list-consequences": lambda: _bench(lambda d: d["lists"].update(second=dict(d["lists"]["blacklist"]))
                                              or d["consequences"].update(perk={"kind": "reward", "on": [
                                                  "lists.blacklist", "lists.second"]})),
    "mixed-joint-punishment": lambda: _bench(lambda d: d["consequences"]["flight_ban"].update(agency="aviation")
                                             or d["consequences"].update(loan_denial={"on": ["tiers.D"],
                                                                                      "agency": "banks"})),
    "list-rules": lambda: _bench(lambda d: d["lists"]["blacklist"].update(exit={"tier_at_least": "D"})),
    "list-terms": lambda: _bench(lambda d: d["lists"]["blacklist"].update(max_days=365)),
    "mixed-sanctions": lambda: _bench(lambda d: d["consequences"]["flight_ban"].update(on=["lists.blacklist",
                                                                                           "tiers.C"])),
    "account-sanctions": lambda: compile_plan(load_scenario("jinan-dog-points"), size=1_000, days=30, seed=1),
    "many-network-behaviours": lambda: _bench(_nine_network),
    "many-penalty-kinds": lambda: _bench(_seventeen_penalty_kinds),
    "network-rewards": lambda: _bench(lambda d: _behaviour(d, "volunteering").update(network={"friends": 1})),
    "ostracism": lambda: _bench(lambda d: d.update(ostracism={"on": ["lists.blacklist"], "rate": 0.01})),
    "awareness": lambda: _bench(lambda d: _behaviour(d, "jaywalking").update(deterrence={"surveillance": 0.5})
                                or d.update(awareness={"start": 0.2, "told": 0.1})),
    "many-behaviours": lambda: _bench(_seventeen),
    "false-network-attribution": lambda: _bench(lambda d: d["channels"]["records"].update(false_match=0.001)),
    "several-deterrence-lines": lambda: _bench(lambda d: _behaviour(d, "jaywalking")["deterrence"].update(
        below_tier="C")),
    "fines": lambda: _bench(lambda d: _behaviour(d, "jaywalking").update(fine=50)),
    "linked-stories": lambda: compile_plan(entity_scenario(load_scenario("beijing-2020"), "firms"), size=1_000,
                                           days=30, seed=1),
    "linked-entities": lambda: compile_plan(load_scenario("court-defaulters-national", {
        "consequences.firm_ban": {"on": ["lists.court_list"], "applies_to": "links.firms.legal_representative"}}),
        size=1_000, days=30, seed=1),
    "work": lambda: _bench(lambda d: d.update(economy={"employed": 0.7, "income": {"all": {"share": 1.0, "yuan": 100}}})
                           or d["consequences"]["flight_ban"].update(costs_work=0.1)),
    "shaming": lambda: _bench(lambda d: d["lists"]["blacklist"].update(shaming={"ties": 0.01})),
    "published-deterrence": lambda: _bench(lambda d: d["lists"]["blacklist"].update(shaming={"deters": 10})),
    "debt-amounts": lambda: _bench(lambda d: _behaviour(d, "late_payment").update(creates_debt=True)
                                   or d.update(debt={"repay_per_day": 0.01,
                                                     "amounts": {"all": {"share": 1.0, "yuan": 1000}}})),
}


def test_every_feature_is_supported_or_has_an_example_refused_by_name():
    lacking = {f.name for f in FEATURES} - SUPPORTS["windowed"]
    assert set(EXAMPLES) == lacking
    assert SUPPORTS["dense"] == {f.name for f in FEATURES}  # the dense scheduler runs every feature
    # the lazy one all but awareness and published deterrence (tables from the run's state)
    assert SUPPORTS["lazy"] == {f.name for f in FEATURES} - {"awareness", "published-deterrence"}


@pytest.mark.parametrize("feature", sorted(EXAMPLES))
def test_windowed_refuses_each_feature_by_name(feature):
    plan = EXAMPLES[feature]()
    assert feature in uses(plan)
    assert feature in missing(plan, "windowed")
    assert f"{feature} ({BY_NAME[feature].words})" in refusal(plan, "windowed")
    assert choose_route(plan) == ("dense" if feature in ("awareness", "published-deterrence") else "lazy")
    with pytest.raises(OptionError, match=f"the windowed scheduler cannot run .*{feature}"):
        choose_route(plan, "windowed")
    from scslab.engine.windowed import run_windowed

    with pytest.raises(ValueError, match=f"the windowed scheduler cannot run .*{feature}"):  # called directly
        run_windowed(plan)


def test_features_the_windowed_scheduler_supports_are_run_by_it_in_the_agreement_tests():
    """bench-v1, xiamen-fuzhou-2018, rongcheng-2018 and the variants ``test_windowed.py`` and
    ``test_windowed_false.py`` hold to the day routes (and bench-v1 with firms, ``test_entities.py``, and with
    households, ``test_windowed_households.py``, with a coverage ramp, ``test_windowed_coverage.py``, with
    redress, ``test_windowed_redress.py``, with ties' penalties, ``test_windowed_ties.py``, and with rates by
    state, ``test_windowed_states.py``, passing sanctions to children, ``test_windowed_children.py``, and with
    perceived watching, ``test_perception.py``) together use
    every feature the windowed scheduler supports, and go to it: the agreement tests and the pinned digests
    cover them on that scheduler."""
    from test_windowed import CELLS, CHURN_PUBLISHED, CHURN_STEPS, three_lists, tiered
    from test_entities import bench_with_firms
    from test_windowed_false import false_scheme
    from test_windowed_redress import redress_scheme
    from test_windowed_states import STATES
    from test_windowed_children import SCHOOLS
    from test_windowed_ties import TIES
    from test_perception import scheme as perceived
    from test_tie_kinds import KINDS

    def xiamen(over):
        return compile_plan(load_scenario("xiamen-fuzhou-2018", over), size=1_000, days=30, seed=1)

    plans = [_bench(), xiamen({}), xiamen(CHURN_STEPS), xiamen(CHURN_PUBLISHED), xiamen({"lists.perks.exit": "never"}),
             compile_plan(tiered(), size=1_000, days=30, seed=1), compile_plan(three_lists(), size=1_000, days=30, seed=1),
             compile_plan(load_scenario("rongcheng-2018"), size=1_000, days=30, seed=1), _bench(_no_list),
             compile_plan(load_scenario("bench-v1", CELLS), size=1_000, days=30, seed=1),
             compile_plan(false_scheme(), size=1_000, days=30, seed=1),
             compile_plan(bench_with_firms(), size=1_000, days=30, seed=1),
             _bench(lambda d: d["population"].update(households={"sizes": {"1": 0.5, "3": 0.5}})),
             _bench(lambda d: d["channels"]["records"].update(coverage=[[0, 0.5], [20, 1.0]])),
             compile_plan(redress_scheme(), size=1_000, days=30, seed=1),
             compile_plan(load_scenario("bench-v1", TIES), size=1_000, days=300, seed=1),
             compile_plan(load_scenario("bench-v1", STATES), size=1_000, days=30, seed=1),
             compile_plan(load_scenario("bench-v1", SCHOOLS), size=1_000, days=30, seed=1),
             compile_plan(perceived(), size=1_000, days=30, seed=1),
             compile_plan(load_scenario("bench-v1", KINDS), size=1_000, days=30, seed=1)]
    assert set().union(*(uses(p) for p in plans)) == SUPPORTS["windowed"]
    assert all(choose_route(p) == "windowed" and refusal(p, "windowed") is None for p in plans)


def test_auto_takes_the_fastest_scheduler_that_can_run_the_plan_and_the_run():
    plan = _bench()
    assert [choose_route(plan, s) for s in SCHEDULERS] == list(SCHEDULERS)
    assert choose_route(plan, needs=("every-day",)) == "lazy"  # the dashboard's live results
    with pytest.raises(OptionError, match=r"cannot give every-day \(the state after every day"):
        choose_route(plan, "windowed", needs=("every-day",))
    with pytest.raises(OptionError, match="unknown engine; allowed: auto, windowed, lazy, dense"):
        choose_route(plan, "fast")


def test_auto_takes_a_slower_scheduler_where_the_fastest_would_not_fit(monkeypatch):
    """press-2018 for all of China: the windowed scheduler would hold more than the lazy one, so on a machine
    with memory for the lazy run only, auto goes day by day; with more memory, by windows."""
    from scslab.engine import budget

    plan = compile_plan(load_scenario("press-2018"), size=1_400_000_000, days=365, seed=1)
    need = {s: budget.estimate_bytes(plan, engine=s) for s in ("windowed", "lazy")}
    assert need["windowed"] > need["lazy"] + 2**30
    monkeypatch.setattr(budget, "available_memory", lambda: (need["windowed"] + need["lazy"]) // 2)
    assert choose_route(plan, fits=lambda s: budget.fits(plan, s)) == "lazy"
    assert choose_route(plan) == "windowed"  # (without a memory check)
    monkeypatch.setattr(budget, "available_memory", lambda: 2 * need["windowed"])
    assert choose_route(plan, fits=lambda s: budget.fits(plan, s)) == "windowed"


def test_the_manifest_names_the_route_that_ran():
    assert simulate("bench-v1", population=1_000, days=20, seed=1).manifest["route"] == "windowed"
    assert simulate("bench-v1", population=1_000, days=20, seed=1, engine="lazy").manifest["route"] == "lazy"
    jinan = simulate("jinan-dog-points", population=1_000, days=20, seed=1)
    assert jinan.manifest["route"] == "lazy" and jinan.manifest["engine"] == "auto"
    with pytest.raises(OptionError, match="does not support accounts"):
        simulate("jinan-dog-points", population=1_000, days=20, seed=1, engine="windowed")


def test_the_dashboard_manifest_names_the_day_route_it_runs():
    """The live run needs the state after every day: bench-v1 goes day by day there, and says so."""
    from scslab.app.live import live_run

    seen = []
    result = live_run(load_scenario("bench-v1", {"population.size": 1_000, "run.days": 20}), seed=1,
                      on_update=seen.append)
    assert result.manifest["route"] == "lazy" and result.manifest["engine"] == "auto"
    assert len(seen) > 5 and seen[-1].day == 20


def test_a_scheme_of_network_behaviours_only_runs_on_the_default_engine():
    result = simulate(only_network_behaviour(), population=2_000, days=60, seed=1)
    assert result.manifest["route"] == "windowed" and result.series("network_penalties").sum() > 0


def test_cli_refuses_a_scheduler_by_name_before_anything_runs(tmp_path):
    from typer.testing import CliRunner

    from scslab.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["run", "jinan-dog-points", "-n", "1000", "-d", "10", "--engine", "windowed",
                                   "--out", str(out)])
    assert res.exit_code == 2 and not out.exists()
    assert "the windowed scheduler cannot run" in res.output and "accounts (a domain account" in res.output
