"""Run a plan: the scheduler that ``engine.routes`` chooses, on a backend (the CPU, with threads set for the
run, or a GPU: ``engine/backend.py``)."""

from __future__ import annotations

from typing import Callable

import numba

from ..compile import Plan
from .backend import HOST
from .dense import DEFAULT_CHUNK
from .loop import Loop, advance, finish_run, start, together
from .state import EMIT_ROWS, RawRun

__all__ = ["run_cpu", "run_dense", "run_replicates", "prepare", "default_chunk", "DEFAULT_CHUNK"]


def run_cpu(plan: Plan, *, threads: int | None = None, chunk: int = DEFAULT_CHUNK,
            progress: Callable[[int], None] | None = None, initial_emit: int = EMIT_ROWS,
            loop: Loop | None = None, after_pass: Callable[[Loop], None] | None = None,
            engine: str = "dense", after_window=None, backend: str = "cpu") -> RawRun:
    """Run ``plan`` on ``backend`` (``cpu`` or ``gpu``, ``engine.BACKENDS``) and return the raw counts and story
    rows.

    ``engine`` is a scheduler (``windowed``, ``lazy`` or ``dense``) or ``auto``, the fastest that can run the
    plan (``engine.routes.choose_route``; a scheduler that cannot is refused by name). ``loop`` continues a
    day-by-day run from a checkpoint (a ``Loop``), or a windowed one (a ``WindowState``); the checkpoint's
    scheduler then runs. ``after_pass(loop)`` is called after every pass of a day-by-day run, when the loop is
    consistent (to write checkpoints, or to stop by raising), so it needs a day-by-day scheduler;
    ``after_window(state)`` is called after every window of a windowed run, for the same purposes.
    On the GPU only the dense scheduler runs (``engine.ON_BACKEND``); a checkpoint's columns go to the device.
    """
    from .routes import check_backend, choose_route, entity_route

    if loop is not None:
        engine = "windowed" if not isinstance(loop, Loop) else ("dense" if loop.lazy is None else "lazy")
        check_backend(engine, backend)
    else:
        engine = choose_route(plan, engine, needs=("every-day",) if after_pass is not None else (),
                              backend=backend)
    hw = HOST if backend == "cpu" else _gpu_backends([plan], chunk, initial_emit)[0]
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
        loop = start(plan, chunk=chunk, engine=engine, backend=hw) if loop is None else _moved(plan, loop, hw)
        advance(plan, loop, chunk=chunk, progress=progress, initial_emit=initial_emit, after_pass=after_pass,
                backend=hw)
        return finish_run(plan, loop, hw)
    finally:
        numba.set_num_threads(previous_threads)


def _moved(plan: Plan, loop: Loop, hw) -> Loop:
    """A loop read from a checkpoint, its columns (and its entity types') moved to the backend ``hw``."""
    loop.cols = hw.from_host(plan, loop.cols)
    for name, sub in loop.entities.items():
        _moved(plan.entities[name], sub, hw)
    return loop


def run_dense(plan: Plan, **kw) -> RawRun:
    """:func:`run_cpu` with the dense engine unless ``engine=`` says otherwise (tests and benchmarks)."""
    return run_cpu(plan, **{"engine": "dense", **kw})


def _gpu_backends(plans: list[Plan], chunk: int, initial_emit: int = EMIT_ROWS):
    from .gpu import backends

    return backends(plans, chunk, initial_emit)


def run_replicates(plans: list[Plan], *, backend: str = "cpu", threads: int | None = None, chunk: int | None = None,
                   progress: Callable[[int], None] | None = None, engine: str = "auto") -> list[RawRun]:
    """Run ``plans`` (one scenario under several seeds) and return their raw results, in order. On the CPU one
    after another, each on its route (``engine``); on the GPU all at once on the dense scheduler, every pass of
    every replicate in one launch (``engine.gpu.Replicates``). ``progress(k)`` says that k + 1 replicate-days
    are done, of ``len(plans) * days``: on the CPU a replicate's days after the one before, on the GPU every
    replicate's day d at once."""
    R, D = len(plans), plans[0].days

    def told(r):
        return None if progress is None else (lambda d: progress(r * D + d))

    if backend == "cpu":
        return [run_cpu(p, threads=threads, chunk=chunk or DEFAULT_CHUNK, progress=told(r), engine=engine)
                for r, p in enumerate(plans)]
    from .routes import choose_route

    engine = choose_route(plans[0], engine, backend=backend)
    chunk = prepare(backend, plans[0], chunk, replicates=len(plans))
    hws = _gpu_backends(plans, chunk)
    loops = [start(p, chunk=chunk, engine=engine, backend=hw) for p, hw in zip(plans, hws)]
    together(list(zip(plans, loops, hws)), chunk=chunk,
             progress=None if progress is None else (lambda d: progress((d + 1) * R - 1)))
    return [finish_run(p, loop, hw) for p, loop, hw in zip(plans, loops, hws)]


def prepare(name: str, plan: Plan, chunk: int | None = None, replicates: int = 1) -> int:
    """Check, before anything is allocated, that backend ``name`` can run ``plan``: for the GPU, that numba's
    CUDA target and a device are there (``engine.gpu.cuda_module``) and that the run fits in the device's
    memory (``engine.gpu.check_device_memory``; ``replicates`` runs of it at once). Returns the chunk to run
    with (``chunk``, or the backend's default, :func:`default_chunk`)."""
    chunk = chunk or default_chunk(name, plan)
    if name == "gpu":
        from .gpu import check_device_memory

        check_device_memory(plan, chunk, replicates=replicates)
    return chunk


def default_chunk(name: str, plan: Plan) -> int:
    """Agents per work item on backend ``name`` by default (results do not depend on it): on the CPU a parallel
    loop's item, a few per core; on a GPU a thread's (``engine.gpu.gpu_chunk``)."""
    if name == "gpu":
        from .gpu import gpu_chunk

        return gpu_chunk(plan)
    return DEFAULT_CHUNK
