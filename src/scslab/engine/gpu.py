"""The GPU backend: the dense scheduler with the whole population's columns in a CUDA device's memory.

Every rule comes from the factories the CPU compiles (``kernels.build``, ``dense.make_init``,
``dense.make_chunk``, ``sparse.make``, ``ostracism.make``, ``awareness.make``), here compiled with
``cuda.jit(device=True)`` and run by the kernels below: no rule has a second copy. The dense scheduler suits the
device: one thread per chunk of agents, every chunk doing the same work every day, and its passes already
give results that do not depend on how the agents are split (``engine/dense.py``). Between two passes the
records (a few per agent at most) come to the CPU, which decides what runs next; the steps that change the
columns (ties' penalties, ostracism, awareness, redress) run on the device.

Nothing here is imported with ``scslab``: :func:`cuda_module` imports numba's CUDA target when a run asks for
``backend="gpu"`` and says plainly what is missing. With ``NUMBA_ENABLE_CUDASIM=1`` numba runs these kernels
on the CPU as Python (its simulator), which is how the test suite checks them without a GPU.
"""

from __future__ import annotations

import functools
import math
from dataclasses import fields
from types import SimpleNamespace

import numpy as np

from ..compile import BEH, EVENT, REC, P, Plan
from ..errors import BackendError, CapacityError
from ..rng import day_keys
from . import awareness, dense, kernels, ostracism, sparse
from .backend import Backend, mark_stories
from .dense import chunks
from .histogram import score_bins
from .kernels import EMIT_WIDTH, emit_margin
from .state import Columns, EMIT_ROWS, bytes_per_agent, column_specs

__all__ = ["cuda_module", "GPU", "device_name", "device_bytes", "check_device_memory"]

BLOCK = 64  # threads per block
MIN_CHUNK = 256  # agents per thread, at least
COUNTER_BYTES = 1 << 30  # the chunks' counters (two arrays of int64[metrics, cells] each), at most
LANES = 4096  # the sparse pass's lanes (target ranges) on the device, at most
STRIDED = 1 << 14  # threads of a grid-stride kernel, at most (one, on the simulator: each thread costs it dear)
cuda = None  # numba's CUDA target once a run asks for it (a module global: the simulator swaps it in kernels)


def cuda_module():
    """numba's CUDA target, ready to run (a device, or the simulator under ``NUMBA_ENABLE_CUDASIM=1``);
    raises :class:`~scslab.errors.BackendError` saying what is missing."""
    if not hasattr(np, "row_stack"):  # numba-cuda releases that still register np.row_stack (NumPy 2.5 removed it)
        np.row_stack = np.vstack
    try:
        from numba import cuda
    except ImportError as e:  # pragma: no cover - numba without its CUDA target
        raise BackendError("backend 'gpu' needs numba's CUDA target: pip install 'scslab[gpu]' "
                           f"(it installs numba-cuda); the import failed: {e}") from None
    if not cuda.is_available():
        raise BackendError("backend 'gpu' found no usable CUDA GPU (no device, or no driver); use --backend cpu, or "
                           "set NUMBA_ENABLE_CUDASIM=1 to run the GPU code on numba's CUDA simulator (slow; for checks)")
    return cuda


