"""The sweep, sensitivity and calibrate commands, end to end."""

import pytest
import tomli_w
from typer.testing import CliRunner

from scslab.cli import app

pytest.importorskip("distributed")
runner = CliRunner()

SWEEP = {
    "sweep": {"name": "cli", "base": "bench-v1", "population": 2000, "days": 30, "seed": 2,
              "outputs": ["network_penalties"]},
    "design": {"kind": "sobol", "samples": 4},
    "params": {"detect": {"path": "behaviours.criticize_government.detect", "range": [0.1, 0.9]},
               "points": {"path": "behaviours.criticize_government.points", "range": [-50, -5], "integer": True}},
}


def test_sweep_then_sensitivity_from_the_command_line(tmp_path):
    import xarray as xr

    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(SWEEP))
    out = tmp_path / "out"
    res = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "2", "--xarray", "-q"])
    assert res.exit_code == 0, res.output
    assert "16 runs: 0 done before, 16 done now, 0 failed" in res.output
    ds = xr.open_dataset(out / "sweep.nc")
    assert dict(ds.sizes) == {"run": 16, "day": 30}
    ds.close()
    again = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--workers", "2", "-q"])
    assert "16 done before, 0 done now" in again.output
    sens = runner.invoke(app, ["sensitivity", str(out), "-y", "network_penalties"])
    assert sens.exit_code == 0, sens.output
    assert "detect" in sens.output and (out / "sensitivity.csv").exists() and (out / "sensitivity.png").exists()
    # four base samples cannot give Sobol indices that mean anything: every row says so, and a warning why
    assert "warning: the design has 4 base samples" in " ".join(sens.output.split())
    import pandas as pd

    notes = pd.read_csv(out / "sensitivity.csv")["note"]
    assert (notes == "unreliable: 4 base samples (at least 64 needed)").all()
    assert "RuntimeWarning" not in sens.output
    bad = runner.invoke(app, ["sensitivity", str(out), "-y", "nothing"])
    assert bad.exit_code == 2 and "not in the catalogue" in bad.output


def test_sweep_file_errors_exit_2_and_create_nothing(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps({**SWEEP, "design": {"kind": "lhs"}}))
    res = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2 and "design.samples" in res.output
    assert not (tmp_path / "out").exists()


def test_calibrate_from_the_command_line(tmp_path):
    import datetime

    targets = {
        "calibrate": {"name": "cli_fit", "population": 1000, "represents": 1.1e9,
                      "start": datetime.date(2016, 1, 1), "end": datetime.date(2016, 12, 31), "trials": 2},
        "params": {"flight": {"paths": ["consequences.flight_ban.attempts_per_day"], "range": [0.001, 0.01]}},
        "targets": [{"name": "flights 2016", "metric": "blocked:flight_ban", "date": datetime.date(2016, 12, 31),
                     "value": 2e6}],
    }
    path = tmp_path / "t.toml"
    path.write_text(tomli_w.dumps(targets))
    res = runner.invoke(app, ["calibrate", "court-defaulters-national", "--targets", str(path), "--out",
                              str(tmp_path / "cal"), "-q"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "flights 2016" in res.output and "documented against the model" in res.output and (tmp_path / "cal" / "calibrated.toml").exists()
    res = runner.invoke(app, ["calibrate", "bench-v1"])
    assert res.exit_code == 2 and "no bundled calibration file" in res.output
