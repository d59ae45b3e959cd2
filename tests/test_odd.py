"""`scslab odd`: an ODD description generated from the resolved scenario names everything in it."""

import pytest
from typer.testing import CliRunner

from scslab import load_scenario, preset_names
from scslab.cli import app
from scslab.odd import odd_markdown, provenance_of

SECTIONS = ["## 1. Purpose and patterns", "## 2. Entities, state variables and scales",
            "## 3. Process overview and scheduling", "## 4. Design concepts", "## 5. Initialization",
            "## 6. Input data", "## 7. Submodels"]


@pytest.mark.parametrize("name", preset_names())
def test_every_part_of_every_preset_is_described(name):
    s = load_scenario(name)
    text = odd_markdown(s)
    positions = [text.index(h) for h in SECTIONS]
    assert positions == sorted(positions)
    for b in s.behaviours:
        assert f"#### Behaviour `{b}`" in text
    for c in s.channels:
        assert f"#### Channel `{c}`" in text
    for kind, names in (("List", s.lists), ("Account", s.accounts)):
        for n in names:
            assert f"### {kind} `{n}`" in text
    for n in s.consequences:
        assert f"| `{n}` |" in text
    for t in s.score.tiers:
        assert f"`tiers.{t}`" in text
    for entry in s.timeline:
        assert f"day {entry.day}:" in text
    for mark in set(s.provenance.values()):  # every source the scenario cites reaches the reader
        assert mark.replace("|", "/") in text


def test_marks_are_the_most_specific_provenance_key():
    s = load_scenario("beijing-2020")
    assert provenance_of(s, "behaviours.legal_offence.points").startswith("documented: legal charges")
    assert provenance_of(s, "behaviours.legal_offence.rate.risky") == "assumed: rates and the remaining points"
    assert provenance_of(s, "population.size").startswith("documented: 21.707 M")


def test_cli_writes_the_description(tmp_path):
    runner = CliRunner()
    out = tmp_path / "odd.md"
    res = runner.invoke(app, ["odd", "press-2018", "-o", str(out)])
    assert res.exit_code == 0, res.output
    text = out.read_text()
    assert "criticize_government" in text and "flight_ban" in text and "cameras" in text
    bad = runner.invoke(app, ["odd", "no-such-preset"])
    assert bad.exit_code == 2 and "no such file and no such preset" in bad.output
