"""The sweep catalogue: one DuckDB table of runs, their parameters and summary outcomes.

``DIR/catalog.duckdb`` holds

- ``runs``: one row per run: ``run, point, replicate, seed, status ('pending' | 'done' | 'failed'), error
  and attempts (of a failed run), elapsed_s, worker, finished, path``, one column per varied parameter (named as in the sweep
  file) and one column per outcome (added as runs report them).
- ``outcomes``: what each outcome column means: its metric and whether it is the final-day value of a level
  (people in a state) or the run total of a flow (events).

Outcome columns are the metric name with every character outside ``[A-Za-z0-9_]`` turned into ``_``:
``listed:blacklist`` becomes ``listed_blacklist`` (final-day value), ``blocked:flight_ban`` becomes
``blocked_flight_ban`` (total over the run). Each run's kept daily series is ``DIR/runs/run-NNNNNN.parquet``
(columns ``run, day, metric, group, value``), named in ``path`` relative to ``DIR``.

Only the process that runs the sweep writes the catalogue. Finished runs are written in one transaction at
most every 2 seconds (and at the end, and on Ctrl-C), so an interrupted sweep keeps every run it finished,
except, when the driver process itself is killed, the last 2 seconds': those are simply run again on resume.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Catalog", "column_name", "RUN_COLUMNS"]

RUN_COLUMNS = ("run", "point", "replicate", "seed", "status", "error", "attempts", "elapsed_s", "worker",
               "finished", "path")
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def column_name(metric: str) -> str:
    """The catalogue column of an outcome: ``listed:blacklist`` -> ``listed_blacklist``."""
    return _UNSAFE.sub("_", metric)


def _sql_type(values: Iterable[Any]) -> str:
    values = list(values)
    if all(isinstance(v, bool) for v in values):
        return "BOOLEAN"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "BIGINT"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "DOUBLE"
    return "VARCHAR"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Catalog:
    """The DuckDB catalogue of one sweep directory (opened read-write by the sweep, read-only by readers)."""

    def __init__(self, path: str | Path, *, read_only: bool = False):
        import duckdb

        self.path = Path(path)
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        self._known: set[str] | None = None  # outcome columns already in the table
        self._done: list[dict] = []  # finished runs not yet written
        self._failed: list[tuple] = []

    def close(self) -> None:
        self.flush()
        self.con.close()

    def __enter__(self) -> "Catalog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------------------------------------- writing
    def create(self, runs, params: dict[str, list[Any]], outcomes: dict[str, str] | None = None) -> None:
        """Create the tables (if new) and add a pending row for each run not yet in ``runs``.

        ``outcomes`` maps the metrics known in advance to their kind; their columns are made at once."""
        outcomes = outcomes or {}
        cols = [f"{_quote(n)} {_sql_type(v)}" for n, v in params.items()]
        cols += [f"{_quote(column_name(m))} BIGINT" for m in outcomes]
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS runs (run BIGINT PRIMARY KEY, point BIGINT, replicate BIGINT, seed UBIGINT, "
            "status VARCHAR, error VARCHAR, attempts INTEGER, elapsed_s DOUBLE, worker VARCHAR, "
            f"finished TIMESTAMPTZ, path VARCHAR{''.join(', ' + c for c in cols)})")
        exists = self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'outcomes'")
        if not exists.fetchone()[0]:
            self.con.execute("CREATE TABLE outcomes (name VARCHAR PRIMARY KEY, metric VARCHAR, kind VARCHAR)")
            if outcomes:  # one INSERT of a whole Arrow table (``executemany`` costs ~5 ms a row)
                self._insert("outcomes", {"name": [column_name(m) for m in outcomes], "metric": list(outcomes),
                                          "kind": list(outcomes.values())})
        known = {r[0] for r in self.con.execute("SELECT run FROM runs").fetchall()}
        new = [r for r in runs if r.run not in known]
        if new:
            import pyarrow as pa

            arrow = {"BOOLEAN": pa.bool_(), "BIGINT": pa.int64(), "DOUBLE": pa.float64()}
            columns = {"run": pa.array([r.run for r in new], pa.int64()),
                       "point": pa.array([r.point for r in new], pa.int64()),
                       "replicate": pa.array([r.replicate for r in new], pa.int64()),
                       "seed": pa.array([r.seed for r in new], pa.uint64()),
                       "status": pa.array(["pending"] * len(new), pa.string())}
            for n, v in params.items():
                kind = _sql_type(v)
                values = [r.values[n] for r in new]
                columns[n] = (pa.array([None if x is None else str(x) for x in values], pa.string())
                              if kind == "VARCHAR" else pa.array(values, arrow[kind]))
            self._insert("runs", columns)

    def _insert(self, table: str, columns: dict[str, Any]) -> None:
        import pyarrow as pa

        names = ", ".join(_quote(n) for n in columns)
        with self._registered("new_rows", pa.table(columns)):
            self.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM new_rows")

    @contextmanager
    def _registered(self, name: str, table):
        """``table`` (Arrow) readable as ``name`` in SQL while the block runs."""
        self.con.register(name, table)
        try:
            yield
        finally:
            self.con.unregister(name)

    def _ensure_outcomes(self, outcomes: dict[str, tuple[str, str]]) -> None:
        if self._known is None:
            self._known = {r[0] for r in self.con.execute("SELECT name FROM outcomes").fetchall()}
        for name, (metric, kind) in outcomes.items():
            if name not in self._known:
                self.con.execute(f"ALTER TABLE runs ADD COLUMN {_quote(name)} BIGINT")
                self.con.execute("INSERT INTO outcomes VALUES (?, ?, ?)", [name, metric, kind])
                self._known.add(name)

    def record_done(self, run: int, *, outcomes: dict[str, int], kinds: dict[str, tuple[str, str]],
                    elapsed_s: float, worker: str, path: str) -> None:
        """Mark ``run`` done with its outcomes (adding outcome columns the catalogue does not have yet).

        Rows are queued and written by :meth:`flush`."""
        self._ensure_outcomes(kinds)
        self._done.append({"run": run, "elapsed_s": elapsed_s, "worker": worker, "path": path, **outcomes})

    def record_failed(self, run: int, *, error: str, attempts: int) -> None:
        """Mark ``run`` failed with the error text of its last attempt (queued, like :meth:`record_done`)."""
        self._failed.append((error, attempts, run))

    def flush(self) -> None:
        """Write the queued rows in one transaction: one ``UPDATE ... FROM`` per set of outcome columns."""
        if not self._done and not self._failed:
            return
        import pyarrow as pa

        self.con.execute("BEGIN TRANSACTION")
        by_columns: dict[tuple, list[dict]] = {}
        for row in self._done:
            by_columns.setdefault(tuple(row), []).append(row)
        for columns, rows in by_columns.items():
            sets = ", ".join(f"{_quote(c)} = b.{_quote(c)}" for c in columns if c != "run")
            with self._registered("finished_batch", pa.Table.from_pylist(rows)):
                self.con.execute(f"UPDATE runs SET status = 'done', error = NULL, attempts = NULL, finished = now(), "
                                 f"{sets} FROM finished_batch b WHERE runs.run = b.run")
        for params in self._failed:
            self.con.execute("UPDATE runs SET status = 'failed', error = ?, attempts = ?, finished = now() "
                             "WHERE run = ?", list(params))
        self.con.execute("COMMIT")
        self._done.clear()
        self._failed.clear()

    # -------------------------------------------------------------------------------------------- reading
    def done(self) -> set[int]:
        self.flush()
        return {r[0] for r in self.con.execute("SELECT run FROM runs WHERE status = 'done'").fetchall()}

    def counts(self) -> dict[str, int]:
        return dict(self.con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())

    def runs(self):
        """The ``runs`` table as a pandas DataFrame, ordered by run."""
        return self.con.sql("SELECT * FROM runs ORDER BY run").to_arrow_table().to_pandas()

    def outcomes(self) -> dict[str, tuple[str, str]]:
        """``{column: (metric, kind)}`` for every outcome column."""
        rows = self.con.execute("SELECT name, metric, kind FROM outcomes ORDER BY name").fetchall()
        return {n: (m, k) for n, m, k in rows}
