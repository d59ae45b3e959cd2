"""Every preset loads, runs, and marks every number it sets as documented or assumed."""

import pytest
import tomllib

from scslab import load_scenario, preset_names
from scslab.scenarios.load import preset_path

EXPECTED = {"bench-v1", "press-2018", "rongcheng-2018", "court-defaulters-national", "beijing-2020",
            "jinan-dog-points", "xiamen-fuzhou-2018", "court-defaulters-calibrated"}


def leaves(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, f"{prefix}{k}.")
    elif isinstance(node, list) and node and all(isinstance(x, dict) for x in node):
        for i, v in enumerate(node):
            yield from leaves(v, f"{prefix}{i}.")
    else:
        yield prefix[:-1], node


def test_all_presets_present():
    assert EXPECTED <= set(preset_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_number_is_marked(name):
    with open(preset_path(name), "rb") as fh:
        raw = tomllib.load(fh)
    load_scenario(name)  # valid
    marks = raw.get("provenance", {})
    unmarked = []
    for path, value in leaves({k: v for k, v in raw.items() if k != "provenance"}):
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool) or (
            isinstance(value, list) and any(isinstance(x, (int, float, list)) for x in value))
        if numeric and not any(path == m or path.startswith(m + ".") for m in marks):
            unmarked.append(path)
    assert not unmarked, f"{name}: numbers without a documented/assumed mark: {unmarked}"
    documented = [v for v in marks.values() if v.startswith("documented:")]
    if name != "bench-v1":
        assert documented, "a preset of a real or press scheme must cite at least one documented number"
