"""Sweep files: a base scenario, the parameters to vary, a design, replicates and what to keep.

A sweep file is TOML with three tables::

    [sweep]                      # the runs
    name = "detect_vs_points"
    base = "press-2018"          # preset name or scenario path (relative to the sweep file)
    population = 100_000
    days = 365
    replicates = 2
    seed = 0
    outputs = ["listed:blacklist", "network_penalties"]   # daily series kept per run ([] = all)

    [design]
    kind = "sobol"               # grid | lhs | sobol | morris
    samples = 64

    [params.detect]              # one table per varied parameter
    path = "channels.cameras.detect"
    range = [0.5, 0.99]

:func:`load_sweep` validates the file strictly (unknown keys, bad ranges, paths that name nothing in the base
scenario, values the scenario schema refuses) and raises :class:`~scslab.errors.SweepError` listing every
problem. :func:`plan_runs` turns a valid sweep into its runs: design points times replicates, each with its
scenario overrides and its seed.

**Seeds.** Run ``k`` (point ``p``, replicate ``r``) gets ``seed = derive_seed(sweep.seed, r)`` when
``seeds = "common"`` (the default: every design point sees the same random numbers in replicate ``r``, so
differences between points are the parameters', not noise), or ``derive_seed(sweep.seed, k)`` when
``seeds = "independent"``. ``derive_seed(s, i)`` is the first 63-bit word of NumPy's
``SeedSequence([s, i])``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..engine import DEFAULT_ENGINE, ENGINES
from ..errors import ScenarioError, SweepError
from ..scenarios.schema import NAME_PATTERN

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["SweepFile", "Sweep", "Design", "Param", "RunSpec", "load_sweep", "plan_runs", "derive_seed",
           "DESIGNS"]

DESIGNS = ("grid", "lhs", "sobol", "morris")
MAX_RUNS = 1_000_000
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
Scalar = bool | int | float | str


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True)


class Param(_Strict):
    """One varied parameter: a dotted path into the scenario and its values or range."""

    path: str = Field(min_length=1)
    """Dotted path into the scenario, as for ``--set`` (``behaviours.jaywalking.points``)."""
    values: list[Scalar] | None = Field(default=None, min_length=1)
    """Explicit values (grid designs only)."""
    range: list[float] | None = Field(default=None, min_length=2, max_length=2)
    """``[low, high]``: sampled by lhs, sobol and morris; split into ``steps`` values by grid."""
    steps: Annotated[int, Field(ge=2, le=10_000)] | None = None
    """Grid over ``range``: this many evenly spaced values, ends included."""
    integer: bool = False
    """Round sampled values to integers (points, days, sizes)."""
    log: bool = False
    """Sample uniformly in log space (``range`` must be positive)."""


class Design(_Strict):
    """How design points are chosen."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = "grid"
    """grid: every combination; lhs: Latin hypercube; sobol: Saltelli's scheme (SALib); morris: trajectories."""
    samples: Annotated[int, Field(ge=1, le=MAX_RUNS)] | None = None
    """lhs: points; sobol: base sample N (N*(D+2) points, N*(2D+2) with second order); morris: trajectories."""
    levels: Annotated[int, Field(ge=2, le=64)] = 4
    """Morris grid levels."""
    second_order: bool = False
    """Sobol: also estimate second-order indices (more runs)."""


class Sweep(_Strict):
    """The runs: base scenario, size, replicates, seeds and what each run keeps."""

    name: Name
    """Sweep name."""
    base: str = Field(min_length=1)
    """Preset name or scenario TOML path (relative to the sweep file)."""
    set: dict[str, Scalar | list[Scalar] | dict[str, Scalar]] = {}
    """Fixed overrides applied to every run (dotted paths, as for ``--set``)."""
    population: Annotated[int, Field(ge=1)] | None = None
    """Agents per run (default: the scenario's)."""
    days: Annotated[int, Field(ge=1)] | None = None
    """Days per run (default: the scenario's)."""
    replicates: Annotated[int, Field(ge=1, le=10_000)] = 1
    """Runs per design point, each with its own seed."""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    """Sweep seed: every run's seed and the design's random draws derive from it."""
    seeds: Literal["common", "independent"] = "common"
    """common: replicate r has the same seed at every point; independent: a seed per run."""
    outputs: list[str] = []
    """Metrics whose daily series each run keeps (group-level rows too); [] keeps all."""
    groups: list[str] = ["all"]
    """Groups kept in the daily series (``all``, ``region:...``, ``group:...``, ``class:...``); [] keeps all."""
    engine: str = DEFAULT_ENGINE
    """CPU engine of every run."""
    threads: Annotated[int, Field(ge=1, le=1024)] = 1
    """Numba threads per run (one run per Dask worker thread)."""
    retries: Annotated[int, Field(ge=0, le=10)] = 1
    """A failed run is tried again this many times, then recorded with its error."""


