"""Every preset loads, runs, and marks every number it sets as documented or assumed."""

import pytest
import tomllib

from scslab import load_scenario, preset_names
from scslab.scenarios.load import preset_path, unmarked_numbers

EXPECTED = {"bench-v1", "press-2018", "rongcheng-2018", "court-defaulters-national", "beijing-2020",
            "jinan-dog-points", "xiamen-fuzhou-2018", "court-defaulters-calibrated", "sesame-credit-2018"}


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


def test_sesame_scores_lie_in_350_950_and_friends_defaults_count():
    """The private score: every snapshot counts everybody inside 350-950, the scores spread over the bands, a
    friend's late repayment costs points, and the perks of the upper bands are granted."""
    import warnings

    from scslab import simulate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = simulate("sesame-credit-2018", population=20_000, days=365)
    m = r.metrics[r.metrics.group == "all"]
    bins = m[m.metric.str.startswith("score:")]
    assert len(bins) and (bins.groupby("day").value.sum() == 20_000).all()
    for metric in bins[bins.value > 0].metric.unique():
        low, high = (int(x) for x in metric.split(":")[1].split(".."))
        assert 350 <= low and high <= 950, metric
    last = m[m.day == 364].set_index("metric").value
    assert sum(last[f"tier:{t}"] > 0 for t in ("excellent", "very_good", "good", "medium", "poor")) >= 4
    totals = m.groupby("metric").value.sum()
    assert totals["network_penalties"] > 0  # friends' late repayments and defaults
    assert totals["granted:device_rental"] > 0 and totals["blocked:credit_declined"] > 0
