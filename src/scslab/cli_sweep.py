"""CLI commands for many runs: ``sweep``, ``sensitivity`` and ``calibrate`` (need the ``sweep`` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .errors import BackendError, OptionError, ScslabError

__all__ = ["register"]

_EXTRA = "pip install 'scslab[sweep]'"
# what each command imports from the sweep extra (checked before any work; see scslab.extras)
_MODULES = {"sweep": ("dask", "distributed", "duckdb", "SALib"), "sensitivity": ("duckdb", "SALib"),
            "calibrate": ("optuna", "cmaes")}
# agent-days per second and thread of a calibration trial, for the estimate printed before a calibration
# starts (docs/sweeps.md): court-defaulters-national's bundled calibration runs its 1,000,000 persons alone
# over 2,008 days, 2-3 s a run with 2 threads on a 2-core machine
CALIBRATE_RATE_PER_THREAD = 3e8

def _need(what: str, exc: ImportError | None = None):
    """Exit 2: ``what`` needs the sweep extra (a module of it failed to import)."""
    from .cli_common import fail

    missing = getattr(exc, "name", None)
    fail(BackendError(f"scslab {what} needs the sweep extra" + (f" ({missing} is not installed)" if missing else "")
                       + f": {_EXTRA}"))


def _require(what: str, extra_modules: tuple[str, ...] = ()) -> None:
    from .cli_common import fail
    from .extras import require

    try:
        require("sweep", f"scslab {what}", (*_MODULES[what], *extra_modules))
    except ScslabError as exc:
        fail(exc)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _cores() -> int:
    import numba

    return numba.config.NUMBA_NUM_THREADS


def _estimate(scenario: str, spec, base: dict, trials: int, threads: int | None) -> None:
    """Say, before a calibration starts, how much it runs and about how long that takes here."""
    from .calibrate.fit import REPORT_SEEDS, persons_only
    from .cli_common import err, say

    runs_on = persons_only(spec, base)  # what a trial runs: the persons alone when the targets count only them
    size = runs_on["population"]["size"] + sum(e["population"]["size"] for e in (runs_on.get("entities") or {}).values())
    runs = trials * spec.calibrate.seeds + max(REPORT_SEEDS, spec.calibrate.seeds)
    agent_days = runs * size * spec.days
    used = min(threads or _cores(), _cores())
    seconds = agent_days / (CALIBRATE_RATE_PER_THREAD * used)
    say(err, "calibrate:", "bold", f"{scenario}: {trials} trials of {spec.calibrate.seeds} run"
                                   f"{'s' if spec.calibrate.seeds != 1 else ''} and {max(REPORT_SEEDS, spec.calibrate.seeds)} "
                                   f"final runs, each of {size:,} agents x "
                                   f"{spec.days:,} days ({agent_days:.2g} agent-days in all): about "
                                   f"{_duration(seconds)} with {used} thread{'s' if used != 1 else ''} at the speed of "
                                   "the court list's calibration on 2 cores (a small population runs slower per "
                                   "agent-day: Jinan's bundled calibration takes about 2 minutes; the bar's estimate "
                                   "takes over after the first trial, and a first run also compiles the engine). "
                                   "--trials N runs fewer (a rougher fit); Ctrl-C stops, writing nothing.")


def register(app: typer.Typer) -> None:
    """Add the commands to ``app``."""
    from .cli_common import console, err, fail, interrupted, say

    @app.command()
    def sweep(
        sweep_file: Path = typer.Argument(..., help="Sweep TOML file (see docs/sweeps.md)."),
        out: Path = typer.Option(..., "--out", "-o", help="Sweep directory (created; an existing one resumes)."),
        scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                                help="Dask scheduler address tcp://host:port (default: an "
                                                     "embedded local cluster)."),
        workers: Optional[int] = typer.Option(None, "--workers", "-w", min=1,
                                              help="Worker processes of the local cluster (default: one per core)."),
        xarray: bool = typer.Option(False, "--xarray", help="Also write DIR/sweep.nc: an xarray Dataset (run, day)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Run every run of a sweep on Dask and catalogue it in DIR/catalog.duckdb; run again to resume.

        Each run's seed derives from the sweep seed; a failed run is retried, then recorded with its error.
        """
        _require("sweep", ("xarray", "h5netcdf") if xarray else ())
        try:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from .sweep import load_sweep, open_sweep, plan_runs, run_sweep
        except ImportError as exc:
            _need("sweep", exc)
        try:
            spec, base = load_sweep(sweep_file)
            total = len(plan_runs(spec))
            with Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
                          MofNCompleteColumn(), TextColumn("runs  {task.fields[failed]}", markup=False), TimeRemainingColumn(), console=err,
                          disable=quiet) as bar:
                task = bar.add_task(f"sweep {spec.sweep.name}", total=total, failed="starting workers...")
                failed = [0]

                def progress(info: dict) -> None:
                    failed[0] += info["status"] == "failed"
                    bar.update(task, completed=info["done"], failed=f"{failed[0]} failed" if failed[0] else "")

                stats = run_sweep((spec, base), out, scheduler=scheduler, workers=workers, progress=progress)
                bar.update(task, completed=total, failed="")
            if xarray:
                ds = open_sweep(out).to_xarray()
                ds.to_netcdf(out / "sweep.nc.tmp", engine="h5netcdf")
                (out / "sweep.nc.tmp").replace(out / "sweep.nc")
        except ScslabError as exc:
            fail(exc)
        except ImportError as exc:  # a package of the extra that failed only when used
            _need("sweep", exc)
        except (KeyboardInterrupt, Exception) as exc:  # a Ctrl-C, also one a library reported as its own error
            if not interrupted(exc):
                raise
            say(err, "stopped:", "bold yellow", f"finished runs are in {out}/catalog.duckdb; run the same command "
                                                 "again to resume")
            raise typer.Exit(code=130) from None
        console.print(f"{stats.total} runs: {stats.skipped} done before, {stats.done} done now, {stats.failed} "
                      f"failed, in {stats.elapsed_s:.1f} s. Catalogue: {out / 'catalog.duckdb'}", highlight=False,
                      soft_wrap=True)
        if stats.failed:
            say(err, "warning:", "bold yellow", "failed runs are listed with their errors: SELECT run, error FROM "
                                                "runs WHERE status = 'failed'; run the command again to retry them")
            raise typer.Exit(code=1)

    @app.command()
    def sensitivity(
        sweep_dir: Path = typer.Argument(..., help="A finished sweep directory with a sobol or morris design."),
        outcome: List[str] = typer.Option(..., "--outcome", "-y",
                                          help="Outcome column or metric (repeatable), e.g. innocent_listed:blacklist."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="File stem for the table (.csv) and "
                                                                       "figure (.png, .svg); default DIR/sensitivity."),
    ) -> None:
        """Sobol (first and total order) or Morris indices with 95 % confidence intervals, as a table and a figure."""
        _require("sensitivity")
        try:
            from .sweep.sensitivity import plot_sensitivity, sensitivity as indices
        except ImportError as exc:
            _need("sensitivity", exc)
        try:
            table = indices(sweep_dir, outcome)
        except ScslabError as exc:
            fail(exc)
        except ImportError as exc:
            _need("sensitivity", exc)
        stem = out or sweep_dir / "sensitivity"
        table.to_csv(stem.with_suffix(".csv"), index=False)
        shown = Table(title=f"sensitivity of {', '.join(outcome)}")
        for col in table.columns:
            shown.add_column(col, justify="left" if col in ("outcome", "parameter", "note") else "right")
        for row in table.itertuples(index=False):
            shown.add_row(*[v if isinstance(v, str) else "undefined" if v != v else f"{v:.3f}" for v in row])
        console.print(shown)
        for w in table.attrs.get("warnings", []):
            say(err, "warning:", "bold yellow", w)
        try:
            paths = plot_sensitivity(table, stem)
        except ImportError:
            paths = []
            say(err, "no figure:", "yellow", "matplotlib is not installed")
        say(console, "wrote", "green", f"{stem.with_suffix('.csv')}" + "".join(f", {p}" for p in paths))

    @app.command()
    def calibrate(
        scenario: str = typer.Argument(..., help="Preset name or scenario TOML file to calibrate."),
        targets: Optional[Path] = typer.Option(None, "--targets",
                                               help="Calibration TOML: targets, parameters, window (default: the "
                                                    "bundled one for the preset, if any)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for calibrated.toml and the fit "
                                                                       "report (default calibration-SCENARIO)."),
        trials: Optional[int] = typer.Option(None, "--trials", min=1, help="Optuna trials (default: the file's)."),
        threads: Optional[int] = typer.Option(None, "--threads", "-t", help="CPU threads per trial."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Fit a scenario's assumed parameters to documented figures (optuna); write a calibrated scenario and report."""
        _require("calibrate")
        try:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            from .calibrate import calibrate as fit_scenario, load_calibration, write_fit
            from .calibrate.spec import bundled_targets
            from .scenarios.load import find_preset
        except ImportError as exc:
            _need("calibrate", exc)
        try:
            if threads is not None and not 1 <= threads <= _cores():
                raise OptionError("--threads", threads, f"must be an integer from 1 to {_cores()} (the CPU "
                                                        "threads of this machine)")
            import logging

            import optuna

            # optuna logs a trial that Ctrl-C stopped with a traceback; the bar and the summary say it all
            optuna.logging.disable_default_handler()
            logging.getLogger("optuna").addHandler(logging.NullHandler())
            source = targets or bundled_targets(find_preset(scenario) or scenario)
            spec, base = load_calibration(source, scenario)
            trials = trials or spec.calibrate.trials
            _estimate(scenario, spec, base, trials, threads)
            with Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
                          MofNCompleteColumn(), TextColumn("trials  best loss {task.fields[best]}", markup=False), TimeRemainingColumn(), console=err,
                          disable=quiet) as bar:
                task = bar.add_task(f"calibrating {scenario}", total=trials, best="-")

                def progress(done: int, total: int, best: float) -> None:
                    bar.update(task, completed=done, total=total, best=f"{best:.4f}")

                fit = fit_scenario(scenario, source, trials=trials, threads=threads, progress=progress)
            folder = out or Path(f"calibration-{Path(scenario).stem}")
            written = write_fit(fit, Path(source).name, scenario, folder)
        except ScslabError as exc:
            fail(exc)
        except ImportError as exc:
            _need("calibrate", exc)
        except (KeyboardInterrupt, Exception) as exc:  # a Ctrl-C, also one a library reported as its own error
            if not interrupted(exc):
                raise
            say(err, "stopped:", "bold yellow", "calibration interrupted; nothing was written")
            raise typer.Exit(code=130) from None
        from .cli_targets import documented_against_the_model, target_rows

        window = (str(spec.calibrate.start), str(spec.calibrate.end))
        console.print(target_rows(documented_against_the_model(scenario, fit.seeds, window, f"loss {fit.loss:.4f}"),
                                  fit.targets))
        say(console, "wrote", "green", ", ".join(str(p) for p in written))
