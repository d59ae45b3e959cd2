"""The Python API: ``simulate(scenario, ...) -> Result``."""

from __future__ import annotations

import datetime as _dt
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pyarrow as pa

from .engine import BACKENDS, DEFAULT_ENGINE, ENGINES
from .errors import BackendError, ScenarioError
from .scenarios.entities import PERSONS, scaled_sizes
from .scenarios.load import load_scenario
from .scenarios.schema import Scenario

__all__ = ["simulate", "ensemble", "Result", "ENGINES", "BACKENDS"]



@dataclass
class Result:
    """A finished run: tidy ``metrics`` and ``stories`` (pandas DataFrames), the ``manifest``, and ``save``."""

    metrics_table: pa.Table
    stories_table: pa.Table
    manifest: dict[str, Any]
    path: Path | None = None  # the run directory it was written to or read from (None: in memory only)
    # a stop (Ctrl-C, SIGTERM) came after the run's last stopping point: it finished and wrote its files
    stopped_late: bool = False
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def metrics(self):
        """One row per (day, metric, group): columns day, metric, group, value."""
        if "metrics" not in self._cache:
            self._cache["metrics"] = self.metrics_table.to_pandas()
        return self._cache["metrics"]

    @property
    def stories(self):
        """Event log of the sampled agents: day, agent, event, behaviour, channel, points, score_after, reason."""
        if "stories" not in self._cache:
            self._cache["stories"] = self.stories_table.to_pandas()
        return self._cache["stories"]

    def series(self, metric: str, group: str = "all"):
        """The daily values of one metric for one group, indexed by day.

        An unknown ``metric`` or ``group`` is a KeyError that suggests the nearest names (all of them are in
        ``result.metrics["metric"].unique()`` and ``result.metrics["group"].unique()``)."""
        m = self.metrics
        sel = m[(m["metric"] == metric) & (m["group"] == group)]
        if sel.empty:
            raise KeyError(self._unknown(metric, group))
        return sel.set_index("day")["value"]

    def _unknown(self, metric: str, group: str) -> str:
        """Why ``series(metric, group)`` found nothing, with the nearest names instead of all of them."""
        import difflib

        m = self.metrics
        metrics = sorted(set(m["metric"]))
        if metric not in metrics:
            what, name, known, column = "metric", metric, metrics, "metric"
        else:
            what, name, known, column = "group", group, sorted(set(m.loc[m["metric"] == metric, "group"])), "group"
        near = difflib.get_close_matches(str(name), known, n=4, cutoff=0.6)
        hint = f"none is close among the {len(known)} {what}s."
        if near:
            hint = f"did you mean {near[0]!r}?" + (f" Also near: {', '.join(map(repr, near[1:]))}." if near[1:] else "")
        where = "" if what == "metric" else f" for metric {metric!r}"
        return f"no {what} {name!r}{where}; {hint} All of them: result.metrics[{column!r}].unique()"

    def final(self, metric: str, group: str = "all") -> int:
        """Value of ``metric`` for ``group`` on the last day."""
        return int(self.series(metric, group).iloc[-1])

    def summary(self) -> dict[str, int]:
        """Final-day headline numbers: tiers, listed, sanctioned, wrongly listed, network penalties, ostracism's
        shunned people and the ties dropped, the people aware of the scheme; with an economy, people out of work
        and debts owed, and the totals of jobs lost, income lost, sums repaid and fines; for entity
        types (prefixed ``firms.``) the same and their linked persons; measures in force per agency. Read from
        the Arrow table (a tenth of the time through pandas, which a command's summary would wait for)."""
        import pyarrow.compute as pc

        from .arrow import numbers, strings
        from .populations import split_metric

        t = self.metrics_table
        # (the string "all" as an Arrow scalar, and sums by NumPy: PyArrow converting "all" itself, or its
        # group-by, would load pandas, a tenth of a second of a command)
        everyone = t.filter(pc.equal(t["group"], strings(["all"])[0]))
        day, value = numbers(everyone["day"]), numbers(everyone["value"])
        metric = everyone["metric"].combine_chunks().dictionary_encode()
        names, which = metric.dictionary.to_pylist(), numbers(metric.indices)
        out = {}
        last = day == day.max() if len(day) else np.zeros(0, bool)
        for k, v in zip(which[last].tolist(), value[last].tolist()):
            base = split_metric(names[k])[1]
            if base.startswith(("tier:", "listed:", "innocent_listed:", "sanctioned:", "rewarded:", "linked:",
                                "through_link:", "agency:", "under_agencies:")) or base in ("sanctioned_by_ties", "shunned", "lost_ties",
                                                        "lost_ties_no_act", "aware", "out_of_work",
                                                        "debt_owed_yuan"):
                out[names[k]] = int(v)
        totals = np.zeros(len(names), np.int64)
        np.add.at(totals, which, value)
        sums = dict(sorted(zip(names, totals.tolist())))  # by name
        for name, value in sums.items():
            if split_metric(name)[1].startswith(("blocked:", "granted:", "linked_blocked:", "linked_granted:",
                                                 "through_link_blocked:", "through_link_granted:",
                                                 "agency_attempts:")):
                out[f"{name} (total)"] = int(value)
        out["network_penalties (total)"] = int(sums.get("network_penalties", 0))
        if "ties_dropped" in sums:  # ostracism
            out["ties_dropped (total)"] = int(sums["ties_dropped"])
        for name in ("jobs_lost", "income_lost_yuan", "repaid_yuan", "fines_yuan", "fines_wrongful_yuan"):
            if name in sums:  # the economy: income lost is the daily loss summed over the days
                out[f"{name} (total)"] = int(sums[name])
        out["false attributions (total)"] = int(sum(v for k, v in sums.items() if k.startswith("false:")))
        return out

    def save(self, out: str | Path, *, force: bool = False) -> Path:
        """Write the run directory ``out`` (atomically) and return its path, also kept as ``path``.

        An existing folder is refused unless ``force=True``, and even then replaced only when it is a
        scslab run directory or empty (a RunDirError says why, in the API's words)."""
        from .errors import CapacityError, RunDirError
        from .output.rundir import write_run

        try:
            self.path = write_run(out, self.metrics_table, self.stories_table, self.manifest, force=force)
        except RunDirError as exc:
            raise RunDirError(self._api_wording(str(exc))) from None
        except CapacityError as exc:  # not enough disk
            raise CapacityError(self._api_wording(str(exc)), needed_bytes=exc.needed_bytes,
                                available_bytes=exc.available_bytes) from None
        return self.path

    @staticmethod
    def _api_wording(message: str) -> str:
        """A run directory's refusal, worded for ``save(out, force=True)`` instead of the command line's
        ``--out`` and ``--force``."""
        return message.replace("--force", "force=True").replace("another --out", "another out").replace("--out", "out")

    def __repr__(self) -> str:
        m = self.manifest
        agents = f"{m.get('population', 0):,} agents"
        entities = m.get("entities") or {}
        if entities:
            agents = agents.replace("agents", "persons") + "".join(
                f" + {e.get('population', 0):,} {name}" for name, e in entities.items())
        where = f"saved in {str(self.path)!r}" if self.path is not None else "in memory (save(path) writes it)"
        return (f"<scslab.Result {m.get('name', '?')}: {agents} x {m.get('days', '?')} days, "
                f"seed {m.get('seed', '?')}, engine {m.get('engine', '?')}, {m.get('route', '?')} scheduler; {where}>")

    def _repr_html_(self) -> str:
        """A notebook's view: the repr's facts and the final-day summary as a small table."""
        import html

        rows = "".join(f"<tr><td style='text-align:left'>{html.escape(k)}</td><td>{v:,}</td></tr>"
                       for k, v in self.summary().items())
        return (f"<div class='scslab-result'><p>{html.escape(repr(self)[1:-1])}</p>"
                f"<table><thead><tr><th style='text-align:left'>final day</th><th>value</th></tr></thead>"
                f"<tbody>{rows}</tbody></table></div>")

    @classmethod
    def load(cls, path: str | Path) -> "Result":
        """Read the complete run directory at ``path`` (a RunDirError if it is incomplete)."""
        from .output.rundir import read_run

        metrics, stories, manifest = read_run(path)
        return cls(metrics, stories, manifest, Path(path))


