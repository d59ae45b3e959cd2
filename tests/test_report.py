"""`scslab report`: figures from a real small run, checked for content; the HTML is self-contained."""

import re

import numpy as np
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
    assert len(lists.axes) == 2 * len(s["lists"])  # each list: a panel of people on it, one of entries and exits
    assert [len(ax.lines) for ax in lists.axes[::2]] == [2] * len(s["lists"])
    listed = lists.axes[0].lines[0].get_ydata()
    assert listed.max() > 0  # the court list really fills in this run
    cons = FIGURES["consequences"](m, manifest)
    sanctions = [c for c, q in s["consequences"].items() if q.get("kind", "sanction") == "sanction"]
    held = [c for c in sanctions if m[(m["metric"] == f"sanctioned:{c}") & (m["group"] == "all")]["value"].any()]
    assert len(cons.axes[0].lines) == len(held) > 0  # the sanctions' panel: one line per sanction anyone was under
    assert cons.axes[0].get_title() == "People under each sanction"
    tiers = FIGURES["tiers"](m, manifest)
    ax = tiers.axes[0]
    assert ax.get_yscale() == "log" and not ax.collections  # lines on a log scale, no stacked area
    occupied = [t for t in s["score"]["tiers"] if m[m["metric"] == f"tier:{t}"]["value"].any()]
    assert [line.get_label() for line in ax.lines] == [f"tier {t}" for t in occupied]
    share = m[(m["metric"] == f"tier:{occupied[0]}") & (m["group"] == "all")]["value"] / manifest["population"]
    assert np.nanmax(ax.lines[0].get_ydata()) == pytest.approx(100 * share.max())  # percent of people
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
    assert "person-times" in page and "documented:" in page and "Citizen " in page
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
    from scslab.report.compare import difference_figure

    fig = difference_figure(a, b)  # the title names both runs and what B changes
    title = fig.get_suptitle().replace("\n", " ")
    assert "A: bench-v1, seed 3." in title and "B: bench-v1, seed 3 with" in title
    assert "behaviours.criticize_government.network.friends = -30" in title
    assert all(ax.get_legend() is not None for ax in fig.axes if len(ax.lines) > 2)  # lines besides the 0 line
    close(fig)
    scslab.run("bench-v1", c, population=10_000, days=200, seed=3)
    bad = CliRunner().invoke(app, ["compare", str(a), str(c)])
    assert bad.exit_code == 2 and "differ in size" in bad.output


@pytest.fixture(scope="module")
def press_dir(tmp_path_factory):
    """press-2018 with harsh penalties for friends' and family's speech: some are sanctioned for ties only."""
    out = tmp_path_factory.mktemp("report") / "press"
    scslab.run("press-2018", out, population=30_000, days=200, seed=4,
               overrides={f"behaviours.criticize_government.network.{k}": -150  # every kind of tie it sets
                          for k in ("household", "partner", "parents", "children", "best_friend", "friends")})
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
    assert fig.axes[0].get_ylabel() == "score" and fig.axes[0].get_xlabel() == "day of the run"
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


RAW_NAMES = re.compile(r"\b(tier|region|group|class|listed|sanctioned|rewarded|blocked|granted|coverage_ppm):")


def _texts(fig):
    """Every text a reader sees on a figure: titles, axis labels, tick labels, legends, annotations."""
    out = [t.get_text() for t in fig.texts] + [leg.get_title().get_text() for leg in fig.legends]
    out += [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_yticklabels() + ax.texts]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in out if t]


def _check_figure(name, fig, make):
    """What every report figure promises: one y-axis per panel, no empty or degenerate panel, a legend on
    every panel with several lines, lines told apart, words instead of metric names, a whole-sentence
    caption, and a layout that clips nothing."""
    from scslab.report.figures import caption_of

    assert fig.get_layout_engine() is not None, name  # constrained layout: nothing clipped
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    boxes = [tuple(np.round(ax.get_position().bounds, 4)) for ax in panels]
    assert len(set(boxes)) == len(boxes), f"{name}: two y-axes on one panel"
    for ax in panels:
        low, high = ax.get_ylim()
        if ax.get_yscale() == "linear":
            assert high - low >= 0.5, f"{name}: degenerate y range {low}..{high} in {ax.get_title()!r}"
        named = [line for line in ax.lines if not line.get_label().startswith("_")]
        if len(named) > 1:
            assert ax.get_legend() is not None or fig.legends, f"{name}: {ax.get_title()!r} has no legend"
            looks = {(line.get_color(), line.get_linestyle()) for line in named}
            assert len(looks) == len(named), f"{name}: two lines look alike in {ax.get_title()!r}"
        drawn = ax.lines or ax.collections or ax.patches
        assert drawn, f"{name}: an empty panel {ax.get_title()!r}"
    for text in _texts(fig):
        assert not RAW_NAMES.search(text) and "_" not in text, f"{name}: raw name in {text!r}"
    caption = caption_of(fig, make)
    assert caption[0].isupper() and caption.endswith(".") and "weekly" not in caption, (name, caption)
    assert not caption.rstrip(".").endswith(","), (name, caption)


