"""Persons and entity types in one run's tables: prefixed metrics, linked persons, joint punishment.

The persons' metrics keep their names. An entity type's metrics are prefixed with its name and a dot
(``firms.listed:blacklist``, ``firms.score:40..50``), its groups are its own regions, groups and classes.
Two families are added here, after the engines have run, from counts the engines kept:

- **Linked persons** (per entity type, per consequence with ``applies_to = "links.NAME"``):
  ``NAME.linked:C``, persons under C through their entity on that day (entities under C x ``per_entity``),
  and ``NAME.linked_blocked:C`` (``linked_granted`` for a reward), their attempts that day: a binomial draw
  of (persons under C, ``attempts_per_day``) per day and cell from the counter-based stream
  ``LINKED_ATTEMPT`` (the same in distribution as one draw per person, and reproducible).
- **Linked persons' stories**: an entity type's end of day writes a ``LINK`` record when an entity enters or
  leaves a list whose sanctions fall on linked persons; :func:`linked_stories` turns each into story rows of
  those persons (``linked_listed``, ``linked_released``), so every representative of a listed firm appears in
  the persons' stories, sampled or not.
- **Joint punishment** (across populations, group ``all``): for every ``agency`` named by a consequence,
  ``agency:A``, the measures it has in force that day (people or entities under any of its consequences,
  counted once per consequence: one listing under three agencies' measures counts three times), and
  ``agency_attempts:A``, the attempts its measures blocked or granted that day.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import array, strings
from .compile import EVENT, REC, SE, Plan, consequence_metrics
from .rng import Stream, stream_key
from .scenarios.entities import PERSONS, link_reach
from .through_links import measures as through_measures, through

__all__ = ["split_metric", "unit_of", "linked_counts", "metric_kinds", "agency_table", "prefixed", "adult_of",
           "linked_stories", "linked_arg", "linked_words"]

# a linked person's story argument: entity id * LINKED_ENTITY + entity type * 256 + link * 16 + list
LINKED_ENTITY = 1024


def adult_of(plan: Plan):
    """Whether person ids are adults (the household pattern), or None without households (all are)."""
    if plan.scenario.population.households is None:
        return None
    pattern = plan.hh_adult
    return lambda ids: pattern[ids % len(pattern)] == 1


def linked_arg(entity, kind: int, link: int, lst: int):
    """The story argument of a linked person's row: which entity (id), of which entity type, link and list."""
    return entity * LINKED_ENTITY + kind * 256 + link * 16 + lst


