"""The legal reading (``scslab.legal``, ``scslab legal``, the report's section): quantities checked against hand
arithmetic on the metrics, the contexts the presets set, and a section in every preset's report."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from scslab import simulate
from scslab.legal import AGENCY_CONTEXTS, CHANNEL_CONTEXTS, legal_reading
from scslab.scenarios.load import preset_names


def _metrics(rows: dict[str, list[int]]) -> pd.DataFrame:
    """A metrics table in group ``all`` from daily values per metric."""
    out = [(d, name, "all", v) for name, values in rows.items() for d, v in enumerate(values)]
    return pd.DataFrame(out, columns=["day", "metric", "group", "value"])


SCENARIO = {
    "channels": {"cams": {"kind": "camera"}, "bank": {"kind": "financial"}},
    "behaviours": {"jaywalk": {"channels": ["cams"], "points": -10},
                   "late_bill": {"channels": ["bank"], "points": -30},
                   "volunteer": {"channels": ["cams"], "points": 5}},
    "score": {"base": 100},
    "lists": {"black": {"enter": {"tier_at_most": "low"}}},
    "consequences": {"loan": {"on": ["lists.black"], "agency": "banks"},
                     "flights": {"on": ["lists.black"], "context": "travel"},
                     "school": {"on": ["lists.black"], "applies_to": "household.children", "agency": "education"},
                     "perk": {"kind": "reward", "on": ["lists.black"]}},
}


def test_quantities_follow_their_definitions_by_hand():
    m = _metrics({"detected:jaywalk": [3, 3], "false:jaywalk": [0, 0], "detected:late_bill": [1, 0],
                  "false:late_bill": [0, 1], "sanctioned:loan": [4, 6], "sanctioned:flights": [4, 6],
                  "sanctioned:school": [1, 1], "blocked:loan": [1, 2], "listed:black": [4, 6],
                  "innocent_listed:black": [1, 1], "sanctioned_by_ties": [0, 2],
                  "under_agencies:1": [5, 7], "under_agencies:2": [1, 2], "firms.under_agencies:3": [9, 9]})
    r = legal_reading(m, SCENARIO)
    q = {x.key: x.value for x in r.quantities}
    # the persons' person-days under two agencies or more, over those under any (a firm's are not a person's)
    assert q["several_agencies_share"] == pytest.approx(3 / 15)
    assert "most agencies at once: 2." in next(x.definition for x in r.quantities if x.key == "several_agencies_share")
    with_perk = json.loads(json.dumps(SCENARIO))
    with_perk["consequences"]["perk"]["agency"] = "tourism"  # a reward counted among the measures: n/a
    assert {x.key: x.value for x in legal_reading(m, with_perk).quantities}["several_agencies_share"] is None
    # data behind every measure: jaywalking 6 acts x 10 points (public space), bills 2 acts x 30 (finance)
    by = {x.name: x for x in r.measures}
    assert set(by) == {"loan", "flights", "school"}  # the reward is no detrimental treatment
    assert by["loan"].data_contexts == {"public_space": 0.5, "finance": 0.5}
    assert by["loan"].context == "finance" and by["loan"].related == 0.5
    assert by["flights"].related == 0.0 and by["school"].related == 0.0
    assert (by["loan"].measure_days, by["loan"].blocked, by["school"].who) == (10, 3, "children")
    days = 10 + 10 + 2
    assert q["measure_days"] == days
    assert q["unrelated_share"] == pytest.approx((10 * 0.5 + 10 + 2) / days)
    assert q["days_per_act"] == pytest.approx(days / 8)
    assert q["others_share"] == pytest.approx(2 / days)
    assert q["wrongly_listed_share"] == pytest.approx(2 / 10)
    assert q["sanctioned_by_ties"] == 2 and q["measures_per_listing"] == 3


def test_contexts_default_to_channel_kind_and_agency_and_unspecified_is_left_out():
    sc = json.loads(json.dumps(SCENARIO))
    sc["consequences"] = {"vague": {"on": ["lists.black"]}}
    r = legal_reading(_metrics({"sanctioned:vague": [5], "detected:jaywalk": [1]}), sc)
    (vague,) = r.measures
    assert vague.context == "unspecified" and vague.related is None
    assert {x.key: x.value for x in r.quantities}["unrelated_share"] is None
    assert CHANNEL_CONTEXTS["camera"] == "public_space" and AGENCY_CONTEXTS["banks"] == "finance"


@pytest.fixture(scope="module")
def court():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return simulate("court-defaulters-national", population=40_000, days=120)


def test_court_list_reads_its_spending_bans_as_debt_enforcement(court):
    r = legal_reading(court.metrics, court.manifest["scenario"])
    by = {(x.population, x.name): x for x in r.measures}
    for name in ("flight_ban", "train_ban", "loan_denial"):
        assert by[("persons", name)].related == 1.0
    assert by[("persons", "executive_ban")].related == 0.0  # a debt bars a person from business
    assert by[("persons", "private_school_denied")].who == "children"
    totals = court.metrics[court.metrics.group == "all"].groupby("metric").value.sum()
    unrelated = (totals["sanctioned:executive_ban"] + totals["sanctioned:private_school_denied"]
                 + totals["authorities.linked:promotion_barred"])
    q = {x.key: x.value for x in r.quantities}
    assert q["measure_days"] > 0
    assert q["unrelated_share"] == pytest.approx(unrelated / q["measure_days"])


def test_cli_reads_a_run_directory_and_writes_json(tmp_path, court):
    from typer.testing import CliRunner

    from scslab.cli import app

    court.save(tmp_path / "run")
    res = CliRunner().invoke(app, ["legal", str(tmp_path / "run"), "--json", str(tmp_path / "l.json")])
    assert res.exit_code == 0, res.output
    words = " ".join(res.output.split())
    assert "Treatment in unrelated contexts (i):" in words and "flight_ban" in words
    data = json.loads((tmp_path / "l.json").read_text())
    assert {m["context"] for m in data["measures"]} >= {"debt_enforcement", "business", "education"}
    assert {q["key"] for q in data["quantities"]} >= {"unrelated_share", "days_per_act", "others_share"}
    bad = CliRunner().invoke(app, ["legal", "no-such-preset"])
    assert bad.exit_code != 0 and "no-such-preset" in bad.output


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_report_has_the_legal_reading(preset, tmp_path):
    from scslab.report import write_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate(preset, population=3_000, days=20).save(tmp_path / "run")
    text = write_report(tmp_path / "run").read_text()
    assert "Legal reading: EU AI Act, Art. 5(1)(c)" in text
    assert "Treatment in unrelated contexts" in text and "What is evaluated" in text
