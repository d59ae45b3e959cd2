"""Validation against the record: each preset's documented targets beside the model (``scslab validate-targets``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scslab import simulate
from scslab.calibrate import load_calibration
from scslab.calibrate.validate import target_files, targets_for, validate_targets
from scslab.cli import app
from scslab.errors import CalibrationError
from scslab.scenarios.load import preset_names

ROOT = Path(__file__).resolve().parents[1]


def test_each_target_file_names_the_presets_it_checks_and_every_target_says_what_it_counts():
    named = {}
    for name, path in target_files().items():
        spec, _ = load_calibration(path, targets_for_first(path))
        assert spec.calibrate.presets, name
        for preset in spec.calibrate.presets:
            assert preset in preset_names() and preset not in named, preset
            named[preset] = name
        for t in spec.targets:
            assert t.counts in ("people", "person-times", "firms", "records")
            assert bool(t.metric) != bool(t.cannot), t.name  # a metric, or why the model cannot express it
    assert {"court-defaulters-calibrated", "court-defaulters-national", "jinan-dog-points"} <= set(named)
    assert targets_for("press-2018") is None


def targets_for_first(path):
    import tomllib

    return tomllib.loads(path.read_text())["calibrate"]["presets"][0]


def test_jinan_targets_beside_the_model_on_several_seeds():
    v = validate_targets("jinan-dog-points", seeds=3)
    assert v.seeds == (0, 1, 2) and v.window == ("2017-01-01", "2018-08-23")
    rows = {r["name"].split(",")[0]: r for r in v.rows}
    zeroed = rows["licences zeroed (dogs confiscated)"]
    # the model's figure is the mean of the seeds' cumulative entries (one agent is one owner)
    runs = [simulate("jinan-dog-points", seed=s).series("entered:confiscated_dogs").sum() for s in (0, 1, 2)]
    assert zeroed["simulated"] == round(np.mean(runs)) and (zeroed["low"], zeroed["high"]) == (min(runs), max(runs))
    assert zeroed["error"] == pytest.approx(np.mean(runs) / 122 - 1) and zeroed["fitted"]
    owners = rows["owners penalised"]  # distinct people: the running total of the first deductions
    firsts = [simulate("jinan-dog-points", seed=s).series("newly_penalised").sum() for s in (0, 1, 2)]
    assert owners["fitted"] and owners["simulated"] == round(np.mean(firsts))
    for row in v.rows:  # the bar: each documented count within 15 %
        assert abs(row["error"]) < 0.15, row


def test_a_flow_is_the_difference_of_running_totals_and_held_out_targets_are_never_fitted():
    v = validate_targets("court-defaulters-calibrated", seeds=1)
    rows = {r["name"]: r for r in v.rows}
    dec = next(r for r in v.rows if r["kind"] == "flow" and r["metric"] == "entered:court_list")
    assert dec["since"] == "2018-12-01" and dec["use"] == "holdout" and not dec["fitted"]
    end_2018 = rows["listed (cumulative), end 2018"]
    assert end_2018["fitted"] and 0 < dec["simulated"] < end_2018["simulated"] / 20  # one month of 5 years
    assert any(r["cannot"] for r in v.rows) and all(r["simulated"] is not None for r in v.rows if not r["cannot"])


def test_a_flow_needs_its_first_day_and_a_target_needs_a_metric_or_a_reason():
    import tomllib

    data = tomllib.loads(target_files()["jinan-dog-points"].read_text())
    data["targets"][0].update(kind="flow")
    data["targets"][2].pop("metric")
    with pytest.raises(CalibrationError) as info:
        load_calibration(data, "jinan-dog-points")
    assert "targets.0.since" in str(info.value) and "targets.2.metric" in str(info.value)


def test_cli_tables_a_preset_and_refuses_one_without_targets():
    runner = CliRunner()
    ok = runner.invoke(app, ["validate-targets", "jinan-dog-points", "--seeds", "2"], env={"COLUMNS": "220"})
    assert ok.exit_code == 0, ok.output
    assert "licences zeroed" in ok.output and "owners penalised" in ok.output and "documented against the model" in ok.output
    bad = runner.invoke(app, ["validate-targets", "press-2018"])
    assert bad.exit_code == 2 and "has no documented targets bundled" in bad.output
    assert "jinan-dog-points" in bad.output


def test_the_docs_page_covers_every_preset():
    text = (ROOT / "docs" / "validation.md").read_text()
    assert "scslab validate-targets --all --markdown" in text
    for name in preset_names():
        if targets_for(name) is not None:
            assert f"## {name}\n" in text, name
        else:
            assert name in text.split("## Presets without targets")[-1], name