@functools.cache
def _compiled():
    """The rules as device functions and the kernels that run them (built once, on first use)."""
    global cuda, STRIDED, BLOCK
    cuda = cuda_module()
    from numba import config

    if config.ENABLE_CUDASIM:  # the simulator runs a block's threads as Python threads, which contend: one each
        STRIDED, BLOCK = 1, 1
    dev = cuda.jit(device=True)
    K = kernels.build(dev)
    init_chunk, chunk = dense.make_init(K, dev), dense.make_chunk(K, dev)

    @dev
    def no_prefetch(a, i):
        pass

    @dev
    def shared_row(n_out, ln):
        return cuda.atomic.add(n_out, 0, 1)

    S = sparse.make(K, dev, no_prefetch, shared_row)
    Ob, A = ostracism.make(K, dev), awareness.make(K, dev)

    @cuda.jit
    def init_kernel(lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt):
        ch = cuda.grid(1)
        if ch < lo.shape[0]:
            init_chunk(ch, lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt)

    @cuda.jit
    def pass_kernel(lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a,
                    beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin):
        ch = cuda.grid(1)
        if ch < lo.shape[0]:
            chunk(ch, lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a,
                  beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin)

    @cuda.jit
    def ties_kernel(ties, prm, starts, keys):
        i = cuda.grid(1)
        if i < prm[P.N]:
            Ob.had_ties(i, ties, prm, starts, keys)

    @cuda.jit
    def targets_kernel(rec, prm, starts, keys, ties, targets):
        j = cuda.grid(1)
        if j < rec.shape[0]:
            S.targets_of(j, rec, prm, starts, keys, ties, targets)

    @cuda.jit
    def lane_kernel(rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, net_cnt, out, seq, n_out,
                    wake):
        ln = cuda.grid(1)
        if ln < parts.shape[0] - 1:
            S.lane(ln, rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, net_cnt[ln], out, seq,
                   n_out, wake)

    @cuda.jit
    def breaks_kernel(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys, cnt, out,
                      n_out):
        if cuda.grid(1) == 0:  # in record order: one thread
            n_out[0] = Ob.breaks(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys,
                                cnt, out)

    @cuda.jit
    def spread_kernel(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt):
        if cuda.grid(1) == 0:  # in record order: one thread
            A.spread(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt)

    @cuda.jit
    def redress_kernel(r, d, on_score, acct_pts, pending, acct, inbox, traits, flags, starts, T, m_redressed, cnt,
                       wake, out, n_out):
        if cuda.grid(1) == 0:  # in record order: one thread
            nout = 0
            for j in range(r.shape[0]):
                nout = S.redress_one(j, r, d, on_score[j], acct_pts, pending, acct, inbox, traits, flags, starts, T,
                                     m_redressed, cnt, wake, out, nout)
            n_out[0] = nout

    @cuda.jit
    def sum_kernel(parts, total):
        """total[m, c] = the sum of parts[:, m, c] (integer sums: the order does not matter), grid-stride."""
        NM, NC = total.shape
        for x in range(cuda.grid(1), NM * NC, cuda.gridsize(1)):
            m, c = x // NC, x % NC
            s = 0
            for p in range(parts.shape[0]):
                s += parts[p, m, c]
            total[m, c] = s

    @cuda.jit
    def gather_kernel(emit, n_emit, offsets, out):
        """Chunk ch's records to ``out[offsets[ch]:]``: the chunks' records in chunk order (``state.records``)."""
        ch = cuda.grid(1)
        if ch < n_emit.shape[0]:
            for r in range(n_emit[ch]):
                for w in range(emit.shape[2]):
                    out[offsets[ch] + r, w] = emit[ch, r, w]

    @cuda.jit
    def grow_kernel(old, new):
        ch = cuda.grid(1)
        if ch < old.shape[0]:
            for r in range(old.shape[1]):
                for w in range(old.shape[2]):
                    new[ch, r, w] = old[ch, r, w]

    @cuda.jit
    def scores_kernel(score, ids, out):
        x = cuda.grid(1)
        if x < ids.shape[0]:
            out[x] = score[ids[x]]

    @cuda.jit
    def histogram_kernel(score, lo, bin_of, out):
        i = cuda.grid(1)
        if i < score.shape[0]:
            cuda.atomic.add(out, bin_of[np.int64(score[i]) - lo], 1)

    return SimpleNamespace(cuda=cuda, **{k: v for k, v in locals().items() if k.endswith("_kernel")})


def _launch(kernel, n: int, *args) -> None:
    """``kernel`` with at least ``n`` threads (those past ``n`` return at once)."""
    if n > 0:
        kernel[math.ceil(n / BLOCK), min(BLOCK, n)](*args)


def _zeros(shape, dtype=np.int64):
    """A device array of zeros, set on the device."""
    a = _compiled().cuda.device_array(shape, dtype)
    a[:] = 0
    return a


