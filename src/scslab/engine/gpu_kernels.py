"""The GPU backend's kernels: every rule compiled from the CPU's own factories as CUDA device functions, and the
small kernels that run them (``engine/gpu.py`` drives them).

``kernels.build``, ``dense.make_init``, ``dense.make_chunk``, ``sparse.make``, ``ostracism.make`` and
``awareness.make`` are compiled here with ``cuda.jit(device=True)``: no rule has a second copy. Nothing here
is imported with ``scslab``; :func:`cuda_module` imports numba's CUDA target when a run asks for
``backend="gpu"`` and says plainly what is missing. With ``NUMBA_ENABLE_CUDASIM=1`` numba runs the kernels on
the CPU as Python (its simulator), which is how the test suite checks them without a GPU.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np

from ..compile import P
from ..errors import BackendError
from . import awareness, dense, kernels, ostracism, sparse

__all__ = ["cuda_module", "compiled", "launch", "zeros", "summed", "BLOCK", "LANES"]

BLOCK = 64  # threads per block
LANES = 4096  # the sparse pass's lanes (target ranges) on the device, at most
STRIDED = 1 << 14  # threads of a grid-stride kernel, at most (one, on the simulator: each thread costs it dear)
cuda = None  # numba's CUDA target once a run asks for it (a module global: the simulator swaps it in kernels)


def _accept_enum_indices() -> None:
    """Let numba-cuda index arrays by ``IntEnum`` members, as numba's CPU target does: the rules read their
    tables by name (``prm[P.N]``, ``rec[j, REC.KIND]``), and numba-cuda's copy of the array-index typing
    (0.30) takes plain integers only. The member is typed as the integer it is; numba-cuda lowers that cast
    already. Harmless where numba-cuda accepts them itself."""
    try:
        from numba.cuda import types
        from numba.cuda.typing import arraydecl
    except ImportError:  # numba's own CUDA target, or a numba-cuda laid out otherwise
        return
    typed = arraydecl.get_array_index_type
    if getattr(typed, "accepts_enums", False):
        return

    def as_int(t):
        return types.intp if isinstance(t, types.IntEnumMember) else t

    def get_array_index_type(ary, idx):
        idx = types.Tuple([as_int(t) for t in idx]) if isinstance(idx, types.BaseTuple) else as_int(idx)
        return typed(ary, idx)

    get_array_index_type.accepts_enums = True
    arraydecl.get_array_index_type = get_array_index_type


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
    _accept_enum_indices()
    if not cuda.is_available():
        raise BackendError("backend 'gpu' found no usable CUDA GPU (no device, or no driver); use --backend cpu, "
                           "or set NUMBA_ENABLE_CUDASIM=1 to run the GPU code on numba's CUDA simulator (slow; for "
                           "checks)")
    return cuda


@functools.cache
def compiled():
    """The rules as device functions and the kernels that run them (built once, on first use)."""
    global cuda, STRIDED, BLOCK
    cuda = cuda_module()
    from numba import config

    if config.ENABLE_CUDASIM:  # the simulator runs a block's threads as Python threads, which contend: one each
        STRIDED, BLOCK = 1, 1
    # the steps that run in record order take one thread on purpose: no warning about a grid too small
    config.CUDA_LOW_OCCUPANCY_WARNINGS = 0
    dev = cuda.jit(device=True)
    K = kernels.build(dev)
    init_chunk, chunk = dense.make_init(K, dev), dense.make_chunk(K, dev)

    @dev
    def no_prefetch(a, i):
        pass

    @dev
    def shared_row(n_out, ln):
        return cuda.atomic.add(n_out, 0, 1)

    # (kernels call functions, not a namespace's attributes: numba cannot type a SimpleNamespace)
    S = sparse.make(K, dev, no_prefetch, shared_row)
    targets_of, lane, redress = S.targets_of, S.lane, S.redress
    shun = ostracism.make(K, dev)
    had_ties, breaks = shun.had_ties, shun.breaks
    spread = awareness.make(K, dev).spread

    @cuda.jit
    def init_kernel(lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt):
        ch = cuda.grid(1)
        if ch < lo.shape[0]:
            init_chunk(ch, lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt)

    @cuda.jit
    def pass_kernel(lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a,
                    beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin):
        """Pass d for chunk ``ch`` of replicate ``r``, every replicate in one launch: ``cols`` holds the
        columns of all replicates (int[R, ...]), ``resume``, ``kf``, ``ka``, ``ks``, the counters and the
        append buffers one row per replicate; the tables are the scenario's, the same for all."""
        x = cuda.grid(1)
        nch = lo.shape[0]
        if x < resume.shape[0] * nch:
            r, ch = x // nch, x % nch
            c = cols
            mine = (c[0][r], c[1][r], c[2][r], c[3][r], c[4][r], c[5][r], c[6][r], c[7][r], c[8][r], c[9][r],
                    c[10][r], c[11][r], c[12][r], c[13][r], c[14][r])
            chunk(ch, lo, hi, region, resume[r], d, do_fin, do_act, full, mine, prm_f, mins_f, lists_f, cons_f,
                  prm_a, beh, rep, gate, cum, det, kf[r], ka[r], ks[r], cnt_f[r], cnt_a[r], emit[r], n_emit[r],
                  margin)

    @cuda.jit
    def ties_kernel(ties, prm, starts, keys):
        i = cuda.grid(1)
        if i < prm[P.N]:
            had_ties(i, ties, prm, starts, keys)

    @cuda.jit
    def targets_kernel(rec, prm, starts, keys, ties, targets):
        j = cuda.grid(1)
        if j < rec.shape[0]:
            targets_of(j, rec, prm, starts, keys, ties, targets)

    @cuda.jit
    def lane_kernel(rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, net_cnt, out, seq, n_out,
                    wake):
        ln = cuda.grid(1)
        if ln < parts.shape[0] - 1:
            lane(ln, rec, targets, cols, prm, beh, starts, hh_head, hh_size, hh_adult, parts, net_cnt[ln], out, seq,
                   n_out, wake)

    @cuda.jit
    def breaks_kernel(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys, cnt, out,
                      n_out):
        if cuda.grid(1) == 0:  # in record order: one thread
            n_out[0] = breaks(rec, ties, on_lists, state, traits, flags, last_off, inbox, prm, cons, starts, keys,
                                cnt, out)

    @cuda.jit
    def spread_kernel(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt):
        if cuda.grid(1) == 0:  # in record order: one thread
            spread(rec, keys, aware, flags, state, traits, ties, prm, starts, hh_head, hh_size, friend_keys, cnt)

    @cuda.jit
    def redress_kernel(r, d, on_score, acct_pts, pending, acct, inbox, traits, flags, starts, T, m_redressed, cnt,
                       wake, out, n_out):
        if cuda.grid(1) == 0:  # in record order: one thread
            n_out[0] = redress(r, d, on_score, acct_pts, pending, acct, inbox, traits, flags, starts, T, m_redressed,
                               cnt, wake, out)

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
        """Chunk ch's records to ``out[offsets[ch]:]``, for every (replicate, chunk) ``x``: each replicate's
        records in chunk order, the CPU's (``state.records``), one replicate after another."""
        x = cuda.grid(1)
        nch = n_emit.shape[1]
        if x < n_emit.shape[0] * nch:
            r, ch = x // nch, x % nch
            for k in range(n_emit[r, ch]):
                for w in range(emit.shape[3]):
                    out[offsets[r, ch] + k, w] = emit[r, ch, k, w]

    @cuda.jit
    def grow_kernel(old, new):
        x = cuda.grid(1)
        if x < old.shape[0] * old.shape[1]:
            r, ch = x // old.shape[1], x % old.shape[1]
            for k in range(old.shape[2]):
                for w in range(old.shape[3]):
                    new[r, ch, k, w] = old[r, ch, k, w]

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


def launch(kernel, n: int, *args) -> None:
    """``kernel`` with at least ``n`` threads (those past ``n`` return at once)."""
    if n > 0:
        kernel[math.ceil(n / BLOCK), min(BLOCK, n)](*args)


def zeros(shape, dtype=np.int64):
    """A device array of zeros, set on the device."""
    a = compiled().cuda.device_array(shape, dtype)
    a[:] = 0
    return a


def summed(parts) -> np.ndarray:
    """int64[metrics, cells] on the host: ``parts[k, metric, cell]`` summed over k on the device."""
    G = compiled()
    total = G.cuda.device_array(parts.shape[1:], np.int64)
    launch(G.sum_kernel, min(total.shape[0] * total.shape[1], STRIDED), parts, total)
    return total.copy_to_host()


