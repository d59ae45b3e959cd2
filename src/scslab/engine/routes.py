"""Which scheduler runs a plan: the one place the route is decided.

A scheduler decides who is visited and when; the three CPU schedulers implement one model:

- ``windowed``: agent by agent, a window of up to a year at once (``engine/windowed``), the fastest;
- ``lazy``: day by day, visiting only the agents something happens to (``engine/lazy.py``);
- ``dense``: day by day, every agent every day (``engine/cpu.py``); it alone runs awareness that spreads
  (an agent's tables depend on whether it is aware, which the lazy scheduler's bands of cells do not follow)
  and lists that deter others when published (a day's tables then depend on the run's own lists, where the
  lazy scheduler makes its tables, bands of cells and aggregate counts from the scenario alone).

Each states the features (``engine.features``) it supports and what it can do for a run (``CAPABILITIES``).
:func:`choose_route` sends a plan to the fastest scheduler that supports every feature the plan uses and
everything the run needs (``--engine auto``, the default), or checks the scheduler asked for by name and
refuses it with the names of what it lacks. The CLI, the API, the dashboard, resume and the manifest all take
the route from here, so the manifest's route is the route that ran.
"""

from __future__ import annotations

from . import DEFAULT_ENGINE, ENGINES, ON_BACKEND, SCHEDULERS
from .features import FEATURES, feature_words, uses

__all__ = ["SCHEDULERS", "ENGINES", "DEFAULT_ENGINE", "SUPPORTS", "CAPABILITIES", "NEEDS", "missing",
           "choose_route", "refusal", "check_backend", "entity_route"]

_ALL = frozenset(f.name for f in FEATURES)
SUPPORTS: dict[str, frozenset[str]] = {
    "windowed": frozenset({"scores", "deterrence", "recovery", "stories", "one-list", "list-sanctions", "friends",
                           "network-penalty", "no-friends", "red-list", "rewards", "attempts", "recovery-steps",
                           "tier-sanctions", "publication", "never-left", "several-lists",
                           "no-list", "groups", "regions", "regional-friends", "false-attribution",
                           "entity-types", "households", "coverage-over-time", "perception",
                           "redress", "network-penalties", "household-penalties", "network-timeline",
                           "deterrence-by-state", "children-sanctions", "tie-kinds", "colleagues"}),
    "lazy": _ALL - {"awareness", "published-deterrence"},
    "dense": _ALL,
}

# What a run may need beyond its scenario, and which schedulers can do it.
NEEDS = {
    "progress": "a progress display",
    "checkpoints": "checkpoints and a clean stop on Ctrl-C",
    "every-day": "the state after every day (the dashboard's live results)",
}
CAPABILITIES: dict[str, frozenset[str]] = {
    "windowed": frozenset({"progress", "checkpoints"}),
    "lazy": frozenset(NEEDS),
    "dense": frozenset(NEEDS),
}


def missing(plan, scheduler: str, needs=()) -> list[str]:
    """The features ``plan`` uses and the ``needs`` of the run that ``scheduler`` lacks, in order. A day
    scheduler runs the entity types in lockstep with the persons (:func:`entity_route`), so their features
    count too."""
    used = list(uses(plan))
    if scheduler != "windowed":
        used += [f for sub in plan.entities.values() for f in uses(sub) if f not in used]
    lacks = [f for f in used if f not in SUPPORTS[scheduler]]
    return lacks + [n for n in needs if n not in CAPABILITIES[scheduler]]


def refusal(plan, scheduler: str, needs=()) -> str | None:
    """None when ``scheduler`` can run ``plan`` with ``needs``, else why not, naming what it lacks."""
    lacks = missing(plan, scheduler, needs)
    if not lacks:
        return None
    feats = [n for n in lacks if n not in NEEDS]
    parts = []
    if feats:
        parts.append("it does not support " + feature_words(feats))
    run = [n for n in lacks if n in NEEDS]
    if run:
        parts.append("it cannot give " + "; ".join(f"{n} ({NEEDS[n]})" for n in run))
    return "; ".join(parts)


def choose_route(plan, engine: str = DEFAULT_ENGINE, needs=(), fits=None, backend: str = "cpu") -> str:
    """The scheduler that runs ``plan``: for ``engine="auto"`` the fastest that can and, given ``fits``
    (``fits(scheduler)``: whether its run fits in memory, ``engine.budget.fits``), whose run fits (the
    windowed scheduler holds more per agent than the lazy one where ties' penalties are many: press-2018 at
    1.4 billion people goes day by day on a machine of 24 GB), else ``engine`` itself when it can; only among
    the schedulers ``backend`` runs (``engine.ON_BACKEND``). Raises :class:`~scslab.errors.OptionError` for an
    unknown engine, for one the backend does not run, or for one that cannot run the plan, naming the features
    it lacks."""
    from ..errors import OptionError

    if engine not in ENGINES:
        raise OptionError("--engine", engine, f"unknown engine; allowed: {', '.join(ENGINES)}")
    on = ON_BACKEND[backend]
    if engine not in ("auto", *on):
        raise OptionError("--engine", engine, f"the {backend} backend runs the {' and '.join(on)} scheduler"
                          f"{'s' if len(on) > 1 else ''} only; use auto, or: {', '.join(on)}")
    if engine == "auto":
        able = [s for s in on if not missing(plan, s, needs)]
        if fits is None:
            return able[0]
        return next((s for s in able if fits(s)), able[0])  # (none fits: the fastest, which refuses)
    why = refusal(plan, engine, needs)
    if why is not None:
        able = [s for s in SCHEDULERS if not missing(plan, s, needs)]
        raise OptionError("--engine", engine, f"the {engine} scheduler cannot run {plan.scenario.meta.name!r}: "
                          f"{why}; use auto, or one of: {', '.join(able)}")
    return engine


def check_backend(route: str, backend: str) -> None:
    """Refuse to run a run that goes by the scheduler ``route`` (a checkpoint's) on a ``backend`` that does not
    run it (``engine.ON_BACKEND``), by the option that asked for the backend."""
    from ..errors import OptionError

    if route not in ON_BACKEND[backend]:
        raise OptionError("--backend", backend, f"the run goes by the {route} scheduler, which the {backend} "
                          "backend does not run; use the cpu backend")


def entity_route(sub, route: str) -> str:
    """The scheduler that runs an entity type's plan ``sub`` beside persons run by ``route``: the day
    schedulers run every population in lockstep, day by day, so the persons' own; the windowed scheduler
    runs the entity types after the persons' windows (nothing passes from one population to another while a
    run goes on), each on the fastest scheduler that can run it."""
    return choose_route(sub) if route == "windowed" else route
