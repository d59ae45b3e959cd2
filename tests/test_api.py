"""``scslab.Result`` as a notebook user meets it: a short repr, an HTML view, ``save`` refusals in the API's
words, and ``series`` of a mistyped metric suggesting the nearest names."""

import pytest

import scslab
from scslab.errors import RunDirError


@pytest.fixture(scope="module")
def result():
    return scslab.simulate("press-2018", population=2_000, days=30, seed=1)


def test_repr_is_a_short_line_with_what_the_run_is_and_where_it_lives(result, tmp_path):
    text = repr(result)
    assert len(text) < 200 and "\n" not in text, text
    for part in ("press_2018", "2,000 agents x 30 days", "seed 1", "engine auto, windowed scheduler", "in memory"):
        assert part in text, (part, text)
    saved = result.save(tmp_path / "run")
    assert result.path == saved and f"saved in {str(saved)!r}" in repr(result)
    assert "saved in" in repr(scslab.Result.load(saved))
    firms = scslab.simulate("beijing-2020", population=1_000, days=5, seed=2)
    assert "1,000 persons + 46 firms x 5 days" in repr(firms)


def test_a_notebook_shows_the_summary_as_a_small_table(result):
    page = result._repr_html_()
    assert page.count("<table>") == 1 and len(page) < 8_000
    for name, value in result.summary().items():
        assert f"<td style='text-align:left'>{name}</td><td>{value:,}</td>" in page
    assert "press_2018" in page


def test_save_refuses_in_the_apis_words(result, tmp_path):
    out = result.save(tmp_path / "run")
    with pytest.raises(RunDirError) as refused:
        result.save(out)
    text = str(refused.value)
    assert "force=True" in text and "--force" not in text and "--out" not in text
    (tmp_path / "file").write_text("not a run")
    with pytest.raises(RunDirError) as refused:
        result.save(tmp_path / "file", force=True)
    assert "--" not in str(refused.value) and "force=True" in str(refused.value)
    assert result.save(out, force=True) == out  # a run directory of scslab's own is replaced


def test_series_of_an_unknown_metric_suggests_the_nearest_names(result):
    with pytest.raises(KeyError) as missing:
        result.series("listed:blaklist")
    text = str(missing.value)
    assert "did you mean 'listed:blacklist'?" in text and len(text) < 400, text
    assert "tier:AAA" not in text  # no longer every metric
    with pytest.raises(KeyError, match="none is close"):
        result.series("zzzz")
    with pytest.raises(KeyError) as missing:
        result.series("listed:blacklist", "regoin:east")
    assert "no group 'regoin:east'" in str(missing.value) and "'region:east'" in str(missing.value)
    assert result.series("listed:blacklist", "region:east").index[-1] == 29


@pytest.mark.parametrize("preset,size", [("press-2018", 2_000), ("beijing-2020", 1_000)])
def test_the_summary_is_the_final_day_and_the_totals_of_the_metrics(preset, size):
    """``summary`` (read from the Arrow table) against the same numbers read plainly from ``metrics``: the
    final day's levels for everyone, the run's totals of attempts by name, network penalties and false
    attributions, in that order (beijing-2020: its firms' metrics too, prefixed)."""
    from scslab.populations import split_metric

    r = scslab.simulate(preset, population=size, days=30, seed=3)
    m = r.metrics[r.metrics["group"] == "all"]
    levels = ("tier:", "listed:", "innocent_listed:", "sanctioned:", "rewarded:", "linked:", "agency:",
              "under_agencies:")
    last = m[m["day"] == r.metrics["day"].max()]
    want = {k: int(v) for k, v in zip(last["metric"], last["value"])
            if split_metric(k)[1].startswith(levels) or split_metric(k)[1] == "sanctioned_by_ties"}
    totals = m.groupby("metric")["value"].sum()
    attempts = ("blocked:", "granted:", "linked_blocked:", "linked_granted:", "agency_attempts:")
    want.update({f"{k} (total)": int(v) for k, v in totals.items() if split_metric(k)[1].startswith(attempts)})
    want["network_penalties (total)"] = int(totals.get("network_penalties", 0))
    want["false attributions (total)"] = int(sum(v for k, v in totals.items() if k.startswith("false:")))
    got = r.summary()
    assert list(got.items()) == list(want.items())
    assert any(k.startswith("firms.") for k in got) == (preset == "beijing-2020")
    assert sum(got[k] for k in got if k.startswith("tier:")) == size
