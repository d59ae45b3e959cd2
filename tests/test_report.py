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
