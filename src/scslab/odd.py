"""An ODD description (Overview, Design concepts, Details; Grimm et al. 2006, 2020) of any scenario.

``odd_markdown(scenario)`` writes the standard seven sections from the resolved scenario alone, so the
description always matches what runs: every behaviour, channel, rule, account, list and consequence, with its
parameters and, for each number, its mark from the scenario's ``[provenance]`` table (``documented: ... [id]``
citing scslab's table of sources, ``calibrated: TARGETS`` for values fitted by ``scslab calibrate``,
``assumed``, or ``default`` for a schema default that the scenario does not mark). Each cited id links to its
source's address, and a Sources section lists the cited entries. The description carries the boundary
statement: the population is synthetic, and the results are estimates from a model.
"""

from __future__ import annotations

from typing import Any

from .scenarios.schema import Scenario
from .shaming import deters_others
from .sources import BOUNDARY, cited_sources, link_definitions, sources_markdown

__all__ = ["odd_markdown", "provenance_of"]


def provenance_of(s: Scenario, path: str) -> str:
    """The mark of the value at dotted ``path`` in scenario ``s``: the most specific ``[provenance]`` key that
    covers it, or ``"default"``."""
    best = ""
    for key in s.provenance:
        if (path == key or path.startswith(key + ".")) and len(key) > len(best):
            best = key
    return s.provenance[best] if best else "default"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_fmt(v)}" for k, v in value.items())
    return str(value)


def _table(s: Scenario, prefix: str, rows: list[tuple[str, Any]]) -> list[str]:
    """A parameter table: name, value, and the provenance mark of ``prefix.name``."""
    out = ["| parameter | value | source |", "|---|---|---|"]
    for name, value in rows:
        mark = provenance_of(s, f"{prefix}.{name}" if prefix else name).replace("|", "/")
        out.append(f"| `{name}` | {_fmt(value)} | {mark} |")
    return out + [""]


def _perception_words(s: Scenario) -> str:
    """How people perceive the watching, for the ODD's sensing: as it is, or lagging and overstated."""
    per = s.perception
    unaware = [n for n, g in s.population.groups.items() if g.perceives != 1.0]
    if per.lag_days == 0 and per.overstatement == 1.0 and per.start is None and not unaware:
        return " as it is."
    words = []
    if per.lag_days or per.start is not None:
        words.append(f"with a mean lag of {per.lag_days} days from "
                     + ("the actual coverage" if per.start is None else f"{per.start:.0%}") + " on day 0")
    if per.overstatement != 1.0:
        words.append(f"overstated {per.overstatement:g} times")
    if unaware:
        words.append("groups " + ", ".join(f"{n} (x{s.population.groups[n].perceives:g})" for n in unaware)
                     + " perceiving less of it")
    return " " + "; ".join(words) + f" (source: {provenance_of(s, 'perception')})."


def _ostracism_words(s: Scenario) -> str:
    """The ostracism step: who is shunned and how fast their ties break."""
    o = s.ostracism
    who = " or ".join(("on list " if r.startswith("lists.") else "in tier ") + f"`{r.split('.', 1)[1]}`" for r in o.on)
    return (f"Ostracism: each friend and colleague tie still standing of a person {who} breaks with probability "
            f"{o.rate:g} a day (the friend drops it), for good; household ties stay "
            f"(source: {provenance_of(s, 'ostracism')}).")


def _shaming_words(s: Scenario) -> str:
    """The public shaming step: what publishing each shaming list does (``scslab.shaming``)."""
    parts = []
    for name, L in s.lists.items():
        x = L.shaming
        if x is None:
            continue
        does = []
        if x.ties > 0:
            does.append(f"each friend and colleague tie of a person on it breaks with probability {x.ties:g} a day "
                        "(as ostracism's; the higher rate where both apply)")
        if x.work > 0:
            does.append(f"{x.work:.0%} of the employed work for an employer who reads it and are out of work while "
                        "on it")
        if x.deters > 0:
            does.append(f"every act that costs points or creates a court debt is less likely by {x.deters:g} x the "
                        "share of the region's people on it at the start of the day before")
        how = f" ({x.description})" if x.description else ""
        parts.append(f"list `{name}` is published{how}" + (": " + "; ".join(does) if does else "")
                     + f" (source: {s.provenance.get(f'lists.{name}.shaming', 'not marked')})")  # (its own mark: the
        # list's covers its entry and exit, not what publishing it does)
    return "Public shaming: " + "; ".join(parts) + "."