class SweepFile(_Strict):
    """A whole sweep file."""

    sweep: Sweep
    design: Design = Design()
    params: dict[Name, Param] = Field(min_length=1, max_length=64)


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its number, design point, replicate, seed and scenario overrides."""

    run: int
    point: int
    replicate: int
    seed: int
    values: dict[str, Any]
    overrides: dict[str, Any]


def derive_seed(sweep_seed: int, index: int) -> int:
    """The seed of stream ``index`` of a sweep: first 63-bit word of ``SeedSequence([sweep_seed, index])``."""
    word = np.random.SeedSequence([int(sweep_seed), int(index)]).generate_state(1, np.uint64)[0]
    return int(word >> np.uint64(1))


def _cross_check(f: SweepFile) -> list[tuple[str, object, str]]:
    problems: list[tuple[str, object, str]] = []
    kind = f.design.kind
    if f.sweep.engine not in ENGINES:
        problems.append(("sweep.engine", f.sweep.engine, f"unknown engine; allowed: {', '.join(ENGINES)}"))
    for name, p in f.params.items():
        where = f"params.{name}"
        if (p.values is None) == (p.range is None):
            problems.append((where, None, "give exactly one of values or range"))
            continue
        if p.values is not None and kind != "grid":
            problems.append((f"{where}.values", p.values, f"explicit values need design kind 'grid' (this is "
                                                          f"{kind!r}); give a range instead"))
        if p.range is not None:
            low, high = p.range
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                problems.append((f"{where}.range", list(p.range), "must be [low, high] with low < high"))
            elif p.log and low <= 0:
                problems.append((f"{where}.range", list(p.range), "log sampling needs a positive range"))
            if kind == "grid" and p.steps is None:
                problems.append((f"{where}.steps", None, "a grid over a range needs steps (>= 2)"))
        if p.steps is not None and (kind != "grid" or p.range is None):
            problems.append((f"{where}.steps", p.steps, "steps applies to a grid over a range only"))
    if kind in ("lhs", "sobol", "morris") and f.design.samples is None:
        problems.append(("design.samples", None, f"design kind {kind!r} needs samples"))
    if kind == "grid" and f.design.samples is not None:
        problems.append(("design.samples", f.design.samples, "a grid takes no samples; it runs every combination"))
    if kind == "morris" and f.design.levels % 2:
        problems.append(("design.levels", f.design.levels, "Morris levels must be even"))
    return problems


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError([("file", str(path), f"cannot be read: {exc.strerror or exc}")]) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SweepError([("file", str(path), f"is not valid UTF-8 TOML: {exc}")]) from None


def load_sweep(source: str | Path | Mapping[str, Any], *, root: Path | None = None) -> tuple[SweepFile, dict]:
    """Validate a sweep file (path or dict) and return it with its base scenario, resolved to a plain dict.

    Every design point is applied to the base scenario and validated, so a value the scenario refuses is
    reported now, with its point, before any run starts.
    """
    from ..scenarios.load import validation_problems, find_preset, load_scenario, preset_names, unknown_preset

    label = None
    if isinstance(source, Mapping):
        data = dict(source)
        root = root or Path.cwd()
    else:
        path = Path(source)
        data, label, root = _read(path), str(path), root or path.parent
    try:
        spec = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise SweepError(validation_problems(exc, SweepFile), source=label) from None
    problems = _cross_check(spec)
    if problems:
        raise SweepError(problems, source=label)
    base = spec.sweep.base
    if base not in preset_names():
        candidate = (root / base) if not Path(base).is_absolute() else Path(base)
        if not candidate.exists():
            if find_preset(base) is None:  # press_2018, as run names spell it, is press-2018
                raise SweepError([("sweep.base", base, f"no such file and no such preset; "
                                                        f"{unknown_preset(base)}")], source=label)
            base = find_preset(base)
        else:
            base = str(candidate)
    try:
        scenario = load_scenario(base, dict(spec.sweep.set) or None)
    except ScenarioError as exc:
        raise SweepError([(f"sweep.base ({p})" if p else "sweep.base", v, m) for p, v, m in exc.problems],
                         source=label) from None
    base_data = scenario.model_dump(mode="json")
    from ..scenarios.load import apply_overrides

    problems = []
    for name, p in spec.params.items():
        try:
            apply_overrides(base_data, {p.path: None}, must_exist=True, where=f"params.{name}.path")
        except ScenarioError as exc:
            problems += exc.problems
    kinds, groups = metric_kinds(base_data)
    for field, asked, known in (("outputs", spec.sweep.outputs, kinds), ("groups", spec.sweep.groups, groups)):
        unknown = [x for x in asked if x not in known]
        if unknown:
            problems.append((f"sweep.{field}", unknown, f"not in this scenario; allowed: {', '.join(known)}"))
    if problems:
        raise SweepError(problems, source=label)
    for i, values in enumerate(design_points(spec)):
        try:
            load_scenario(base_data, _overrides(spec, values))
        except ScenarioError as exc:
            problems += [(f"design point {i} {values}: {p}", v, m) for p, v, m in exc.problems]
        if len(problems) >= 10:
            break
    if problems:
        raise SweepError(problems, source=label)
    return spec, base_data


def metric_kinds(base: dict) -> tuple[dict[str, str], list[str]]:
    """Every metric of the scenario with its kind (``final`` for levels, ``total`` for flows), and its groups.

    Structure alone decides both, so the scenario is compiled for a handful of agents."""
    from ..compile import compile_plan
    from ..metrics import group_labels
    from ..populations import metric_kinds as kinds_of
    from ..scenarios.load import load_scenario

    plan = compile_plan(load_scenario(base), size=min(64, int(base["population"]["size"])))
    groups = list(dict.fromkeys(g for p in [plan, *plan.entities.values()] for g in group_labels(p)))
    return kinds_of(plan), groups


def _overrides(spec: SweepFile, values: Mapping[str, Any]) -> dict[str, Any]:
    return {spec.params[name].path: value for name, value in values.items()}


def problem(spec: SweepFile) -> dict[str, Any]:
    """The SALib problem of the ranged parameters: names and bounds (log-space bounds for log parameters)."""
    names = [n for n, p in spec.params.items() if p.range is not None]
    bounds = [[math.log(spec.params[n].range[0]), math.log(spec.params[n].range[1])] if spec.params[n].log
              else list(spec.params[n].range) for n in names]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _unit_sample(spec: SweepFile) -> np.ndarray:
    """The design's raw sample [points, ranged params], in problem space (log space for log parameters)."""
    try:
        from SALib.sample import latin, morris, sobol
    except ImportError:  # the sweep extra is not installed
        from ..errors import BackendError
        from ..extras import install_hint

        raise BackendError(f"a {spec.design.kind} design needs SALib (the sweep extra): "
                           f"{install_hint('sweep')}") from None

    d, prob = spec.design, problem(spec)
    seed = derive_seed(spec.sweep.seed, 2**32) % 2**31
    if d.kind == "lhs":
        return latin.sample(prob, d.samples, seed=seed)
    if d.kind == "sobol":
        return sobol.sample(prob, d.samples, calc_second_order=d.second_order, scramble=True, seed=seed)
    return morris.sample(prob, d.samples, num_levels=d.levels, seed=seed)