def check_args(engine: str, backend: str, **values: int | None) -> None:
    """Refuse an unknown engine or backend, or a run-level number that is not a positive integer."""
    if engine not in ENGINES:
        raise BackendError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    if backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    for name, value in values.items():
        problem = arg_problem(name, value)
        if problem is not None:
            raise ScenarioError([(name, value, problem)])


def arg_limits(name: str) -> tuple[int, int | None]:
    """The allowed range ``(low, high)`` of a run-level number (``high`` None: no upper bound); population,
    days and seed take theirs from the scenario schema, so every way of giving them is held to one range."""
    from .scenarios.schema import Population, Run

    field = {"population": Population.model_fields["size"], "days": Run.model_fields["days"],
             "seed": Run.model_fields["seed"], "checkpoint_every": Run.model_fields["days"]}.get(name)
    if field is None:
        return (0 if name == "seed" else 1), None
    low = next(m.ge for m in field.metadata if getattr(m, "ge", None) is not None)
    high = next(m.le for m in field.metadata if getattr(m, "le", None) is not None)
    return low, high


def arg_problem(name: str, value: object) -> str | None:
    """What is wrong with ``value`` for the run-level number ``name`` (None: nothing), one wording for every
    bad value: ``must be an integer from 1 to 2,000,000,000``."""
    if value is None:
        return None
    low, high = arg_limits(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        return f"must be an integer from {low:,} to {high:,}" if high is not None else f"must be an integer >= {low}"
    return None


def resolve_scenario(scenario, population, days, seed, overrides) -> Scenario:
    """The scenario with overrides, population, days and seed applied, validated through the schema."""
    s = load_scenario(scenario, overrides)
    if population is not None or days is not None or seed is not None:
        data = s.model_dump(mode="python")
        scaled_sizes(data, population if population is not None else s.population.size)
        data["run"]["days"] = days if days is not None else s.run.days
        data["run"]["seed"] = seed if seed is not None else s.run.seed
        s = load_scenario(data)
    return s


def warn_scenario(s: Scenario) -> None:
    """Warn (ScenarioWarning) about what the scenario allows but probably does not mean."""
    import warnings

    from .errors import ScenarioWarning
    from .scenarios.checks import scenario_warnings

    for text in scenario_warnings(s):
        warnings.warn(text, ScenarioWarning, stacklevel=3)


def run_manifest(s: Scenario, plan, engine: str, route: str, backend: str, threads: int | None,
              chunk: int | None) -> dict:
    """The manifest of a run of ``plan`` asked for with ``engine`` and run by the scheduler ``route``."""
    import numba
    import numpy

    from . import __version__
    from .engine.budget import estimate_bytes
    from .engine.state import bytes_per_agent

    manifest = {
        "scslab_version": __version__,
        "scenario": s.model_dump(mode="json"),
        "name": s.meta.name,
        "seed": plan.seed,
        "population": plan.size,
        "days": plan.days,
        "engine": engine,
        "route": route,
        "backend": backend,
        # the threads the engine uses: a request above numba's pool (the cores) runs on the pool
        "threads": min(threads, numba.config.NUMBA_NUM_THREADS) if threads else numba.get_num_threads(),
        "chunk": chunk,
        "bytes_per_agent": bytes_per_agent(plan),
        "memory_estimate_bytes": estimate_bytes(plan, engine=route),
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        "versions": {"numpy": numpy.__version__, "numba": numba.__version__, "pyarrow": pa.__version__,
                     "python": platform.python_version()},
        "status": "in memory",
    }
    if backend == "gpu":  # the device, and what the run holds on it
        from importlib.metadata import PackageNotFoundError, version

        from .engine.gpu import device_bytes, device_name

        manifest.update(device=device_name(), device_memory_estimate_bytes=device_bytes(plan, chunk))
        try:
            manifest["versions"]["numba-cuda"] = version("numba-cuda")
        except PackageNotFoundError:  # numba's own CUDA target
            pass
    return manifest


def make_result(plan, raw, manifest: dict, elapsed: float) -> Result:
    """Tables from the raw counts, and the manifest completed with times and story agents. Entity types'
    rows follow the persons' (``populations``: prefixed metrics, linked persons, joint punishment)."""
    from .metrics import metrics_table, stories_table
    from .engine.routes import entity_route
    from .populations import adult_of, agency_table, linked_counts, linked_stories, metric_kinds, prefixed
    from .through_links import appended, split_records, through_link_counts, without_own_attempts

    persons_plan, persons_counts = without_own_attempts(plan, raw.counts)
    metrics = [metrics_table(persons_plan, persons_counts, raw.coverage, raw.score_hist)]
    linked = [linked_stories(plan, name, raw.entities[name].stories) for name in plan.entities]
    own_rows, link_rows = split_records(raw.stories)  # (a person's listing that falls on its linked entities)
    through = through_link_counts(plan, link_rows, {n: raw.entities[n].columns.traits for n in plan.entities},
                                  adult_of(plan))
    persons_rows = np.concatenate([own_rows] + [rows for _, rows in linked]) if linked else own_rows
    stories = [stories_table(plan, persons_rows, raw.story_ids, raw.story_scores)]
    counted = {PERSONS: (persons_plan, persons_counts)}
    entities = {}
    for (name, sub), (own, _) in zip(plan.entities.items(), linked):
        r = raw.entities[name]
        sub_plan, counts = appended(*linked_counts(sub, r.counts), through.get(name))
        counted[name] = (sub_plan, counts)
        metrics.append(prefixed(metrics_table(sub_plan, counts, r.coverage, r.score_hist), name))
        stories.append(stories_table(sub, own, r.story_ids, r.story_scores, population=name))
        entities[name] = {"population": sub.size, "seed": sub.seed, "route": entity_route(sub, manifest["route"]),
                          "story_agents": [int(a) for a in r.story_ids],
                          "story_roles": _story_roles(sub, r, plan.scenario.entities[name].kind),
                          "story_links": _story_links(plan, name, r.story_ids)}
    joint = agency_table(counted)
    if joint is not None:
        metrics.append(joint)
    metrics_t = metrics[0] if len(metrics) == 1 else _by_day(pa.concat_tables(metrics))
    stories_t = stories[0] if len(stories) == 1 else _by_day(pa.concat_tables(stories))
    agents = plan.size + sum(p.size for p in plan.entities.values())
    manifest = {**manifest, "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                "elapsed_s": round(elapsed, 3),
                "agent_days_per_s": round(agents * plan.days / max(elapsed, 1e-9)),
                "story_agents": [int(a) for a in raw.story_ids], "story_roles": _story_roles(plan, raw),
                "level_metrics": [n for n, kind in metric_kinds(plan).items() if kind == "final"]}
    if entities:
        manifest["entities"] = entities
    return Result(metrics_t, stories_t, manifest)


def _story_roles(plan, raw, noun: str = "citizen") -> dict[str, str]:
    """The role of each sampled agent (``sampled`` for the places filled in hash order); ``noun`` names what
    the agents are ("model firm"). Roles depend only on traits and fixed flags, so the finished columns give
    the same picks as the first day's."""
    from .engine.stories import pick_story_agents

    picked = dict(pick_story_agents(plan, raw.columns.traits, raw.columns.flags, plan.scenario.run.story_agents,
                                    noun=noun))
    return {str(a): picked.get(int(a), "sampled") for a in raw.story_ids}


def _story_links(plan, name: str, ids) -> dict[str, dict[str, list[int]]]:
    """The persons linked to the sampled entities: ``{link: {entity id: [person ids]}}``."""
    from .populations import adult_of
    from .scenarios.entities import linked_persons

    s, sub = plan.scenario, plan.entities[name]
    out = {}
    for link in s.entities[name].links:
        persons = linked_persons(s, name, link, np.asarray(ids, np.int64), region_starts=plan.region_starts,
                                 entity_region_starts=sub.region_starts, adult=adult_of(plan))
        out[link] = {str(int(a)): [int(p) for p in row] for a, row in zip(ids, persons)}
    return out




def _by_day(table: pa.Table) -> pa.Table:
    """Rows ordered by day, keeping each population's own order within a day (a stable sort)."""
    from .arrow import array, numbers

    return table.take(array(np.argsort(numbers(table["day"]), kind="stable"), pa.int64()))


def simulate(scenario: str | Path | Mapping[str, Any] | Scenario, *, population: int | None = None,
             days: int | None = None, seed: int | None = None, threads: int | None = None,
             overrides: Mapping[str, Any] | list[str] | None = None, engine: str = DEFAULT_ENGINE, backend: str = "cpu",
             chunk: int | None = None, progress: Callable[[int], None] | None = None) -> Result:
    """Run a scenario in memory and return its :class:`Result` (see :func:`scslab.run` to write a run directory).

    ``scenario`` is a preset name, a TOML path, a dict or a :class:`Scenario`; ``population``, ``days`` and
    ``seed`` override the scenario's own; ``overrides`` maps dotted paths to values. ``threads`` caps the
    CPU threads (default: all). ``engine`` is ``"auto"`` (the fastest scheduler that can run the scenario),
    ``"windowed"``, ``"lazy"`` or ``"dense"`` (same laws; see the engine page of the docs; one that cannot run
    the scenario is refused with what it lacks) and ``backend`` the hardware: ``"cpu"``, or ``"gpu"`` (the
    dense scheduler on a CUDA device, the same results; it needs ``scslab[gpu]`` and a GPU, and is refused at
    once without them). ``chunk`` is the number of agents per parallel work item of the dense engine (results
    do not depend on it). ``progress`` is called with each finished day.
    """
    check_args(engine, backend, population=population, days=days, seed=seed, threads=threads, chunk=chunk)
    s = resolve_scenario(scenario, population, days, seed, overrides)
    warn_scenario(s)
    from .compile import compile_plan
    from .engine.budget import fits
    from .engine.cpu import prepare, run_cpu
    from .engine.routes import choose_route

    plan = compile_plan(s)
    route = choose_route(plan, engine, fits=lambda r: fits(plan, r), backend=backend)
    work = prepare(backend, plan, chunk)
    manifest = run_manifest(s, plan, engine, route, backend, threads, chunk)
    t0 = time.perf_counter()
    raw = run_cpu(plan, threads=threads, chunk=work, progress=progress, engine=route, backend=backend)
    return make_result(plan, raw, manifest, time.perf_counter() - t0)


def ensemble(scenario: str | Path | Mapping[str, Any] | Scenario, replicates: int, *, population: int | None = None,
             days: int | None = None, seed: int | None = None, threads: int | None = None,
             overrides: Mapping[str, Any] | list[str] | None = None, engine: str = DEFAULT_ENGINE,
             backend: str = "cpu", chunk: int | None = None,
             progress: Callable[[int], None] | None = None) -> list[Result]:
    """Run ``scenario`` under ``replicates`` seeds (its seed, then the next ones: ``seed``, ``seed + 1``...) and
    return one :class:`Result` per seed, in order; each equals ``simulate`` with that seed, value for value.

    ``population``, ``days``, ``threads``, ``overrides``, ``engine``, ``backend`` and ``chunk`` are as for
    :func:`simulate`. On the CPU the replicates run one after another; with
    ``backend="gpu"`` all at once on the device, each pass of every replicate in one launch (the whole
    ensemble must fit in the device's memory, else it is refused with the estimate). Each manifest holds its
    replicate's place and the ensemble's time (``ensemble``); its ``elapsed_s`` is its share of that time.
    ``progress(k)`` says that k + 1 of the ``replicates x days`` replicate-days are done.
    """
    check_args(engine, backend, population=population, days=days, seed=seed, threads=threads, chunk=chunk,
               replicates=replicates)
    first = resolve_scenario(scenario, population, days, seed, overrides)
    warn_scenario(first)
    from .compile import compile_plan
    from .engine.budget import fits
    from .engine.cpu import run_replicates
    from .engine.routes import choose_route

    seeds = [first.run.seed + r for r in range(replicates)]
    scenarios = [first.model_copy(update={"run": first.run.model_copy(update={"seed": s})}) for s in seeds]
    plans = [compile_plan(s) for s in scenarios]
    route = choose_route(plans[0], engine, fits=lambda r: fits(plans[0], r), backend=backend)
    t0 = time.perf_counter()
    raws = run_replicates(plans, backend=backend, threads=threads, chunk=chunk, progress=progress, engine=route)
    elapsed = time.perf_counter() - t0
    results = []
    for r, (s, plan, raw) in enumerate(zip(scenarios, plans, raws)):
        manifest = run_manifest(s, plan, engine, route, backend, threads, chunk)
        manifest["ensemble"] = {"replicate": r, "replicates": replicates, "seeds": seeds,
                                "elapsed_s": round(elapsed, 3)}
        results.append(make_result(plan, raw, manifest, elapsed / replicates))
    return results
