"""The legal reading: a run measured against the EU AI Act's ban on social scoring, Art. 5(1)(c).

The Act (Regulation (EU) 2024/1689, source ``eu-ai-act-art5``) bans evaluating people over time by their
social behaviour when the score leads to (i) detrimental treatment in social contexts unrelated to the
contexts where the data was generated, or (ii) detrimental treatment unjustified or disproportionate to the
behaviour or its gravity. Whether a scheme meets the ban is a legal judgment; this module gives the
quantities such a judgment would weigh, each with its definition, measured on the run's metrics. It gives no
verdict.

**Contexts.** Every behaviour has the context its data comes from and every sanction the context it acts in:
``context`` in the scenario, else the first channel's kind (:data:`CHANNEL_CONTEXTS`) for a behaviour and
the agency (:data:`AGENCY_CONTEXTS`) for a sanction, else ``unspecified``. A sanction is *related* to a
behaviour when both have the same context.

**Unit.** Treatment is counted in *measure-days*: one person under one sanction for one day (a person under
three measures for a week is 21). Rewards are not detrimental treatment and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["CHANNEL_CONTEXTS", "AGENCY_CONTEXTS", "UNSPECIFIED", "Quantity", "Measure", "LegalReading",
           "legal_reading", "behaviour_context", "consequence_context", "number"]

UNSPECIFIED = "unspecified"

CHANNEL_CONTEXTS = {"court": "courts", "financial": "finance", "camera": "public_space",
                    "government": "administration", "online": "online_speech", "informant": "community"}
"""A behaviour's context when the scenario names none: after the kind of its first channel."""

AGENCY_CONTEXTS = {"aviation": "travel", "railways": "travel", "banks": "finance", "banking_regulator": "finance",
                   "securities_regulator": "finance", "finance": "public_procurement", "education": "education",
                   "civil_service": "employment", "organisation_department": "employment",
                   "market_regulation": "business", "development_reform": "business", "certification": "business"}
"""A sanction's context when the scenario names none: after the agency that delivers it."""


def behaviour_context(b: dict, channels: dict) -> str:
    """The context behaviour ``b`` (a scenario dict) draws its data from."""
    if b.get("context"):
        return b["context"]
    kind = channels.get(b["channels"][0], {}).get("kind")
    return CHANNEL_CONTEXTS.get(kind, UNSPECIFIED)


def consequence_context(c: dict) -> str:
    """The context sanction ``c`` (a scenario dict) acts in."""
    if c.get("context"):
        return c["context"]
    return AGENCY_CONTEXTS.get(c.get("agency") or "", UNSPECIFIED)


@dataclass(frozen=True)
class Quantity:
    """One measured quantity: its value (None when the run has nothing to measure it on), unit and definition."""

    key: str
    name: str
    clause: str
    value: float | None
    unit: str
    definition: str


@dataclass(frozen=True)
class Measure:
    """One sanction: where it acts, the data behind it, and how much treatment it gave."""

    population: str           # "persons", or the entity type whose link delivers it
    name: str
    context: str
    data_contexts: dict       # context -> share of the weight of the data behind it
    related: float | None     # share of that weight from the measure's own context (None: context unspecified)
    measure_days: int         # people under it, summed over the days
    blocked: int              # attempts it blocked (person-times)
    who: str                  # "self", "children" or "linked persons"


@dataclass(frozen=True)
class LegalReading:
    """The quantities (:class:`Quantity`) and the sanctions (:class:`Measure`) of one run."""

    quantities: list = field(default_factory=list)
    measures: list = field(default_factory=list)
    evaluation: str = ""      # the Act's first condition: what the scheme evaluates, over how long

    def as_dict(self) -> dict:
        return {"evaluation": self.evaluation, "quantities": [q.__dict__ for q in self.quantities],
                "measures": [m.__dict__ for m in self.measures]}


def number(value, unit: str) -> str:
    """A quantity's value in words, as the report and ``scslab legal`` print it."""
    if value is None:
        return "n/a"
    if unit.startswith("share"):
        return f"{100 * value:.1f} %"
    return f"{value:,.0f}" if value >= 100 or value == int(value) else f"{value:,.2f}"


def _totals(metrics: pd.DataFrame) -> pd.Series:
    """Each metric summed over the days, in group ``all``."""
    m = metrics[metrics["group"] == "all"]
    return m.groupby("metric", sort=False)["value"].sum()


