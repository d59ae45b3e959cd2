"""Local schemes: timeline changes for some regions only (``timeline.N.regions``).

Each region's acts, detection, deterrence and coverage follow the rules in force there. Where regions do not
interact (no households, every friend in the same region), a region of a two-region scheme has the results of
running its rules alone, bit for bit on the dense scheduler and in law on the others and on the reference;
what cannot differ by region is refused by name, and the windowed scheduler, which does not run local rules,
refuses them by name."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from agreement import Z_MAX, compare

from scslab.api import simulate
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.errors import OptionError, ScenarioError
from scslab.scenarios.load import load_scenario, preset_path

# bench-v1 in two regions that do not interact (bench-v1 has no households, and every friend is drawn in the
# friend's own region); its one channel, records, covers 90 % of the east and 70 % of the west
SEPARATE = None


def separate() -> dict:
    global SEPARATE
    if SEPARATE is None:
        import tomllib

        s = tomllib.loads(preset_path("bench-v1").read_text())
        s["population"]["regions"] = {"east": {"share": 0.6, "data_completeness": 0.9},
                                      "west": {"share": 0.4, "data_completeness": 0.7}}
        assert "households" not in s["population"] and s["population"]["friends"]["same_region"] == 1.0
        s["provenance"] = {}
        SEPARATE = s
    return copy.deepcopy(SEPARATE)


# a records ramp, more criticism and jaywalking chilled by the watching in the east from day 0; from day 60 in
# the west, false matches and fewer late payments recorded
EAST = {"day": 0, "regions": ["east"], "note": "pilot",
        "set": {"channels.records.coverage": [[0, 0.3], [100, 0.8]],
                "behaviours.criticize_government.rate.average": 0.004,
                "behaviours.jaywalking.deterrence.surveillance": 0.9}}
WEST = {"day": 60, "regions": ["west"],
        "set": {"channels.records.false_match": 0.01, "behaviours.late_payment.detect": 0.5}}


def scheme(*entries: dict) -> dict:
    s = separate()
    s["timeline"] = sorted([*entries, *s.get("timeline", [])], key=lambda e: e["day"])
    return s


def everywhere(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "regions"}


def region_rows(metrics, region: str):
    part = metrics[metrics["group"] == f"region:{region}"]
    return part.sort_values(["day", "metric"]).reset_index(drop=True)


def test_each_region_has_the_results_of_its_rules_alone():
    """Dense scheduler, same seed: the east of the two-region scheme is, row for row, the east of a run with
    the east's changes everywhere; the west likewise (coverage rows included)."""
    both = simulate(scheme(EAST, WEST), population=6_000, days=150, engine="dense").metrics
    for region, entry in (("east", EAST), ("west", WEST)):
        alone = simulate(scheme(everywhere(entry)), population=6_000, days=150, engine="dense").metrics
        mine, theirs = region_rows(both, region), region_rows(alone, region)
        assert len(mine) > 0 and mine.equals(theirs), region
    # ... and the two regions' rules do differ in what they produce
    east, west = region_rows(both, "east"), region_rows(both, "west")

    def total(part, metric):
        return int(part.loc[part["metric"] == metric, "value"].sum())

    # the east criticises about twice as often per person; only the west has false matches, from day 60
    crit = total(east, "acts:criticize_government") / 0.6, total(west, "acts:criticize_government") / 0.4
    assert crit[0] > 1.6 * crit[1]
    assert total(east, "false:jaywalking") == 0 and total(west[west["day"] < 60], "false:jaywalking") == 0
    assert total(west, "false:jaywalking") > 0
    # the west records 0.95 x 0.7 of its late payments, and half that from day 60
    before, after = west[west["day"] < 60], west[west["day"] >= 60]
    seen = [total(part, "detected:late_payment") / total(part, "acts:late_payment") for part in (before, after)]
    assert 0.6 < seen[0] < 0.73 and 0.28 < seen[1] < 0.4


def test_coverage_rows_by_region():
    """``coverage_ppm:CHANNEL`` per region is the channel's effective coverage there: the region's own ramp, or
    the scenario's coverage, times the region's data completeness; group all has the scenario's own."""
    m = simulate(scheme(EAST, WEST), population=2_000, days=120, engine="dense").metrics
    records = m[m["metric"] == "coverage_ppm:records"].set_index(["group", "day"])["value"]
    for day in (0, 50, 100, 119):
        ramp = 0.3 + (0.8 - 0.3) * min(day, 100) / 100
        assert records["region:east", day] == round(ramp * 0.9 * 1e6)
        assert records["region:west", day] == round(0.7 * 1e6)
        assert records["all", day] == 1_000_000  # the scenario's own, regional changes and factors left out


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_local_rules_agree_with_the_reference(engine):
    """Both day schedulers against the slow reference, which works each region's numbers out from its own
    rules: every metric's summary within the agreement bound."""
    s = load_scenario(scheme(EAST, WEST))
    names, z, eng, ref = compare(s, engine=engine, size=(1000, 120))
    assert float(z.max()) < Z_MAX, [(n, round(float(v), 1)) for n, v in zip(names, z) if v >= Z_MAX]
    assert eng[names.index("detected:criticize_government")] > 10


