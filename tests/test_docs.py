"""The documentation: the site builds offline with warnings as errors, every tutorial runs, the scenario
reference covers every field of the schema, and public docstrings name every parameter."""

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import scslab
from scslab import odd
from scslab.report import write_report
from scslab.report.compare import compare_runs, difference_figure
from scslab.scenarios import reference
from scslab.scenarios.schema import Scenario

ROOT = Path(__file__).resolve().parent.parent
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("*.py"))
QUIET = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true", MPLBACKEND="Agg")


def test_site_builds_strict_and_offline(tmp_path):
    res = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                         cwd=ROOT, env=QUIET, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    site = tmp_path / "site"
    for page in ["index.html", "reference/scenario/index.html", "reference/cli/index.html", "api/index.html",
                 "odd/press-2018/index.html", *[f"tutorials/{t.stem}/index.html" for t in TUTORIALS]]:
        assert (site / page).is_file(), page
    remote = re.compile(r'(?:src|href)="(?:https?:)?//(?!github\.com)[^"]*\.(?:js|css|woff2?)"')
    for html in site.rglob("*.html"):
        assert not remote.search(html.read_text()), f"{html} loads a remote asset"
    cli = (site / "reference/cli/index.html").read_text()
    for command in ("run", "resume", "verify", "validate", "odd", "schema", "presets"):
        assert f"scslab {command}" in cli
    api = (site / "api/index.html").read_text()  # docstrings' Sphinx roles render as code, never raw
    assert not re.search(r":(?:class|func|meth|mod|attr|exc|data):", api)
    assert "return its <code>Result</code>" in api
    for tutorial in TUTORIALS:  # each tutorial page shows what its code printed, as a notebook does
        assert 'class="tutorial-output"' in (site / f"tutorials/{tutorial.stem}/index.html").read_text(), tutorial
    first = (site / "tutorials/first_run/index.html").read_text()
    assert "on the blacklist at the end:" in first and "&#x27;tier:A&#x27;:" in first  # printed; a last value
    image = re.search(r'<img alt="[^"]*" src="\.\./(first_run-\d+\.png)"', first)
    assert image and (site / "tutorials" / image.group(1)).stat().st_size > 10_000  # the tiers figure


@pytest.mark.parametrize("script", TUTORIALS, ids=[t.stem for t in TUTORIALS])
def test_tutorial_runs(script, tmp_path):
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=QUIET, capture_output=True, text=True,
                         timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]


def test_reference_names_every_field():
    text = reference.reference_markdown()
    defs = Scenario.model_json_schema()["$defs"]
    for model in [Scenario.model_json_schema(), *defs.values()]:
        for field, prop in model.get("properties", {}).items():
            assert f"| `{field}` |" in text
            assert prop.get("description"), f"{model.get('title')}.{field} has no description"


PUBLIC = [getattr(scslab, n) for n in scslab.__all__ if inspect.isfunction(getattr(scslab, n))]
PUBLIC += [m for name, m in inspect.getmembers(scslab.Result, inspect.isfunction) if not name.startswith("_")]
PUBLIC += [scslab.Result.load, odd.odd_markdown, odd.provenance_of, reference.reference_markdown]
PUBLIC += [write_report, compare_runs, difference_figure]


@pytest.mark.parametrize("func", PUBLIC, ids=[f.__qualname__ for f in PUBLIC])
def test_docstring_names_every_parameter(func):
    doc = inspect.getdoc(func)
    assert doc, f"{func.__qualname__} has no docstring"
    params = [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]
    missing = [p for p in params if not re.search(rf"\b{p}\b", doc)]
    assert not missing, f"{func.__qualname__}: the docstring does not mention {missing}"


# the development history (work periods, tracker numbers and their targets) stays out of the documents users read:
# "session 12", "sessions 7-10", "the session-12 peer", "issue 10's bar", "issue #5", "the bar of 5 s", "bars met"
HISTORY = re.compile(r"\bsessions? \d|\bsession-\d|\bwork[- ]periods?\b|\b(?:issue|ticket|tracker)s? ?#?\d"
                     r"|\bbars? of \d|\bbars? (?:is |are |was |were )?(?:not )?met\b", re.IGNORECASE)
DOCUMENTS = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md", ROOT / "CHANGELOG.md"]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(ROOT)) for p in DOCUMENTS])
def test_documents_name_no_work_period_or_tracker_number(path):
    lines = path.read_text().splitlines()
    hits = [f"{n}: {line.strip()}" for n, line in enumerate(lines, 1) if HISTORY.search(line)]
    assert not hits, f"{path.relative_to(ROOT)} refers to the development history:\n" + "\n".join(hits)


def test_the_engine_page_lists_every_feature_and_what_the_windowed_scheduler_supports():
    from scslab.engine.features import FEATURES
    from scslab.engine.routes import SUPPORTS

    text = (ROOT / "docs" / "engine.md").read_text()
    for f in FEATURES:
        row = f"| `{f.name}` | {f.words} | {'yes' if f.name in SUPPORTS['windowed'] else 'no'} |"
        assert row in text, f"docs/engine.md lacks or misstates the row: {row}"
