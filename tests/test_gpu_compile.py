"""The GPU backend's kernels go through numba-cuda's compiler for a real device, without a GPU.

numba's CUDA simulator (``tests/test_gpu.py``) runs the kernels as Python, so it cannot see what numba-cuda's
compiler refuses (a namespace's attribute called in a kernel, an array indexed by an ``IntEnum`` member...).
Here the kernels' argument types are recorded from runs on the simulator (presets, and a scheme with
ostracism, awareness and redress), and then, in a process without the simulator, each kernel is typed and
lowered by numba-cuda for compute capability 9.0 with those types (``numba.cuda.compiler.compile_cuda``: the
GPU compiler's front end, to LLVM IR; turning that into PTX needs a GPU machine's libNVVM, which
``benchmarks/gpu.py`` exercises there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from test_gpu import TIES, python

RECORD = '''
    import json, sys
    import numpy as np
    import scslab.engine.gpu as g
    import scslab.engine.gpu_kernels as gk
    from scslab import simulate
    from scslab.scenarios import load_scenario

    def describe(x):
        """A kernel argument's numba type, as plain data."""
        if isinstance(x, tuple):
            return ["tuple", [describe(v) for v in x]]
        if isinstance(x, (bool, np.bool_)):
            return "boolean"
        if isinstance(x, (int, np.integer)):
            return "int64" if isinstance(x, int) else np.asarray(x).dtype.name
        a = x.copy_to_host()
        return ["array", a.dtype.name, a.ndim]

    seen = {}
    launch = gk.launch
    def recorded(kernel, n, *args):
        seen.setdefault(kernel.py_func.__name__, {})[json.dumps([describe(a) for a in args])] = 1
        launch(kernel, n, *args)
    g.launch = gk.launch = recorded

    # redress: cameras' false matches, every one contested and soon removed
    contested = load_scenario("press-2018", {"channels.cameras.false_match": 0.05, "redress.delay_days": 3,
                                             "redress.contest_probability": 1.0})
    for scheme in (load_scenario("bench-v1", json.loads(sys.argv[1])), contested, "beijing-2020",
                   "court-defaulters-national", "jinan-dog-points"):
        simulate(scheme, population=300, days=30, backend="gpu", seed=2)
    print(json.dumps({name: [json.loads(k) for k in sigs] for name, sigs in seen.items()}))
'''

COMPILE = '''
    import json, sys
    import numba.cuda.dispatcher as dispatcher
    from types import SimpleNamespace
    from numba import cuda, config
    from numba.cuda import types
    from numba.cuda.compiler import compile_cuda

    assert not config.ENABLE_CUDASIM
    cuda.is_available = lambda: True  # no GPU here: the compiler's front end needs none
    dispatcher.get_current_device = lambda: SimpleNamespace(compute_capability=(9, 0))
    from scslab.engine.gpu_kernels import compiled

    def numba_type(d):
        if d == "boolean":
            return types.boolean
        if isinstance(d, str):
            return getattr(types, d)
        if d[0] == "tuple":
            return types.Tuple([numba_type(x) for x in d[1]])
        return types.Array(getattr(types, d[1]), d[2], "C")

    G = compiled()
    done = []
    for name, signatures in json.loads(sys.stdin.read()).items():
        for sig in signatures:
            compile_cuda(getattr(G, name).py_func, types.void, tuple(numba_type(d) for d in sig), cc=(9, 0))
        done.append(name)
    print(" ".join(sorted(done)))
'''

KERNELS = {"init_kernel", "pass_kernel", "ties_kernel", "targets_kernel", "lane_kernel", "breaks_kernel",
           "spread_kernel", "redress_kernel", "sum_kernel", "gather_kernel", "scores_kernel", "histogram_kernel"}


def test_every_kernel_compiles_for_a_gpu_with_the_types_the_runs_give_it():
    recorded = python(RECORD, json.dumps(TIES))
    assert recorded.returncode == 0, recorded.stderr[-3000:]
    signatures = json.loads(recorded.stdout.strip().splitlines()[-1])
    assert KERNELS <= set(signatures), KERNELS - set(signatures)  # every kernel ran (grow_kernel: if buffers grew)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", textwrap.dedent(COMPILE)], input=json.dumps(signatures),
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    assert set(done.stdout.split()) == set(signatures)