def _shape(p: Param, x: float) -> Any:
    value = math.exp(x) if p.log else float(x)
    return int(round(value)) if p.integer else float(f"{value:.12g}")  # 0.6, not 0.6000000000000001


def design_points(spec: SweepFile) -> list[dict[str, Any]]:
    """Every design point as ``{param name: value}``, in design order (SALib's order for sobol and morris)."""
    import itertools
    import warnings

    if spec.design.kind == "grid":
        axes = []
        for p in spec.params.values():
            if p.values is not None:
                axes.append(list(p.values))
            else:
                low, high = (math.log(v) for v in p.range) if p.log else p.range
                axes.append([_shape(p, x) for x in np.linspace(low, high, p.steps)])
        return [dict(zip(spec.params, combo)) for combo in itertools.product(*axes)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib's advice on powers of two for sobol; the docs say it too
        sample = _unit_sample(spec)
    names = problem(spec)["names"]
    return [{n: _shape(spec.params[n], x) for n, x in zip(names, row)} for row in sample]


def plan_runs(spec: SweepFile) -> list[RunSpec]:
    """The sweep's runs in order: point-major, replicate-minor (run = point * replicates + replicate)."""
    points = design_points(spec)
    reps = spec.sweep.replicates
    if len(points) * reps > MAX_RUNS:
        raise SweepError([("design", len(points) * reps, f"too many runs; at most {MAX_RUNS} allowed")])
    runs = []
    for p, values in enumerate(points):
        for r in range(reps):
            k = p * reps + r
            seed = derive_seed(spec.sweep.seed, r if spec.sweep.seeds == "common" else k)
            runs.append(RunSpec(k, p, r, seed, values, _overrides(spec, values)))
    return runs


def digest(spec: SweepFile, base: dict) -> str:
    """A short hash of the sweep and its resolved base scenario: a sweep directory belongs to one digest."""
    text = json.dumps({"spec": spec.model_dump(mode="json"), "base": base}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
