"""Calibration files: targets from the record, the assumed parameters to fit, and the simulated window.

A calibration file is TOML::

    [calibrate]
    name = "court_defaulters_national_calibrated"   # name of the calibrated scenario
    population = 200_000                            # agents per trial
    represents = 1.1e9                              # people the whole population stands for
    start = 2013-10-01                              # calendar date of model day 0
    end = 2018-12-31                                # last simulated date
    trials = 60                                     # optuna trials
    timeline = [ { date = 2018-01-01, set = { "consequences.flight_ban.attempts_per_day" = 0.004 } } ]

    [params.flight_rate]                            # one table per fitted parameter
    paths = ["consequences.flight_ban.attempts_per_day"]
    range = [0.0005, 0.01]                          # value range (or: scale = [0.3, 3] to multiply)
    log = true

    [[targets]]
    name = "flight purchases blocked, end 2017"
    metric = "blocked:flight_ban"
    kind = "cumulative"                             # cumulative (sum of daily values) or level (that day's)
    date = 2017-12-31
    value = 9.36e6
    source = "Business Standard 2018-01-14 [spc-counts-2017-12]"

Simulated figures are scaled to the record: each agent weighs ``represents / population`` people. A path may
point into a timeline entry's changes: ``timeline.0.set.consequences.flight_ban.attempts_per_day``.
"""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CalibrationError, ScenarioError
from ..scenarios.schema import NAME_PATTERN
from ..scenarios.paths import assign, lookup, set_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["CalibrationFile", "Target", "FitParam", "load_calibration", "assign", "scenario_for"]

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True)


class FitParam(_Strict):
    """A fitted parameter: one value written to every path in ``paths``, or a factor multiplying them."""

    paths: list[str] = Field(min_length=1)
    """Dotted paths into the scenario that take this parameter."""
    range: list[float] | None = Field(default=None, min_length=2, max_length=2)
    """Search range of the value itself."""
    scale: list[float] | None = Field(default=None, min_length=2, max_length=2)
    """Search range of a factor that multiplies each path's base value (keeps ratios between paths)."""
    log: bool = False
    """Search uniformly in log space."""
    start: float | None = None
    """Where the search starts (trial 0): a value in ``range``, or a factor in ``scale``; by default the
    scenario's own value (a factor of 1). A refit starts from the last fit's values this way."""


class Target(_Strict):
    """One documented figure the scenario should reproduce: what it counts, over which period, whether the fit
    uses it, and its source in scslab's table of sources (``[id]``)."""

    name: str = Field(min_length=1)
    metric: str = ""
    """Metric of the run (``blocked:flight_ban``, ``entered:court_list``, ``repaid`` ...), group ``all``;
    empty only for a target the model cannot express (``cannot``)."""
    kind: Literal["cumulative", "level", "flow"] = "cumulative"
    """cumulative: sum of the daily values from day 0 to ``date``; level: the value on ``date``; flow: the sum
    from ``since`` to ``date`` (both included)."""
    since: _dt.date | None = None
    """First day of a flow's period."""
    counts: Literal["people", "person-times", "firms", "records"] = "person-times"
    """What the figure counts: distinct people, person-times (one person listed twice counts twice), distinct
    firms, or list records (of people or firms)."""
    date: _dt.date
    value: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    """The documented figure."""
    use: Literal["fit", "holdout"] = "fit"
    """fit: the calibration fits it; holdout: reported apart, never fitted (the check of the fit)."""
    weight: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 1.0
    """Weight in the fit; 0 reports the target without fitting it."""
    source: str = ""
    """Where the figure comes from, citing its entry in the table of sources: ``Publication [id]``."""
    cannot: str = ""
    """Why the model cannot express this figure (a unit or a population it does not have); the target is then
    listed with this reason instead of a model value, and never fitted."""

    @property
    def fitted(self) -> bool:
        """Does the fit use this target?"""
        return self.use == "fit" and self.weight > 0 and not self.cannot


class TimelineAdd(_Strict):
    date: _dt.date
    set: dict[str, Any] = Field(min_length=1)
    note: str = ""


