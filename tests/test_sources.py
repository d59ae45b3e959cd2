"""The table of sources ships with scslab: every id a preset or calibration target cites resolves, every
documented number equals its source's value or a stated conversion, no documented mark says assumed, and the
ODD descriptions, reports and `scslab sources` show the entries."""

import copy
import re
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import scslab
from scslab import load_scenario, preset_names, sources
from scslab.calibrate.spec import bundled_targets
from scslab.cli import app
from scslab.errors import ScenarioError
from scslab.odd import odd_markdown
from scslab.scenarios.load import preset_path

ROOT = Path(__file__).resolve().parent.parent
TABLE = sources.sources()


def raw(name: str) -> dict:
    with open(preset_path(name), "rb") as fh:
        return tomllib.load(fh)


def test_the_table_is_complete_and_honest():
    assert len(TABLE) >= 40
    for s in TABLE.values():
        assert s.status in sources.STATUSES and s.unit and s.publication and s.note, s.id
        assert s.address or s.status == "unsourced", s.id
        if s.status == "secondary":
            assert "secondary" in s.note.lower(), f"{s.id}: a secondary source says so in its note"
        if s.status == "unsourced":
            assert "unsourced" in s.note.lower() or "not documentation" in s.note.lower(), s.id
        if s.status == "derived":
            assert re.search(r"\d\s*[-/+]\s*\d|back-computed|derived", s.note.lower() + s.publication), s.id
    # the unsourced press claims are named as such
    assert TABLE["press-800-pilot"].status == TABLE["press-10m-low-rating"].status == "unsourced"


@pytest.mark.parametrize("name", preset_names())
def test_every_cited_id_resolves_and_documents(name):
    marks = raw(name)["provenance"]
    assert sources.mark_problems(marks) == []
    for key, mark in marks.items():
        ids = sources.cited_ids(mark)
        assert all(i in TABLE for i in ids), (key, ids)
        if mark.startswith("documented:"):
            assert ids, f"{name}: {key} is documented but cites no source"
            assert all(TABLE[i].status in sources.DOCUMENTS for i in ids), (key, ids)


@pytest.mark.parametrize("name", preset_names())
def test_no_documented_mark_says_assumed(name):
    bad = [k for k, m in raw(name)["provenance"].items()
           if m.startswith("documented:") and re.search(r"\bassum", m, re.IGNORECASE)]
    assert not bad, f"{name}: documented marks that say assumed: {bad}"


@pytest.mark.parametrize("name", preset_names())
def test_documented_numbers_equal_their_sources(name):
    assert sources.value_problems(raw(name)) == []


def test_the_value_check_catches_a_wrong_number_and_a_bad_conversion():
    data = raw("press-2018")
    data["channels"]["cameras"]["false_match"] = 0.004
    problems = sources.value_problems(data)
    assert len(problems) == 1 and problems[0].startswith("channels.cameras.false_match = 0.004")
    data = raw("court-defaulters-national")
    data["lists"]["court_list"]["max_days"] = 700
    assert any(p.startswith("lists.court_list.max_days = 700") for p in sources.value_problems(data))
    data = raw("court-defaulters-national")
    data["provenance"]["lists.court_list.max_days"] = "documented: two years (= 730) [spc-provisions-2017-art2]"
    assert any("uses no value" in p for p in sources.value_problems(data))  # a conversion starts from the source
    data["provenance"]["lists.court_list.max_days"] = "documented: two years (= 2 ** 9) [spc-provisions-2017-art2]"
    assert any("not allowed" in p for p in sources.value_problems(data))


def test_conversions_are_arithmetic_only():
    assert sources.evaluate("1 - 7.943e6 / 21.707e6") == pytest.approx(0.63408, rel=1e-4)
    assert sources.evaluate("-(2 * 365)") == -730
    assert sources.conversions("x (= 2 * (3 + 1)) y (= -12) [a-b]") == ["2 * (3 + 1)", "-12"]
    for expr in ["__import__('os').system('true')", "2 ** 3", "a + 1", "[1][0]", "(1).real", "1 if 1 else 2",
                 "1 / 0", "", "1 +"]:
        with pytest.raises(ValueError):
            sources.evaluate(expr)


def test_the_loader_checks_citations():
    base = raw("bench-v1")

    def problems(mark: str) -> list:
        data = copy.deepcopy(base)
        data["provenance"]["score"] = mark
        with pytest.raises(ScenarioError) as info:
            load_scenario(data)
        return info.value.problems

    (path, value, msg), = problems("documented: the score [bench-v1-scor]")
    assert path == "provenance.score" and value == "bench-v1-scor" and "unknown source id" in msg
    assert "bench-v1-score" in msg  # the near ids
    (path, _, msg), = problems("documented: the benchmark's score")
    assert path == "provenance.score" and "cites its sources by id" in msg
    (_, value, msg), = problems("documented: cut-offs [rongcheng-grade-cutoffs]")
    assert value == "rongcheng-grade-cutoffs" and "unsourced" in msg
    (_, _, msg), = problems("documented: start 1000, the rest assumed [bench-v1-score]")
    assert "must not say 'assumed'" in msg
    (_, value, _), = problems("assumed: even an assumed mark cites real ids [no-such-source]")
    assert value == "no-such-source"
    data = copy.deepcopy(base)
    data["provenance"]["score"] = "assumed: plain text (with [0, 1300] brackets) cites nothing"
    load_scenario(data)


