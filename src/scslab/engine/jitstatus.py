"""Whether a run compiles the engine before its first day, and about how long that takes.

numba compiles a route's drivers on their first call and keeps the machine code on disk (``cache=True``,
stamped by :mod:`.jitcache`), so only the first run of each route on a machine compiles. The drivers that
every run of a route calls are listed in :data:`ROUTE_DRIVERS`; a route is ready when each of them is compiled
in this process already or has an entry in numba's cache index for the current sources and this CPU. A
scenario that needs another variant of a ready driver (other argument types) still compiles that variant;
that is rarer and shorter, and is not foreseen here.
"""

from __future__ import annotations

import importlib

__all__ = ["ROUTE_DRIVERS", "COMPILE_SECONDS", "ready", "will_compile", "compile_note"]

# the drivers a run of each route always calls (module, function): the ones whose compiling takes the time
ROUTE_DRIVERS = {
    "windowed": (("scslab.engine.windowed.driver", "start_chunk"), ("scslab.engine.windowed.penalties", "senders_of"),
                 ("scslab.engine.windowed.route", "sweep_blocks")),
    "lazy": (("scslab.engine.dense", "init_pass"), ("scslab.engine.lazy", "lazy_pass")),
    "dense": (("scslab.engine.dense", "init_pass"), ("scslab.engine.dense", "dense_pass")),
}
# CPU seconds a first run spends on an empty cache, measured on a 2-core machine (README.md, "The first
# run"): bench-v1 (windowed; a first press-2018 compiles it again for its own tables, about as long), press-2018
# --engine lazy (the lazy scheduler, day by day) and bench-v1 with --engine dense
# (15 s once the lazy scheduler is compiled); the lazy scheduler's 55 s were measured again (52 s) when its
# pass came to inline the end of day
COMPILE_SECONDS = {"windowed": 25, "lazy": 55, "dense": 35}


def ready(dispatcher) -> bool | None:
    """Whether ``dispatcher`` has machine code at hand (True), must compile (False), or cannot tell (None)."""
    if getattr(dispatcher, "overloads", None):
        return True  # compiled in this process already
    cache = getattr(dispatcher, "_cache", None)
    index_file = getattr(cache, "_cache_file", None)
    if index_file is None:
        return False if cache is not None else None  # numba's NullCache: compiled in every process
    try:
        from numba.core.registry import cpu_target

        codegen = cpu_target.target_context.codegen()
        index = index_file._load_index()  # empty when missing, or written for other sources
        return any(cache._index_key(key[0], codegen) == key for key in index)
    except Exception:  # numba's caching internals changed shape: say nothing rather than something false
        return None


def will_compile(route: str) -> bool | None:
    """True when a run on ``route`` (``windowed``, ``lazy`` or ``dense``, as ``engine.windowed.route_of``
    says) compiles its drivers first, False when they are ready, None when it cannot tell."""
    answers = []
    for module, name in ROUTE_DRIVERS.get(route, ()):
        try:
            dispatcher = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return None
        answers.append(ready(dispatcher))
    if not answers or None in answers:
        return None
    return not all(answers)


def compile_note(route: str) -> str:
    """``compiling the engine (first run only, about N minutes)...`` for ``route`` (an unknown route: the
    slowest), to the nearest half minute, at least half a minute."""
    seconds = COMPILE_SECONDS.get(route, max(COMPILE_SECONDS.values()))
    halves = max(1, int(seconds / 30 + 0.5))
    if halves == 1:
        return "compiling the engine (first run only, about half a minute)..."
    minutes = f"{halves // 2}" + (".5" if halves % 2 else "")
    return f"compiling the engine (first run only, about {minutes} minute{'s' if halves > 2 else ''})..."