class Calibrate(_Strict):
    name: Name
    presets: list[str] = []
    """The presets these targets check (``scslab validate-targets PRESET``); the one whose name is ``name``
    is the calibrated scenario itself, run as it is; the others run with the window and timeline below."""
    population: Annotated[int, Field(ge=100)]
    represents: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    start: _dt.date
    end: _dt.date
    trials: Annotated[int, Field(ge=1, le=100_000)] = 60
    sampler: Literal["cmaes", "tpe"] = "cmaes"
    """Optuna sampler: CMA-ES (default; suits a smooth objective, which common random numbers give) or TPE."""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    seeds: Annotated[int, Field(ge=1, le=64)] = 1
    """Seeds each trial runs (``seed``, ``seed + 1``, ...): the fit matches their mean. The fitted scenario is
    reported over at least 5 seeds, with the range of each figure."""
    timeline: list[TimelineAdd] | None = None
    """Replaces the scenario's timeline (dates become days from ``start``); None keeps it."""
    set: dict[str, Any] = {}
    """Fixed overrides applied before fitting (dotted paths)."""
    description: str = ""
    """Description of the calibrated scenario (default: the scenario's)."""
    caveats: list[str] = []
    """Caveats added to the calibrated scenario's own."""


class CalibrationFile(_Strict):
    calibrate: Calibrate
    params: dict[Name, FitParam] = Field(min_length=1, max_length=32)
    targets: list[Target] = Field(min_length=1)

    @property
    def days(self) -> int:
        return (self.calibrate.end - self.calibrate.start).days + 1

    def day(self, date: _dt.date) -> int:
        return (date - self.calibrate.start).days

    @property
    def weight(self) -> float:
        """People one agent stands for."""
        return self.calibrate.represents / self.calibrate.population


def scenario_for(spec: CalibrationFile, base: dict, values: Mapping[str, float]) -> dict:
    """The scenario dict of one trial: ``base`` (already prepared) with the fitted ``values`` written in."""
    import copy

    data = copy.deepcopy(base)
    for name, value in values.items():
        p = spec.params[name]
        for path in p.paths:
            new = value * lookup(base, path) if p.scale is not None else value
            assign(data, path, new)
    return data


def _fill(data: dict, full: dict, path: str) -> None:
    """Copy ``path``'s value from ``full`` into ``data`` where ``data`` lacks it (tables made as needed)."""
    try:
        lookup(data, path)
        return
    except KeyError:
        pass
    try:
        value = lookup(full, path)
    except KeyError:
        return  # names nothing: reported by _problems
    set_path(data, path, value, must_exist=False, where="calibrate")


def prepare_base(spec: CalibrationFile, scenario: str | Path) -> dict:
    """The base scenario as a dict: fixed overrides, the calibration window and timeline applied."""
    from ..scenarios.load import load_scenario

    c = spec.calibrate
    s = load_scenario(scenario, dict(c.set) or None)
    # only what the scenario file itself says (so every number keeps its provenance mark), plus the current
    # value of each fitted path the file leaves at the schema's default
    data = s.model_dump(mode="json", exclude_unset=True)
    full = s.model_dump(mode="json")
    for p in spec.params.values():
        for path in p.paths:
            if not path.startswith("timeline."):
                _fill(data, full, path)
    data.setdefault("run", {})
    data["meta"]["name"] = c.name
    if c.description:
        data["meta"]["description"] = c.description
    data["meta"]["caveats"] = list(data["meta"].get("caveats") or []) + list(c.caveats)
    data["population"]["size"] = c.population
    data["run"]["days"] = spec.days
    data["run"]["seed"] = c.seed
    if c.timeline is not None:
        data["timeline"] = [{"day": spec.day(t.date), "set": dict(t.set), "note": t.note} for t in c.timeline]
    return data


def _problems(spec: CalibrationFile, base: dict) -> list[tuple[str, object, str]]:
    problems: list[tuple[str, object, str]] = []
    c = spec.calibrate
    if c.end < c.start:
        problems.append(("calibrate.end", str(c.end), f"must not be before start {c.start}"))
    for t in c.timeline or []:
        if t.date < c.start:
            problems.append(("calibrate.timeline", str(t.date), f"a change before start {c.start}"))
    for name, p in spec.params.items():
        if (p.range is None) == (p.scale is None):
            problems.append((f"params.{name}", None, "give exactly one of range or scale"))
            continue
        low, high = p.range or p.scale
        if not (low < high) or (p.log and low <= 0):
            problems.append((f"params.{name}", [low, high], "must be [low, high] with low < high (positive with "
                                                            "log = true)"))
        elif p.start is not None and not low <= p.start <= high:
            problems.append((f"params.{name}.start", p.start, f"must lie in [{low}, {high}]"))
        for path in p.paths:
            try:
                current = lookup(base, path)
            except KeyError:
                problems.append((f"params.{name}.paths", path, "names no value in the scenario"))
                continue
            if isinstance(current, bool) or not isinstance(current, (int, float)):
                problems.append((f"params.{name}.paths", path, f"is not a number (it is {current!r})"))
    for i, t in enumerate(spec.targets):
        if not c.start <= t.date <= c.end:
            problems.append((f"targets.{i}.date", str(t.date), f"outside the window {c.start} .. {c.end}"))
        if not t.metric and not t.cannot:
            problems.append((f"targets.{i}.metric", "", "give the metric, or say in cannot why the model cannot "
                                                        "express the figure"))
        if (t.kind == "flow") != (t.since is not None):
            problems.append((f"targets.{i}.since", str(t.since), "a flow needs since (its first day); only a flow "
                                                                  "takes it"))
        elif t.since is not None and not c.start <= t.since <= t.date:
            problems.append((f"targets.{i}.since", str(t.since), f"must lie in {c.start} .. {t.date}"))
    return problems


def load_calibration(source: str | Path | Mapping[str, Any], scenario: str | Path) -> tuple[CalibrationFile, dict]:
    """Validate a calibration file against ``scenario`` (preset or path); return it and the prepared base."""
    from ..scenarios.load import validation_problems, load_scenario

    label = None
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        path = Path(source)
        label = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CalibrationError([("--targets", str(path), f"cannot be read: {exc.strerror or exc}")]) from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CalibrationError([("--targets", str(path), f"is not valid UTF-8 TOML: {exc}")]) from None
    try:
        spec = CalibrationFile.model_validate(data)
    except ValidationError as exc:
        raise CalibrationError(validation_problems(exc, CalibrationFile), source=label) from None
    try:
        base = prepare_base(spec, scenario)
    except ScenarioError as exc:
        raise CalibrationError([(f"scenario ({p})" if p else "scenario", v, m) for p, v, m in exc.problems],
                         source=label) from None
    problems = _problems(spec, base)
    if not problems:  # the extremes of every range must make a valid scenario
        for corner in (0, 1):
            values = {n: (p.range or p.scale)[corner] for n, p in spec.params.items()}
            try:  # with the provenance marks the calibrated scenario will carry
                from .fit import with_provenance

                load_scenario(with_provenance(spec, scenario_for(spec, base, values), values, 0.0))
            except ScenarioError as exc:
                problems += [(f"params at their {'low' if corner == 0 else 'high'} ends: {p}", v, m)
                             for p, v, m in exc.problems]
    if problems:
        raise CalibrationError(problems, source=label)
    return spec, base



def bundled_targets(scenario: str | Path) -> Path:
    """The calibration file shipped for a preset (``scenarios/targets/NAME.toml``)."""
    from importlib import resources

    folder = resources.files("scslab.scenarios").joinpath("targets")
    names = sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".toml"))
    if str(scenario) not in names:
        raise CalibrationError([("--targets", None, f"no bundled calibration file for {str(scenario)!r}; give "
                                                    f"--targets FILE (bundled for: {', '.join(names)})")])
    return Path(str(folder.joinpath(f"{scenario}.toml")))