def linked_words(plan: Plan, arg: int) -> tuple[str, str]:
    """(the entity, the link in words) of a linked person's story argument (:func:`linked_arg`): ("firm 884",
    "legal representative of firm 884, on blacklist: rep flight ban, rep train ban")."""
    entity, rest = divmod(arg, LINKED_ENTITY)
    name = list(plan.entities)[rest // 256]
    e = plan.scenario.entities[name]
    link = list(e.links)[(rest % 256) // 16]
    lst = plan.entities[name].list_names[rest % 16]
    measures = [c for c, q in e.consequences.items() if q.applies_to == f"links.{link}" and f"lists.{lst}" in q.on]
    who = f"{e.kind} {entity}" + (f" ({name})" if name != f"{e.kind}s" else "")
    return who, f"{link.replace('_', ' ')} of {who}, on {lst.replace('_', ' ')}: " + \
        ", ".join(m.replace("_", " ") for m in measures)


def linked_stories(plan: Plan, name: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An entity type's story rows split in two: its own, and the persons' rows that its ``LINK`` records
    tell (for each link whose sanctions follow the list, each linked person: ``linked_listed`` when the entity
    entered it, ``linked_released`` when it left), link by link, each in record order."""
    from .scenarios.entities import linked_persons

    link_rows = rows[:, REC.KIND] == EVENT.LINK
    own, rec = rows[~link_rows], rows[link_rows]
    out = []
    if len(rec):
        s, sub = plan.scenario, plan.entities[name]
        e = s.entities[name]
        kind = list(plan.entities).index(name)
        for j, link in enumerate(e.links):
            lists = {sub.list_names.index(ref.split(".", 1)[1]) for q in e.consequences.values()
                     if q.applies_to == f"links.{link}" for ref in q.on if ref.startswith("lists.")}
            sel = rec[np.isin(rec[:, REC.A], sorted(lists))]
            if not len(sel):
                continue
            persons = linked_persons(s, name, link, sel[:, REC.AGENT], region_starts=plan.region_starts,
                                     entity_region_starts=sub.region_starts, adult=adult_of(plan))
            k = persons.shape[1]
            block = np.zeros((len(sel) * k, rows.shape[1]), np.int64)
            block[:, REC.KIND] = EVENT.STORY
            block[:, REC.AGENT] = persons.ravel()
            block[:, REC.DAY] = np.repeat(sel[:, REC.DAY], k)
            block[:, REC.A] = np.where(np.repeat(sel[:, REC.B], k) == 1, SE.linked_listed, SE.linked_released)
            block[:, REC.B] = np.repeat(linked_arg(sel[:, REC.AGENT], kind, j, sel[:, REC.A]), k)
            out.append(block)
    if not out:
        return own, np.zeros((0, rows.shape[1]), np.int64)
    return own, np.concatenate(out)


def split_metric(name: str) -> tuple[str, str]:
    """(population, metric): ``"firms.listed:bl"`` -> ``("firms", "listed:bl")``; persons' names unchanged."""
    head, sep, tail = name.partition(":")
    if "." in head:
        population, _, head = head.partition(".")
        return population, head + sep + tail
    return PERSONS, name


def unit_of(key: str) -> str:
    """The unit of a summary line (``Result.summary`` keys): people, an entity type, person-times, events..."""
    population, base = split_metric(key)
    if base.startswith(("agency:", "agency_attempts:")):
        return "attempts" if "(total)" in key else "measures in force"
    if base.startswith(("linked:", "linked_blocked:", "linked_granted:")):
        return "person-times" if "(total)" in key else "people"
    if base.startswith(("through_link_blocked:", "through_link_granted:")):
        return "attempts"
    if base.startswith(("blocked:", "granted:")):
        return "person-times" if population == PERSONS else "attempts"
    if base == "ties_dropped (total)":
        return "ties"
    if base.split(" (")[0].endswith("_yuan"):
        return "yuan"
    if base == "jobs_lost (total)":
        return "people"
    return "events" if "(total)" in key else ("people" if population == PERSONS else population)


def _measures(plan: Plan, c: str) -> tuple[str, str]:
    """The metrics that count consequence ``c`` of ``plan`` as measures: (in force, attempts). For one on
    linked persons, the linked persons' (``linked:C``, ``linked_blocked:C``); for a persons' one on linked
    entities, the entities' (``through_link:C``..., ``scslab.through_links``); else the engine's."""
    q = plan.scenario.consequences[c]
    under, attempts = consequence_metrics(q.kind, c)
    reach = link_reach(q.applies_to)
    return {0: (under, attempts), 1: (f"linked:{c}", f"linked_{attempts}"), 2: through_measures(q.kind, c)}[reach]


def _population_of(q, population: str) -> str:
    """The population whose counts hold consequence ``q``'s measures: an entity type's for a persons'
    consequence on linked entities, else its own."""
    return q.applies_to.split(".")[1] if link_reach(q.applies_to) == 2 else population


def _linked(plan: Plan) -> list[tuple[int, str]]:
    """(index, name) of every consequence of an entity type that applies to linked persons."""
    return [(k, c) for k, c in enumerate(plan.consequence_names)
            if link_reach(plan.scenario.consequences[c].applies_to) == 1]


def _engine_attempts(plan: Plan, c: str) -> str:
    """The engine's attempts metric of ``c`` (empty for a consequence on linked persons: dropped)."""
    return consequence_metrics(plan.scenario.consequences[c].kind, c)[1]


def linked_counts(plan: Plan, counts: np.ndarray) -> tuple[Plan, np.ndarray]:
    """An entity type's plan and counts [days, metrics, cells] (levels summed up) with the linked-person
    metrics appended (and the engine's empty attempt rows of those consequences dropped)."""
    links = _linked(plan)
    if not links:
        return plan, counts
    names, extra, level = [], [], []
    rng_key = int(stream_key(plan.seed, Stream.LINKED_ATTEMPT, 0))
    for k, c in links:
        q = plan.scenario.consequences[c]
        under = counts[:, plan.metric_names.index(consequence_metrics(q.kind, c)[0])]
        under = under * int(plan.link_sizes[q.applies_to.split(".", 1)[1]])
        p = np.array([plan.epoch_at(d).scenario.consequences[c].attempts_per_day for d in range(plan.days)])
        gen = np.random.Generator(np.random.Philox(key=rng_key ^ k))
        names += list(_measures(plan, c))
        extra += [under, gen.binomial(under, p[:, None])]
        level += [True, False]
    drop = {plan.metric_names.index(_engine_attempts(plan, c)) for _, c in links}
    keep = [m for m in range(len(plan.metric_names)) if m not in drop]
    out = np.concatenate([counts[:, keep], np.stack(extra, axis=1)], axis=1)
    return dataclasses.replace(plan, metric_names=[plan.metric_names[m] for m in keep] + names,
                               is_level=np.concatenate([plan.is_level[keep], level])), out


def metric_kinds(plan: Plan) -> dict[str, str]:
    """Every metric a run of ``plan`` writes (but the score bins) with its kind: ``final`` for levels,
    ``total`` for flows; entity types' prefixed, linked persons and agencies included."""
    def own(p: Plan, prefix: str) -> dict[str, str]:
        links = _linked(p)
        dropped = {_engine_attempts(p, c) for _, c in links} | {_engine_attempts(p, c) for _, c, _, _ in through(p)}
        kinds = {prefix + n: "final" if lv else "total" for n, lv in zip(p.metric_names, p.is_level) if n not in dropped}
        kinds.update({f"{prefix}coverage_ppm:{c}": "final" for c in p.channel_names})
        if not p.watching.as_it_is:
            kinds.update({f"{prefix}perceived_ppm:{c}": "final" for c in p.channel_names})
        for _, c in links:
            linked, tries = _measures(p, c)
            kinds.update({prefix + linked: "final", prefix + tries: "total"})
        return kinds

    kinds = own(plan, "")
    for name, sub in plan.entities.items():
        kinds.update(own(sub, f"{name}."))
    for _, c, name, _ in through(plan):  # a person's listing that falls on its linked entities
        under, tries = through_measures(plan.scenario.consequences[c].kind, c)
        kinds.update({f"{name}.{under}": "final", f"{name}.{tries}": "total"})
    for a in sorted({q.agency for p in [plan, *plan.entities.values()] for q in p.scenario.consequences.values()
                     if q.agency is not None}):
        kinds.update({f"agency:{a}": "final", f"agency_attempts:{a}": "total"})
    return kinds


def prefixed(table: pa.Table, population: str) -> pa.Table:
    """A metrics table with its metric names prefixed with ``population.``."""
    prefix, empty = strings([f"{population}.", ""])  # (Arrow scalars: PyArrow converting str loads pandas)
    col = pc.binary_join_element_wise(prefix, table["metric"], empty)
    return table.set_column(table.schema.get_field_index("metric"), "metric", col)


def agency_table(populations: dict[str, tuple[Plan, np.ndarray]]) -> pa.Table | None:
    """Rows ``agency:A`` and ``agency_attempts:A`` (group all) from each population's plan and counts."""
    measures: dict[str, np.ndarray] = {}
    attempts: dict[str, np.ndarray] = {}
    days = None
    totals = {name: counts.sum(axis=2) for name, (_, counts) in populations.items()}
    for population, (plan, counts) in populations.items():
        days = counts.shape[0]
        for c in plan.consequence_names:
            q = plan.scenario.consequences[c]
            if q.agency is None:
                continue
            m, a = _measures(plan, c)
            holder = _population_of(q, population)  # (whose counts hold the measures)
            held_plan, held = populations[holder][0], totals[holder]
            measures[q.agency] = measures.get(q.agency, 0) + held[:, held_plan.metric_names.index(m)]
            attempts[q.agency] = attempts.get(q.agency, 0) + held[:, held_plan.metric_names.index(a)]
    if not measures:
        return None
    names = sorted(measures)
    rows = [(f"agency:{n}", measures[n]) for n in names] + [(f"agency_attempts:{n}", attempts[n]) for n in names]
    day = np.tile(np.arange(days, dtype=np.int32), len(rows))
    metric = np.repeat([r[0] for r in rows], days)
    value = np.concatenate([r[1] for r in rows]).astype(np.int64)
    return pa.table({"day": array(day, pa.int32()), "metric": strings(metric.tolist()),
                     "group": strings(["all"] * len(day)), "value": array(value, pa.int64())})
