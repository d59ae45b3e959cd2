"""The GPU backend: the dense scheduler with the whole population's columns in a CUDA device's memory.

Every rule is the CPU's own, compiled as CUDA device functions (``engine/gpu_kernels.py``); this module holds
the columns on the device and runs the kernels for the day loop (``engine/loop.py``), through a
:class:`~scslab.engine.backend.Backend` per run. The dense scheduler suits the device: one thread per chunk of
agents, every chunk doing the same work every day, and its results do not depend on how the agents are split
(``docs/engine.md``). Between two passes the records (a few per agent at most) come to the CPU, which decides
what runs next; the steps that change the columns (ties' penalties, ostracism, awareness, redress) run on the
device.

Replicates (the same scenario under several seeds) share the device: their columns are one array each,
int[R, ...], and each pass runs for all of them in one launch (:class:`Replicates`); the steps between passes
run for each, on its own rows. A single run is one replicate.
"""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

from ..compile import EVENT, REC, P, Plan
from ..errors import CapacityError
from ..rng import day_keys
from .backend import Backend, mark_stories
from .dense import chunks
from .gpu_kernels import LANES, compiled, cuda_module, launch, summed, zeros
from .histogram import bin_of_score
from .kernels import EMIT_WIDTH, emit_margin
from .sparse import sparse_parts
from .state import Columns, EMIT_ROWS, bytes_per_agent, column_specs

__all__ = ["cuda_module", "backends", "Replicates", "device_name", "gpu_chunk", "device_bytes",
           "check_device_memory"]

MIN_CHUNK = 256  # agents per thread, at least
COUNTER_BYTES = 1 << 30  # the chunks' counters (two arrays of int64[metrics, cells] each), at most


def device_name() -> str:
    """The device a GPU run runs on, in words (the simulator says so)."""
    from numba import config

    if config.ENABLE_CUDASIM:
        return "numba's CUDA simulator"
    name = compiled().cuda.get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


def gpu_chunk(plan: Plan) -> int:
    """Agents per thread: ``MIN_CHUNK``, or more where the chunks' counters would pass ``COUNTER_BYTES``
    (press-2018 at 1.4 billion people: about 18,000 agents a thread, some 80,000 threads)."""
    per_chunk = 2 * len(plan.metric_names) * plan.n_cells * 8
    return max(MIN_CHUNK, math.ceil(plan.size * per_chunk / COUNTER_BYTES))