def _summed(parts) -> np.ndarray:
    """int64[metrics, cells] on the host: ``parts[k, metric, cell]`` summed over k on the device."""
    G = _compiled()
    total = G.cuda.device_array(parts.shape[1:], np.int64)
    _launch(G.sum_kernel, min(total.shape[0] * total.shape[1], STRIDED), parts, total)
    return total.copy_to_host()


def device_name() -> str:
    """The device a GPU run runs on, in words (the simulator says so)."""
    from numba import config

    if config.ENABLE_CUDASIM:
        return "numba's CUDA simulator"
    name = _compiled().cuda.get_current_device().name
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


def device_bytes(plan: Plan, chunk: int | None = None) -> int:
    """What a run of ``plan`` holds in device memory: the columns, each chunk's counters (a pass's two days)
    and append buffer, the sparse pass's lanes and the day's tables; and its entity types' runs."""
    chunk = chunk or gpu_chunk(plan)
    n_chunks = len(chunks(plan, chunk)[0])
    NM, NC = len(plan.metric_names), plan.n_cells
    counters = 2 * n_chunks * NM * NC * 8
    emit = n_chunks * emit_rows(plan, chunk) * EMIT_WIDTH * 8
    lanes = LANES * NC * 8
    tables = sum(a.nbytes for a in plan.day_tables(0)[:3])
    others = sum(device_bytes(sub) for sub in plan.entities.values())  # entity types, in lockstep
    return bytes_per_agent(plan) * plan.size + counters + emit + lanes + tables + others


def check_device_memory(plan: Plan, chunk: int | None = None, free: int | None = None) -> None:
    """Refuse, before allocating anything, a run whose device memory (:func:`device_bytes`) exceeds the
    device's free memory (``free``: asked of the device when None)."""
    need = device_bytes(plan, chunk)
    if free is None:
        free = _compiled().cuda.current_context().get_memory_info()[0]
    if need > free:
        raise CapacityError(f"a run of {plan.size:,} agents needs about {need / 2**30:.2f} GiB of GPU memory but "
                            f"the device has {free / 2**30:.2f} GiB free; use a smaller --population, or "
                            "--backend cpu", needed_bytes=need, available_bytes=int(free))


def _start(plan: Plan, chunk: int):
    G = _compiled()
    cuda = G.cuda
    check_device_memory(plan, chunk)
    cols = Columns(**{name: cuda.device_array(shape, dtype) for name, (shape, dtype) in column_specs(plan).items()})
    lo, hi, reg = chunks(plan, chunk)
    e0 = plan.epoch_at(0)
    prm = cuda.to_device(e0.prm)
    if e0.prm[P.HAS_SHUN]:
        _launch(G.ties_kernel, plan.size, cols.ties, prm, cuda.to_device(plan.region_starts),
                cuda.to_device(plan.friend_keys))
    level0 = _zeros((len(lo), len(plan.metric_names), plan.n_cells))
    _launch(G.init_kernel, len(lo), cuda.to_device(lo), cuda.to_device(hi), cuda.to_device(reg), cols.as_tuple(), prm,
            cuda.to_device(e0.tier_mins), cuda.to_device(e0.cons), cuda.to_device(plan.class_cum),
            cuda.to_device(plan.group_cum), cuda.to_device(plan.holder_t), cuda.to_device(plan.hh_adult),
            cuda.to_device(day_keys(plan.seed, 0)), level0)
    level0 = _summed(level0)
    # the story agents and day-0 awareness are drawn on the CPU from three byte columns, once
    host = Columns(**{name: getattr(cols, name).copy_to_host() if name in ("traits", "flags", "state", "aware")
                      else None for name in column_specs(plan)})
    story_ids = mark_stories(plan, host, level0)
    for name in ("flags", "state", "aware"):
        getattr(cols, name).copy_to_device(getattr(host, name))
    return cols, level0, story_ids


