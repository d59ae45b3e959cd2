"""Same scenario and seed -> identical metrics.parquet bytes, whatever the threads, chunks or buffers."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from scslab import simulate
from scslab.compile import compile_plan
from scslab.engine.cpu import run_dense
from scslab.scenarios import load_scenario
from test_windowed import HARSH

pytestmark = pytest.mark.determinism


def digest(result, tmp_path, name):
    out = result.save(tmp_path / name)
    return hashlib.sha256((out / "metrics.parquet").read_bytes()).hexdigest(), \
        hashlib.sha256((out / "stories.parquet").read_bytes()).hexdigest()


@pytest.mark.parametrize("preset", ["bench-v1", "press-2018"])
def test_threads_and_chunks(preset, tmp_path):
    base = digest(simulate(preset, population=30_000, days=60, seed=7, threads=1), tmp_path, "a")
    assert digest(simulate(preset, population=30_000, days=60, seed=7, threads=2), tmp_path, "b") == base
    assert digest(simulate(preset, population=30_000, days=60, seed=7, threads=2, chunk=997), tmp_path, "c") == base
    other = digest(simulate(preset, population=30_000, days=60, seed=8), tmp_path, "d")
    assert other[0] != base[0]


def test_tiny_append_buffers_lose_nothing():
    """Force buffer overflow on every chunk: the engine grows the buffer and resumes, dropping nothing."""
    plan = compile_plan(load_scenario("press-2018"), size=20_000, days=30, seed=3)
    big = run_dense(plan, chunk=4096)
    small = run_dense(plan, chunk=4096, initial_emit=1)
    assert np.array_equal(big.counts, small.counts)
    assert np.array_equal(big.stories, small.stories)


@pytest.mark.parametrize("preset,overrides,n,days,route", [("jinan-dog-points", {}, 300, 12, "lazy"),
                                                           ("bench-v1", HARSH, 2000, 100, "windowed"),
                                                           ("press-2018", {}, 300, 12, "windowed")])
def test_plain_python_matches_compiled(preset, overrides, n, days, route, tmp_path):
    """The same kernels run uncompiled (NUMBA_DISABLE_JIT=1) give the same bytes, on the day route (Jinan has a
    domain account) and on the windowed route (harsh bench-v1: its sweep, penalties, friends and corrections
    in plain Python; press-2018: its ramp, households, ties' kinds, states and children's sanctions)."""
    code = ("import hashlib, scslab; r = scslab.simulate({!r}, population={}, days={}, seed=5, overrides={!r}); "
            "p = r.save(r'{}'); print(r.manifest['route'], hashlib.sha256((p / 'metrics.parquet').read_bytes())"
            ".hexdigest())")
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    code = code.format(preset, n, days, overrides, tmp_path / "plain")
    plain = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                           timeout=600)
    assert plain.returncode == 0, plain.stderr[-2000:]
    compiled = simulate(preset, population=n, days=days, seed=5, overrides=overrides)
    assert compiled.manifest["route"] == route
    digest_ = hashlib.sha256((compiled.save(tmp_path / "jit") / "metrics.parquet").read_bytes()).hexdigest()
    assert plain.stdout.split() == [route, digest_]
