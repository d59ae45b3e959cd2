"""Running a sweep on Dask distributed, and reading a sweep directory back.

:func:`run_sweep` prepares ``DIR`` (``sweep.json``: the sweep, its resolved base scenario, design and digest;
``catalog.duckdb``; ``runs/``), submits every run that is not done yet to a Dask cluster (an embedded
``LocalCluster`` by default, or the scheduler at ``scheduler``), and records each run in the catalogue as
it finishes. Each run is a pure function of its task (:func:`execute_run`): the worker simulates and returns
the kept daily series and the outcomes; only this process writes files. A run that raises is tried again
``retries`` times by Dask, then recorded as ``failed`` with its error. Runs on a worker that dies are moved
to another worker by Dask. Running the same command again resumes: finished runs are skipped.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pyarrow as pa

from ..errors import SweepError
from .catalog import Catalog, column_name
from ..metrics import SCORE_PREFIX
from ..populations import split_metric
from .spec import SweepFile, design_points, digest, load_sweep, metric_kinds, plan_runs

__all__ = ["run_sweep", "execute_run", "SweepRun", "open_sweep", "local_cluster"]


def execute_run(task: Mapping[str, Any]) -> dict[str, Any]:
    """Simulate one run of a sweep and return ``{run, table, outcomes, kinds, elapsed_s, worker}``.

    ``table`` holds the kept daily rows (``run, day, metric, group, value``). ``outcomes`` maps catalogue
    column names to the final-day value of each level metric and the run total of each flow metric (group
    ``all``); ``kinds`` maps the same names to ``(metric, 'final' | 'total')``.
    """
    import pyarrow.compute as pc

    from ..api import simulate

    t0 = time.perf_counter()
    result = simulate(task["base"], population=task["population"], days=task["days"], seed=task["seed"],
                      threads=task["threads"], overrides=task["overrides"], engine=task["engine"])
    table = result.metrics_table
    everything = table.filter(pc.equal(table["group"], "all"))
    levels = set(result.manifest["level_metrics"])
    last = pc.max(everything["day"])
    summed = everything.group_by("metric").aggregate([("value", "sum")]).to_pydict()
    totals = dict(zip(summed["metric"], summed["value_sum"]))
    final_rows = everything.filter(pc.equal(everything["day"], last))
    finals = dict(zip(final_rows["metric"].to_pylist(), final_rows["value"].to_pylist()))
    outcomes, kinds = {}, {}
    for metric in sorted(totals):  # one pass over the table for totals, one for the last day
        if split_metric(metric)[1].startswith(SCORE_PREFIX):  # a distribution: daily table only, not an outcome
            continue
        name = column_name(metric)
        outcomes[name] = int(finals[metric] if metric in levels else totals[metric] or 0)
        kinds[name] = (metric, "final" if metric in levels else "total")
    if task["outputs"]:
        table = table.filter(pc.is_in(table["metric"], pa.array(task["outputs"])))
    if task["groups"]:
        table = table.filter(pc.is_in(table["group"], pa.array(task["groups"])))
    table = table.add_column(0, "run", pa.array([task["run"]] * table.num_rows, pa.int64()))
    return {"run": task["run"], "table": table, "outcomes": outcomes, "kinds": kinds,
            "elapsed_s": time.perf_counter() - t0, "worker": f"{socket.gethostname()}:{os.getpid()}"}


@dataclass
class SweepRun:
    """What a call to :func:`run_sweep` did: runs in the sweep, done before, done now, failed."""

    path: Path
    total: int
    skipped: int
    done: int
    failed: int
    elapsed_s: float

    def open(self) -> "SweepDir":
        return open_sweep(self.path)


def _prepare(spec: SweepFile, base: dict, out: Path) -> dict:
    """Create ``out`` or check that it holds this very sweep; return the sweep's record."""
    record = {"digest": digest(spec, base), "spec": spec.model_dump(mode="json"), "base": base,
              "points": design_points(spec)}
    meta = out / "sweep.json"
    if meta.exists():
        old = json.loads(meta.read_text())
        if old.get("digest") != record["digest"]:
            raise SweepError([("--out", str(out), "holds a different sweep (its sweep file or base scenario "
                                                  "changed); choose another directory")])
        return old
    if out.exists() and any(out.iterdir()):
        raise SweepError([("--out", str(out), "exists, is not empty and is not a sweep directory")])
    (out / "runs").mkdir(parents=True, exist_ok=True)
    tmp = meta.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, meta)
    return record


