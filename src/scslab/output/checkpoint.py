"""Checkpoints: the day loop written atomically, so that a run killed at any moment resumes bit for bit.

A run that goes by windows (``engine/windowed``) is written between two windows instead (``WindowState``:
its columns, metrics and story logs so far; ``route`` "windowed" in the metadata).

``RUN_DIR/checkpoints/pass-000042.npz`` holds the loop before pass 42 (days 0-41 finished, day 42 not yet
begun): every agent column, the counts so far, the story rows so far and the pending redress records, plus a
fingerprint of the scenario, the population, the days, the seed and the engine sources.

A checkpoint is written to a temporary name, flushed to disk and renamed, so a kill (even ``kill -9``) leaves
either the previous checkpoint or the new one, never half of one. The two newest are kept; a checkpoint that
cannot be read (zip CRC) is skipped in favour of the one before it.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
import zipfile
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..compile import Plan
from ..engine.jitcache import engine_digest
from ..engine.state import Columns, Loop
from ..errors import RunDirError
from .rundir import CHECKPOINTS as DIRNAME
from .sanity import check_loop, check_window_state

__all__ = ["save_checkpoint", "load_latest", "list_checkpoints", "fingerprint", "checkpoint_bytes", "latest_pass",
           "DIRNAME"]

KEEP = 2
_COLUMNS = [f.name for f in fields(Columns)]


def fingerprint(plan: Plan, route: str = "days") -> str:
    """What a checkpoint must agree on to be resumed: scenario, size, days, seed, the engine's sources (the import
    closure of ``engine/cpu.py``) and the route."""
    from .. import __version__

    engine = engine_digest() + route
    text = json.dumps({"scenario": plan.scenario.model_dump(mode="json"), "size": plan.size, "days": plan.days,
                       "seed": plan.seed, "engine": engine, "version": __version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_bytes(plan: Plan) -> int:
    """Upper bound on the size of one checkpoint file."""
    from ..engine.budget import count_bytes
    from ..engine.state import bytes_per_agent

    return (plan.size * bytes_per_agent(plan) + count_bytes(plan) + (1 << 20)
            + sum(checkpoint_bytes(p) for p in plan.entities.values()))


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Finished checkpoint files, oldest first."""
    folder = Path(run_dir) / DIRNAME
    return sorted(p for p in folder.glob("pass-*.npz") if p.is_file()) if folder.is_dir() else []


