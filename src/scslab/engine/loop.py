"""The day loop shared by the day schedulers (dense and lazy): a run's state between passes as plain data
(``Loop``), its start, its passes and its result.

A day is: its tables (``plan.day_tables``; with lists that deter others when published, made from the lists at
the end of day d-2, ``engine/published.py``) -> pass d (finish day d-1, act on day d) -> the ties broken at the
end of day d-1 (ostracism, ``engine/ostracism.py``) -> the ties who learn of the scheme from one who did at the
end of day d-1 (awareness, ``engine/awareness.py``) -> the sparse pass (network penalties, children's inherited
sanctions, redress; ``engine/sparse.py``) -> metrics. The dense scheduler visits every agent in a pass
(``engine/dense.py``), the lazy one only the agents something happens to (``engine/lazy.py``). Where the columns
live and the work runs is the backend's (``engine/backend.py``: the CPU's memory, or a GPU's, ``engine/gpu.py``).
"""

from __future__ import annotations

import numpy as np

from ..compile import EVENT, LIST, REC, P, Plan
from ..rng import day_keys
from .backend import HOST, Backend
from .budget import check_capacity
from .dense import DEFAULT_CHUNK
from . import published
from .histogram import run_snapshot_days, score_bins
from .kernels import EMIT_WIDTH
from .lazy import RING, lazy_days, lazy_start
from .sparse import apply_redress
from .state import EMIT_ROWS, Loop, RawRun

__all__ = ["Loop", "start", "advance", "together", "passes", "finish_run", "with_levels"]


def start(plan: Plan, *, chunk: int = DEFAULT_CHUNK, engine: str = "dense", backend: Backend = HOST) -> Loop:
    """Allocate the columns (on ``backend``) and set every agent's initial state: the loop before pass 0."""
    check_capacity(plan, engine=engine)
    cols, level0, story_ids = backend.start(plan, max(1, int(chunk)))
    NM, NC = len(plan.metric_names), plan.n_cells
    lazy = None
    if engine == "lazy":
        lazy = lazy_start(plan)
    return Loop(day=0, cols=cols, counts=np.zeros((plan.days, NM, NC), np.int64), level0=level0,
                story_ids=story_ids, story_scores=np.zeros((plan.days, len(story_ids)), np.int16),
                coverage=np.zeros((plan.days, len(plan.channel_names))),
                score_hist=np.zeros((len(run_snapshot_days(plan)), score_bins(plan)[2]), np.int64), stories=[],
                redress=np.zeros((0, EMIT_WIDTH), np.int64), lazy=lazy,
                entities={name: start(p, chunk=chunk, engine=engine, backend=backend)
                          for name, p in plan.entities.items()})


def finish_run(plan: Plan, loop: Loop, backend: Backend = HOST) -> RawRun:
    """The raw result of a finished loop: level metrics added up from their daily changes (the columns
    brought to the CPU's memory from ``backend``)."""
    if loop.day != plan.days + 1:
        raise ValueError(f"the loop is at pass {loop.day}, not finished ({plan.days + 1} passes)")
    counts = with_levels(plan, loop.counts, loop.level0)
    if loop.lazy is not None:  # deferred recovery steps, kept as daily changes
        counts[:, plan.epochs[0].prm[P.M_RECOVERED]] += np.cumsum(loop.lazy.rec_diff.sum(axis=0), axis=0)[:-1]
    return RawRun(counts, loop.story_rows(), loop.story_ids, loop.story_scores, backend.to_host(loop.cols),
                  loop.coverage, loop.score_hist,
                  {name: finish_run(p, loop.entities[name], backend) for name, p in plan.entities.items()})


def with_levels(plan: Plan, changes: np.ndarray, level0: np.ndarray) -> np.ndarray:
    """A copy of ``changes`` [days, metrics, ...] with the level metrics summed up from their daily changes,
    starting from ``level0`` [metrics, ...] (the levels before day 0)."""
    counts = changes.copy()
    lv = plan.is_level
    counts[:, lv] = np.cumsum(changes[:, lv], axis=0) + level0[lv]
    return counts


def advance(plan: Plan, loop: Loop, *, chunk: int = DEFAULT_CHUNK, progress=None, initial_emit: int = EMIT_ROWS,
            after_pass=None, backend: Backend = HOST) -> None:
    """Run passes ``loop.day .. days`` in place (pass d finishes day d-1 and acts on day d).

    Entity types (``plan.entities``) run in lockstep: after the persons' pass d, each entity type's pass d,
    then ``after_pass``, so a checkpoint always finds every population at the same pass."""
    together([(plan, loop, backend)], chunk=chunk, progress=progress, initial_emit=initial_emit,
             after_pass=after_pass)