def emit_rows(plan: Plan, chunk: int, initial: int = EMIT_ROWS) -> int:
    """A chunk's append buffer at the start, in rows: room for one agent's most records and a sixteenth of a
    record per agent (more than most passes need; a buffer that fills grows, ``_days``), at most ``initial``."""
    margin = emit_margin(plan.epoch_at(0).prm)
    return max(margin + 1, min(initial, margin + 1 + chunk // 16))


def device_bytes(plan: Plan, chunk: int | None = None, replicates: int = 1) -> int:
    """What a run of ``plan`` (or ``replicates`` of it at once) holds in device memory: the columns, each
    chunk's counters (a pass's two days) and append buffer, the sparse pass's lanes and the day's tables; and
    its entity types' runs."""
    chunk = chunk or gpu_chunk(plan)
    n_chunks = len(chunks(plan, chunk)[0])
    NM, NC = len(plan.metric_names), plan.n_cells
    counters = 2 * n_chunks * NM * NC * 8
    emit = n_chunks * emit_rows(plan, chunk) * EMIT_WIDTH * 8
    lanes = LANES * NC * 8
    tables = sum(a.nbytes for a in plan.day_tables(0)[:3])
    others = sum(device_bytes(sub, replicates=replicates) for sub in plan.entities.values())  # in lockstep
    return replicates * (bytes_per_agent(plan) * plan.size + counters + emit) + lanes + tables + others


def check_device_memory(plan: Plan, chunk: int | None = None, free: int | None = None,
                        replicates: int = 1) -> None:
    """Refuse, before allocating anything, a run (or ``replicates`` runs at once) whose device memory
    (:func:`device_bytes`) exceeds the device's free memory (``free``: asked of the device when None)."""
    need = device_bytes(plan, chunk, replicates)
    if free is None:
        free = compiled().cuda.current_context().get_memory_info()[0]
    if need > free:
        runs = f"{replicates} runs" if replicates > 1 else "a run"
        raise CapacityError(f"{runs} of {plan.size:,} agents needs about {need / 2**30:.2f} GiB of GPU memory but "
                            f"the device has {free / 2**30:.2f} GiB free; use a smaller --population, or "
                            "--backend cpu", needed_bytes=need, available_bytes=int(free))


class Replicates:
    """R runs of one population on the device, ``plans`` differing only in their seed: the columns of all as
    one array each, int[R, ...] (``views[r]``: replicate r's rows), and each pass launched once for all."""

    def __init__(self, plans: list[Plan], chunk: int, initial_emit: int):
        G = compiled()
        cuda = G.cuda
        self.plans, self.chunk = plans, chunk
        R, plan = len(plans), plans[0]
        self.cols = Columns(**{name: cuda.device_array((R, *shape), dtype)
                               for name, (shape, dtype) in column_specs(plan).items()})
        self.views = [Columns(**{f.name: getattr(self.cols, f.name)[r] for f in fields(Columns)}) for r in range(R)]
        self.lo, self.hi, reg = chunks(plan, chunk)
        self.d_lo, self.d_hi, self.d_reg = cuda.to_device(self.lo), cuda.to_device(self.hi), cuda.to_device(reg)
        self.emit = cuda.device_array((R, len(self.lo), emit_rows(plan, chunk, initial_emit), EMIT_WIDTH), np.int64)
        shape = (R, len(self.lo), len(plan.metric_names), plan.n_cells)
        self.counters = (cuda.device_array(shape, np.int64), cuda.device_array(shape, np.int64),
                         cuda.device_array(shape[:2], np.int64))  # a pass's: finished day, acted day, records
        self.launched, self.results = None, {}

    def start(self, r: int):
        """Replicate r's initial state, on its rows: (columns, levels before day 0, story agents)."""
        G = compiled()
        cuda, plan, cols = G.cuda, self.plans[r], self.views[r]
        e0 = plan.epoch_at(0)
        prm = cuda.to_device(e0.prm)
        if e0.prm[P.HAS_SHUN]:
            launch(G.ties_kernel, plan.size, cols.ties, prm, cuda.to_device(plan.region_starts),
                   cuda.to_device(plan.friend_keys))
        level0 = zeros((len(self.lo), len(plan.metric_names), plan.n_cells))
        launch(G.init_kernel, len(self.lo), self.d_lo, self.d_hi, self.d_reg, cols.as_tuple(), prm,
               cuda.to_device(e0.tier_mins), cuda.to_device(e0.cons), cuda.to_device(plan.class_cum),
               cuda.to_device(plan.group_cum), cuda.to_device(plan.holder_t), cuda.to_device(plan.hh_adult),
               cuda.to_device(day_keys(plan.seed, 0)), level0)
        level0 = summed(level0)
        # the story agents and day-0 awareness are drawn on the CPU from three byte columns, once
        host = Columns(**{f.name: getattr(cols, f.name).copy_to_host() if f.name in ("traits", "flags", "state",
                                                                                   "aware") else None
                          for f in fields(Columns)})
        story_ids = mark_stories(plan, host, level0)
        for name in ("flags", "state", "aware"):
            getattr(cols, name).copy_to_device(getattr(host, name))
        return cols, level0, story_ids

    def moved(self, r: int, host: Columns) -> Columns:
        """Replicate r's rows set from columns in the CPU's memory (a checkpoint's)."""
        for f in fields(Columns):
            column = np.ascontiguousarray(getattr(host, f.name))
            if column.size:  # (an empty one, such as no list's entry days, has nothing to copy)
                getattr(self.views[r], f.name).copy_to_device(column)
        return self.views[r]

    def day(self, r: int):
        """Replicate r's day function for the day loop (``dense.dense_days``): the first replicate to ask for
        pass d launches it for all (the loop runs the replicates' passes in lockstep, ``loop.together``)."""
        def day(d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det, kf, ka, ks, *_):
            if self.launched != d:
                self._pass(d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det)
            return self.results.pop(r)

        return day

    def _pass(self, d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det) -> None:
        G = compiled()
        cuda, up = G.cuda, G.cuda.to_device
        R, n_chunks = len(self.plans), len(self.lo)
        cnt_f, cnt_a, n_emit = self.counters
        for a in self.counters:  # (allocated once: a pass's counters can take a gigabyte)
            a[:] = 0
        resume = up(np.tile(self.lo, (R, 1)))
        keys = [np.stack([day_keys(p.seed, day) for p in self.plans]) for day in (d - 1, d, 0)]  # kf, ka, ks
        tables = (up(ef.prm), up(ef.tier_mins), up(lists_f), up(ef.cons), up(ea.prm), up(ea.beh), up(ea.rep),
                  up(gate), up(cum), up(det), *(up(k) for k in keys))
        margin = emit_margin(ea.prm)
        while True:
            launch(G.pass_kernel, R * n_chunks, self.d_lo, self.d_hi, self.d_reg, resume, d, do_fin, do_act, full,
                   self.cols.as_tuple(), *tables, cnt_f, cnt_a, self.emit, n_emit, margin)
            if np.all(resume.copy_to_host() >= self.hi):
                break
            old = self.emit  # a chunk stopped before an agent that might not fit: grow every buffer, resume
            self.emit = cuda.device_array((*old.shape[:2], old.shape[2] * 2, EMIT_WIDTH), np.int64)
            launch(G.grow_kernel, R * n_chunks, old, self.emit)
        counts = n_emit.copy_to_host()
        total = int(counts.sum())
        out = cuda.device_array((max(total, 1), EMIT_WIDTH), np.int64)
        ends = np.cumsum(counts.ravel()).reshape(counts.shape)
        launch(G.gather_kernel, R * n_chunks, self.emit, n_emit, up(ends - counts), out)
        rec = out.copy_to_host()[:total]
        firsts = np.r_[0, ends[:, -1]]
        self.results = {r: (rec[firsts[r]:firsts[r + 1]], summed(cnt_f[r])[None], summed(cnt_a[r])[None])
                        for r in range(R)}
        self.launched = d


def backends(plans: list[Plan], chunk: int, initial_emit: int = EMIT_ROWS) -> list[Backend]:
    """One backend per run of ``plans`` (replicates of one scenario: the same but for the seed), sharing the
    device: their persons, and each entity type, as one :class:`Replicates` each."""
    where = {}  # id(plan) -> (population, replicate)
    for r, p in enumerate(plans):
        where[id(p)] = ("", r)
        where.update({id(sub): (name, r) for name, sub in p.entities.items()})
    groups: dict[str, Replicates] = {}

    def group(plan: Plan) -> tuple[Replicates, int]:
        name, r = where[id(plan)]
        if name not in groups:
            members = [p if not name else p.entities[name] for p in plans]
            groups[name] = Replicates(members, chunk if not name else gpu_chunk(members[0]), initial_emit)
        return groups[name], r

    def one(r: int) -> Backend:
        def start(plan, _chunk):
            g, r = group(plan)
            return g.start(r)

        def days(plan, loop, _chunk, _initial):
            g, r = group(plan)
            return g.day(r)

        def from_host(plan, cols):
            g, r = group(plan)
            return g.moved(r, cols)

        return Backend(name="gpu", start=start, days=days, breaks=_breaks, spread=_spread, sparse=_sparse,
                       redress=_redress, scores=_scores, histogram=_histogram, to_host=_to_host,
                       from_host=from_host)

    return [one(r) for r in range(len(plans))]


def _counted(cnt: np.ndarray, d_cnt) -> None:
    cnt += d_cnt.copy_to_host()


def _breaks(plan: Plan, ep, rec, cols, cnt):
    G = compiled()
    up = G.cuda.to_device
    shun = np.ascontiguousarray(rec[rec[:, REC.KIND] == EVENT.SHUN])
    out = G.cuda.device_array((2 * int(ep.prm[P.K]) * len(shun), EMIT_WIDTH), np.int64)
    d_cnt, n_out = up(np.zeros_like(cnt)), zeros((1,))
    launch(G.breaks_kernel, 1, up(shun), cols.ties, cols.on_lists, cols.state, cols.traits, cols.flags, cols.last_off,
            cols.inbox, up(ep.prm), up(ep.cons), up(plan.region_starts), up(plan.friend_keys), d_cnt, out, n_out)
    _counted(cnt, d_cnt)
    return out.copy_to_host()[: int(n_out.copy_to_host()[0])]


def _spread(plan: Plan, ep, rec, keys, cols, cnt):
    G = compiled()
    up = G.cuda.to_device
    told = np.ascontiguousarray(rec[rec[:, REC.KIND] == EVENT.AWARE])
    d_cnt = up(np.zeros_like(cnt))
    launch(G.spread_kernel, 1, up(told), up(keys), cols.aware, cols.flags, cols.state, cols.traits, cols.ties,
            up(ep.prm), up(plan.region_starts), up(plan.hh_head), up(plan.hh_size), up(plan.friend_keys), d_cnt)
    _counted(cnt, d_cnt)


def _sparse(plan: Plan, ep, rec, cols, wake):
    """Ties' penalties (``engine.sparse``): a thread per record finds its matched ties, then a thread per lane
    (a range of targets, a multiple of 64 agents) applies them in record order."""
    G = compiled()
    cuda, up = G.cuda, G.cuda.to_device
    rec = np.ascontiguousarray(rec)
    d_rec = up(rec)
    K = int(ep.prm[P.K])
    d_prm, d_starts = up(ep.prm), up(plan.region_starts)
    targets = cuda.device_array((len(rec), K), np.int64)
    launch(G.targets_kernel, len(rec), d_rec, d_prm, d_starts, up(plan.friend_keys), cols.ties, targets)
    parts = sparse_parts(plan.size, min(LANES, plan.size // 64))
    L = len(parts) - 1
    # story rows: a story agent is reached at most once per record by each of its household members and
    # matched ties (16 + K), and each of them appends at most emit_margin records in a pass
    rows = plan.scenario.run.story_agents * (16 + K) * emit_margin(ep.prm) + 1
    out, seq = cuda.device_array((rows, EMIT_WIDTH), np.int64), cuda.device_array(rows, np.int64)
    net_cnt, n_out = zeros((L, plan.n_cells)), zeros((1,))
    launch(G.lane_kernel, L, d_rec, targets, cols.as_tuple(), d_prm, up(ep.beh), d_starts, up(plan.hh_head),
            up(plan.hh_size), up(plan.hh_adult), up(parts), net_cnt, out, seq, n_out, up(wake))
    n = int(n_out.copy_to_host()[0])
    if n > rows:  # pragma: no cover - the bound above holds
        raise RuntimeError(f"the sparse pass wrote {n} story rows into {rows}")
    order = np.argsort(seq.copy_to_host()[:n], kind="stable")
    net = net_cnt.copy_to_host().sum(axis=0)
    return out.copy_to_host()[:n][order], net


def _redress(plan: Plan, ep, cols, r, on_score, d, cnt, wake):
    """The due records ``r`` removed on the device (``sparse.remove_due``'s work); returns their story rows."""
    G = compiled()
    up = G.cuda.to_device
    out = G.cuda.device_array((len(r), EMIT_WIDTH), np.int64)
    d_cnt, n_out = up(np.zeros_like(cnt)), zeros((1,))
    launch(G.redress_kernel, 1, up(r), d, up(on_score), ep.prm[P.ACCT_PTS], cols.pending, cols.acct, cols.inbox,
           cols.traits, cols.flags, up(plan.region_starts), ep.prm[P.T], ep.prm[P.M_REDRESSED], d_cnt, up(wake), out,
           n_out)
    _counted(cnt, d_cnt)
    return out.copy_to_host()[: int(n_out.copy_to_host()[0])]


def _scores(cols, ids):
    G = compiled()
    out = G.cuda.device_array(len(ids), np.int16)
    launch(G.scores_kernel, len(ids), cols.score, G.cuda.to_device(ids), out)
    return out.copy_to_host()


def _histogram(plan: Plan, cols, day: int, lazy: bool):
    G = compiled()
    lo, bin_of, n = bin_of_score(plan)
    out = zeros((n,))
    launch(G.histogram_kernel, plan.size, cols.score, lo, G.cuda.to_device(bin_of), out)
    return out.copy_to_host()


def _to_host(cols) -> Columns:
    return Columns(**{f.name: getattr(cols, f.name).copy_to_host() for f in fields(Columns)})