def _data_behind(sc: dict, trigger: str) -> list:
    """The behaviours whose recorded acts can put a person under ``trigger`` ("lists.L", "tiers.T",
    "accounts.A.zero"), each with how much one recorded act weighs: its points for a score or an account,
    1 for a court debt."""
    behaviours = sc["behaviours"]
    kind, _, rest = trigger.partition(".")
    if kind == "lists":
        enter = sc["lists"][rest]["enter"]
        if enter.get("debt"):
            return [(b, 1) for b, v in behaviours.items() if v.get("creates_debt")]
        if enter.get("account_zero"):
            return [(b, abs(v["points"])) for b, v in behaviours.items()
                    if v.get("account", "score") == enter["account_zero"] and v["points"] < 0]
    if kind == "accounts":
        name = rest.split(".")[0]
        return [(b, abs(v["points"])) for b, v in behaviours.items()
                if v.get("account", "score") == name and v["points"] < 0]
    return [(b, abs(v["points"])) for b, v in behaviours.items()
            if v.get("account", "score") == "score" and v["points"] < 0]


def _measures(sc: dict, totals: pd.Series, prefix: str, population: str) -> list:
    """The sanctions of one population (its metrics' ``prefix``), each with its data and treatment."""
    out = []

    def total(name):
        return int(totals.get(prefix + name, 0))

    for name, c in sc.get("consequences", {}).items():
        if c.get("kind", "sanction") != "sanction":
            continue
        to = c.get("applies_to", "self")
        if population != "persons" and not to.startswith("links."):
            continue  # an entity's own measures fall on the entity, not on natural persons
        if population == "persons" and to.startswith("links."):
            continue  # ... and so do those a person's listing brings on the entities linked to it
        data = [(behaviour_context(sc["behaviours"][b], sc["channels"]), w, total(f"detected:{b}") + total(f"false:{b}"))
                for trigger in c["on"] for b, w in _data_behind(sc, trigger)]
        recorded = any(w * acts for _, w, acts in data)  # else (nothing recorded): weigh them by their points
        weights: dict = {}
        for ctx, w, acts in data:
            weights[ctx] = weights.get(ctx, 0.0) + (w * acts if recorded else w)
        whole = sum(weights.values())
        shares = {k: v / whole for k, v in weights.items()} if whole else {}
        ctx = consequence_context(c)
        related = shares.get(ctx, 0.0) if shares and ctx != UNSPECIFIED else None
        linked = to.startswith("links.")
        out.append(Measure(population=population, name=name, context=ctx, data_contexts=shares, related=related,
                           measure_days=total(("linked:" if linked else "sanctioned:") + name),
                           blocked=total(("linked_blocked:" if linked else "blocked:") + name),
                           who="linked persons" if linked else ("children" if to == "household.children" else "self")))
    return out


def _share(part, whole):
    return None if not whole else part / whole


def legal_reading(metrics: pd.DataFrame, scenario: dict) -> LegalReading:
    """The legal reading of a run: its metrics table and its scenario (a dict, as in the manifest)."""
    totals = _totals(metrics)
    measures = _measures(scenario, totals, "", "persons")
    for name, e in scenario.get("entities", {}).items():
        measures += _measures(e, totals, f"{name}.", name)
    days = sum(m.measure_days for m in measures)
    scored = [m for m in measures if m.related is not None]
    scored_days = sum(m.measure_days for m in scored)
    unrelated = (sum(m.measure_days * (1 - m.related) for m in scored) / scored_days) if scored_days else None
    others = sum(m.measure_days for m in measures if m.who != "self")
    persons_days = sum(m.measure_days for m in measures if m.population == "persons")
    own_acts = sum(int(totals.get(f"detected:{b}", 0)) + int(totals.get(f"false:{b}", 0))
                   for b, v in scenario["behaviours"].items() if v["points"] < 0 or v.get("creates_debt"))
    lists = [name for name, L in scenario.get("lists", {}).items() if L.get("kind", "black") == "black"]
    listed = sum(int(totals.get(f"listed:{L}", 0)) for L in lists)
    innocent = sum(int(totals.get(f"innocent_listed:{L}", 0)) for L in lists)
    by_ties = int(totals.get("sanctioned_by_ties", 0))
    agencies = {c.get("agency") for c in scenario.get("consequences", {}).values()
                if c.get("kind", "sanction") == "sanction" and c.get("agency")}
    published = [L for L, v in scenario.get("lists", {}).items() if v.get("shaming")]
    # the persons' person-days under the measures of K agencies (an entity type's rows are prefixed)
    under = {int(m.partition(":")[2]): int(v) for m, v in totals.items() if m.startswith("under_agencies:")}
    # (a reward with an agency counts there as a measure, which is no detrimental treatment: then n/a)
    rewarded = any(c.get("kind") == "reward" and c.get("agency") and not c.get("applies_to", "self").startswith("links.")
                   for c in scenario.get("consequences", {}).values())
    per_list = [sum(1 for c in scenario.get("consequences", {}).values()
                    if c.get("kind", "sanction") == "sanction" and f"lists.{L}" in c["on"]) for L in lists]
    q = [
        Quantity("unrelated_share", "Treatment in unrelated contexts", "(i)", unrelated, "share of measure-days",
                 "Measure-days under each sanction, times the share of the data behind it (recorded acts weighted "
                 "by their points, or 1 for a court debt) that comes from a context other than the sanction's; "
                 "summed, divided by their measure-days. 0: every sanction acts where its data was collected. "
                 "Sanctions of unspecified context are left out"
                 + (f" ({len(measures) - len(scored)} of {len(measures)} here)." if len(scored) < len(measures) else ".")),
        Quantity("measure_days", "Detrimental treatment", "(i), (ii)", float(days), "measure-days",
                 "People under each sanction (persons', children's, and linked persons' through an entity), "
                 "summed over the sanctions and the days."),
        Quantity("days_per_act", "Treatment per recorded act", "(ii)", _share(persons_days, own_acts),
                 "measure-days per act",
                 "The persons' measure-days (their own and their children's) over their recorded penalised acts "
                 "(detections and false attributions of behaviours with negative points or a court debt): how "
                 "much treatment one act brings."),
        Quantity("others_share", "Treatment for others' acts", "(ii)", _share(others, days), "share of measure-days",
                 "Measure-days of children under their parents' sanctions and of persons under a linked entity's "
                 "(a firm's legal representative), over all measure-days: people treated for what someone "
                 "else did."),
        Quantity("sanctioned_by_ties", "Sanctioned through ties", "(ii)", float(by_ties), "person-days",
                 "People under a sanction with no act of their own on record (only their family's or friends' "
                 "penalties put them there), summed over the days."),
        Quantity("wrongly_listed_share", "Listed on a false record", "(ii)", _share(innocent, listed),
                 "share of listed person-days",
                 "Person-days on a black list of people carrying a falsely attributed record, over all "
                 "person-days on black lists."),
        Quantity("measures_per_listing", "Measures per listing", "(ii)",
                 float(max(per_list)) if per_list else None, "measures",
                 "The most sanctions that one black list of the persons triggers (joint punishment: "
                 f"{len(agencies)} agencies deliver the persons' sanctions)."),
        Quantity("several_agencies_share", "Under several agencies at once", "(ii)",
                 None if rewarded else _share(sum(v for k, v in under.items() if k >= 2), sum(under.values())),
                 "share of person-days",
                 "Person-days on which a person is under the measures of two or more agencies (joint punishment, "
                 "counted per person: under_agencies), over the person-days under any agency's measure; n/a where "
                 "no person was under one, or where a reward carries an agency (the count does not tell it from a "
                 "sanction). Measures that reach a person through a firm (its legal representative) are not "
                 f"counted. The most agencies at once: {max((k for k, v in under.items() if v), default=0)}."),
        Quantity("named_in_public", "Named in public", "(i), (ii)",
                 float(sum(int(totals.get(f"listed:{L}", 0)) for L in published)) if published else None,
                 "person-days", "Person-days on a list whose publication the scenario gives an effect of its own "
                 "(lists.NAME.shaming: friends and colleagues who drop their ties, employers who read it, others "
                 "deterred by the names): treatment outside any agency's measures, not among the measure-days "
                 "above."),
    ]
    return LegalReading(quantities=q, measures=measures, evaluation=_evaluation(scenario))


def _evaluation(sc: dict) -> str:
    """What the scheme evaluates, and over how long a record weighs: the Act's first condition, in words."""
    scored = [b for b, v in sc["behaviours"].items() if v["points"] != 0 or v.get("creates_debt")]
    terms = []
    rec = sc["score"].get("recovery") or {}
    if rec.get("points_per_day"):
        terms.append(f"a deduction is won back at {rec['points_per_day']} point(s) a day after "
                     f"{rec.get('after_quiet_days', 0)} quiet days")
    for name, L in sc.get("lists", {}).items():
        if L.get("kind", "black") == "black":
            span = [f"at least {L['min_days']} days"] if L.get("min_days") else []
            if L.get("max_days") is not None:
                span.append(f"at most {L['max_days'] + L.get('extra_days_max', 0)} days")
            terms.append(f"a listing on {name} lasts " + (" and ".join(span) or "until its exit condition"))
    return (f"{len(scored)} of {len(sc['behaviours'])} behaviours change a score or open a court debt "
            f"({', '.join(scored)}); " + ("; ".join(terms) if terms else "no record fades") + ".")
