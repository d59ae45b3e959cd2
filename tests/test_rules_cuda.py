"""The per-agent rules compiled as CUDA device functions give the CPU's results (numba's CUDA simulator).

``kernels.build`` (and the rules it compiles from ``rules.make``) is the one source of an agent's day. Here it
is built with ``cuda.jit(device=True)`` and run by a CUDA kernel that runs the dense scheduler's work on a
chunk (``dense.make_chunk``, built from the same kernels) with one GPU thread per chunk of agents, under
``NUMBA_ENABLE_CUDASIM=1`` (no GPU needed): the whole run must give the metrics and stories of the CPU build,
value for value. The simulator runs device code as Python, so this checks the rules' one source and the CUDA
factory's plumbing, not numba's GPU compiler (a GPU machine does that).
"""

import os
import subprocess
import sys
import textwrap

import pytest

from scslab.scenarios import preset_names

SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    from numba import config, cuda
    import scslab.engine.dense as dense
    import scslab.engine.loop as loop
    from scslab import simulate
    from scslab.compile import P
    from scslab.engine import kernels
    from scslab.engine.kernels import NONE_DAY

    assert config.ENABLE_CUDASIM, "not the simulator"
    K = kernels.build(cuda.jit(device=True))  # every rule a device function: the end of day is called, not inlined

    @cuda.jit
    def init_kernel(lo, hi, region, cols, prm, mins, cons, class_cum, group_cum, holder_t, hh_adult, skeys, cnt):
        ch = cuda.grid(1)  # dense.init_pass's chunk ch
        if ch >= lo.shape[0]:
            return
        score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, \\
            state, ties, aware = cols
        T = prm[P.T]
        for i in range(lo[ch], hi[ch]):
            K.init_agent(i, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes,
                         outstanding, acct_since, state, prm, mins, class_cum, group_cum, holder_t, hh_adult, skeys)
            K.levels(cnt[ch], region[ch] * T + np.int64(traits[i]), 1, K.tier_of(score[i], mins, prm[P.NT]), 0,
                     flags[i], last_off[i] != NONE_DAY,
                     np.int64(ties[i]) if prm[P.HAS_SHUN] != 0 else np.int64(0), prm, cons)

    chunk = dense.make_chunk(K, cuda.jit(device=True))  # the CPU pass's work on a chunk, as a device function

    @cuda.jit
    def pass_kernel(lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a,
                    beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin):
        ch = cuda.grid(1)  # dense.dense_pass's chunk ch
        if ch < lo.shape[0]:
            chunk(ch, lo, hi, region, resume, d, do_fin, do_act, full, cols, prm_f, mins_f, lists_f, cons_f, prm_a,
                  beh, rep, gate, cum, det, kf, ka, ks, cnt_f, cnt_a, emit, n_emit, margin)

    launches = []

    def on_gpu(kernel):
        def launch(lo, *args):
            launches.append(kernel)
            kernel[lo.shape[0], 1](lo, *args)  # one thread per chunk
        return launch

    preset, population, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cpu = simulate(preset, population=population, days=days, engine="dense", chunk=64)
    dense.dense_pass, loop.init_pass = on_gpu(pass_kernel), on_gpu(init_kernel)
    gpu = simulate(preset, population=population, days=days, engine="dense", chunk=64)
    assert launches.count(init_kernel) >= 1 and launches.count(pass_kernel) >= days, "the kernels did not run"
    a, b = cpu.metrics_table, gpu.metrics_table
    assert a.equals(b), "metrics differ"
    assert cpu.stories_table.equals(gpu.stories_table), "stories differ"
    moved = sum(abs(v) for v in a.column("value").to_pylist())
    print("same", a.num_rows, moved)
''')


@pytest.mark.parametrize("preset", preset_names())
def test_the_rules_as_cuda_device_functions_give_the_cpu_results(preset):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    done = subprocess.run([sys.executable, "-c", SCRIPT, preset, "300", "40"], env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    rows, moved = (int(x) for x in done.stdout.split()[-2:])
    assert rows > 0 and moved > 0  # a run in which something happened
