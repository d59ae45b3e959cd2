"""Entity types beside the persons: firms and local authorities as scenarios of their own.

An entity type (``[entities.NAME]``) has the tables of a scenario: population, channels, behaviours, score,
lists, consequences. It runs as that scenario (:func:`entity_scenario`), with its own seed derived from the
run's (:func:`entity_seed`): in lockstep with the persons on the day schedulers, after the persons' windows on
the windowed scheduler (``engine.routes.entity_route``). What crosses from an entity to persons is carried by *links*: each entity has ``per_entity`` persons linked to it (a firm's legal
representative, an authority's officials), drawn procedurally from the entity's id (:func:`linked_persons`),
so nothing is stored. A consequence with ``applies_to = "links.NAME"`` is in force for those persons while
the entity is under it.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..rng import GOLDEN, Stream, mix64, stream_key
from .schema import Meta, Scenario

__all__ = ["PERSONS", "entity_seed", "entity_scenario", "linked_persons", "employer", "scaled_sizes", "link_reach"]

PERSONS = "persons"  # the name the persons go by beside entity types (metrics prefixes, stories)


def link_reach(applies_to: str) -> int:
    """How far a consequence reaches through links: 0 (not through a link), 1 (an entity type's consequence on
    its linked persons, ``links.LINK``), 2 (a persons' consequence on the entities linked to a listed person,
    ``links.ENTITY.LINK``)."""
    return applies_to.count(".") if applies_to.startswith("links.") else 0


def entity_seed(seed: int, name: str) -> int:
    """The seed of entity type ``name`` in a run with ``seed``: the first 63 bits of BLAKE2b("seed:name"), so
    entity types draw independently of the persons and of each other, and adding one changes no other draw."""
    digest = hashlib.blake2b(f"{int(seed)}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def scaled_sizes(data: dict, size: int) -> dict:
    """A scenario dict with the persons' size set to ``size`` and each entity type's size scaled by the same
    factor (at least 1): ``--population`` changes the whole economy, not only its persons."""
    old = data["population"]["size"]
    data["population"]["size"] = size
    for e in data.get("entities", {}).values():
        e["population"]["size"] = max(1, round(e["population"]["size"] * size / old))
    return data


def entity_scenario(s: Scenario, name: str) -> Scenario:
    """The scenario entity type ``name`` of ``s`` runs as: its own tables, the run's days, a derived seed."""
    e = s.entities[name]
    run = s.run.model_copy(update={"seed": entity_seed(s.run.seed, name), "story_agents": e.story_agents})
    meta = Meta(name=f"{s.meta.name}_{name}"[:64], description=e.description or f"{name} of {s.meta.name}",
                kind=s.meta.kind)
    return Scenario(meta=meta, run=run, population=e.population, channels=e.channels, behaviours=e.behaviours,
                    score=e.score, accounts=e.accounts, lists=e.lists, consequences=e.consequences, debt=e.debt,
                    redress=e.redress, timeline=e.timeline)


def linked_persons(s: Scenario, name: str, link: str, entities: np.ndarray, *, region_starts=None,
                   entity_region_starts=None, adult=None) -> np.ndarray:
    """Ids of the persons linked by ``link`` to the ``entities`` (ids) of type ``name``: int64[len, per_entity].

    Person ``j`` of entity ``f`` is ``lo + mix64(key + (f * 1000 + j) * GOLDEN) % (hi - lo)``, ``[lo, hi)`` the
    persons' block of the region with the entity's region name (all persons when they have none, or when the
    link is not ``same_region``). ``adult`` (a function of person ids to bool) redraws children up to 16
    times. Pure function of the scenario, the seed and the ids: nothing is stored.
    """
    from .. import population as popmod

    e = s.entities[name]
    L = e.links[link]
    entities = np.asarray(entities, np.int64)
    if region_starts is None:
        region_starts = popmod.region_starts(s.population.size, [r.share for r in s.population.regions.values()])
    if entity_region_starts is None:
        entity_region_starts = popmod.region_starts(e.population.size,
                                                    [r.share for r in e.population.regions.values()])
    person_regions = list(s.population.regions)
    lo = np.zeros(len(entities), np.int64)
    hi = np.full(len(entities), s.population.size, np.int64)
    if L.same_region:
        er = np.searchsorted(entity_region_starts, entities, side="right") - 1
        for k, rname in enumerate(e.population.regions):
            if rname in person_regions:
                r = person_regions.index(rname)
                lo[er == k], hi[er == k] = region_starts[r], region_starts[r + 1]
    key = stream_key(entity_seed(s.run.seed, name), Stream.LINK, list(e.links).index(link))
    out = np.empty((len(entities), L.per_entity), np.int64)
    with np.errstate(over="ignore"):
        for j in range(L.per_entity):
            idx = (entities * 1000 + j).astype(np.uint64)
            pick = lo + (mix64(key + idx * GOLDEN) % (hi - lo).astype(np.uint64)).astype(np.int64)
            if adult is not None:
                for attempt in range(1, 17):
                    child = ~adult(pick)
                    if not child.any():
                        break
                    idx2 = idx[child] + np.uint64(attempt) * np.uint64(1 << 40)
                    pick[child] = lo[child] + (mix64(key + idx2 * GOLDEN)
                                               % (hi[child] - lo[child]).astype(np.uint64)).astype(np.int64)
            out[:, j] = pick
    return out


def employer(s: Scenario, name: str, persons: np.ndarray) -> np.ndarray:
    """The firm (an id of entity type ``name``) that employs each of ``persons``: uniform among the firms of the
    region with the person's region name (among all firms when there is none). Procedural, like the links."""
    from .. import population as popmod

    e = s.entities[name]
    persons = np.asarray(persons, np.int64)
    starts = popmod.region_starts(s.population.size, [r.share for r in s.population.regions.values()])
    firm_starts = popmod.region_starts(e.population.size, [r.share for r in e.population.regions.values()])
    firm_regions = list(e.population.regions)
    pr = np.searchsorted(starts, persons, side="right") - 1
    lo = np.zeros(len(persons), np.int64)
    hi = np.full(len(persons), e.population.size, np.int64)
    for k, rname in enumerate(s.population.regions):
        if rname in firm_regions:
            j = firm_regions.index(rname)
            if firm_starts[j + 1] > firm_starts[j]:
                lo[pr == k], hi[pr == k] = firm_starts[j], firm_starts[j + 1]
    key = stream_key(entity_seed(s.run.seed, name), Stream.LINK, 999)
    with np.errstate(over="ignore"):
        draw = mix64(key + persons.astype(np.uint64) * GOLDEN)
    return lo + (draw % (hi - lo).astype(np.uint64)).astype(np.int64)