def _write_table(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


# A sweep is a few long tasks: Dask's statistical profiler (a stack sample every 10 ms in every worker) and
# its 20 ms event-loop ticks cost more than they tell. Off or slower, the idle cluster uses ~6x less CPU.
QUIET_DASK = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
              "distributed.admin.system-monitor.interval": "2s", "distributed.worker.memory.monitor-interval": "1s",
              "distributed.scheduler.work-stealing-interval": "1s"}


def local_cluster(workers: int | None = None):
    """An embedded Dask ``(client, cluster)``: ``workers`` single-threaded processes (default one per core),
    each with a nanny that restarts it if it dies, and the quiet settings above."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(QUIET_DASK):
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL)
        return Client(cluster), cluster


def _client(scheduler: str | None, workers: int | None):
    """A Dask client: on ``scheduler`` if given, else on an embedded local cluster (closed with the client)."""
    from distributed import Client

    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except OSError as exc:
            raise SweepError([("--scheduler", scheduler, f"no Dask scheduler reachable: {exc}")]) from None
    return local_cluster(workers)


def run_sweep(sweep: str | Path | Mapping[str, Any], out: str | Path, *, scheduler: str | None = None,
              workers: int | None = None, client=None, progress: Callable[[dict], None] | None = None,
              runner: Callable[[Mapping[str, Any]], dict] = execute_run) -> SweepRun:
    """Run (or resume) the sweep ``sweep`` (a sweep file, a dict, or ``load_sweep``'s pair) into ``out``.

    ``scheduler`` is a Dask scheduler address (``tcp://host:port``); without it an embedded local cluster of
    ``workers`` processes (default: one per core) runs the sweep. ``client`` uses an existing
    ``distributed.Client`` instead. ``progress`` is called with ``{run, status, done, total}`` after each run.
    ``runner`` executes one task (default :func:`execute_run`; tests and instrumentation replace it).
    """
    from distributed import as_completed

    spec, base = load_sweep(sweep) if not isinstance(sweep, tuple) else sweep
    out = Path(out)
    _prepare(spec, base, out)
    runs = plan_runs(spec)
    params = {n: [r.values[n] for r in runs] for n in spec.params}
    t0 = time.perf_counter()
    with Catalog(out / "catalog.duckdb") as cat:
        cat.create(runs, params, metric_kinds(base)[0])
        finished = cat.done()
        todo = [r for r in runs if r.run not in finished]
        stats = SweepRun(out, len(runs), len(finished), 0, 0, 0.0)
        if not todo:
            return stats
        own, cluster = (client, None) if client is not None else _client(scheduler, workers)
        shared = None
        s = spec.sweep
        futures = {}
        flushed = time.perf_counter()
        try:
            # the base scenario goes to every worker once; tasks carry a reference to it
            shared = own.scatter([base], broadcast=True, hash=False)[0]
            for r in todo:
                task = {"run": r.run, "base": shared, "overrides": r.overrides, "population": s.population,
                        "days": s.days, "seed": r.seed, "threads": s.threads, "engine": s.engine,
                        "outputs": list(s.outputs), "groups": list(s.groups)}
                fut = own.submit(runner, task, key=f"scslab-{spec.sweep.name}-{out.name}-run-{r.run}",
                                 retries=s.retries, pure=False)
                futures[fut.key] = (fut, r)
            for fut in as_completed([f for f, _ in futures.values()]):
                r = futures.pop(fut.key)[1]
                try:  # waits when the result was lost with its worker and is being computed again
                    res = fut.result()
                except Exception as exc:  # the run's own error after its retries, or Dask's (KilledWorker)
                    cat.record_failed(r.run, error=f"{type(exc).__name__}: {exc}", attempts=s.retries + 1)
                    stats.failed += 1
                    status = "failed"
                else:
                    rel = f"runs/run-{r.run:06d}.parquet"
                    _write_table(res["table"], out / rel)
                    cat.record_done(r.run, outcomes=res["outcomes"], kinds=res["kinds"], path=rel,
                                    elapsed_s=round(res["elapsed_s"], 4), worker=res["worker"])
                    stats.done += 1
                    status = "done"
                finally:
                    fut.release()
                if time.perf_counter() - flushed > 2.0:
                    cat.flush()
                    flushed = time.perf_counter()
                if progress is not None:
                    progress({"run": r.run, "status": status, "done": stats.skipped + stats.done + stats.failed,
                              "total": stats.total})
        finally:
            cat.flush()
            for fut in [f for f, _ in futures.values()] + ([shared] if shared is not None else []):
                fut.release()
            if client is None:  # ours: the client, and the embedded cluster if we started one
                own.close()
                if cluster is not None:
                    cluster.close()
        stats.elapsed_s = time.perf_counter() - t0
    return stats


class SweepDir:
    """A sweep directory opened for reading: its record, catalogue, daily series and an xarray view."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        meta = self.path / "sweep.json"
        if not meta.exists():
            raise SweepError([("sweep directory", str(path), "has no sweep.json; run `scslab sweep` into it")])
        self.record = json.loads(meta.read_text())
        self.spec = SweepFile.model_validate(self.record["spec"], strict=False)

    def catalog(self):
        """The ``runs`` table (pandas) from ``catalog.duckdb``."""
        with Catalog(self.path / "catalog.duckdb", read_only=True) as cat:
            return cat.runs()

    @property
    def levels(self) -> set[str]:
        """Metrics that are levels (people in a state), as opposed to flows (events per day)."""
        return {m for m, kind in self.outcomes().values() if kind == "final"}

    def outcomes(self) -> dict[str, tuple[str, str]]:
        with Catalog(self.path / "catalog.duckdb", read_only=True) as cat:
            return cat.outcomes()

    def daily(self):
        """Every finished run's kept daily rows (``run, day, metric, group, value``) as one pandas DataFrame."""
        import duckdb

        files = sorted((self.path / "runs").glob("run-*.parquet"))
        if not files:
            raise SweepError([("sweep directory", str(self.path), "has no finished runs yet")])
        return duckdb.sql(f"SELECT * FROM read_parquet({[str(f) for f in files]!r}) ORDER BY run, metric, "
                          f"\"group\", day").to_arrow_table().to_pandas()

    def to_xarray(self, group: str = "all"):
        """An xarray Dataset with dims ``(run, day)``: one variable per kept metric for ``group`` (named as in
        the catalogue; the metric in its ``metric`` attribute), and each run's parameters, point, replicate
        and seed as coordinates along ``run``. Only finished runs are included."""
        import xarray as xr

        runs = self.catalog()
        done = runs[runs["status"] == "done"].set_index("run")
        daily = self.daily()
        daily = daily[daily["group"] == group]
        if daily.empty:
            raise SweepError([("group", group, f"no daily rows for this group; kept: {sorted(set(self.daily()['group']))}")])
        data = {}
        for metric, rows in daily.groupby("metric"):
            grid = rows.pivot(index="run", columns="day", values="value").reindex(done.index)
            data[column_name(metric)] = (("run", "day"), grid.to_numpy(), {"metric": metric, "units": "people"
                                         if metric in self.levels else "events per day"})
        coords = {"run": done.index.to_numpy(), "day": sorted(daily["day"].unique())}
        for col in list(self.spec.params) + ["point", "replicate", "seed"]:
            coords[col] = ("run", done[col].to_numpy())
        return xr.Dataset(data, coords=coords, attrs={"sweep": self.spec.sweep.name, "group": group})


def open_sweep(path: str | Path) -> SweepDir:
    """Open a sweep directory for reading."""
    return SweepDir(path)