def _days(plan: Plan, loop, chunk: int, initial_emit: int):
    """The dense scheduler's day function (``dense.dense_days``) on the device."""
    G = _compiled()
    cuda = G.cuda
    ct = loop.cols.as_tuple()
    lo, hi, reg = chunks(plan, chunk)
    d_lo, d_hi, d_reg = cuda.to_device(lo), cuda.to_device(hi), cuda.to_device(reg)
    n_chunks, NM, NC = len(lo), len(plan.metric_names), plan.n_cells
    buf = {"emit": cuda.device_array((n_chunks, emit_rows(plan, chunk, initial_emit), EMIT_WIDTH), np.int64)}

    def day(d, do_fin, do_act, full, ef, ea, lists_f, gate, cum, det, kf, ka, ks, *_):
        up = cuda.to_device
        cnt_f, cnt_a = _zeros((n_chunks, NM, NC)), _zeros((n_chunks, NM, NC))
        n_emit = _zeros((n_chunks,))
        resume = up(lo)
        tables = (up(ef.prm), up(ef.tier_mins), up(lists_f), up(ef.cons), up(ea.prm), up(ea.beh), up(ea.rep),
                  up(gate), up(cum), up(det), up(kf), up(ka), up(ks))
        margin = emit_margin(ea.prm)
        while True:
            _launch(G.pass_kernel, n_chunks, d_lo, d_hi, d_reg, resume, d, do_fin, do_act, full, ct, *tables, cnt_f,
                    cnt_a, buf["emit"], n_emit, margin)
            if np.all(resume.copy_to_host() >= hi):
                break
            old = buf["emit"]
            buf["emit"] = cuda.device_array((n_chunks, old.shape[1] * 2, EMIT_WIDTH), np.int64)
            _launch(G.grow_kernel, n_chunks, old, buf["emit"])
        counts = n_emit.copy_to_host()
        total = int(counts.sum())
        rec = np.zeros((0, EMIT_WIDTH), np.int64)
        if total:
            out = cuda.device_array((total, EMIT_WIDTH), np.int64)
            offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            _launch(G.gather_kernel, n_chunks, buf["emit"], n_emit, up(offsets), out)
            rec = out.copy_to_host()
        return rec, _summed(cnt_f)[None], _summed(cnt_a)[None]

    return day


def _counted(cnt: np.ndarray, d_cnt) -> None:
    cnt += d_cnt.copy_to_host()


def _breaks(plan: Plan, ep, rec, cols, cnt):
    G = _compiled()
    up = G.cuda.to_device
    shun = np.ascontiguousarray(rec[rec[:, REC.KIND] == EVENT.SHUN])
    out = G.cuda.device_array((2 * int(ep.prm[P.K]) * len(shun), EMIT_WIDTH), np.int64)
    d_cnt, n_out = up(np.zeros_like(cnt)), _zeros((1,))
    _launch(G.breaks_kernel, 1, up(shun), cols.ties, cols.on_lists, cols.state, cols.traits, cols.flags, cols.last_off,
            cols.inbox, up(ep.prm), up(ep.cons), up(plan.region_starts), up(plan.friend_keys), d_cnt, out, n_out)
    _counted(cnt, d_cnt)
    return out.copy_to_host()[: int(n_out.copy_to_host()[0])]


def _spread(plan: Plan, ep, rec, keys, cols, cnt):
    G = _compiled()
    up = G.cuda.to_device
    told = np.ascontiguousarray(rec[rec[:, REC.KIND] == EVENT.AWARE])
    d_cnt = up(np.zeros_like(cnt))
    _launch(G.spread_kernel, 1, up(told), up(keys), cols.aware, cols.flags, cols.state, cols.traits, cols.ties,
            up(ep.prm), up(plan.region_starts), up(plan.hh_head), up(plan.hh_size), up(plan.friend_keys), d_cnt)
    _counted(cnt, d_cnt)


