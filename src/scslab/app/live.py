"""A run the page can watch and stop: partial daily series while it runs, a Result when it ends.

:func:`live_run` drives the same engine as :func:`scslab.simulate` and, every few passes, hands
``on_update`` a :class:`Partial`: the days finished so far and, for the group ``all``, the series of the
metrics a page charts (levels summed up from their daily changes, as the engine's own finish does). Setting
``cancel`` stops the run at the next pass with :class:`Cancelled`. Runs share the machine's cores, so at most
``MAX_CONCURRENT`` run at once; the others wait their turn (``on_update`` is told they are queued).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ScslabError

__all__ = ["Partial", "Cancelled", "live_run", "release_memory", "engine_loaded", "CHARTED", "MAX_CONCURRENT"]

MAX_CONCURRENT = 2
_WARM = threading.Event()  # set once a run has finished in this process (engine_loaded)
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT)
# metric prefixes (and names) a page charts while the run goes on
CHARTED = ("tier:", "listed:", "innocent_listed:", "sanctioned:", "sanctioned_by_ties", "acts:",
           "network_penalties")


class Cancelled(ScslabError):
    """The run was stopped from the page."""


@dataclass(frozen=True)
class Partial:
    """What a page shows while a run goes on: ``day`` days of ``days`` done, ``series[name]`` for group all."""

    day: int
    days: int
    series: dict[str, np.ndarray]
    queued: bool = False
    elapsed_s: float = 0.0


def _partial(plan, loop, t0: float) -> Partial:
    from ..engine.loop import with_levels

    done = max(loop.day - 1, 0)  # pass p finishes day p - 1
    out = with_levels(plan, loop.counts[:done].sum(axis=2), loop.level0.sum(axis=1))
    series = {name: out[:, k] for k, name in enumerate(plan.metric_names) if name.startswith(CHARTED)}
    return Partial(done, plan.days, series, elapsed_s=time.perf_counter() - t0)


def live_run(scenario, *, seed: int = 0, engine: str = "auto",
             on_update: Callable[[Partial], None] | None = None, cancel: threading.Event | None = None,
             every: int | None = None):
    """Run ``scenario`` (a validated Scenario, its size and days included) and return its Result.

    ``on_update`` gets a :class:`Partial` about 50 times a run (every ``every`` passes); ``cancel`` stops it.
    """
    from ..api import run_manifest, resolve_scenario, make_result
    from ..compile import compile_plan
    from ..engine.cpu import run_cpu
    from ..engine.routes import choose_route

    s = resolve_scenario(scenario, None, None, int(seed), None)
    plan = compile_plan(s)
    every = every or max(1, plan.days // 50)
    cancel = cancel or threading.Event()
    if on_update is not None:
        on_update(Partial(0, plan.days, {}, queued=True))
    with _SLOTS:
        if cancel.is_set():
            raise Cancelled("the run was cancelled before it started")
        t0 = time.perf_counter()

        def after_pass(loop) -> None:
            if cancel.is_set():
                raise Cancelled(f"the run was cancelled on day {max(loop.day - 1, 0)} of {plan.days}")
            if on_update is not None and (loop.day % every == 0 or loop.day == plan.days + 1):
                on_update(_partial(plan, loop, t0))

        route = choose_route(plan, engine, needs=("every-day",))  # partial results need a day-by-day scheduler
        manifest = run_manifest(s, plan, engine, route, "cpu", None, None)
        raw = run_cpu(plan, engine=route, after_pass=after_pass)
        _WARM.set()
        return make_result(plan, raw, manifest, time.perf_counter() - t0)


def engine_loaded() -> bool:
    """Whether a run has finished in this process, so its compiled engine is loaded: the next run starts
    at once (the first one loads it from numba's disk cache, or compiles it where it never was)."""
    return _WARM.is_set()


def release_memory() -> None:
    """Hand the heap memory that finished runs and closed pages have freed back to the system.

    A long-lived server's resident size otherwise only grows: glibc keeps freed blocks in each thread's
    arena for reuse, and every run has its own engine thread. This calls glibc's ``malloc_trim``; where
    there is no glibc it does nothing."""
    global _LIBC
    if _LIBC is None:
        import ctypes
        import ctypes.util

        try:
            _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _LIBC.malloc_trim  # noqa: B018 - only glibc has it
        except (OSError, AttributeError):
            _LIBC = False
    if _LIBC:
        _LIBC.malloc_trim(0)


_LIBC = None  # glibc once looked up; False where there is none
