"""The scenario language: every kind of bad input is a ScenarioError naming the path, value and what is allowed."""

import copy

import pytest

from scslab import ScenarioError, load_scenario
from scslab.scenarios.load import parse_override, preset_path
import tomllib


@pytest.fixture(scope="module")
def bench():
    with open(preset_path("bench-v1"), "rb") as fh:
        return tomllib.load(fh)


def problems(data):
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    return info.value.problems, str(info.value)


def mutated(data, path, value):
    d = copy.deepcopy(data)
    node = d
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return d


def test_bench_loads(bench):
    s = load_scenario(bench)
    assert list(s.score.tiers) == ["AAA", "AA", "A", "B", "C", "D"]


def test_unknown_key_lists_allowed(bench):
    probs, text = problems(mutated(bench, "behaviours.jaywalking.colour", "red"))
    assert probs[0][0] == "behaviours.jaywalking.colour"
    assert "unknown key" in probs[0][2] and "points" in probs[0][2]


def test_wrong_type(bench):
    probs, _ = problems(mutated(bench, "behaviours.jaywalking.points", "five"))
    assert probs[0][0] == "behaviours.jaywalking.points" and probs[0][1] == "five"


def test_probability_out_of_range(bench):
    probs, text = problems(mutated(bench, "behaviours.jaywalking.rate.risky", 1.5))
    assert probs[0][0] == "behaviours.jaywalking.rate.risky" and probs[0][1] == 1.5
    assert "less than or equal to 1" in probs[0][2]


def test_nan_rejected(bench):
    probs, _ = problems(mutated(bench, "behaviours.jaywalking.detect", float("nan")))
    assert probs[0][0] == "behaviours.jaywalking.detect"


def test_unordered_tiers(bench):
    tiers = {"AAA": 1050, "AA": 1030, "B": 850, "A": 960, "C": 600, "D": 0}
    probs, _ = problems(mutated(bench, "score.tiers", tiers))
    assert any(p[0] == "score.tiers.A" and "highest to lowest" in p[2] for p in probs)


def test_negative_size(bench):
    probs, _ = problems(mutated(bench, "population.size", -5))
    assert probs[0][0] == "population.size" and probs[0][1] == -5


def test_undefined_references_all_reported(bench):
    d = mutated(bench, "behaviours.jaywalking.channels", ["satellites"])
    d = mutated(d, "consequences.flight_ban.on", ["lists.greylist"])
    d = mutated(d, "lists.blacklist.enter", {"tier_at_most": "Z"})
    probs, text = problems(d)
    paths = {p[0] for p in probs}
    assert {"behaviours.jaywalking.channels.0", "consequences.flight_ban.on.0",
            "lists.blacklist.enter.tier_at_most"} <= paths
    assert "allowed: records" in text and "allowed: lists.blacklist" in text


def test_missing_class_rate(bench):
    d = mutated(bench, "behaviours.jaywalking.rate", {"compliant": 0.1, "average": 0.1})
    probs, _ = problems(d)
    assert any(p[0] == "behaviours.jaywalking.rate" and p[1] == "risky" for p in probs)


def test_shares_must_sum_to_one(bench):
    probs, _ = problems(mutated(bench, "population.classes", {"compliant": 0.5, "average": 0.2, "risky": 0.1}))
    assert probs[0][0] == "population.classes"


def test_timeline_checked(bench):
    d = copy.deepcopy(bench)
    d["timeline"] = [{"day": 10, "set": {"behaviours.jaywalking.points": "x"}}]
    probs, _ = problems(d)
    assert probs[0][0].startswith("timeline.0.set")
    d["timeline"] = [{"day": 10, "set": {"behaviours.nothing.points": 3}}]
    probs, _ = problems(d)
    assert "no such" in probs[0][2]
    d["timeline"] = [{"day": 10, "set": {"population.size": 3}}]
    probs, _ = problems(d)
    assert "not population" in probs[0][2]


def test_provenance_checked(bench):
    d = copy.deepcopy(bench)
    d["provenance"] = {"score.base": "trust me"}
    probs, _ = problems(d)
    assert probs[0][0] == "provenance.score.base"
    d["provenance"] = {"score.nothing": "assumed"}
    probs, _ = problems(d)
    assert "names no value" in probs[0][2]


def test_overrides():
    s = load_scenario("bench-v1", ["behaviours.jaywalking.points=-7", "population.size=123"])
    assert s.behaviours["jaywalking"].points == -7 and s.population.size == 123
    assert parse_override("meta.description=hello world") == ("meta.description", "hello world")
    with pytest.raises(ScenarioError, match="expected path.to.key=value"):
        parse_override("nonsense")


def test_unknown_preset_and_bad_files(tmp_path):
    with pytest.raises(ScenarioError, match="no such file and no such preset"):
        load_scenario("no-such-thing")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe [meta]")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(bad)
    bad.write_text("[meta\nname=1")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)


def test_overrides_are_not_changed_by_loading():
    """A table set by one override and changed by a later dotted one: the caller's table stays as it was."""
    import copy

    from scslab.scenarios import load_scenario

    over = {"ostracism": {"on": ["lists.blacklist"], "rate": 0.01}, "ostracism.rate": 0.5}
    before = copy.deepcopy(over)
    assert load_scenario("bench-v1", over).ostracism.rate == 0.5
    assert over == before