def test_the_lazy_scheduler_gives_each_region_its_rules_in_law():
    """The lazy scheduler draws who acts by skipping across cells, so its draws are not the dense ones; in
    law each region still follows its rules: over 12 seeds the west's totals of the two-region scheme and of
    the west's rules alone agree."""
    both, alone = [], []
    for seed in range(1, 13):
        for out, s in ((both, scheme(EAST, WEST)), (alone, scheme(everywhere(WEST)))):
            m = region_rows(simulate(s, population=3_000, days=120, seed=seed, engine="lazy").metrics, "west")
            m = m[~m["metric"].str.startswith(("coverage_ppm:", "score:"))]
            out.append(m.groupby("metric")["value"].sum())
    a, b = np.array([x.values for x in both], float), np.array([x.values for x in alone], float)
    z = np.abs(a.mean(0) - b.mean(0)) / np.sqrt((a.var(0, ddof=1) + b.var(0, ddof=1)) / len(a) + 1.0)
    assert float(z.max()) < Z_MAX, dict(zip(both[0].index, np.round(z, 1)))


def test_the_windowed_scheduler_refuses_local_rules_by_name():
    plan = compile_plan(load_scenario(scheme(EAST)), size=1000, days=100)
    assert "local-rules" in uses(plan)
    assert choose_route(plan) == "lazy"
    with pytest.raises(OptionError, match="local-rules"):
        choose_route(plan, "windowed")
    # a change for every region is no local rule
    assert "local-rules" not in uses(compile_plan(load_scenario(scheme(everywhere(EAST))), size=1000, days=100))


def test_regions_share_their_rules_where_no_change_is_theirs():
    """A change for the east leaves the west on the scenario's rules (the same object: tables are made once)."""
    everyone = {"day": 150, "set": {"behaviours.criticize_government.network.friends": -5}}
    plan = compile_plan(load_scenario(scheme(EAST, everyone)), size=1000, days=200)
    e = plan.epoch_at(10)
    east, west = e.regional
    assert west is e.scenario and east is not e.scenario
    assert east.behaviours["criticize_government"].rate["average"] == 0.004
    assert e.scenario.behaviours["criticize_government"].rate["average"] == 0.001
    later = plan.epoch_at(190)  # a change for everyone reaches both regions
    assert all(r.behaviours["criticize_government"].network.friends == -5 for r in later.regional)
    assert later.regional[0].behaviours["criticize_government"].rate["average"] == 0.004


@pytest.mark.parametrize("entry, path, words", [
    ({"day": 5, "regions": ["north"], "set": {"channels.records.detect": 0.5}}, "timeline.0.regions.0",
     "unknown region; allowed: east, west"),
    ({"day": 5, "regions": ["east"], "set": {"behaviours.jaywalking.points": -50}},
     "timeline.0.set.behaviours.jaywalking.points", "may set what differs by region; allowed: behaviours.*.rate"),
    ({"day": 5, "regions": ["east", "east"], "set": {"channels.records.detect": 0.5}}, "timeline.0.regions",
     "each region at most once"),
])
def test_what_cannot_differ_by_region_is_refused_by_name(entry, path, words):
    s = separate()
    s["timeline"] = [entry]
    with pytest.raises(ScenarioError) as err:
        load_scenario(s)
    assert any(p == path and words in m for p, _, m in err.value.problems), err.value.problems


def test_the_odd_description_names_the_regions():
    from scslab.odd import odd_markdown

    text = odd_markdown(load_scenario(scheme(EAST, WEST)))
    assert "day 0 in east only" in text and "day 60 in west only" in text and "local schemes" in text


def test_the_report_shows_each_region():
    """The report's regions figure: a line per region in each panel, the local changes named in its caption;
    a scenario of one region has none."""
    pytest.importorskip("matplotlib")
    from scslab.report.figures import FIGURES, caption_of, close

    r = simulate(scheme(EAST, WEST), population=3_000, days=120, engine="dense")
    fig = FIGURES["regions"](r.metrics, r.manifest)
    try:
        left, right = fig.axes[:2]
        assert sorted(line.get_label() for line in right.get_lines()) == ["region east", "region west"]
        assert len(left.get_lines()) == 2
        shares = {line.get_label(): line.get_ydata()[-1] for line in right.get_lines()}
        assert all(0 < v < 100 for v in shares.values())
        text = caption_of(fig, FIGURES["regions"])
        assert "day 0 in east (pilot)" in text and "day 60 in west" in text
    finally:
        close(fig)
    one = simulate("bench-v1", population=500, days=20, engine="dense")
    assert FIGURES["regions"](one.metrics, one.manifest) is None
