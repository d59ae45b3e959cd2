"""``scslab contrast``: the press picture against the documented court list on populations of one size, days
and seed, quantity by quantity, checked against each run's own metrics."""

from __future__ import annotations

import csv
import warnings

import pytest

from scslab.contrast import DEFAULT_PAIR, contrast, contrast_rows


@pytest.fixture(scope="module")
def pair():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return contrast(population=20_000, days=365, seed=1)


def test_press_and_court_list_differ_where_the_record_says(pair):
    rows, (press, court) = pair
    assert (press.manifest["population"], press.manifest["seed"]) == (court.manifest["population"], 1) == (20_000, 1)
    by = {r.key: r for r in rows}
    assert (by["score"].a, by["score"].b) == (1.0, 0.0)  # one score for everyone: only the press picture
    assert by["speech"].a >= 1 and by["speech"].b == 0 and by["speech"].differs == "only A"
    assert by["false"].a > 0 and by["false"].b == 0  # cameras' mismatches: no court record is a face match
    assert by["by_ties"].b == 0 and by["unrelated"].a > by["unrelated"].b
    assert by["days_per_act"].b > by["days_per_act"].a  # a court debt weighs far more than one act
    # numbers read from the runs' own metrics, per 100,000 people
    m = court.metrics[(court.metrics.group == "all") & (court.metrics.day == 364)].set_index("metric").value
    assert by["listed"].b == pytest.approx(m["listed:court_list"] * 100_000 / 20_000)
    t = court.metrics[court.metrics.group == "all"].groupby("metric").value.sum()
    assert by["travel_blocked"].b == pytest.approx((t["blocked:flight_ban"] + t["blocked:train_ban"]) * 5)
    assert by["children"].b == pytest.approx(m["sanctioned:private_school_denied"] * 5)
    assert contrast_rows(press, press)[0].differs == "same"


def test_cli_prints_the_table_and_writes_csv_and_figure(tmp_path):
    from typer.testing import CliRunner

    from scslab.cli import app

    res = CliRunner().invoke(app, ["contrast", "-n", "4000", "--days", "60", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Everyone has a score" in " ".join(res.output.split())
    with open(tmp_path / "contrast.csv") as fh:
        table = list(csv.DictReader(fh))
    assert [r["key"] for r in table][:2] == ["score", "behaviours"] and DEFAULT_PAIR[0] in table[0]
    assert (tmp_path / "contrast.png").stat().st_size > 10_000 and (tmp_path / "contrast.svg").exists()
    bad = CliRunner().invoke(app, ["contrast", "press-2018", "no-such-scheme", "-n", "1000"])
    assert bad.exit_code != 0 and "no-such-scheme" in bad.output
