"""Runs on disk: ``run`` writes a run directory with checkpoints, ``resume`` finishes one that was stopped.

A run directory is created first, marked incomplete (its manifest holds the resolved scenario, so the run
can be rebuilt from it alone). Every ``checkpoint_every`` days the day loop is written atomically to
``checkpoints/`` (a run that goes by windows, ``engine/windowed``, is written at the first window end on or
after each such day, and stops there). Ctrl-C asks the loop to stop at the end of the day: a checkpoint is written and
:class:`~scslab.errors.RunInterrupted` says how to resume. A second Ctrl-C aborts at once. ``resume`` rebuilds
the plan from the manifest, loads the newest readable checkpoint (or starts again from day 0 when there is
none) and runs to the end; outputs are identical byte for byte to an uninterrupted run's.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Mapping

from .errors import RunDirError, RunInterrupted, ScenarioError
from .scenarios.schema import Scenario

__all__ = ["run", "resume", "output_bytes"]


def output_bytes(plan) -> int:
    """Upper bound on the size of ``metrics.parquet`` plus ``stories.parquet`` (uncompressed)."""
    from .metrics import metric_rows

    stories = plan.days * plan.scenario.run.story_agents * 4
    return metric_rows(plan) * 24 + stories * 64 + (1 << 20) + sum(output_bytes(p) for p in plan.entities.values())


STOP_SIGNALS = ("SIGINT", "SIGTERM")  # Ctrl-C, and what batch schedulers send before they kill a job


@contextmanager
def _stop_on_signal(enabled: bool):
    """First Ctrl-C or SIGTERM: ask the loop to stop at the end of the day (or window). Second: abort
    (KeyboardInterrupt)."""
    flag = SimpleNamespace(requested=False)
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True

    signums = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        yield flag
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before)


def run(scenario: str | Path | Mapping[str, Any] | Scenario, out: str | Path | None = None, *,
        population: int | None = None,
        days: int | None = None, seed: int | None = None, threads: int | None = None,
        overrides: Mapping[str, Any] | list[str] | None = None, engine: str | None = None, backend: str = "cpu",
        chunk: int | None = None, checkpoint_every: int | None = None, force: bool = False,
        progress: Callable[[int], None] | None = None, interruptible: bool = True,
        on_start: Callable[[Any, str], None] | None = None):
    """Run a scenario into the run directory ``out`` and return its :class:`~scslab.api.Result`.

    ``scenario``, ``population``, ``days``, ``seed``, ``threads``, ``overrides``, ``engine``, ``backend``,
    ``chunk`` and ``progress`` are as for :func:`scslab.simulate`. ``out`` defaults to ``runs/NAME-TIME``
    (``-2``, ``-3``... when that name is taken). ``checkpoint_every`` writes a checkpoint every so many days;
    ``force`` replaces an existing run directory (only a scslab run directory whose files match its
    manifest, or an empty folder, and never one in use); ``interruptible`` turns Ctrl-C and SIGTERM into a
    checkpoint and :class:`~scslab.errors.RunInterrupted` (main thread only). Nothing is created when the
    scenario, the memory or the disk space is refused. The run directory is locked while the run goes on.
    ``on_start(plan, route)`` is called once every check has passed, just before the engine starts (a
    progress display is drawn then; ``route`` is ``windowed``, ``lazy`` or ``dense``).
    """
    from .api import check_args, run_manifest, resolve_scenario, warn_scenario
    from .compile import compile_plan
    from .engine.cpu import prepare
    from .engine.routes import choose_route
    from .engine.budget import check_capacity, fits
    from .output.checkpoint import KEEP, checkpoint_bytes, list_checkpoints
    from .output.rundir import check_disk, check_target, default_name, open_run

    from .engine import DEFAULT_ENGINE

    engine = DEFAULT_ENGINE if engine is None else engine
    check_args(engine, backend, population=population, days=days, seed=seed, threads=threads, chunk=chunk,
                checkpoint_every=checkpoint_every)
    s = resolve_scenario(scenario, population, days, seed, overrides)
    warn_scenario(s)
    unique = out is None
    if unique:
        out = default_name(s.meta.name, _dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    else:
        check_target(out, force)
    plan = compile_plan(s)
    route = choose_route(plan, engine, fits=lambda r: fits(plan, r), backend=backend)
    check_capacity(plan, engine=route)
    prepare(backend, plan, chunk)
    need = output_bytes(plan) + ((KEEP + 1) * checkpoint_bytes(plan) if checkpoint_every else 0)
    check_disk(out, need, f"a run of {plan.size:,} agents x {plan.days} days"
               + (" with checkpoints" if checkpoint_every else ""))
    manifest = run_manifest(s, plan, engine, route, backend, threads, chunk)
    manifest.update(checkpoint_every=checkpoint_every, sessions=[])
    with open_run(out, manifest, force=force, unique=unique) as lock:
        try:
            if on_start is not None:
                on_start(plan, route)
            return _drive(plan, lock.path, manifest, None, {}, threads, progress, interruptible)
        except BaseException as exc:
            # a failure or a Ctrl-C at any moment before the first checkpoint (also before the engine starts
            # listening for a stop) leaves nothing behind, as a run refused at its checks does
            if not isinstance(exc, RunInterrupted) and not list_checkpoints(lock.path) and not _complete(lock.path):
                shutil.rmtree(lock.path, ignore_errors=True)
            raise


def resume(run_dir: str | Path, *, threads: int | None = None, progress: Callable[[int], None] | None = None,
           interruptible: bool = True, on_start: Callable[[Any, str], None] | None = None,
           backend: str | None = None):
    """Finish the incomplete run in ``run_dir`` from its newest checkpoint (or from day 0 without one).

    ``threads`` may differ from the first session's (the result does not depend on it); ``progress`` is
    called with each finished day; ``interruptible`` and ``on_start`` are as for :func:`run`. ``backend``
    (default: the run's own) may differ too: a run begun on a GPU may finish on the CPU, by the dense
    scheduler, and the other way round.
    """
    from .api import check_args
    from .compile import compile_plan
    from .output.checkpoint import load_latest
    from .output.rundir import lock_run, read_manifest
    from .scenarios.load import load_scenario

    check_args("dense", backend or "cpu", threads=threads)
    path = Path(run_dir)
    read_manifest(path)  # a RunDirError when it is not a run directory, before locking anything
    with lock_run(path, "resume it"):
        manifest = read_manifest(path)  # read again under the lock: another process may have finished it
        if manifest["status"] == "complete":
            raise RunDirError(f"{str(path)!r} is already complete; there is nothing to resume")
        try:
            s = load_scenario(manifest["scenario"])
        except ScenarioError as exc:
            raise RunDirError(f"the manifest of {str(path)!r} does not hold a valid scenario: {exc}") from None
        plan = compile_plan(s)
        if (plan.size, plan.days, plan.seed) != (manifest["population"], manifest["days"], manifest["seed"]):
            raise RunDirError(f"the manifest of {str(path)!r} contradicts itself: its scenario gives "
                              f"{plan.size:,} agents x {plan.days} days, seed {plan.seed}, its fields "
                              f"{manifest['population']:,} x {manifest['days']}, seed {manifest['seed']}")
        loop, meta = load_latest(path, plan)
        manifest = {**manifest, "route": route_of_run(manifest, loop)}
        if backend is not None and backend != manifest.get("backend", "cpu"):  # its chunk was the other's
            manifest.update(backend=backend, chunk=None)
        if manifest.get("backend", "cpu") != "cpu":
            from .engine.cpu import prepare
            from .engine.routes import check_backend

            check_backend(manifest["route"], manifest["backend"])  # before the run directory says it resumed
            prepare(manifest["backend"], plan, manifest.get("chunk"))
        if on_start is not None:
            on_start(plan, manifest["route"])
        return _drive(plan, path, manifest, loop, meta, threads, progress, interruptible)


def route_of_run(manifest: dict, loop) -> str:
    """The scheduler that continues a run: its checkpoint's, or without one the route its manifest recorded
    (runs written before ``auto`` recorded ``days`` for the day-by-day schedulers, and their engine)."""
    if loop is not None:
        from .engine.state import Loop

        return ("dense" if loop.lazy is None else "lazy") if isinstance(loop, Loop) else "windowed"
    route = manifest.get("route", "days")
    return manifest.get("engine", "dense") if route == "days" else route


def _drive(plan, path: Path, manifest: dict, loop, meta: dict, threads, progress, interruptible: bool):
    from .api import make_result
    from .engine.cpu import default_chunk, run_cpu
    from .output.checkpoint import save_checkpoint
    from .output.rundir import complete_run, write_manifest, writing

    every = manifest.get("checkpoint_every")
    before = float(meta.get("elapsed_s", 0.0))
    backend = manifest.get("backend", "cpu")
    session = {"started": _dt.datetime.now(_dt.timezone.utc).isoformat(),
               "from_day": 0 if loop is None else max(loop.day - 1, 0), "backend": backend}
    manifest = {**manifest, "sessions": [*manifest.get("sessions", []), session], "status": "incomplete"}
    with writing(path):
        write_manifest(path, manifest)
    t0 = time.perf_counter()

    with _stop_on_signal(interruptible) as stop:
        # a windowed run's checkpoints and stops come between two windows, a day-by-day run's between two days
        windowed = manifest["route"] == "windowed"
        end = plan.days if windowed else plan.days + 1  # the state's day once the run is done
        last = [0 if loop is None else loop.day]  # the day of the newest checkpoint (or of the start)

        def after(state) -> None:
            """After each pass of a day loop, or each window of a windowed run (``state.day``: the next one):
            stop on request, or write a checkpoint at the first state on or after each ``every`` days."""
            if state.day >= end:
                return
            elapsed = {"elapsed_s": before + time.perf_counter() - t0}
            if stop.requested:
                with writing(path):
                    save_checkpoint(path, plan, state, elapsed)
                raise RunInterrupted(path, state.day - 1, plan.days)
            if every and state.day // every > last[0] // every:
                with writing(path):
                    save_checkpoint(path, plan, state, elapsed)
                last[0] = state.day

        # A stop asked for after the last stopping point (in the last day or window, or while the files are
        # written) lets the run finish and write its files: the result is then complete, and says so.
        raw = run_cpu(plan, threads=threads, chunk=manifest.get("chunk") or default_chunk(backend, plan),
                      progress=progress, loop=loop, after_pass=None if windowed else after, engine=manifest["route"],
                      after_window=after if windowed else None, backend=backend)
        elapsed = before + time.perf_counter() - t0
        session["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat()
        result = make_result(plan, raw, manifest, elapsed)
        result.manifest = complete_run(path, result.metrics_table, result.stories_table, result.manifest)
    result.path = path
    result.stopped_late = stop.requested
    return result


def _complete(path: Path) -> bool:
    """Whether the run directory at ``path`` holds a complete run (its manifest says so)."""
    from .output.rundir import read_manifest

    try:
        return read_manifest(path)["status"] == "complete"
    except (OSError, ValueError, RunDirError):
        return False