def latest_pass(run_dir: str | Path) -> int:
    """The pass the newest checkpoint of ``run_dir`` resumes at (0 when there is none)."""
    done = list_checkpoints(run_dir)
    return int(done[-1].stem.split("-")[1]) if done else 0


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_checkpoint(run_dir: str | Path, plan: Plan, loop, extra: dict | None = None) -> Path:
    """Write ``loop`` (a day loop, or a windowed run's ``WindowState`` between two windows) atomically as
    ``checkpoints/pass-NNNNNN.npz`` and keep only the newest few."""
    from ..engine.windowed.driver import WindowState

    folder = Path(run_dir) / DIRNAME
    folder.mkdir(exist_ok=True)
    path = folder / f"pass-{loop.day:06d}.npz"
    tmp = folder / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    if isinstance(loop, WindowState):
        meta = {"fingerprint": fingerprint(plan, "windowed"), "day": loop.day, "engine": "lazy", "route": "windowed",
                **(extra or {})}
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8), **loop.arrays()}
    else:
        meta = {"fingerprint": fingerprint(plan), "day": loop.day,
                "engine": "dense" if loop.lazy is None else "lazy", **(extra or {})}
        arrays = {"meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
        for prefix, lp in [("", loop)] + [(f"{name}__", sub) for name, sub in loop.entities.items()]:
            arrays.update({prefix + k: v for k, v in _loop_arrays(lp).items()})
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(folder)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for old in list_checkpoints(run_dir)[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


def _on_host(column) -> np.ndarray:
    return column.copy_to_host() if hasattr(column, "copy_to_host") else column


def _loop_arrays(loop: Loop) -> dict[str, np.ndarray]:
    """One population's loop as named arrays (entity types' are stored under ``NAME__`` prefixes); columns on a
    GPU (``engine.gpu``: device arrays) are copied to the CPU's memory."""
    arrays = {f"col_{name}": _on_host(getattr(loop.cols, name)) for name in _COLUMNS}
    arrays.update(counts=loop.counts[: loop.day], level0=loop.level0, story_ids=loop.story_ids,
                  story_scores=loop.story_scores[: loop.day], coverage=loop.coverage[: loop.day],
                  score_hist=loop.score_hist, stories=loop.story_rows(), redress=loop.redress)
    if loop.lazy is not None:  # the lazy engine's wake ring and deferred recovery counts
        arrays.update(lazy_ring=loop.lazy.ring, lazy_rec_diff=loop.lazy.rec_diff)
    return arrays


def _loop(z, prefix: str, plan: Plan, day: int, engine: str, path: Path) -> Loop:
    # (a checkpoint written before ostracism or awareness has no ``ties`` or ``aware`` column: the placeholder
    # of a run without it)
    blank = {"ties": np.zeros(1, np.uint32), "aware": np.zeros(1, np.uint8)}
    cols = Columns(**{name: z[f"{prefix}col_{name}"] if f"{prefix}col_{name}" in z else blank[name]
                      for name in _COLUMNS})
    if cols.score.shape != (plan.size,):
        raise RunDirError(f"checkpoint {str(path)!r} holds {cols.score.shape[0]:,} agents, the run {plan.size:,}")
    counts = np.zeros((plan.days, len(plan.metric_names), plan.n_cells), np.int64)
    counts[:day] = z[prefix + "counts"]
    story_ids = z[prefix + "story_ids"]
    scores = np.zeros((plan.days, len(story_ids)), np.int16)
    scores[:day] = z[prefix + "story_scores"]
    coverage = np.zeros((plan.days, len(plan.channel_names)))
    coverage[:day] = z[prefix + "coverage"]
    lazy = None
    if engine == "lazy":
        from ..engine.lazy import LazyState

        lazy = LazyState(ring=z[prefix + "lazy_ring"], rec_diff=z[prefix + "lazy_rec_diff"])
    return Loop(day=day, cols=cols, counts=counts, level0=z[prefix + "level0"], story_ids=story_ids,
                story_scores=scores, coverage=coverage, score_hist=z[prefix + "score_hist"],
                stories=[z[prefix + "stories"]], redress=z[prefix + "redress"], lazy=lazy,
                entities={name: _loop(z, f"{name}__", sub, day, engine, path) for name, sub in plan.entities.items()}
                if not prefix else {})


def _read(path: Path, plan: Plan) -> tuple[Loop, dict]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        if (not isinstance(meta, dict) or not isinstance(meta.get("day"), int)
                or not isinstance(meta.get("elapsed_s", 0.0), (int, float))):
            raise ValueError("its metadata is not a scslab checkpoint's")
        route = meta.get("route", "days")
        if meta.get("fingerprint") != fingerprint(plan, route):
            raise RunDirError(f"checkpoint {str(path)!r} was written for another scenario or engine version "
                              "than this run's manifest; it cannot be resumed here")
        if route == "windowed":
            from ..engine.windowed.driver import WindowState

            state = WindowState.from_arrays(int(meta["day"]), z)
            check_window_state(plan, state)
            return state, meta
        loop = _loop(z, "", plan, int(meta["day"]), meta.get("engine", "dense"), path)
    check_loop(plan, loop)
    return loop, meta


def load_latest(run_dir: str | Path, plan: Plan) -> tuple[Loop | None, dict]:
    """The newest readable checkpoint of ``run_dir`` as a loop (None: start from day 0), with its metadata.

    Left-over temporary files from a write that was killed are removed; an unreadable checkpoint is reported
    as a warning and the one before it is used.
    """
    folder = Path(run_dir) / DIRNAME
    if folder.is_dir():
        for junk in folder.glob(".pass-*.tmp-*"):
            junk.unlink(missing_ok=True)
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return _read(path, plan)
        except RunDirError:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, RecursionError) as exc:
            warnings.warn(f"skipping unreadable checkpoint {str(path)!r}: {exc}", RuntimeWarning, stacklevel=2)
    return None, {}
