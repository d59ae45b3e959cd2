"""Persons and entity types in one run's tables: prefixed metrics, linked persons, joint punishment.

The persons' metrics keep their names. An entity type's metrics are prefixed with its name and a dot
(``firms.listed:blacklist``, ``firms.score:40..50``), its groups are its own regions, groups and classes.
Two families are added here, after the engines have run, from counts the engines kept:

- **Linked persons** (per entity type, per consequence with ``applies_to = "links.NAME"``):
  ``NAME.linked:C``, persons under C through their entity on that day (entities under C x ``per_entity``),
  and ``NAME.linked_blocked:C`` (``linked_granted`` for a reward), their attempts that day: a binomial draw
  of (persons under C, ``attempts_per_day``) per day and cell from the counter-based stream
  ``LINKED_ATTEMPT`` (the same in distribution as one draw per person, and reproducible).
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
from .compile import Plan, consequence_metrics
from .rng import Stream, stream_key
from .scenarios.entities import PERSONS

__all__ = ["split_metric", "unit_of", "linked_counts", "metric_kinds", "agency_table", "prefixed"]


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
    if base.startswith(("blocked:", "granted:")):
        return "person-times" if population == PERSONS else "attempts"
    if base == "ties_dropped (total)":
        return "ties"
    return "events" if "(total)" in key else ("people" if population == PERSONS else population)


def _measures(plan: Plan, c: str) -> tuple[str, str]:
    """The metrics that count consequence ``c`` of ``plan`` as measures: (in force, attempts). For one on
    linked persons, the linked persons' (``linked:C``, ``linked_blocked:C``), else the engine's."""
    q = plan.scenario.consequences[c]
    under, attempts = consequence_metrics(q.kind, c)
    return (f"linked:{c}", f"linked_{attempts}") if q.applies_to.startswith("links.") else (under, attempts)


def _linked(plan: Plan) -> list[tuple[int, str]]:
    """(index, name) of every consequence of an entity type that applies to linked persons."""
    return [(k, c) for k, c in enumerate(plan.consequence_names)
            if plan.scenario.consequences[c].applies_to.startswith("links.")]


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
        dropped = {_engine_attempts(p, c) for _, c in links}
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
    for plan, counts in populations.values():
        totals = counts.sum(axis=2)
        days = totals.shape[0]
        for c in plan.consequence_names:
            q = plan.scenario.consequences[c]
            if q.agency is None:
                continue
            m, a = _measures(plan, c)
            measures[q.agency] = measures.get(q.agency, 0) + totals[:, plan.metric_names.index(m)]
            attempts[q.agency] = attempts.get(q.agency, 0) + totals[:, plan.metric_names.index(a)]
    if not measures:
        return None
    names = sorted(measures)
    rows = [(f"agency:{n}", measures[n]) for n in names] + [(f"agency_attempts:{n}", attempts[n]) for n in names]
    day = np.tile(np.arange(days, dtype=np.int32), len(rows))
    metric = np.repeat([r[0] for r in rows], days)
    value = np.concatenate([r[1] for r in rows]).astype(np.int64)
    return pa.table({"day": array(day, pa.int32()), "metric": strings(metric.tolist()),
                     "group": strings(["all"] * len(day)), "value": array(value, pa.int64())})
