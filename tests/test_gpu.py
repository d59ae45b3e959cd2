"""The GPU backend (``engine/gpu.py``) gives the CPU's results, checked on numba's CUDA simulator.

``backend="gpu"`` runs the dense scheduler with the columns in device memory and every rule compiled from the
CPU's own factories as CUDA device functions. Under ``NUMBA_ENABLE_CUDASIM=1`` numba runs the kernels on the
CPU as Python, so every preset's metrics and stories must equal the CPU's, value for value, with no GPU. The
simulator runs the device code as Python: this checks the rules' one source, the kernels and the driver, not
numba's GPU compiler (``benchmarks/gpu.py`` checks that on a GPU). numba reads the variable when it is
imported, so these checks run in fresh interpreters.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scslab.scenarios import preset_names

HERE = Path(__file__).parent


def python(code: str, *args: str, sim: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (on the CUDA simulator when ``sim``), from the tests' folder."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    if sim:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-W", "ignore", "-c", textwrap.dedent(code), *args], env=env,
                          capture_output=True, text=True, timeout=timeout, cwd=HERE)


SAME = '''
    import sys
    from numba import config
    from baseline import raw_digest
    from scslab import simulate
    from scslab.api import resolve_scenario
    from scslab.compile import compile_plan
    from scslab.engine.cpu import run_cpu

    assert config.ENABLE_CUDASIM, "not the simulator"
    preset, n, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cpu = simulate(preset, population=n, days=days, engine="dense", seed=5)
    gpu = simulate(preset, population=n, days=days, backend="gpu", seed=5, chunk=64)  # several threads
    assert gpu.manifest["backend"] == "gpu" and "simulator" in gpu.manifest["device"]
    assert cpu.metrics_table.equals(gpu.metrics_table), "metrics differ"
    assert cpu.stories_table.equals(gpu.stories_table), "stories differ"
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:  # and the files, byte for byte
        a, b = cpu.save(Path(tmp) / "cpu"), gpu.save(Path(tmp) / "gpu")
        for name in ("metrics.parquet", "stories.parquet"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # the raw arrays too, with append buffers so small that every chunk's buffer must grow on the device
    plan = compile_plan(resolve_scenario(preset, n, days, 5, None))  # (entity types scaled, as simulate does)
    small = raw_digest(run_cpu(plan, engine="dense", backend="gpu", chunk=50, initial_emit=1))
    assert small == raw_digest(run_cpu(plan, engine="dense")), "raw arrays differ"
    moved = sum(abs(v) for v in gpu.metrics_table.column("value").to_pylist())
    print("same", gpu.metrics_table.num_rows, gpu.stories_table.num_rows, moved)
'''


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_gives_the_cpu_results_on_the_gpu_backend(preset):
    done = python(SAME, preset, "300", "40")
    assert done.returncode == 0, done.stderr[-3000:]
    rows, stories, moved = (int(x) for x in done.stdout.split()[-3:])
    assert rows > 0 and moved > 0  # a run in which something happened


def test_a_gpu_run_resumes_from_its_checkpoint_on_either_backend(tmp_path):
    done = python('''
        import sys
        from pathlib import Path
        import pytest
        import scslab
        from crashed import Crash, digests, resumed_as_whole

        tmp = Path(sys.argv[1])
        run = dict(population=300, days=30, seed=2, backend="gpu")
        assert resumed_as_whole("press-2018", tmp / "a", crash_on=17, every=5, **run)
        # begun on the GPU, finished on the CPU: the same bytes
        def crash(d):
            if d == 17:
                raise Crash(d)
        with pytest.raises(Crash):
            scslab.run("press-2018", tmp / "b", checkpoint_every=5, progress=crash, **run)
        done = scslab.resume(tmp / "b", backend="cpu")
        assert digests(tmp / "b") == digests(tmp / "a" / "whole")
        sessions = done.manifest["sessions"]
        print([s["backend"] for s in sessions], sessions[1]["from_day"])
    ''', str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split("\n")[-2] == "['gpu', 'cpu'] 14"


def test_without_a_gpu_the_backend_is_refused_at_once_and_nothing_is_written(tmp_path):
    done = python('''
        import sys
        from scslab import simulate
        from scslab.errors import BackendError
        try:
            simulate("bench-v1", population=100, days=3, backend="gpu")
        except BackendError as e:
            print(e)
    ''', sim=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "found no usable CUDA GPU" in done.stdout and "--backend cpu" in done.stdout
    out = tmp_path / "run"
    cli = subprocess.run([sys.executable, "-m", "scslab", "run", "bench-v1", "-n", "100", "-d", "3", "--backend",
                          "gpu", "--out", str(out), "-q"], capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"})
    assert cli.returncode == 2 and "found no usable CUDA GPU" in cli.stderr
    assert not out.exists()


def test_without_numba_cuda_scslab_imports_and_the_backend_says_how_to_install_it():
    done = python('''
        import sys
        sys.modules["numba.cuda"] = None  # numba without its CUDA target: importing it fails
        import scslab
        from scslab.errors import BackendError
        try:
            scslab.simulate("bench-v1", population=100, days=3, backend="gpu")
        except BackendError as e:
            print(e)
    ''', sim=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pip install 'scslab[gpu]'" in done.stdout


def test_a_numba_cuda_that_registers_np_row_stack_imports_on_a_numpy_without_it():
    done = python('''
        import numpy as np
        if hasattr(np, "row_stack"):
            del np.row_stack  # as NumPy 2.5 has it
        from scslab.engine.gpu import cuda_module
        cuda = cuda_module()
        print(np.row_stack is np.vstack, cuda.is_available())
    ''')
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "True"]


def test_a_run_that_does_not_fit_the_device_is_refused_with_its_estimate():
    from scslab.compile import compile_plan
    from scslab.engine.gpu import check_device_memory, device_bytes
    from scslab.errors import CapacityError
    from scslab.scenarios import load_scenario

    plan = compile_plan(load_scenario("press-2018", ["population.size=100000", "run.days=10"]))
    need = device_bytes(plan)
    assert need > 100_000 * 12  # at least the columns
    check_device_memory(plan, free=need)
    with pytest.raises(CapacityError, match=r"a run of 100,000 agents needs about 0\.\d\d GiB of GPU memory"):
        check_device_memory(plan, free=need - 1)


def test_the_gpu_backend_runs_the_dense_scheduler_and_refuses_the_others_by_name():
    from scslab.compile import compile_plan
    from scslab.engine.routes import choose_route
    from scslab.errors import OptionError
    from scslab.scenarios import load_scenario

    plan = compile_plan(load_scenario("bench-v1", ["population.size=1000", "run.days=5"]))
    assert choose_route(plan, "auto") == "windowed"
    assert choose_route(plan, "auto", backend="gpu") == "dense"
    for engine in ("lazy", "windowed"):
        with pytest.raises(OptionError, match="the gpu backend runs the dense scheduler only"):
            choose_route(plan, engine, backend="gpu")


def test_replicates_run_in_one_launch_per_pass_and_each_gives_its_seeds_cpu_results():
    done = python('''
        import sys
        import scslab.engine.gpu_kernels as gk
        from baseline import raw_digest
        from scslab import ensemble, simulate
        from scslab.api import resolve_scenario
        from scslab.compile import compile_plan
        from scslab.engine.cpu import run_cpu, run_replicates
        from scslab.engine.dense import chunks
        from scslab.engine.gpu import gpu_chunk

        launches = []
        launch = gk.launch
        def counted(kernel, n, *args):
            if kernel is gk.compiled().pass_kernel:
                launches.append(n)
            launch(kernel, n, *args)
        gk.launch = counted
        import scslab.engine.gpu as g
        g.launch = counted
        for preset in ("press-2018", "beijing-2020"):  # (beijing-2020: firms, replicated too)
            plans = [compile_plan(resolve_scenario(preset, 300, 25, 7 + r, None)) for r in range(3)]
            launches.clear()
            raws = run_replicates(plans, backend="gpu", chunk=100)
            # one launch a pass for each population (persons, and beijing-2020's firms) for the three seeds
            sizes = {3 * len(chunks(plans[0], 100)[0])} | {3 * len(chunks(sub, gpu_chunk(sub))[0])
                                                          for sub in plans[0].entities.values()}
            passes = 26 * (1 + len(plans[0].entities))
            assert set(launches) == sizes and passes <= len(launches) < 2 * passes, (sizes, launches[:30])
            digests = [raw_digest(run_cpu(p, engine="dense")) for p in plans]
            assert [raw_digest(r) for r in raws] == digests and len(set(digests)) == 3, preset
        gpu = ensemble("xiamen-fuzhou-2018", 2, population=300, days=20, seed=4, backend="gpu")
        for r, result in enumerate(gpu):
            alone = simulate("xiamen-fuzhou-2018", population=300, days=20, seed=4 + r, engine="dense")
            assert result.metrics_table.equals(alone.metrics_table)
            assert result.stories_table.equals(alone.stories_table)
            assert result.manifest["seed"] == 4 + r and result.manifest["ensemble"]["replicate"] == r
        print("same")
    ''')
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == "same"


def test_an_ensemble_that_does_not_fit_the_device_is_refused_with_its_estimate():
    from scslab.compile import compile_plan
    from scslab.engine.gpu import check_device_memory, device_bytes
    from scslab.errors import CapacityError
    from scslab.scenarios import load_scenario

    plan = compile_plan(load_scenario("bench-v1", ["population.size=1000000", "run.days=10"]))
    one, hundred = device_bytes(plan), device_bytes(plan, replicates=100)
    assert 90 * one < hundred < 100 * one  # the day's tables and the lanes once
    check_device_memory(plan, free=hundred, replicates=100)
    with pytest.raises(CapacityError, match=r"100 runs of 1,000,000 agents needs about \d+\.\d\d GiB"):
        check_device_memory(plan, free=hundred - 1, replicates=100)


# bench-v1 with households; criticism costs 450 points (the blacklist at once) and friends 60; the listed
# and tier C shunned (ostracism), awareness spreading through ties, and the blacklist published: its people
# lose ties faster than ostracism alone has them, some their work, and others are deterred (the day's tables
# made from the run's own list): no preset uses any of these yet
TIES = {"economy": {"employed": 0.6, "income": {"low": {"share": 0.5, "yuan": 80}, "high": {"share": 0.5, "yuan": 300}}},
        "lists.blacklist.shaming": {"ties": 0.3, "work": 0.5, "deters": 30},
        "population.households": {"sizes": {"1": 0.2, "2": 0.3, "3": 0.3, "4": 0.2}, "child_share": 0.15},
        "behaviours.criticize_government.points": -450, "behaviours.criticize_government.network.friends": -60,
        "behaviours.jaywalking.deterrence": {"surveillance": 0.8}, "channels.records.coverage": 0.5,
        "ostracism": {"on": ["lists.blacklist", "tiers.C"], "rate": 0.2},
        "awareness": {"start": 0.11, "penalised": 0.5, "told": 0.3, "seen": 0.5}}

TIES_SAME = '''
    import json, sys
    from scslab import simulate
    from scslab.scenarios import load_scenario
    scheme = load_scenario("bench-v1", json.loads(sys.argv[1]))
    cpu = simulate(scheme, population=400, days=60, engine="dense", seed=3)
    gpu = simulate(scheme, population=400, days=60, backend="gpu", seed=3, chunk=64)
    assert cpu.metrics_table.equals(gpu.metrics_table), "metrics differ"
    assert cpu.stories_table.equals(gpu.stories_table), "stories differ"
    last = gpu.summary()
    print(last["lost_ties"], last["aware"], last["shunned"], last["out_of_work"])
'''


def test_ostracism_awareness_and_shaming_give_the_cpu_results_on_the_gpu_backend():
    import json

    done = python(TIES_SAME, json.dumps(TIES))
    assert done.returncode == 0, done.stderr[-3000:]
    lost, aware, shunned, out = (int(x) for x in done.stdout.split()[-4:])
    assert lost > 0 and aware > 0 and shunned > 0 and out > 0  # the breaks, the tellings and the work lost ran


def test_a_run_on_a_scheduler_the_gpu_does_not_run_is_not_resumed_there(tmp_path):
    import scslab
    from crashed import Crash
    from scslab.errors import OptionError

    def crash(d):
        if d == 12:
            raise Crash(d)

    with pytest.raises(Crash):
        scslab.run("press-2018", tmp_path / "r", population=2000, days=20, engine="lazy", checkpoint_every=5,
                   progress=crash)
    with pytest.raises(OptionError, match="the run goes by the lazy scheduler, which the gpu backend does not run"):
        scslab.resume(tmp_path / "r", backend="gpu")
    assert scslab.resume(tmp_path / "r").manifest["status"] == "complete"  # (on its own backend, the cpu)