def together(runs, *, chunk: int = DEFAULT_CHUNK, progress=None, initial_emit: int = EMIT_ROWS,
             after_pass=None) -> None:
    """:func:`advance` for several runs, ``[(plan, loop, backend)]``, in lockstep: pass d of each run's
    persons and then of its entity types, run after run, before any pass d+1 (replicates on one GPU share each
    pass's launch, ``engine.gpu.Replicates``). ``progress`` follows the first run, ``after_pass`` is called with
    its loop."""
    gens = []
    for plan, loop, hw in runs:
        gens.append(passes(plan, loop, chunk=chunk, progress=None if gens else progress, initial_emit=initial_emit,
                           backend=hw))
        gens += [passes(plan.entities[name], sub, chunk=chunk, initial_emit=initial_emit, backend=hw)
                 for name, sub in loop.entities.items()]
    for _ in gens[0]:
        for other in gens[1:]:
            next(other)
        if after_pass is not None:
            after_pass(runs[0][1])


def passes(plan: Plan, loop: Loop, *, chunk: int = DEFAULT_CHUNK, progress=None, initial_emit: int = EMIT_ROWS,
           backend: Backend = HOST):
    """The passes of one population from ``loop.day`` on, as a generator that yields after each pass (the
    work run by ``backend``, ``engine.backend``)."""
    ks = day_keys(plan.seed, 0)
    D, NM, NC = plan.days, len(plan.metric_names), plan.n_cells
    counts, cols = loop.counts, loop.cols
    no_wake = np.zeros(0, np.uint64)  # the dense engine marks nobody for the next pass
    snap = {int(day): k for k, day in enumerate(run_snapshot_days(plan))}
    if loop.lazy is None:  # (with lists that deter others when published, tables from the run's lists)
        day_pass, H, day_tables = backend.days(plan, loop, chunk, initial_emit), 1, published.day_tables(plan, loop)
    else:  # the lazy scheduler makes its own gate and event tables (of detected events only)
        if published.uses_deterrence(plan):
            raise ValueError("the lazy scheduler makes its tables from the scenario alone: it cannot run lists "
                             "that deter others when published (feature published-deterrence)")
        day_pass, H, day_tables = lazy_days(plan, loop, initial_emit), RING, plan.day_detection
    ka = day_keys(plan.seed, loop.day - 1)
    for d in range(loop.day, D + 1):
        do_fin, do_act = d > 0, d < D
        ef, ea = plan.epoch_at(max(d - 1, 0)), plan.epoch_at(min(d, D - 1))
        if do_act:
            gate, cum, det, cov = day_tables(d)
            loop.coverage[d] = cov
        else:  # the last pass only finishes day D-1; the act tables are passed but not read
            gate, cum, det, _ = day_tables(D - 1)
        kf, ka = ka, day_keys(plan.seed, d)  # day d-1's keys were day d-1's act keys
        full = d >= 2 and plan.epoch_at(d - 2) is not ef  # rules changed: cached state bytes may be stale
        lists_f = ef.lists
        if do_fin and len(lists_f):  # the phase: 0 on a publication day (kernels avoid a division per agent)
            lists_f = lists_f.copy()
            lists_f[:, LIST.PHASE] = (d - 1) % np.maximum(ef.lists[:, LIST.PUBLISH], 1)
        rec, cnt_f, cnt_a = day_pass(d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det, kf, ka, ks, NM, NC)
        wake = no_wake if loop.lazy is None else loop.lazy.ring[(d + 1) % H]
        if len(rec):
            n_kind = np.bincount(rec[:, REC.KIND], minlength=len(EVENT))
            if n_kind[EVENT.STORY] or n_kind[EVENT.LINK]:  # (an entity's LINK records: populations.linked_stories)
                loop.stories.append(rec[(rec[:, REC.KIND] == EVENT.STORY) | (rec[:, REC.KIND] == EVENT.LINK)])
            if n_kind[EVENT.SHUN]:  # ties broken at the end of day d-1, before day d's penalties
                loop.stories.append(backend.breaks(plan, ef, rec, cols, cnt_f[0]))
            if n_kind[EVENT.AWARE] and do_act:  # told at the end of day d-1, or seeing a tie sanctioned
                backend.spread(plan, ea, rec, kf, cols, cnt_a[0])
            if n_kind[EVENT.NETWORK] or n_kind[EVENT.LIST_CHANGE]:  # ties' penalties, children's sanctions
                tie_stories, net_cnt = backend.sparse(plan, ea, rec, cols, wake)
                loop.stories.append(tie_stories)
                if do_act:
                    counts[d, ea.prm[P.M_NET]] += net_cnt
            if n_kind[EVENT.REDRESS]:
                loop.redress = np.concatenate([loop.redress, rec[rec[:, REC.KIND] == EVENT.REDRESS]])
        if do_act and len(loop.redress):
            loop.redress = apply_redress(plan, ea, cols, loop.redress, d, cnt_a, loop.stories, wake, backend.redress)
        if do_fin:
            counts[d - 1] += cnt_f.sum(axis=0)
            loop.story_scores[d - 1] = backend.scores(cols, loop.story_ids)
            if d - 1 in snap:
                loop.score_hist[snap[d - 1]] = backend.histogram(plan, cols, d - 1, loop.lazy is not None)
        if do_act:
            counts[d] += cnt_a.sum(axis=0)
        loop.day = d + 1
        if progress is not None and do_act:
            progress(d)
        yield d
