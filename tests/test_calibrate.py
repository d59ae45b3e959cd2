"""Calibration: the calibration file, a small fit, what it writes, and the shipped calibrated preset."""

import copy
import json
import tomllib

import pytest

from scslab import load_scenario, simulate
from scslab.calibrate import calibrate, evaluate, load_calibration, write_fit
from scslab.calibrate.spec import bundled_targets, scenario_for
from scslab.errors import CalibrationError
from scslab.scenarios.load import unmarked_numbers

pytest.importorskip("optuna")

DOCUMENTED = {"2017-12-31": 9.36e6, "2018-12-31": 17.46e6}  # [spc-counts-2017-12], [spc-counts-2018-12]: flights blocked, cumulative


def small() -> dict:
    """A two-parameter fit of the defaulter list on 2,000 agents over 2015-2016."""
    return {
        "calibrate": {"name": "small_fit", "population": 2000, "represents": 1.1e9, "start": _date("2015-01-01"),
                      "end": _date("2016-12-31"), "trials": 6, "seed": 1},
        "params": {
            "flight": {"paths": ["consequences.flight_ban.attempts_per_day"], "range": [0.0005, 0.02], "log": True},
            "listing": {"paths": ["behaviours.court_default.rate.able", "behaviours.court_default.rate.strained",
                                  "behaviours.court_default.rate.refusing"], "scale": [0.2, 5.0], "log": True},
        },
        "targets": [
            {"name": "flights", "metric": "blocked:flight_ban", "date": _date("2016-12-31"), "value": 3e6},
            {"name": "listed", "metric": "entered:court_list", "date": _date("2016-12-31"), "value": 4e6},
            {"name": "listed, mid", "metric": "listed:court_list", "kind": "level", "date": _date("2016-01-01"),
             "value": 2e6, "weight": 0},
        ],
    }


def _date(text):
    import datetime

    return datetime.date.fromisoformat(text)


@pytest.mark.parametrize("change, where", [
    (lambda d: d["params"]["flight"].update(paths=["consequences.nope.attempts_per_day"]), "params.flight.paths"),
    (lambda d: d["params"]["flight"].update(scale=[1, 2]), "exactly one of range or scale"),
    (lambda d: d["targets"][0].update(date=_date("2019-01-01")), "targets.0.date"),
    (lambda d: d["params"]["flight"].update(range=[0.5, 2.0]), "attempts_per_day"),
    (lambda d: d["calibrate"].update(colour=1), "calibrate.colour"),
    (lambda d: d["params"]["flight"].update(start=0.5), "params.flight.start"),
    (lambda d: d["params"]["listing"].update(paths=["meta.name"]), "is not a number"),
])
def test_bad_calibration_files_name_the_field(change, where):
    data = small()
    change(data)
    with pytest.raises(CalibrationError) as info:
        load_calibration(data, "court-defaulters-national")
    assert where in str(info.value) and "invalid calibration file" in str(info.value)


def test_scale_multiplies_and_range_sets_including_timeline_paths():
    data = small()
    data["calibrate"]["timeline"] = [{"date": _date("2016-01-01"),
                                      "set": {"consequences.flight_ban.attempts_per_day": 0.001}}]
    data["params"]["flight_2016"] = {"paths": ["timeline.0.set.consequences.flight_ban.attempts_per_day"],
                                     "range": [0.0001, 0.1]}
    spec, base = load_calibration(data, "court-defaulters-national")
    assert base["timeline"][0]["day"] == 365 and base["run"]["days"] == 731
    out = scenario_for(spec, base, {"flight": 0.007, "listing": 2.0, "flight_2016": 0.05})
    assert out["consequences"]["flight_ban"]["attempts_per_day"] == 0.007
    assert out["timeline"][0]["set"]["consequences.flight_ban.attempts_per_day"] == 0.05
    rates = base["behaviours"]["court_default"]["rate"]
    assert out["behaviours"]["court_default"]["rate"] == {k: 2.0 * v for k, v in rates.items()}
    assert base["consequences"]["flight_ban"]["attempts_per_day"] == 0.004  # base untouched


def test_evaluate_scales_and_accumulates():
    spec, base = load_calibration(small(), "court-defaulters-national")
    rows, loss, series = evaluate(spec, base)
    run = simulate(base)
    weight = 1.1e9 / 2000
    flights = run.series("blocked:flight_ban").sum() * weight
    assert rows[0]["simulated"] == round(flights)
    assert rows[0]["error"] == pytest.approx(flights / 3e6 - 1)
    assert rows[2]["simulated"] == round(run.series("listed:court_list").loc[365] * weight)
    assert loss > 0 and len(series["blocked:flight_ban (cumulative)"]) == 731


