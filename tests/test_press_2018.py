"""press-2018 shows every mechanism the press describes within its default year: at 1 million people over 365
days, every sanction and reward it defines reaches people and is used, the red list has members, and some
people are sanctioned only because of what their family or friends said."""

from __future__ import annotations

from scslab import simulate
from scslab.compile import consequence_metrics
from scslab.scenarios import load_scenario


def test_every_mechanism_of_press_2018_shows_in_a_year():
    s = load_scenario("press-2018")
    assert s.run.days == 365 and any(0 < t.day < 365 for t in s.timeline)  # the policy change is inside the year
    r = simulate("press-2018", population=1_000_000)
    assert r.manifest["route"] == "windowed"
    crit = s.behaviours["criticize_government"].network  # "if your best friend or your father says ..."
    assert crit.children == crit.partner == -50 and crit.best_friend == -30 and s.population.friends.best
    m = r.metrics
    everyone = m[m["group"] == "all"].groupby("metric")["value"]
    most, total = everyone.max(), everyone.sum()
    for name, c in s.consequences.items():
        people, uses = consequence_metrics(c.kind, name)
        assert most[people] > 0 and total[uses] > 0, (name, most[people], total[uses])
    for name in s.lists:
        assert most[f"listed:{name}"] > 0, name
    assert most["listed:redlist"] > 10_000  # rewards reach a visible share: about one person in ten
    assert most["sanctioned_by_ties"] > 100  # sanctioned, with no act of their own on record
    for b in s.behaviours:
        assert total[f"detected:{b}"] > 0, b
