"""Every preset loads, runs, and marks every number it sets as documented or assumed."""

import pytest
import tomllib

from scslab import load_scenario, preset_names
from scslab.scenarios.load import preset_path, unmarked_numbers

EXPECTED = {"bench-v1", "press-2018", "rongcheng-2018", "court-defaulters-national", "beijing-2020",
            "jinan-dog-points", "xiamen-fuzhou-2018", "court-defaulters-calibrated"}


def test_all_presets_present():
    assert EXPECTED <= set(preset_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_number_is_marked(name):
    with open(preset_path(name), "rb") as fh:
        raw = tomllib.load(fh)
    load_scenario(name)  # valid
    marks = raw.get("provenance", {})
    unmarked = unmarked_numbers(raw)
    assert not unmarked, f"{name}: numbers without a documented/assumed mark: {unmarked}"
    documented = [v for v in marks.values() if v.startswith("documented:")]
    if name != "bench-v1":
        assert documented, "a preset of a real or press scheme must cite at least one documented number"
