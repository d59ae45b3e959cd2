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

    rows, warnings = compare_runs(a, b, replicates=2)  # three pairs: no test can tell
    assert len(warnings) == 1 and "needs at least 6" in warnings[0]
    assert all(r["stands_out"] is None and r["why"].startswith("cannot tell") for r in rows)
    rows, warnings = compare_runs(a, b, replicates=5)
    by = {r["measure"]: r for r in rows}
    assert not warnings
    assert by["tier:B"]["difference"] > 0 and by["tier:B"]["stands_out"]  # harsher friends' penalty: more in B
    assert by["tier:B"]["p"] == pytest.approx(2 * 0.5**6)  # six pairs, all of one sign
    assert by["tier:AAA"]["difference"] == 0 and by["tier:AAA"]["stands_out"] is False
    res = CliRunner().invoke(app, ["compare", str(a), str(b), "-o", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cmp" / "difference.png").stat().st_size > 0 and "tier:B" in res.output
    scslab.run("bench-v1", c, population=10_000, days=200, seed=3)
    bad = CliRunner().invoke(app, ["compare", str(a), str(c)])
    assert bad.exit_code == 2 and "differ in size" in bad.output


@pytest.fixture(scope="module")
def press_dir(tmp_path_factory):
    """press-2018 with harsh penalties for friends' and family's speech: some are sanctioned for ties only."""
    out = tmp_path_factory.mktemp("report") / "press"
    scslab.run("press-2018", out, population=30_000, days=200, seed=4,
               overrides={"behaviours.criticize_government.network.friends": -150,
                          "behaviours.criticize_government.network.household": -150})
    return out


def test_score_distribution_figure_counts_everybody_on_every_snapshot(press_dir):
    result = scslab.Result.load(press_dir)
    m, manifest = result.metrics, result.manifest
    bins = m[m["metric"].str.startswith("score:")]
    per_day = bins.groupby("day")["value"].sum()
    assert list(per_day.index) == [*range(0, 200, 17), 199]  # by default every ceil(200 / 12) days
    assert (per_day == 30_000).all()  # every agent in exactly one bin
    fig = FIGURES["scores"](m, manifest)
    mesh = fig.axes[0].collections[0]
    assert mesh.get_array().shape == (bins["metric"].nunique(), len(per_day))  # bins x snapshot days
    assert fig.axes[0].get_ylabel() == "score" and fig.axes[0].get_xlabel() == "day"
    close(fig)


def test_network_victims_figure_and_headline(press_dir):
    result = scslab.Result.load(press_dir)
    m, manifest = result.metrics, result.manifest
    victims = result.series("sanctioned_by_ties")
    assert victims.max() > 0 and result.summary()["sanctioned_by_ties"] == victims.iloc[-1]
    fig = FIGURES["ties"](m, manifest)
    assert fig.axes[0].lines[0].get_ydata().max() == victims.max()
    close(fig)


def test_disparity_ratios_match_hand_computed_counts():
    import math

    import pandas as pd

    from scslab.report.disparity import disparity_rows

    # group a: 1,000 people, 40 false attributions; the rest (b): 3,000 people, 60 -> rate ratio 2
    rows = [(9, "tier:A", "all", 4000), (9, "tier:A", "group:a", 1000), (9, "tier:A", "group:b", 3000)]
    rows += [(d, "false:x", g, v) for d, g, v in ((0, "all", 60), (9, "all", 40), (0, "group:a", 20),
                                                  (9, "group:a", 20), (0, "group:b", 40), (9, "group:b", 20))]
    m = pd.DataFrame(rows, columns=["day", "metric", "group", "value"])
    a = next(r for r in disparity_rows(m) if r["group"] == "group:a")
    assert a["ratio"] == pytest.approx(2.0) and a["rate"] == pytest.approx(4000.0)
    half = 1.96 * math.sqrt(1 / 40 + 1 / 60)
    assert (a["low"], a["high"]) == (pytest.approx(2 * math.exp(-half)), pytest.approx(2 * math.exp(half)))
    assert a["seed_low"] is None
    # a replicate where group a's rate equals the rest's: the seed interval spans 1 to 2
    rep = m.copy()
    rep.loc[(rep["metric"] == "false:x") & (rep["group"] == "group:a"), "value"] = 10
    rep.loc[(rep["metric"] == "false:x") & (rep["group"] == "all"), "value"] = [40, 40]
    rep.loc[(rep["metric"] == "false:x") & (rep["group"] == "group:b"), "value"] = [30, 30]
    a2 = next(r for r in disparity_rows(m, [rep]) if r["group"] == "group:a")
    assert (a2["seed_low"], a2["seed_high"]) == (pytest.approx(1.0), pytest.approx(2.0)) and a2["seeds"] == 2


def test_report_with_replicates_shows_intervals_across_seeds(press_dir):
    res = CliRunner().invoke(app, ["report", str(press_dir), "--replicates", "2"])
    assert res.exit_code == 0, res.output
    page = (press_dir / "report.html").read_text()
    assert "range over 3 seeds" in page and "a range, not a percentile interval" in page
    assert "sanctioned_by_ties" in page
    fig = FIGURES["disparity"](scslab.Result.load(press_dir).metrics, scslab.Result.load(press_dir).manifest)
    assert len(fig.axes) == 2  # false attributions and listed people
    close(fig)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def chromium_or_skip():
    """Debian's Chromium: in CI (.ci/run installs it) its absence is a failure, elsewhere a skip."""
    import os

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium for the browser tests")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api")


def test_report_renders_offline_in_headless_chromium(press_dir, tmp_path):
    import matplotlib.image

    sync_api = chromium_or_skip()
    from scslab.report import write_report

    page_path = write_report(press_dir)
    figures = len(list((press_dir / "figures").glob("*.png")))
    requests = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            decoded = page.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0)"
                                    ".length")
            page.screenshot(path=tmp_path / "report.png", full_page=True)
            page.locator("img[alt='scores']").screenshot(path=tmp_path / "scores.png")
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []  # offline: no network request
    assert decoded == figures >= 6  # every figure is inlined and decodes
    for shot in ("report.png", "scores.png"):
        rgb = matplotlib.image.imread(tmp_path / shot)[..., :3]
        ink = (rgb < 0.9).any(axis=-1).mean()  # share of pixels that are not (near) white
        colours = len({tuple(px) for px in (rgb[::4, ::4].reshape(-1, 3) * 255).astype(int).tolist()})
        assert ink > 0.05 and colours > 50, f"{shot} looks blank: {ink:.1%} ink, {colours} colours"


def test_sign_test():
    from scslab.report.compare import sign_test

    assert sign_test([1, 2, 3, 4, 5, 6]) == pytest.approx(0.03125)
    assert sign_test([-1, -2, 0, -4, -5, -6, -7]) == pytest.approx(0.03125)  # the 0 is dropped
    assert sign_test([1, -1, 2, -2]) == 1.0 and sign_test([0, 0]) == 1.0
    assert sign_test([1] * 9 + [-1]) == pytest.approx(2 * 11 / 1024)