@pytest.mark.parametrize("which", ["court", "press"])
def test_every_figure_reads_well(which, run_dir, press_dir):
    result = scslab.Result.load(run_dir if which == "court" else press_dir)
    m, manifest = result.metrics, result.manifest
    made = 0
    for name, make in FIGURES.items():
        fig = make(m, manifest)
        if fig is None or isinstance(fig, str):  # nothing of its kind, or a sentence saying the run had none
            assert fig is None or fig.endswith("so there is no figure."), (name, fig)
            continue
        made += 1
        _check_figure(name, fig, make)
        close(fig)
    assert made >= 6


def test_empty_panels_are_dropped_and_named_in_the_caption(press_dir):
    """press-2018 has a red list nobody enters in a small run: no panel for it, and the caption says so."""
    from scslab.report.figures import caption_of

    result = scslab.Result.load(press_dir)
    m, manifest = result.metrics, result.manifest
    never = [n for n in manifest["scenario"]["lists"] if not m[m["metric"] == f"listed:{n}"]["value"].any()]
    fig = FIGURES["lists"](m, manifest)
    titles = " ".join(ax.get_title() for ax in fig.axes)
    for name in never:
        assert name.replace("_", " ") not in titles.lower()
        assert f"Nobody was ever on {name.replace('_', ' ')}" in caption_of(fig)
    close(fig)


def test_score_caption_gives_the_snapshot_cadence(press_dir):
    from scslab.report.figures import caption_of, snapshot_cadence

    result = scslab.Result.load(press_dir)
    fig = FIGURES["scores"](result.metrics, result.manifest)
    assert "every 17 days" in caption_of(fig)  # ceil(200 / 12): the engine's default
    close(fig)
    manifest = {**result.manifest, "scenario": {**result.manifest["scenario"],
                                                 "run": {**result.manifest["scenario"]["run"], "score_every_days": 31}}}
    assert snapshot_cadence(manifest) == 31


def test_words_for_metric_and_scenario_names():
    from scslab.report.figures import scenario_words, words

    assert words("tier:AAA") == "tier AAA" and words("region:west") == "region west"
    assert words("listed:court_list") == "on court list" and words("criticize_government") == "criticize government"
    assert words("firms.listed:blacklist") == "firms: on blacklist"
    assert scenario_words({"scenario": {"meta": {"name": "press_2018"}}}) == "press-2018"


def test_report_tells_when_a_story_is_cut(press_dir):
    from scslab.report import write_report

    page = write_report(press_dir, stories_per_agent=3).read_text()
    assert re.search(r"first 3 lines of \d+ shown", page)
    assert "Daily recoveries in a row are one line" in page
    assert "tier:" not in re.sub(r"<td class='mark'>[^<]*</td>", "", page.split("Where the numbers come from")[0])
    write_report(press_dir)


def test_calibration_figure_is_drawn_against_dates(tmp_path, monkeypatch):
    import datetime as dt

    import matplotlib.pyplot as plt

    from scslab.calibrate.fit import Fit, _plot

    targets = [{"name": f"entries {y}", "metric": "entered:court_list", "kind": "cumulative", "date": f"{y}-12-31",
                "day": (dt.date(y, 12, 31) - dt.date(2013, 10, 1)).days, "documented": 1e6 * (y - 2013),
                "simulated": 0, "error": 0.0, "weight": 1.0, "source": "x"} for y in (2014, 2015)]
    fit = Fit({}, 0.0, targets, [], {}, {"entered:court_list (cumulative)": list(np.linspace(0, 2.1e6, 900))})
    kept = []
    monkeypatch.setattr(plt, "close", lambda fig=None: kept.append(fig))
    paths = _plot(fit, tmp_path / "fit")
    assert all(p.stat().st_size > 0 for p in paths)
    ax = kept[0].axes[0]
    assert ax.get_xlabel() == "date" and ax.get_ylabel() == "million people"
    assert ax.lines[0].get_xdata()[0] == dt.date(2013, 10, 1)  # day 0 is the window's first date
    assert "court list" in ax.get_title() and ax.get_legend() is not None
