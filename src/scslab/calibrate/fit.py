"""Fitting a scenario's assumed parameters to documented figures with optuna.

Each trial runs the prepared scenario with one set of parameter values (the same seed in every trial, so
trials differ by their parameters, not by noise), scales the simulated figures to the record (each agent
weighs ``represents / population`` people) and scores the fit by the weighted mean squared log ratio
``mean_w (ln(simulated / documented))^2``. The best trial becomes the calibrated scenario; its error on every
target is reported, fitted or not.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import CalibrationError
from ..populations import PERSONS, split_metric
from ..scenarios.load import lookup
from .spec import CalibrationFile, load_calibration, scenario_for

__all__ = ["calibrate", "evaluate", "Fit", "write_scenario_toml", "target_cells", "target_table", "TARGET_COLUMNS",
           "REPORT_SEEDS"]


REPORT_SEEDS = 5  # the fitted scenario's figures are reported as the mean and range over this many seeds


@dataclass
class Fit:
    """The outcome of a calibration: best values, per-target table, loss and every trial."""

    values: dict[str, float]
    loss: float
    targets: list[dict[str, Any]]
    trials: list[dict[str, Any]]
    scenario: dict
    series: dict[str, list[float]] = field(default_factory=dict)
    seeds: int = REPORT_SEEDS  # the seeds of the targets' figures

    @property
    def worst(self) -> dict[str, Any]:
        """The fitted target with the largest relative error."""
        return max((t for t in self.targets if t["fitted"]), key=lambda t: abs(t["error"]))


def _daily(result, metric: str) -> np.ndarray:
    series = result.series(metric)
    out = np.zeros(int(series.index.max()) + 1)
    out[series.index.to_numpy()] = series.to_numpy()
    return out


def _value(curve: np.ndarray, t, spec: CalibrationFile) -> float:
    """A target's model figure from its scaled curve (daily values for a level, running totals otherwise)."""
    value = float(curve[spec.day(t.date)])
    if t.kind == "flow" and spec.day(t.since) > 0:
        value -= float(curve[spec.day(t.since) - 1])
    return value


def persons_only(spec: CalibrationFile, scenario: dict) -> dict:
    """``scenario`` without its entity types (firms, authorities) when every target is a persons' metric: the
    persons' metrics of a run do not depend on its entities (tested), and a run of the court list's persons
    alone takes 0.47 of the time at 200,000 persons, 0.75 at 1,000,000 (``benchmarks/calibrate_persons.py``).
    The aggregates over both (``agency:*``, ``linked:*``) keep them."""
    needs = [split_metric(t.metric) for t in spec.targets if t.metric]
    if not scenario.get("entities") or any(pop != PERSONS or base.startswith(("agency", "linked"))
                                           for pop, base in needs):
        return scenario
    prov = {k: v for k, v in (scenario.get("provenance") or {}).items() if not k.startswith("entities")}
    return {**scenario, "entities": {}, "provenance": prov}


def evaluate(spec: CalibrationFile, scenario: dict, *, threads: int | None = None,
             seeds=None) -> tuple[list[dict[str, Any]], float, dict[str, list[float]]]:
    """Run ``scenario`` once per seed in ``seeds`` (None: its own seed) and compare the mean with every
    target: ``(rows, loss, scaled mean series by metric)``. Each row has the model's mean (``simulated``) and
    its range over the seeds (``low``, ``high``); a target the model cannot express has None there. The loss,
    the weighted mean squared log ratio, counts the fitted targets only."""
    from ..api import simulate

    scenario = persons_only(spec, scenario)
    results = [simulate(scenario, threads=threads, seed=seed) for seed in (seeds or [None])]
    rows, series = [], {}
    num = den = 0.0
    for t in spec.targets:
        row = {"name": t.name, "metric": t.metric, "kind": t.kind, "counts": t.counts, "date": t.date.isoformat(),
               "since": t.since.isoformat() if t.since else None, "day": spec.day(t.date), "documented": t.value,
               "use": t.use, "weight": t.weight, "fitted": t.fitted, "source": t.source, "cannot": t.cannot,
               "simulated": None, "low": None, "high": None, "error": None}
        rows.append(row)
        if t.cannot:
            continue
        curves = []
        for result in results:
            daily = _daily(result, t.metric) * spec.weight
            if spec.day(t.date) >= len(daily):
                raise CalibrationError([(f"targets ({t.name})", t.date.isoformat(),
                                         f"is after the run's last day ({len(daily) - 1} days from "
                                         f"{spec.calibrate.start}); run the scenario over the whole window")])
            curves.append(daily if t.kind == "level" else np.cumsum(daily))
        values = [_value(c, t, spec) for c in curves]
        sim = float(np.mean(values))
        if t.kind != "flow":
            series[f"{t.metric} ({t.kind})"] = np.mean(curves, axis=0).tolist()
        row.update(simulated=round(sim), low=round(min(values)), high=round(max(values)), error=sim / t.value - 1)
        if t.fitted:
            num += t.weight * math.log(max(sim, 0.5 * spec.weight) / t.value) ** 2
            den += t.weight
    return rows, num / den if den else 0.0, series


