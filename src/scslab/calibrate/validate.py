"""Validation against the record: every documented outcome a preset can be compared with, beside the model.

A preset's targets are the bundled calibration files (``scenarios/targets/*.toml``) whose ``presets`` list
names it. :func:`validate_targets` runs the preset over the targets' window on several seeds and tables each
target with the model's mean and range, the relative error, and whether the fit used it, held it out, or the
model cannot express it (and why). ``scslab validate-targets`` prints it; ``docs/validation.md`` is its
Markdown for every preset (``scslab validate-targets --all --markdown``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CalibrationError
from .fit import REPORT_SEEDS, evaluate, target_table
from .spec import CalibrationFile, load_calibration

__all__ = ["Validation", "target_files", "targets_for", "validate_targets", "validation_markdown"]


@dataclass(frozen=True)
class Validation:
    """A preset's targets beside the model: ``rows`` as :func:`calibrate.evaluate` gives them."""

    preset: str
    targets: str            # the calibration file's name
    seeds: tuple[int, ...]
    window: tuple[str, str]  # first and last date; day 0 is the first
    rows: list[dict[str, Any]]

    @property
    def counted(self) -> list[dict[str, Any]]:
        """The targets the model expresses."""
        return [r for r in self.rows if not r["cannot"]]


def target_files() -> dict[str, Path]:
    """The bundled calibration files by name."""
    from importlib import resources

    folder = resources.files("scslab.scenarios").joinpath("targets")
    return {f.name[:-5]: Path(str(f)) for f in sorted(folder.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".toml")}


def _spec(path: Path) -> CalibrationFile:
    import tomllib

    return CalibrationFile.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


def targets_for(preset: str) -> Path | None:
    """The bundled calibration file that names ``preset`` among its presets, or None."""
    for path in target_files().values():
        if preset in _spec(path).calibrate.presets:
            return path
    return None


def _scenario(preset: str, spec: CalibrationFile, base: dict) -> dict:
    """What runs: the calibrated preset itself over the window, or another preset with the file's window and
    timeline (its fitted parameters at their starting values)."""
    from ..scenarios.load import load_scenario

    s = load_scenario(preset)
    if s.meta.name != spec.calibrate.name:
        return base
    data = s.model_dump(mode="json", exclude_unset=True)
    data.setdefault("run", {})["days"] = spec.days
    if s.population.size != spec.calibrate.population:
        raise CalibrationError([(f"{preset}: population.size", s.population.size,
                                 f"differs from the calibration's population {spec.calibrate.population:,}: the "
                                 "figures would be scaled wrongly")])
    return data


def validate_targets(preset: str, *, seeds: int = REPORT_SEEDS, threads: int | None = None) -> Validation:
    """Run ``preset`` over its targets' window on ``seeds`` seeds and compare with every target. Raises
    :class:`~scslab.errors.CalibrationError` when no bundled file names the preset."""
    from ..scenarios.load import find_preset

    name = find_preset(preset) or preset
    path = targets_for(name)
    if path is None:
        named = sorted({p for f in target_files().values() for p in _spec(f).calibrate.presets})
        raise CalibrationError([("preset", preset, "has no documented targets bundled; presets with targets: "
                                                   + ", ".join(named))])
    spec, base = load_calibration(path, name)
    scenario = _scenario(name, spec, base)
    first = int(scenario.get("run", {}).get("seed", spec.calibrate.seed))
    chosen = tuple(first + k for k in range(seeds))
    rows, _, _ = evaluate(spec, scenario, threads=threads, seeds=list(chosen))
    return Validation(name, path.name, chosen, (str(spec.calibrate.start), str(spec.calibrate.end)), rows)


def validation_markdown(results: list[Validation], without: list[str]) -> str:
    """The docs page: one table per preset with targets, and the presets without any."""
    out = ["# Validation against the record", "",
           "Each preset's documented outcomes (its targets, from the table of sources) beside the model's "
           "figure: the mean over the seeds and their range (min-max), the relative error of the mean, and "
           "whether the calibration fitted the target, held it out (the check of the fit), or the model cannot "
           "express it, and why. Model figures are scaled to the record: each agent stands for the people the "
           "calibration file says. Figures from a model of a synthetic population, not a measurement.", "",
           "Regenerate this page with `scslab validate-targets --all --markdown > docs/validation.md`.", ""]
    for v in results:
        fitted = [r for r in v.counted if r["fitted"]]
        held = [r for r in v.counted if r["use"] == "holdout"]
        out += [f"## {v.preset}", "",
                f"Targets `{v.targets}`, window {v.window[0]} .. {v.window[1]}, seeds "
                f"{v.seeds[0]}-{v.seeds[-1]}. Largest error of a fitted target: "
                f"{_largest(fitted)}; of a held-out target: {_largest(held)}.", "", *target_table(v.rows), ""]
    if without:
        out += ["## Presets without targets", "",
                "No documented outcome of these schemes that the model counts has been gathered yet: "
                + ", ".join(without) + ". Their numbers are marked documented, calibrated or assumed one by one "
                "(`scslab odd PRESET`).", ""]
    return "\n".join(out)


def _largest(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "none"
    worst = max(rows, key=lambda r: abs(r["error"]))
    return f"{worst['error']:+.1%} ({worst['name']})"