def test_a_fit_of_persons_runs_without_entities_and_gets_the_same_figures():
    """``persons_only`` drops the firms and authorities when every target is a persons' metric, because the
    persons' metrics do not depend on them: checked on the court list, whose firms and authorities are listed
    beside its persons. A target on an entity type or on an aggregate over both keeps them."""
    from scslab.calibrate.fit import persons_only

    spec, base = load_calibration(small(), "court-defaulters-national")
    assert base["entities"] and persons_only(spec, base)["entities"] == {}
    both = simulate(base).metrics
    alone = simulate(persons_only(spec, base)).metrics
    persons = ~both["metric"].str.contains(r"^[a-z_]+\.|^agency|^score:", regex=True)
    merged = both[persons].merge(alone, on=["day", "metric", "group"], how="left", suffixes=("", "_alone"))
    assert len(merged) > 10_000 and merged["value_alone"].notna().all()
    assert (merged["value"] == merged["value_alone"]).all()
    for metric in ("firms.listed:court_list", "agency:aviation"):
        data = small()
        data["targets"][0]["metric"] = metric
        spec, base = load_calibration(data, "court-defaulters-national")
        assert persons_only(spec, base)["entities"] == base["entities"]


def test_a_small_fit_improves_on_the_start_and_writes_a_valid_scenario(tmp_path):
    spec, base = load_calibration(small(), "court-defaulters-national")
    _, start_loss, _ = evaluate(spec, base)
    fit = calibrate("court-defaulters-national", small())
    assert len(fit.trials) == 6 and fit.trials[0]["loss"] == pytest.approx(start_loss)  # trial 0: the preset
    assert fit.trials[0]["flight"] == base["consequences"]["flight_ban"]["attempts_per_day"]
    warm = small()
    warm["params"]["flight"]["start"] = 0.007
    assert calibrate("court-defaulters-national", warm, trials=1).trials[0]["flight"] == 0.007  # a declared start
    assert fit.loss <= start_loss
    paths = write_fit(fit, "small.toml", "court-defaulters-national", tmp_path)
    assert {p.name for p in paths} >= {"calibrated.toml", "fit.json", "fit.md", "fit.png", "fit.svg"}
    calibrated = load_scenario(tmp_path / "calibrated.toml")
    assert calibrated.meta.name == "small_fit"
    assert calibrated.consequences["flight_ban"].attempts_per_day == pytest.approx(fit.values["flight"], rel=1e-5)
    assert calibrated.provenance["consequences.flight_ban.attempts_per_day"].startswith("calibrated:")
    raw = tomllib.loads((tmp_path / "calibrated.toml").read_text())
    assert unmarked_numbers(raw) == []  # only the base file's own numbers, each still marked
    report = json.loads((tmp_path / "fit.json").read_text())
    assert [t["name"] for t in report["targets"]] == ["flights", "listed", "listed, mid"]
    assert "| flights | 2016-12-31 |" in (tmp_path / "fit.md").read_text()


def test_bundled_targets_exist_only_where_shipped():
    assert bundled_targets("court-defaulters-national").exists()
    with pytest.raises(CalibrationError, match="no bundled calibration file"):
        bundled_targets("bench-v1")


@pytest.mark.parametrize("seed", [0, 7])
def test_calibrated_preset_reproduces_blocked_flights_within_ten_percent(seed):
    """The issue's bar: cumulative blocked flight purchases at end 2017 and end 2018 within 10 %.

    Seed 0 is the seed the fit used; seed 7 shows the fit is not tuned to one draw of the noise."""
    data = copy.deepcopy(load_scenario("court-defaulters-calibrated").model_dump(mode="json"))
    spec, _ = load_calibration(bundled_targets("court-defaulters-national"), "court-defaulters-national")
    data["run"]["days"] = spec.days  # the held-out targets run to March 2019
    rows, _, _ = evaluate(spec, data, seeds=[seed])
    for row in rows:
        if row["metric"] == "blocked:flight_ban" and row["date"] in DOCUMENTED:
            assert row["documented"] == DOCUMENTED[row["date"]]
            assert abs(row["error"]) < 0.10, row