def calibrate(scenario: str | Path, targets: str | Path | dict, *, trials: int | None = None,
              threads: int | None = None, progress: Callable[[int, int, float], None] | None = None) -> Fit:
    """Fit ``scenario``'s parameters named in the calibration file ``targets``; return the :class:`Fit`.

    ``trials`` overrides the file's number of optuna trials; ``progress(done, total, best_loss)`` is called
    after each trial.
    """
    import optuna

    spec, base = load_calibration(targets, scenario)
    n = trials or spec.calibrate.trials
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # start from the scenario's own values: factors of 1, or the current value where it is in range
    first = {}
    for name, p in spec.params.items():
        low, high = p.range or p.scale
        now = p.start if p.start is not None else 1.0 if p.scale is not None else float(lookup(base, p.paths[0]))
        if low <= now <= high:
            first[name] = now
    seed = spec.calibrate.seed % 2**32
    if spec.calibrate.sampler == "cmaes":
        import warnings

        with warnings.catch_warnings():  # x0 is deprecated in optuna 4.9 but still the way to set CMA's start
            warnings.simplefilter("ignore", FutureWarning)
            sampler = optuna.samplers.CmaEsSampler(x0=first if len(first) == len(spec.params) else None,
                                                   seed=seed, warn_independent_sampling=False)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    if first:
        study.enqueue_trial(first)
    history = []

    fit_seeds = [spec.calibrate.seed + k for k in range(spec.calibrate.seeds)]

    def objective(trial) -> float:
        values = {name: trial.suggest_float(name, *(p.range or p.scale), log=p.log)
                  for name, p in spec.params.items()}
        _, loss, _ = evaluate(spec, scenario_for(spec, base, values), threads=threads, seeds=fit_seeds)
        history.append({"trial": trial.number, "loss": loss, **values})
        if progress is not None:
            progress(trial.number + 1, n, min(h["loss"] for h in history))
        return loss

    study.optimize(objective, n_trials=n)
    # the values as calibrated.toml writes them (6 significant digits), so that the reported figures are the
    # written scenario's, draw for draw
    best = _plain(dict(study.best_params))
    final = _plain(scenario_for(spec, base, best))
    report = [spec.calibrate.seed + k for k in range(max(REPORT_SEEDS, spec.calibrate.seeds))]
    rows, loss, series = evaluate(spec, final, threads=threads, seeds=report)
    return Fit(best, loss, rows, history, with_provenance(spec, final, best, loss), series, len(report))


def with_provenance(spec: CalibrationFile, data: dict, values: dict[str, float], loss: float) -> dict:
    """Mark every fitted value as calibrated in the scenario's provenance."""
    fitted = ", ".join(sorted({t.name for t in spec.targets if t.fitted}))
    prov = dict(data.get("provenance") or {})
    for name, p in spec.params.items():
        for path in p.paths:
            key = "timeline" if path.startswith("timeline.") else path
            prov[key] = (f"calibrated: parameter {name!r} fitted by scslab calibrate (loss {loss:.4f}) to: "
                         f"{fitted}")
    prov["population.size"] = (f"assumed: a sample of {spec.calibrate.population:,} agents standing for "
                               f"{spec.calibrate.represents:,.0f} people")
    prov["run"] = (f"assumed: calibration window {spec.calibrate.start} .. {spec.calibrate.end}: day 0 is "
                   f"{spec.calibrate.start}; one agent stands for {spec.weight:,.0f} people")
    return {**data, "provenance": prov}


TARGET_COLUMNS = ("target", "date", "counts", "documented", "model (range)", "error", "use")


def target_cells(t: dict[str, Any]) -> tuple[str, ...]:
    """A target row (as :func:`evaluate` gives it) as the text of ``TARGET_COLUMNS``: the period, the model's
    mean and range or why the model cannot express it, the relative error, and whether the fit uses it."""
    when = f"{t['since']} .. {t['date']}" if t.get("since") else t["date"]
    if t["cannot"]:
        model, error, use = f"cannot express: {t['cannot']}", "-", "cannot express"
    else:
        model, error = f"{t['simulated']:,.0f} ({t['low']:,.0f}-{t['high']:,.0f})", f"{t['error']:+.1%}"
        use = "fit" if t["fitted"] else ("held out" if t["use"] == "holdout" else "reported (weight 0)")
    return t["name"], when, t["counts"], f"{t['documented']:,.0f}", model, error, use