def _awareness_words(s: Scenario) -> str:
    """The awareness step: how people learn of the scheme."""
    a = s.awareness
    return (f"Awareness: only people aware of the scheme are chilled by the watching ({a.start:g} of adults at the "
            f"start). At the end of a day on which an unaware adult loses points, it becomes aware with "
            f"probability {a.penalised:g}; one who has just become aware tells each of its ties the next day "
            f"({a.told:g} each), and the ties of one who comes under a sanction see it the next day ({a.seen:g} each) "
            f"(source: {provenance_of(s, 'awareness')}).")


def odd_markdown(s: Scenario) -> str:
    """The ODD description of scenario ``s`` as Markdown."""
    p = s.population
    tiers = list(s.score.tiers)
    L: list[str] = [f"# ODD description: {s.meta.name}", ""]
    L += [f"Generated by `scslab odd` from the resolved scenario ({s.meta.kind}). Each number carries its "
          "source from the scenario's provenance table: `documented: ... [id]` (the id names an entry of "
          "scslab's table of sources, listed under *Sources* below with its publication and address), "
          "`calibrated: ...` (fitted to documented figures), `assumed`, or `default` (a schema "
          "default the scenario does not mark).", "",
          f"**{BOUNDARY}** No real person is represented.", ""]

    L += ["## 1. Purpose and patterns", "", s.meta.description or "(no description)", ""]
    L += ["The model estimates what the scheme would do to a synthetic population: who is scored into which "
          "tier, who is "
          "listed and sanctioned, how many wrongly (false attributions), how penalties spread through "
          "household and friend ties, how behaviour changes under deterrence and surveillance, and how "
          "unequally this falls across regions, groups and classes.", ""]
    for caveat in s.meta.caveats:
        L.append(f"- Caveat: {caveat}")
    L.append("")

    L += ["## 2. Entities, state variables and scales", ""]
    others = "".join(f"; **{n}** ({e.population.size:,}, see *Entity types* below)"
                     for n, e in s.entities.items())
    L += [f"**Persons** ({p.size:,}){others or ', the only agent type'}. Each person has:",
          "- fixed traits: region, group and latent class, hashed from its id, and its household and friends;",
          f"- a main score (start {s.score.base}, bounds {_fmt(s.score.bounds)}) and its tier;",
          "- points pending for the end of the day, and the day of its last detected offence;",
          "- for each list, the day its listing began;",
          "- flags: adult, account holder, false record, debt, confiscated, sanctioned."]
    if s.accounts:
        L.append("- a domain account (" + ", ".join(s.accounts) + ").")
    if s.score.strike_window_days is not None:
        L.append("- a repeat counter for escalating points.")
    if s.score.retention_days is not None:
        L.append("- deductions not yet expired.")
    L += ["", f"**Space**: regions, not coordinates. **Time**: one step is one day; a run lasts {s.run.days} days.",
          "", "Regions:", ""]
    L += ["| region | share | camera coverage factor | data completeness | source |", "|---|---|---|---|---|"]
    for name, r in p.regions.items():
        L.append(f"| {name} | {r.share:g} | {r.camera_coverage:g} | {r.data_completeness:g} | "
                 f"{provenance_of(s, f'population.regions.{name}')} |")
    L += ["", "Groups:", "", "| group | share | detection factor | false-match factor | perceives | source |",
          "|---|---|---|---|---|---|"]
    for name, g in p.groups.items():
        L.append(f"| {name} | {g.share:g} | {g.detect_factor:g} | {g.false_match_factor:g} | {g.perceives:g} | "
                 f"{provenance_of(s, f'population.groups.{name}')} |")
    L += ["", "Classes (latent propensity to act):", ""]
    L += _table(s, "population.classes", list(p.classes.items()))

    L += ["## 3. Process overview and scheduling", "",
          "Each day, in this order (agents are independent within a phase, so their order does not matter):", ""]
    steps = ["Draw acts, with deterrence from the start-of-day state.",
             "Observe: detections and false attributions; own points become pending.",
             "Network penalties: ties of a caught agent get their points the same day (none along a dropped tie).",
             "Clamp the score to its bounds.",
             "Expiries (retention), then recovery.",
             "Domain accounts: confiscation at zero, restoration after the waiting time.",
             "List entries and exits, on publication days.",
             "Consequences and attempts (blocked or granted person-times).",
             "Repayment of court debt; redress of contested false records.",
             "Record metrics."]
    if s.awareness is not None:
        steps.insert(7, _awareness_words(s))
    if any(L.shaming is not None for L in s.lists.values()):
        steps.insert(7, _shaming_words(s))
    if s.ostracism is not None:
        steps.insert(7, _ostracism_words(s))
    L += [f"{k}. {step}" for k, step in enumerate(steps, 1)] + [""]
    if s.timeline:
        L += ["Policy changes (timeline):", ""]
        for t in s.timeline:
            where = f" in {', '.join(t.regions)} only" if t.regions else ""
            L.append(f"- day {t.day}{where}: " + ", ".join(f"`{k}` = {_fmt(v)}" for k, v in t.set.items())
                     + (f" ({t.note})" if t.note else ""))
        if any(t.regions for t in s.timeline):
            L += ["", "Changes for some regions only make local schemes: each region's acts, detection, "
                      "deterrence and coverage follow the rules in force there; points, tiers, lists and "
                      "consequences are the same everywhere."]
        L.append("")

    L += ["## 4. Design concepts", "",
          "- **Basic principles**: a points-based social credit scheme as described in the press and in "
          "official documents; scores, tiers, lists and sanctions follow the scenario's rules exactly.",
          "- **Emergence**: tier shares, list sizes, wrongful listings and the spread of penalties through ties "
          "emerge from individual acts, detection and rules.",
          "- **Adaptation**: agents lower their rates of negative acts when deterred (low tier, sanctioned) or "
          "when they perceive surveillance" + (", and where names are published" if deters_others(s) else "")
          + "; they do not otherwise adapt.",
          "- **Objectives, learning, prediction**: none; agents follow fixed probabilities.",
          "- **Sensing**: an agent knows its own tier and whether it is sanctioned, and perceives the coverage "
          "of the channels that watch its behaviours" + _perception_words(s)
          + (" Only agents aware of the scheme perceive it (see the awareness step)." if s.awareness else ""),
          "- **Interaction**: indirect, through the scheme: penalties to household members and friends of a "
          "caught agent; children inherit sanctions of listed adults where the scenario says so"
          + ("; friends and colleagues drop their ties to shunned people (ostracism)." if s.ostracism else "."),
          "- **Stochasticity**: every decision draws from its own counter-based random stream keyed by "
          f"(seed, stream, day, agent); the seed is {s.run.seed}. Same seed, same bytes.",
          "- **Collectives**: households and regions.",
          "- **Observation**: daily counts per tier, list, consequence, behaviour (acts, detections, false "
          "attributions) and network penalty, by region, group and class"
          + ("; joint punishment, per agency (the measures it has in force) and per person or entity (how many "
             "agencies' measures each one is under)" if any(c.agency for e in [s, *s.entities.values()]
                                                           for c in e.consequences.values()) else "")
          + f"; event logs of {s.run.story_agents} sampled agents.", ""]

    L += ["## 5. Initialization", "",
          f"All {p.size:,} persons start at score {s.score.base}, unlisted, with no record. Traits are hashed "
          "from the id with the shares above."]
    if p.households is not None:
        L.append(f"Households follow the size distribution {_fmt(p.households.sizes)}, with a child share of "
                 f"{p.households.child_share:g} ({provenance_of(s, 'population.households')}).")
    best = ", the first of them a best friend (each other's)" if p.friends.best else ""
    L.append(f"Friends: {p.friends.degree} ties per person, {p.friends.same_region:g} of them within the region"
             f"{best} ({provenance_of(s, 'population.friends')}).")
    if p.colleagues.degree:
        L.append(f"Colleagues: {p.colleagues.degree} ties per person, within the region "
                 f"({provenance_of(s, 'population.colleagues')}).")
    if p.households is not None:
        L.append("Within a household, the first member and the second (when an adult) are partners; the other "
                 "members are their children (a minor is not scored) and siblings of each other. A behaviour's "
                 "network points may differ by kind of tie: partner, parents, children, other household members, "
                 "best friend, friends, colleagues.")
    for name, a in s.accounts.items():
        L.append(f"A share {a.holders_share:g} of adults hold the `{name}` account with {a.points} points.")
    L += ["", "## 6. Input data", "",
          "None. The scenario's parameters are fixed or follow the timeline; no external data drive the run.",
          ""]

    L += ["## 7. Submodels", "", "### Observation channels", ""]
    for name, c in s.channels.items():
        L += [f"#### Channel `{name}` ({c.kind})", ""] + ([c.description, ""] if c.description else [])
        L += _table(s, f"channels.{name}", [("coverage", c.coverage), ("interpolate", c.interpolate),
                                            ("detect", c.detect), ("false_match", c.false_match)])
    L += ["### Behaviours", ""]
    for name, b in s.behaviours.items():
        L += [f"#### Behaviour `{name}`", ""] + ([b.description, ""] if b.description else [])
        rows: list[tuple[str, Any]] = [(f"rate.{k}", v) for k, v in b.rate.items()]
        rows += [("channels", b.channels), ("detect", b.detect), ("points", b.points)]
        if b.repeat_points:
            rows.append(("repeat_points", b.repeat_points))
        if b.account != "score":
            rows.append(("account", b.account))
        net = {k: v for k, v in b.network.model_dump().items() if v is not None}
        if any(net.values()):
            rows += [(f"network.{k}", v) for k, v in net.items() if v or k in ("household", "friends")]
        d = b.deterrence
        if d.below_tier or d.when_sanctioned != 1.0 or d.surveillance:
            rows += [("deterrence.below_tier", d.below_tier), ("deterrence.factor", d.factor),
                     ("deterrence.when_sanctioned", d.when_sanctioned), ("deterrence.surveillance", d.surveillance)]
        if b.creates_debt:
            rows.append(("creates_debt", True))
        if b.fine:
            rows.append(("fine", b.fine))
        L += _table(s, f"behaviours.{name}", rows)

    sc = s.score
    L += ["### Score, tiers and recovery", ""]
    rows = [("base", sc.base), ("bounds", sc.bounds)] + [(f"tiers.{t}", v) for t, v in sc.tiers.items()]
    rows += [("recovery.points_per_day", sc.recovery.points_per_day),
             ("recovery.after_quiet_days", sc.recovery.after_quiet_days), ("recovery.up_to", sc.recovery.up_to)]
    if sc.retention_days is not None:
        rows.append(("retention_days", sc.retention_days))
    if sc.strike_window_days is not None:
        rows.append(("strike_window_days", sc.strike_window_days))
    L += [f"Tiers, highest first: {', '.join(tiers)}. A tier holds scores from its minimum up to the next "
          "tier's minimum.", ""] + _table(s, "score", rows)
    for name, a in s.accounts.items():
        L += [f"### Account `{name}`", ""] + ([a.description, ""] if a.description else [])
        L += _table(s, f"accounts.{name}", [("points", a.points), ("holders_share", a.holders_share),
                                            ("restore_days", a.restore_days)])
    for name, rule in s.lists.items():
        L += [f"### List `{name}` ({rule.kind}list)", ""] + ([rule.description, ""] if rule.description else [])
        enter = {k: v for k, v in rule.enter.model_dump().items() if v is not None}
        leave = "never" if rule.exit == "never" else \
            {k: v for k, v in rule.exit.model_dump().items() if v is not None}
        L += _table(s, f"lists.{name}", [("enter", enter), ("exit", leave), ("min_days", rule.min_days),
                                         ("max_days", rule.max_days), ("extra_days_max", rule.extra_days_max),
                                         ("publish_every_days", rule.publish_every_days)])
    if s.consequences:
        L += ["### Consequences", "", "| consequence | kind | on | attempts per day | applies to | source |",
              "|---|---|---|---|---|---|"]
        for name, c in s.consequences.items():
            L.append(f"| `{name}` | {c.kind} | {', '.join(c.on)} | {c.attempts_per_day:g} | {c.applies_to} | "
                     f"{provenance_of(s, f'consequences.{name}')} |")
        L.append("")
    if s.debt is not None:
        L += ["### Court debt", ""] + _table(s, "debt", [("repay_per_day", s.debt.repay_per_day),
                                                        ("sanction_multiplier", s.debt.sanction_multiplier)]
                                             + [(f"amounts.{k}", f"{b.share:g} of debts, {b.yuan:,} yuan")
                                                for k, b in s.debt.amounts.items()])
    L += _economy_section(s)
    if s.redress is not None:
        L += ["### Redress", ""] + _table(s, "redress", [("contest_probability", s.redress.contest_probability),
                                                        ("delay_days", s.redress.delay_days)])
    L += _entity_sections(s)
    L += ["## Sources of the numbers", "",
          "Every entry of the scenario's provenance table, as written (a key covers the values below it):", "",
          "| key | source |", "|---|---|"]
    L += [f"| `{key}` | {mark.replace('|', '/')} |" for key, mark in s.provenance.items()]
    cited = cited_sources(s.provenance.values())
    if cited:
        L += ["", "## Sources", "",
              "The entries of scslab's table of sources that the marks above cite (`scslab sources ID` prints "
              "one):", "", sources_markdown(cited).rstrip()]
    L += ["", "## References", "",
          "- Grimm, V. et al. (2006). A standard protocol for describing individual-based and agent-based "
          "models. Ecological Modelling 198, 115-126.",
          "- Grimm, V. et al. (2020). The ODD protocol for describing agent-based and other simulation models: "
          "a second update. JASSS 23(2), 7.",
          "- The scenario's sources are listed under *Sources* above.", "",
          f"*{BOUNDARY}*", ""]
    links = link_definitions(cited)
    return "\n".join(L + ([links, ""] if links else []))


def _economy_section(s: Scenario) -> list[str]:
    """The submodel of work and income ([economy]) and of sanctions that cost work, when the scenario has it."""
    if s.economy is None:
        return []
    e = s.economy
    costly = [(f"consequences.{n}.costs_work", c.costs_work) for n, c in s.consequences.items() if c.costs_work > 0]
    return (["### Work and income", "", "An adult is in work with the chance `employed`, drawn once from its id; "
             "the employed have their band's daily income. A person in work under a sanction that bars its work "
             "(drawn once per sanction from its id, with the chance `costs_work`) is out of work, and loses its "
             "income, while under it.", ""]
            + _table(s, "economy", [("employed", e.employed)]
                     + [(f"income.{k}", f"{b.share:g} of the employed, {b.yuan:,} yuan a day")
                        for k, b in e.income.items()])
            + (_table(s, "", costly) if costly else []))


def _entity_sections(s: Scenario) -> list[str]:
    """Entity types (firms, authorities): each runs the persons' submodels with its own tables; what differs
    is listed here, with the links that carry consequences to persons and the agencies that deliver them."""
    L: list[str] = []
    for name, e in s.entities.items():
        kinds = {"firm": "firms", "authority": "local authorities"}[e.kind]
        L += [f"### Entity type `{name}` ({kinds})", "", e.description or "", "",
              f"{e.population.size:,} {kinds} with the persons' state variables and submodels (score "
              f"{e.score.base} in {_fmt(e.score.bounds)}, tiers {', '.join(e.score.tiers)}), run in lockstep with "
              "the persons under their own seed.", "",
              "| behaviour | rate per class | channels | points | source |", "|---|---|---|---|---|"]
        for b, beh in e.behaviours.items():
            L.append(f"| `{b}` | {_fmt(dict(beh.rate))} | {', '.join(beh.channels)} | {beh.points} | "
                     f"{provenance_of(s, f'entities.{name}.behaviours.{b}.rate')} |")
        L += ["", "| link | persons per entity | same region | source |", "|---|---|---|---|"]
        for k, link in e.links.items():
            L.append(f"| `{k}` | {link.per_entity} | {link.same_region} | "
                     f"{provenance_of(s, f'entities.{name}.links.{k}')} |")
        L += ["", "| consequence | on | applies to | agency | attempts per day | source |", "|---|---|---|---|---|---|"]
        for c, q in e.consequences.items():
            L.append(f"| `{c}` | {', '.join(q.on)} | {q.applies_to} | {q.agency or '-'} | {q.attempts_per_day:g} | "
                     f"{provenance_of(s, f'entities.{name}.consequences.{c}')} |")
        through = [(c, q) for c, q in s.consequences.items() if q.applies_to.startswith(f"links.{name}.")]
        if through:  # a person's listing that falls on the entities linked to it
            L += ["", f"A person's listing falls on the {kinds} linked to it: "
                  + "; ".join(f"`{c}` ({', '.join(q.on)}) on the {kinds} of which it is "
                              f"{q.applies_to.split('.')[2].replace('_', ' ')}, while it is listed (an entity with "
                              "several such persons listed counts once; source: "
                              f"{provenance_of(s, f'consequences.{c}')})" for c, q in through) + "."]
        L.append("")
    return L
