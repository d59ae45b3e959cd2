"""Sweep scaling: the same runs back to back on one core, then as a sweep on a local Dask cluster.

    python -m benchmarks sweep [--runs 64] [--population 100000] [--days 365] [--workers 2] [--out FILE]

Both sides run bench-v1 runs with one Numba thread each and identical tasks (a grid over one parameter).
Start-up is excluded from both: the serial side runs one warm-up run first, the cluster side starts its
workers and runs one warm-up task on each before the clock starts. The two sides alternate ``--repeats``
times (the machine's speed drifts; on a shared VM by 10 % or more), and the median efficiency is reported. Scaling efficiency is
``serial time / (workers x sweep time)``; the issue's bar is 0.9. The catalogue must hold every run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
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
    client, cluster = local_cluster(workers)  # what `scslab sweep` starts
    reps = []
    try:
        addresses = list(client.scheduler_info()["workers"])
        client.gather([client.submit(execute_run, tasks[0], workers=[a], pure=False, key=f"warm-{i}")
                       for i, a in enumerate(addresses)])
        for rep in range(repeats):  # serial and sweep alternate, so drifts in machine speed hit both
            t0 = time.perf_counter()
            serial = [execute_run(t)["outcomes"] for t in tasks]
            t_serial = time.perf_counter() - t0
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                stats = run_sweep((spec, base), Path(tmp) / "sweep", client=client)
                t_sweep = time.perf_counter() - t0
                catalog = open_sweep(Path(tmp) / "sweep").catalog()
            reps.append({"serial_s": round(t_serial, 2), "sweep_s": round(t_sweep, 2),
                         "efficiency": round(t_serial / (workers * t_sweep), 3),
                         "catalogue_rows_done": int((catalog["status"] == "done").sum()), "failed": stats.failed,
                         "outcomes_equal_serial": all(int(catalog.loc[i, "network_penalties"]) ==
                                                      serial[i]["network_penalties"] for i in range(runs))})
            print(json.dumps(reps[-1]), flush=True)
    finally:
        client.close()
        cluster.close()
    eff = sorted(r["efficiency"] for r in reps)
    return {"runs": runs, "population": population, "days": days, "workers": workers, "repeats": reps,
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