def target_table(rows: list[dict[str, Any]]) -> list[str]:
    """Markdown lines: every target beside the model's figure and range, its relative error, whether the fit
    used it (or why the model cannot express it), and its source."""
    lines = ["| " + " | ".join(TARGET_COLUMNS) + " | source |", "|---|---|---|---:|---:|---:|---|---|"]
    return lines + ["| " + " | ".join(target_cells(t)) + f" | {t['source']} |" for t in rows]


def _plain(value):
    """Drop None (TOML has no null) and round floats to 6 significant digits."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value if v is not None]
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def write_scenario_toml(data: dict, path: Path, header: str) -> None:
    """Write a scenario dict as TOML, with ``header`` as leading comment lines."""
    import tomli_w

    text = tomli_w.dumps(_plain(data))
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    path.write_text(comment + "\n" + text, encoding="utf-8")


def write_fit(fit: Fit, spec_source: str, scenario: str, out: str | Path) -> list[Path]:
    """Write ``calibrated.toml``, ``fit.json``, ``fit.md`` and ``fit.png``/``.svg`` (when matplotlib is there)."""
    from ..scenarios.load import load_scenario

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    load_scenario(fit.scenario)  # the calibrated scenario must itself be valid
    header = (f"{fit.scenario['meta']['name']}: {scenario} calibrated by `scslab calibrate {scenario} --targets "
              f"{spec_source}`\non {_dt.date.today()}; loss {fit.loss:.4f}; largest error on a fitted target "
              f"{fit.worst['name']} {fit.worst['error']:+.1%}.\nFitted values are marked 'calibrated' in [provenance].")
    written = [out / "calibrated.toml", out / "fit.json", out / "fit.md"]
    write_scenario_toml(fit.scenario, written[0], header)
    tmp = written[1].with_suffix(".tmp")
    tmp.write_text(json.dumps({"values": fit.values, "loss": fit.loss, "targets": fit.targets,
                               "trials": fit.trials}, indent=1))
    os.replace(tmp, written[1])
    lines = [f"# Calibration of {scenario}", "", f"Loss (weighted mean squared log ratio): {fit.loss:.4f}", "",
             f"Model figures: the mean over {fit.seeds} seeds, and their range (min-max).", "",
             *target_table(fit.targets), "", "| parameter | fitted value |", "|---|---|"]
    lines += [f"| {k} | {v:.6g} |" for k, v in fit.values.items()]
    written[2].write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        written += _plot(fit, out / "fit")
    except ImportError:  # matplotlib is an extra; the tables are complete without the figure
        pass
    return written


def _plot(fit: Fit, stem: Path) -> list[Path]:
    """Each target's simulated curve against calendar dates (day 0 is the calibration window's start), with
    the documented figures as points and a +/- 10 % bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from ..report.figures import words

    keys = list(fit.series)
    first = fit.targets[0] if fit.targets else None
    start = (_dt.date.fromisoformat(first["date"]) - _dt.timedelta(days=int(first["day"]))) if first else None
    fig, axes = plt.subplots(len(keys), 1, figsize=(7.4, 2.9 * len(keys)), squeeze=False, layout="constrained")
    for ax, key in zip(axes[:, 0], keys):
        curve = np.asarray(fit.series[key]) / 1e6
        days = np.arange(len(curve))
        x = [start + _dt.timedelta(days=int(d)) for d in days] if start is not None else days
        ax.plot(x, curve, color="#0072B2", label="simulated")
        targets = [t for t in fit.targets if f"{t['metric']} ({t['kind']})" == key]
        for k, t in enumerate(targets):
            when = _dt.date.fromisoformat(t["date"]) if start is not None else t["day"]
            ax.errorbar([when], [t["documented"] / 1e6], yerr=[[t["documented"] * 0.1 / 1e6]] * 2, fmt="o",
                        color="black", capsize=3, label="documented (bar: +/- 10 %)" if k == 0 else None)
        metric, kind = key.rsplit(" (", 1)
        ax.set_title(f"{words(metric).capitalize()} ({kind}")
        ax.set_ylabel("million " + ("person-times" if metric.startswith(("blocked:", "granted:")) else "people"))
        if start is not None:
            ax.xaxis.set_major_locator(mdates.AutoDateLocator())
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
            ax.set_xlabel("date")
        else:
            ax.set_xlabel("day of the calibration window")
        ax.legend(loc="upper left", fontsize=8)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths
