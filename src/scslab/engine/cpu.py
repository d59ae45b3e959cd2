"""Run a plan on the CPU: the scheduler that ``engine.routes`` chooses, with threads set for the run."""

from __future__ import annotations

from typing import Callable

import numba

from ..compile import Plan
from .dense import DEFAULT_CHUNK
from .loop import Loop, advance, finish_run, start
from .state import EMIT_ROWS, RawRun

__all__ = ["run_cpu", "run_dense", "DEFAULT_CHUNK"]


def run_cpu(plan: Plan, *, threads: int | None = None, chunk: int = DEFAULT_CHUNK,
            progress: Callable[[int], None] | None = None, initial_emit: int = EMIT_ROWS,
            loop: Loop | None = None, after_pass: Callable[[Loop], None] | None = None,
            engine: str = "dense", after_window=None) -> RawRun:
    """Run ``plan`` on the CPU and return the raw counts and story rows.

    ``engine`` is a scheduler (``windowed``, ``lazy`` or ``dense``) or ``auto``, the fastest that can run the
    plan (``engine.routes.choose_route``; a scheduler that cannot is refused by name). ``loop`` continues a
    day-by-day run from a checkpoint (a ``Loop``), or a windowed one (a ``WindowState``); the checkpoint's
    scheduler then runs. ``after_pass(loop)`` is called after every pass of a day-by-day run, when the loop is
    consistent (to write checkpoints, or to stop by raising), so it needs a day-by-day scheduler;
    ``after_window(state)`` is called after every window of a windowed run, for the same purposes.
    """
    from .routes import choose_route, entity_route

    if loop is not None:
        engine = "windowed" if not isinstance(loop, Loop) else ("dense" if loop.lazy is None else "lazy")
    else:
        engine = choose_route(plan, engine, needs=("every-day",) if after_pass is not None else ())
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        if engine == "windowed":
            from .windowed import run_windowed

            raw = run_windowed(plan, progress=progress, state=loop, after_window=after_window)
            # entity types after the persons' windows, each on its own route (routes.entity_route); a resumed
            # run runs them again from their start, as they were never checkpointed
            raw.entities.update({name: run_cpu(sub, engine=entity_route(sub, engine))
                                 for name, sub in plan.entities.items()})
            return raw
        loop = start(plan, chunk=chunk, engine=engine) if loop is None else loop
        advance(plan, loop, chunk=chunk, progress=progress, initial_emit=initial_emit, after_pass=after_pass)
        return finish_run(plan, loop)
    finally:
        numba.set_num_threads(previous_threads)


def run_dense(plan: Plan, **kw) -> RawRun:
    """:func:`run_cpu` with the dense engine unless ``engine=`` says otherwise (tests and benchmarks)."""
    return run_cpu(plan, **{"engine": "dense", **kw})
