"""The press picture against the documented mechanism: two schemes run on populations of one size, days and
seed, and compared number by number (``scslab contrast``).

The press of 2018 described one national score that watches everyone, punishes speech and friends, and bans
travel (``press-2018``); what is documented at national scale is a court list of judgment defaulters with
no score (``court-defaulters-national``). :func:`contrast` runs both and gives, for each quantity a reader
would compare, both values in the same unit, its definition and a word on how they differ. The quantities
are read from each run's metrics and scenario the same way for any two schemes, so any pair can be
contrasted. They are the model's numbers, not measurements of either system.
"""

from __future__ import annotations

from dataclasses import dataclass

from .legal import behaviour_context, consequence_context, legal_reading

__all__ = ["Row", "contrast", "contrast_rows", "DEFAULT_PAIR"]

DEFAULT_PAIR = ("press-2018", "court-defaulters-national")
PER = 100_000  # counts per this many people


@dataclass(frozen=True)
class Row:
    """One quantity of both runs: its values, unit, definition, and how they differ in words."""

    key: str
    name: str
    a: float | None
    b: float | None
    unit: str
    definition: str
    differs: str


def _totals(metrics, last: bool):
    m = metrics[metrics["group"] == "all"]
    if last:
        m = m[m["day"] == m["day"].max()]
    return m.groupby("metric", sort=False)["value"].sum()


def _sum(series, names) -> int:
    return int(sum(int(series.get(n, 0)) for n in names))


def _quantities(result) -> dict:
    """The contrasted quantities of one run (values in the units of :data:`_DEFINITIONS`)."""
    sc, m = result.manifest["scenario"], result.metrics
    n, days = result.manifest["population"], result.manifest["days"]
    total, last = _totals(m, last=False), _totals(m, last=True)
    black = [k for k, L in sc.get("lists", {}).items() if L.get("kind", "black") == "black"]
    sanctions = {k: c for k, c in sc.get("consequences", {}).items() if c.get("kind", "sanction") == "sanction"}
    scored = [b for b, v in sc["behaviours"].items() if v["points"] != 0]
    penalised = [b for b, v in sc["behaviours"].items() if v["points"] < 0 or v.get("creates_debt")]
    travel = [k for k, c in sanctions.items() if consequence_context(c) == "travel"
              or c.get("agency") in ("aviation", "railways")]
    children = [k for k, c in sanctions.items() if c.get("applies_to") == "household.children"]
    listed_days = _sum(total, [f"listed:{L}" for L in black])
    entered = _sum(total, [f"entered:{L}" for L in black])
    legal = {q.key: q.value for q in legal_reading(m, sc).quantities}
    per = PER / n
    year = 365 / days
    return {
        "score": float(bool(scored) and sc["score"]["bounds"][1] > sc["score"]["bounds"][0] + 1),
        "behaviours": float(len(penalised)),
        "speech": float(sum(1 for b in penalised
                            if behaviour_context(sc["behaviours"][b], sc["channels"]) == "online_speech")),
        "listed": _sum(last, [f"listed:{L}" for L in black]) * per,
        "entered": entered * per * year,
        "listing_days": listed_days / entered if entered else None,
        "travel_blocked": _sum(total, [f"blocked:{k}" for k in travel]) * per * year,
        "by_ties": int(last.get("sanctioned_by_ties", 0)) * per,
        "children": _sum(last, [f"sanctioned:{k}" for k in children]) * per,
        "false": _sum(total, [k for k in total.index if k.startswith("false:")]) * per * year,
        "unrelated": legal["unrelated_share"],
        "days_per_act": legal["days_per_act"],
        "measures": legal["measures_per_listing"],
    }


# key -> (name, unit, definition)
_DEFINITIONS = {
    "score": ("Everyone has a score", "1 yes, 0 no",
              "1 when behaviours change a score with a range of more than one point, so that every person is scored."),
    "behaviours": ("Behaviours punished", "behaviours", "Behaviours with negative points or that open a court debt."),
    "speech": ("Speech punished", "behaviours", "Of them, behaviours whose data comes from online speech."),
    "listed": ("On a black list, last day", f"per {PER:,} people", "People on any black list on the last day."),
    "entered": ("Listings a year", f"per {PER:,} people", "Entries onto black lists, scaled to 365 days."),
    "listing_days": ("Days on a list per listing", "days",
                     "Person-days on black lists over the entries onto them (within the run)."),
    "travel_blocked": ("Journeys blocked a year", f"per {PER:,} people",
                       "Attempts blocked by sanctions on travel (context travel, or the aviation or railway "
                       "agencies), scaled to 365 days."),
    "by_ties": ("Sanctioned through ties, last day", f"per {PER:,} people",
                "People under a sanction with no act of their own on record."),
    "children": ("Children under a parent's sanction, last day", f"per {PER:,} people",
                 "Children under sanctions passed on from a listed parent."),
    "false": ("False attributions a year", f"per {PER:,} people",
              "Acts wrongly pinned on people (face-recognition mismatches and other false matches), scaled to 365 days."),
    "unrelated": ("Treatment in unrelated contexts", "share of measure-days",
                  "The legal reading's share (scslab legal): sanction-days whose context differs from the data's."),
    "days_per_act": ("Treatment per recorded act", "measure-days per act",
                     "The legal reading's measure-days of the persons over their recorded penalised acts."),
    "measures": ("Measures per listing", "measures", "The most sanctions one black list triggers."),
}


def _differs(a, b) -> str:
    if a is None or b is None:
        return "not comparable" if a is None and b is None else ("only B" if a is None else "only A")
    if a == b:
        return "same"
    if a == 0 or b == 0:
        return "only A" if b == 0 else "only B"
    ratio = a / b
    return f"A {ratio:.3g} x B" if ratio >= 1 else f"B {1 / ratio:.3g} x A"


def contrast_rows(result_a, result_b) -> list[Row]:
    """The contrast of two finished runs (``Result``), quantity by quantity."""
    qa, qb = _quantities(result_a), _quantities(result_b)
    return [Row(key, name, qa[key], qb[key], unit, definition, _differs(qa[key], qb[key]))
            for key, (name, unit, definition) in _DEFINITIONS.items()]


def contrast(scenario_a: str = DEFAULT_PAIR[0], scenario_b: str = DEFAULT_PAIR[1], *, population: int = 100_000,
             days: int | None = None, seed: int = 0, progress=None) -> tuple[list[Row], tuple]:
    """Run both scenarios with ``population`` persons (entity types scaled with them), the same days (default:
    the first scenario's) and seed; return the rows and the two results. ``progress(done, 2)`` after each."""
    from .api import simulate
    from .scenarios import load_scenario

    days = days or load_scenario(scenario_a).run.days
    results = []
    for k, s in enumerate((scenario_a, scenario_b)):
        results.append(simulate(s, population=population, days=days, seed=seed))
        if progress is not None:
            progress(k + 1, 2)
    return contrast_rows(*results), tuple(results)
