"""Sweep scaling: the same runs back to back on one core, then as a sweep on a local Dask cluster.

    python -m benchmarks sweep [--runs 64] [--population 100000] [--days 365] [--workers 2] [--out FILE]

Both sides run bench-v1 runs with one Numba thread each and identical tasks (a grid over one parameter).
Start-up is excluded from both: the serial side runs one warm-up run first; the cluster side starts its
workers, runs one warm-up task on each and a 2-run sweep (imports, a first catalogue) before the clock
starts. The sides alternate ``--repeats`` times (the machine's speed drifts; on a shared VM by 10 % or
more), and the median efficiency is reported. Efficiency is ``serial time / (workers x sweep time)``; 0.9
or more is good. The catalogue must hold every run. For the machine's own ceiling the same runs also go
to ``workers`` plain processes (a ``ProcessPoolExecutor``, no Dask): ``pool_efficiency``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def _sweep(runs: int, population: int, days: int) -> dict:
    return {
        "sweep": {"name": "scaling", "base": "bench-v1", "population": population, "days": days, "seed": 0,
                  "outputs": ["listed:blacklist", "network_penalties"]},
        "design": {"kind": "grid"},
        "params": {"detect": {"path": "behaviours.criticize_government.detect", "range": [0.3, 0.95],
                              "steps": runs}},
    }


def measure(runs: int, population: int, days: int, workers: int, repeats: int = 3) -> dict:
    from scslab.sweep import load_sweep, open_sweep, plan_runs, run_sweep
    from scslab.sweep.execute import execute_run, local_cluster

    spec, base = load_sweep(_sweep(runs, population, days))
    tasks = [{"run": r.run, "base": base, "overrides": r.overrides, "population": population, "days": days,
              "seed": r.seed, "threads": 1, "engine": spec.sweep.engine, "outputs": list(spec.sweep.outputs),
              "groups": ["all"]} for r in plan_runs(spec)]
    execute_run(tasks[0])  # warm-up: JIT cache loaded
    # the machine's own ceiling: the same runs on `workers` plain processes, no Dask
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    list(pool.map(execute_run, tasks[:2 * workers]))
    client, cluster = local_cluster(workers)  # what `scslab sweep` starts
    reps = []
    try:
        addresses = list(client.scheduler_info()["workers"])
        client.gather([client.submit(execute_run, tasks[0], workers=[a], pure=False, key=f"warm-{i}")
                       for i, a in enumerate(addresses)])
        with tempfile.TemporaryDirectory() as tmp:  # the sweep machinery's own start-up: imports, first catalogue
            run_sweep(load_sweep(_sweep(2, 1000, 10)), Path(tmp) / "warm", client=client)
        for rep in range(repeats):  # serial and sweep alternate, so drifts in machine speed hit both
            t0 = time.perf_counter()
            serial = [execute_run(t)["outcomes"] for t in tasks]
            t_serial = time.perf_counter() - t0
            t0 = time.perf_counter()
            pooled = list(pool.map(execute_run, tasks))
            t_pool = time.perf_counter() - t0
            assert [r["outcomes"] for r in pooled] == serial
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                stats = run_sweep((spec, base), Path(tmp) / "sweep", client=client)
                t_sweep = time.perf_counter() - t0
                catalog = open_sweep(Path(tmp) / "sweep").catalog()
            reps.append({"serial_s": round(t_serial, 2), "pool_s": round(t_pool, 2), "sweep_s": round(t_sweep, 2),
                         "run_s_in_pool": round(sum(r["elapsed_s"] for r in pooled) / runs, 4),
                         "run_s_in_dask": round(float(catalog["elapsed_s"].mean()), 4),
                         "efficiency": round(t_serial / (workers * t_sweep), 3),
                         "pool_efficiency": round(t_serial / (workers * t_pool), 3),
                         "catalogue_rows_done": int((catalog["status"] == "done").sum()), "failed": stats.failed,
                         "outcomes_equal_serial": all(int(catalog.loc[i, "network_penalties"]) ==
                                                      serial[i]["network_penalties"] for i in range(runs))})
            print(json.dumps(reps[-1]), flush=True)
    finally:
        client.close()
        cluster.close()
        pool.shutdown()
    eff = sorted(r["efficiency"] for r in reps)
    ceiling = sorted(r["pool_efficiency"] for r in reps)
    return {"pool_efficiency_median": ceiling[len(ceiling) // 2], "runs": runs, "population": population, "days": days, "workers": workers, "repeats": reps,
            "efficiency_median": eff[len(eff) // 2], "efficiency_min": eff[0],
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"}


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=64)
    ap.add_argument("--population", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="Write the figures as JSON here.")
    a = ap.parse_args(argv)
    result = measure(a.runs, a.population, a.days, a.workers, a.repeats)
    print(json.dumps(result, indent=1))
    if a.out:
        a.out.write_text(json.dumps(result, indent=1) + "\n")
