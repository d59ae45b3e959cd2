"""`scslab report`: figures from a real small run, checked for content; the HTML is self-contained."""

import re

import pytest
from typer.testing import CliRunner

import scslab
from scslab.cli import app
from scslab.report.figures import FIGURES, close


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "court"
    scslab.run("court-defaulters-national", out, population=30_000, days=200, seed=4)
    return out


def test_figures_have_the_expected_series(run_dir):
    result = scslab.Result.load(run_dir)
    m, manifest = result.metrics, result.manifest
    s = manifest["scenario"]
    lists = FIGURES["lists"](m, manifest)
    assert len(lists.axes) == 2 * len(s["lists"])  # each list: people axis and per-day axis
    assert [len(ax.lines) for ax in lists.axes[::2]] == [2] * len(s["lists"])
    listed = lists.axes[0].lines[0].get_ydata()
    assert listed.max() > 0  # the court list really fills in this run
    cons = FIGURES["consequences"](m, manifest)
    assert len(cons.axes[0].lines) == len(s["consequences"]) == len(cons.axes[1].lines)
    tiers = FIGURES["tiers"](m, manifest)
    assert len(tiers.axes[0].collections) == len(s["score"]["tiers"])
    for fig in (lists, cons, tiers):
        close(fig)


def test_report_is_self_contained(run_dir):
    res = CliRunner().invoke(app, ["report", str(run_dir)])
    assert res.exit_code == 0, res.output
    page = (run_dir / "report.html").read_text()
    made = sorted(p.stem for p in (run_dir / "figures").glob("*.png"))
    assert made == sorted(p.stem for p in (run_dir / "figures").glob("*.svg")) and "lists" in made
    assert page.count("<img ") == len(made)
    assert not re.search(r"(?:src|href)=['\"]https?:", page)  # nothing to fetch: opens offline
    assert "person-times" in page and "documented:" in page and "Agent " in page
    assert scslab.Result.load(run_dir).manifest["status"] == "complete"


def test_compare_two_policies_with_common_random_numbers(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    scslab.run("bench-v1", a, population=20_000, days=200, seed=3)
    scslab.run("bench-v1", b, population=20_000, days=200, seed=3,
               overrides={"behaviours.criticize_government.network.friends": -30})
    from scslab.report.compare import compare_runs

    rows, warnings = compare_runs(a, b, replicates=2)
    by = {r["measure"]: r for r in rows}
    assert not warnings
    assert by["tier:B"]["difference"] > 0 and by["tier:B"]["stands_out"]  # harsher friends' penalty: more in B
    assert by["tier:AAA"]["difference"] == 0 and not by["tier:AAA"]["stands_out"]
    res = CliRunner().invoke(app, ["compare", str(a), str(b), "-o", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cmp" / "difference.png").stat().st_size > 0 and "tier:B" in res.output
    scslab.run("bench-v1", c, population=10_000, days=200, seed=3)
    bad = CliRunner().invoke(app, ["compare", str(a), str(c)])
    assert bad.exit_code == 2 and "differ in size" in bad.output