def _sparse(plan: Plan, ep, rec, cols, wake):
    """Ties' penalties (``engine.sparse``): a thread per record finds its matched ties, then a thread per lane
    (a range of targets, a multiple of 64 agents) applies them in record order."""
    G = _compiled()
    cuda, up = G.cuda, G.cuda.to_device
    rec = np.ascontiguousarray(rec)
    d_rec = up(rec)
    K = int(ep.prm[P.K])
    d_prm, d_starts = up(ep.prm), up(plan.region_starts)
    targets = cuda.device_array((len(rec), K), np.int64)
    _launch(G.targets_kernel, len(rec), d_rec, d_prm, d_starts, up(plan.friend_keys), cols.ties, targets)
    L = max(1, min(LANES, plan.size // 64))
    parts = np.linspace(0, plan.size, L + 1).astype(np.int64) // 64 * 64
    parts[-1] = plan.size
    # story rows: a story agent is reached at most once per record by each of its household members and
    # matched ties (16 + K), and each of them appends at most emit_margin records in a pass
    rows = plan.scenario.run.story_agents * (16 + K) * emit_margin(ep.prm) + 1
    out, seq = cuda.device_array((rows, EMIT_WIDTH), np.int64), cuda.device_array(rows, np.int64)
    net_cnt, n_out = _zeros((L, plan.n_cells)), _zeros((1,))
    _launch(G.lane_kernel, L, d_rec, targets, cols.as_tuple(), d_prm, up(ep.beh), d_starts, up(plan.hh_head),
            up(plan.hh_size), up(plan.hh_adult), up(parts), net_cnt, out, seq, n_out, up(wake))
    n = int(n_out.copy_to_host()[0])
    if n > rows:  # pragma: no cover - the bound above holds
        raise RuntimeError(f"the sparse pass wrote {n} story rows into {rows}")
    order = np.argsort(seq.copy_to_host()[:n], kind="stable")
    net = net_cnt.copy_to_host().sum(axis=0)
    return out.copy_to_host()[:n][order], net


def _redress(plan: Plan, ep, cols, redress, d, cnt_a, stories, wake):
    due = redress[:, REC.DAY] == d
    if not due.any():
        return redress[redress[:, REC.DAY] > d]
    G = _compiled()
    up = G.cuda.to_device
    r = np.ascontiguousarray(redress[due])
    on_score = ep.beh[r[:, REC.A], BEH.ACCOUNT] < 0
    out = G.cuda.device_array((len(r), EMIT_WIDTH), np.int64)
    d_cnt, n_out = up(np.zeros_like(cnt_a[0])), _zeros((1,))
    _launch(G.redress_kernel, 1, up(r), d, up(on_score), ep.prm[P.ACCT_PTS], cols.pending, cols.acct, cols.inbox,
            cols.traits, cols.flags, up(plan.region_starts), ep.prm[P.T], ep.prm[P.M_REDRESSED], d_cnt, up(wake), out,
            n_out)
    _counted(cnt_a[0], d_cnt)
    stories.append(out.copy_to_host()[: int(n_out.copy_to_host()[0])])
    return redress[redress[:, REC.DAY] > d]


def _scores(cols, ids):
    G = _compiled()
    out = G.cuda.device_array(len(ids), np.int16)
    _launch(G.scores_kernel, len(ids), cols.score, G.cuda.to_device(ids), out)
    return out.copy_to_host()


def _histogram(plan: Plan, cols, day: int, lazy: bool):
    G = _compiled()
    low, width, n = score_bins(plan)
    lo, hi = plan.scenario.score.bounds
    bin_of = (np.arange(lo, hi + 1, dtype=np.int64) - low) // width
    out = _zeros((n,))
    _launch(G.histogram_kernel, plan.size, cols.score, lo, G.cuda.to_device(bin_of), out)
    return out.copy_to_host()


def _to_host(cols) -> Columns:
    return Columns(**{f.name: getattr(cols, f.name).copy_to_host() for f in fields(Columns)})


def _from_host(cols: Columns) -> Columns:
    cuda = _compiled().cuda
    return Columns(**{f.name: cuda.to_device(getattr(cols, f.name)) for f in fields(Columns)})


GPU = Backend(name="gpu", start=_start, days=_days, breaks=_breaks, spread=_spread, sparse=_sparse,
              redress=_redress, scores=_scores, histogram=_histogram, to_host=_to_host, from_host=_from_host)