@pytest.mark.parametrize("name", ["court-defaulters-national", "jinan-dog-points"])
def test_calibration_targets_cite_shipped_sources(name):
    spec = tomllib.loads(bundled_targets(name).read_text())
    assert spec["targets"]
    for t in spec["targets"]:
        ids = sources.cited_ids(t["source"])
        assert ids and all(i in TABLE for i in ids), t["name"]
        values = [x for i in ids for x in TABLE[i].numbers()]
        assert any(v == pytest.approx(t["value"], rel=1e-9) for v in values), (t["name"], values)


def test_shipped_text_cites_nothing_outside_the_project():
    outside = re.compile(r"facts\.md|DESIGN\.md|shared/reference|reference/bench-v1\.md")
    folder = ROOT / "src" / "scslab" / "scenarios"
    for path in [*folder.glob("presets/*.toml"), *folder.glob("targets/*.toml"), ROOT / "README.md",
                 ROOT / "docs" / "index.md", ROOT / "docs" / "scenario.md", ROOT / "docs" / "boundary.md",
                 ROOT / "docs" / "sources.md", ROOT / "docs" / "bench-v1.md"]:
        assert not outside.search(path.read_text()), path
    for name in preset_names():
        assert not outside.search(odd_markdown(load_scenario(name))), name


@pytest.mark.parametrize("name", preset_names())
def test_odd_links_its_sources_and_states_the_boundary(name):
    s = load_scenario(name)
    text = odd_markdown(s)
    assert sources.BOUNDARY in text and not re.search(r"model measures|measures what", text)
    cited = sources.cited_sources(s.provenance.values())
    assert cited and "## Sources" in text
    for src in cited:
        assert f"### {src.id}" in text
        target = src.address if src.is_url else f"#{src.id}"  # the address, or the entry's own section
        assert f"\n[{src.id}]: {target}" in text  # so each [id] in the text is a link


def test_report_links_marks_to_the_sources_and_states_the_boundary(tmp_path):
    pytest.importorskip("matplotlib")
    from scslab.report import write_report

    out = tmp_path / "run"
    scslab.run("jinan-dog-points", out, population=2_000, days=20, seed=1)
    page = write_report(out).read_text()
    assert sources.BOUNDARY in page and "<h2>Sources</h2>" in page
    assert "<a href='#source-jinan-dog-rules'>[jinan-dog-rules]</a>" in page
    assert "<tr id='source-jinan-dog-rules'>" in page and TABLE["jinan-dog-rules"].address in page
    assert not re.search(r"(?:src|href)=['\"]https?:", page)  # still nothing to fetch


def test_html_marks_are_escaped_and_linked():
    html = sources.html_mark("documented: <b> & 2 years [spc-provisions-2017-art2], [not-a-source]")
    assert "&lt;b&gt; &amp;" in html and "<a href='#source-spc-provisions-2017-art2'>" in html
    assert "[not-a-source]" in html and "#source-not-a-source" not in html


def test_cli_lists_shows_and_names_near_ids(monkeypatch):
    runner = CliRunner()
    res = runner.invoke(app, ["sources"])
    assert res.exit_code == 0, res.output
    for column in ("id", "value", "unit", "date", "publication"):
        assert column in res.output
    assert "nist-frvt-2018" in res.output and "spc-counts-2018-12" in res.output
    res = runner.invoke(app, ["sources", "spc-counts-2018-12"])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.replace("│", " ").split())
    assert "17,460,000" in flat and "person-times" in flat and "scmp.com" in flat and "running totals" in flat
    bad = runner.invoke(app, ["sources", "spc-count-2018"])
    assert bad.exit_code == 2 and "no source" in bad.output and "spc-counts-2018-12" in bad.output
    md = runner.invoke(app, ["sources", "--markdown"])
    assert md.exit_code == 0 and md.output == sources.sources_markdown()


def test_cli_prints_brackets_as_text(monkeypatch):
    fake = sources.Source(id="fake-source", status="verified", value="[bold]not markup[/bold]", unit="[red]u",
                          date="2020", publication="P [link=x]", address="https://example.org/[a]",
                          note="see [spc-list-2013] and [/]")
    monkeypatch.setattr(sources, "sources", lambda: {"fake-source": fake})
    res = CliRunner().invoke(app, ["sources", "fake-source"])
    assert res.exit_code == 0, res.output
    for text in ("[bold]not markup[/bold]", "[red]u", "[link=x]", "[spc-list-2013] and [/]"):
        assert text in res.output
    res = CliRunner().invoke(app, ["sources"])
    assert res.exit_code == 0 and "[bold]not" in res.output


def test_docs_carry_the_table_and_the_boundary():
    page = (ROOT / "docs" / "sources.md").read_text()
    assert sources.sources_markdown() in page  # regenerate with: scslab sources --markdown
    assert "sources.md" in (ROOT / "mkdocs.yml").read_text() and "bench-v1.md" in (ROOT / "mkdocs.yml").read_text()
    for doc in ("README.md", "docs/index.md", "docs/boundary.md"):
        text = " ".join((ROOT / doc).read_text().split())
        assert not re.search(r"\bmeasures what", text), doc
        assert "not a measurement of any real population" in text, doc
