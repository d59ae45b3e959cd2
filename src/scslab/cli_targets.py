"""CLI command ``validate-targets``: a preset's documented outcomes beside the model's figures."""

from __future__ import annotations

from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["register", "target_rows", "documented_against_the_model"]


def documented_against_the_model(preset: str, seeds: int, window: tuple[str, str], note: str = "") -> str:
    """The title of a table of targets."""
    extra = f"; {note}" if note else ""
    return (f"{preset}: documented against the model (mean and range over {seeds} seeds; window {window[0]} .. "
            f"{window[1]}{extra})")


def target_rows(title: str, rows) -> Table:
    """A Rich table of target rows (as ``calibrate.evaluate`` gives them) beside the model."""
    from .calibrate.fit import TARGET_COLUMNS, target_cells

    table = Table(title=escape(title))
    for col in TARGET_COLUMNS:
        table.add_column(col, justify="right" if col in ("documented", "error") else "left")
    for r in rows:
        table.add_row(*(escape(x) for x in target_cells(r)))
    return table


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("validate-targets")
    def validate_targets(
        preset: Optional[str] = typer.Argument(None, help="A preset with documented targets "
                                                          "(court-defaulters-calibrated, jinan-dog-points, ...)."),
        every: bool = typer.Option(False, "--all", help="Every preset: a table for each one with targets, and a "
                                                        "list of those without."),
        seeds: int = typer.Option(5, "--seeds", min=1, max=64, help="Seeds to run; the model's figure is their "
                                                                     "mean, with their range."),
        markdown: bool = typer.Option(False, "--markdown", help="Print Markdown (the docs page) instead."),
        threads: Optional[int] = typer.Option(None, "--threads", "-t", min=1, help="CPU threads per run."),
    ) -> None:
        """Run a preset over its documented targets' window and table every target beside the model: its mean
        and range over the seeds, the relative error, and whether the calibration fitted it, held it out, or
        the model cannot express it (and why).

        Targets are the bundled calibration files (`scslab calibrate`), each citing its source
        (`scslab sources ID`). Model figures are scaled to the record as the calibration file says.
        """
        from .cli_common import err, fail, interrupted, say
        from .calibrate.validate import targets_for, validate_targets as run, validation_markdown
        from .errors import OptionError, ScslabError
        from .scenarios.load import preset_names

        out = Console(highlight=False)
        try:
            if every == (preset is not None):
                raise OptionError("PRESET", preset, "give one preset, or --all")
            names = preset_names() if every else [preset]
            with_targets = [n for n in names if not every or targets_for(n) is not None]
            results = []
            for name in with_targets:
                say(err, "running", "bold", f"{name} on {seeds} seed{'s' if seeds != 1 else ''}...")
                results.append(run(name, seeds=seeds, threads=threads))
        except ScslabError as exc:
            fail(exc)
        except (KeyboardInterrupt, Exception) as exc:  # a Ctrl-C, also one a library reported as its own error
            if not interrupted(exc):
                raise
            say(err, "stopped:", "bold yellow", "nothing was printed")
            raise typer.Exit(code=130) from None
        if markdown:
            without = [n for n in names if n not in with_targets]
            print(validation_markdown(results, without))
            return
        for v in results:
            out.print(target_rows(documented_against_the_model(v.preset, len(v.seeds), v.window), v.rows))
