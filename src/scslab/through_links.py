"""What a person's listing brings on the entities linked to it: a persons' consequence with
``applies_to = "links.ENTITY.LINK"`` (the firms a listed legal representative represents are barred), counted
after the engines have run, as the linked persons of an entity's listing are (``populations``).

A person's end of day writes a ``LINK`` record when it enters or leaves a list such a consequence follows
(``engine/kernels.py``, the lists in ``P.LINK_LISTS``), on every day scheduler. From those records and the links
(a pure function of the ids, ``scenarios.entities.linked_persons``), :func:`through_link_counts` counts, for
each such consequence C, in the entity type's own cells:

- ``ENTITY.through_link:C`` (a level): the entities with at least one person linked by LINK on one of C's lists
  at the end of the day (an entity two of whose officials are listed counts once);
- ``ENTITY.through_link_blocked:C`` (``through_link_granted`` for a reward; a flow): their attempts that day, a
  binomial draw of (entities under C, ``attempts_per_day``) per day and cell from the counter-based stream
  ``LINKED_ATTEMPT`` (the same in distribution as one draw per entity, and reproducible).

The persons' own attempt rows of C (none: the attempts are the entities') are dropped, and joint punishment
counts C's measures as the entities under it (``populations.agency_table``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .compile import EVENT, REC, Plan, consequence_metrics
from .rng import Stream, stream_key
from .scenarios.entities import link_reach

__all__ = ["through", "measures", "split_records", "without_own_attempts", "through_link_counts", "appended"]


def through(plan: Plan) -> list[tuple[int, str, str, str]]:
    """(index, consequence, entity type, link) of every persons' consequence that falls on linked entities."""
    out = []
    for k, c in enumerate(plan.consequence_names):
        q = plan.scenario.consequences[c]
        if link_reach(q.applies_to) == 2:
            _, entity, link = q.applies_to.split(".")
            out.append((k, c, entity, link))
    return out


def measures(kind: str, c: str) -> tuple[str, str]:
    """The entity type's metrics of persons' consequence ``c``: (entities under it, their attempts)."""
    under, attempts = consequence_metrics(kind, c)
    return f"through_link:{c}", f"through_link_{attempts}"


def split_records(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The persons' story rows without their ``LINK`` records, and those records."""
    link = rows[:, REC.KIND] == EVENT.LINK
    return rows[~link], rows[link]


def without_own_attempts(plan: Plan, counts: np.ndarray) -> tuple[Plan, np.ndarray]:
    """The persons' plan and counts without the (empty) attempt rows of consequences on linked entities."""
    drop = {plan.metric_names.index(consequence_metrics(plan.scenario.consequences[c].kind, c)[1])
            for _, c, _, _ in through(plan)}
    if not drop:
        return plan, counts
    keep = [m for m in range(len(plan.metric_names)) if m not in drop]
    return (dataclasses.replace(plan, metric_names=[plan.metric_names[m] for m in keep],
                                is_level=plan.is_level[keep]), counts[:, keep])


def _under(plan: Plan, name: str, link: str, lists: list[int], rec: np.ndarray, traits: np.ndarray,
           adult) -> np.ndarray:
    """int64[days, cells of the entity type]: the entities of type ``name`` with at least one person linked by
    ``link`` on one of ``lists`` (the persons' list indices) at the end of each day, from the persons' ``LINK``
    records ``rec`` and the entities' traits (``adult``: ``populations.adult_of``, for the links' draw)."""
    from .scenarios.entities import linked_persons

    sub = plan.entities[name]
    D, T = plan.days, len(sub.group_names) * len(sub.class_names)
    diff = np.zeros((D, sub.n_cells), np.int64)
    sel = rec[np.isin(rec[:, REC.A], lists)]
    if not len(sel):
        return diff
    persons = linked_persons(plan.scenario, name, link, np.arange(sub.size), region_starts=plan.region_starts,
                             entity_region_starts=sub.region_starts, adult=adult)
    flat = persons.ravel()
    order = np.argsort(flat, kind="stable")
    flat, owner = flat[order], np.repeat(np.arange(sub.size), persons.shape[1])[order]
    lo = np.searchsorted(flat, sel[:, REC.AGENT], side="left")
    n = np.searchsorted(flat, sel[:, REC.AGENT], side="right") - lo  # the entities each record's person is linked to
    which = np.repeat(np.arange(len(sel)), n)
    pos = np.repeat(lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    entity, day = owner[pos], sel[which, REC.DAY]
    step = np.where(sel[which, REC.B] == 1, 1, -1)
    # each entity's listed links, day by day: the net change of each (entity, day), summed within the entity
    key, inv = np.unique(entity * D + day, return_inverse=True)
    net = np.zeros(len(key), np.int64)
    np.add.at(net, inv, step)
    ent, day = key // D, key % D
    first = np.r_[True, ent[1:] != ent[:-1]]
    total = np.cumsum(net)
    start = np.flatnonzero(first)
    listed = total - np.repeat(total[start] - net[start], np.diff(np.r_[start, len(total)]))
    under = listed > 0
    before = np.r_[False, under[:-1]] & ~first
    cell = (np.searchsorted(sub.region_starts, ent, side="right") - 1) * T + traits[ent].astype(np.int64)
    np.add.at(diff, (day, cell), under.astype(np.int64) - before)
    return np.cumsum(diff, axis=0)


def through_link_counts(plan: Plan, rec: np.ndarray, traits: dict[str, np.ndarray], adult=None) -> dict[str, tuple]:
    """For each entity type that persons' consequences fall on: ``(names, is_level, rows[days, k, cells])`` to
    append to its counts, from the persons' ``LINK`` records ``rec``, each entity type's traits and ``adult``
    (``populations.adult_of(plan)``: the links redraw children)."""
    out: dict[str, tuple] = {}
    for k, c, name, link in through(plan):
        q = plan.scenario.consequences[c]
        lists = [plan.list_names.index(ref.split(".", 1)[1]) for ref in q.on]
        under = _under(plan, name, link, lists, rec, traits[name], adult)
        p = np.array([plan.epoch_at(d).scenario.consequences[c].attempts_per_day for d in range(plan.days)])
        key = int(stream_key(plan.entities[name].seed, Stream.LINKED_ATTEMPT, 1))
        tries = np.random.Generator(np.random.Philox(key=key ^ k)).binomial(under, p[:, None])
        names, level, rows = out.setdefault(name, ([], [], []))
        names += list(measures(q.kind, c))
        level += [True, False]
        rows += [under, tries]
    return {name: (names, np.array(level), np.stack(rows, axis=1)) for name, (names, level, rows) in out.items()}


def appended(plan: Plan, counts: np.ndarray, extra: tuple | None) -> tuple[Plan, np.ndarray]:
    """An entity type's plan and counts with :func:`through_link_counts`' rows for it appended."""
    if extra is None:
        return plan, counts
    names, level, rows = extra
    return (dataclasses.replace(plan, metric_names=list(plan.metric_names) + names,
                                is_level=np.concatenate([plan.is_level, level])),
            np.concatenate([counts, rows], axis=1))
