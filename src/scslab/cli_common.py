"""What every command of the ``scslab`` command line shares: the consoles, printing, failing, progress.

No markup: every string printed is text (a path or a name such as ``mk[/b]`` is shown as it is); styles are
given as ``rich.text.Text`` parts (:func:`say`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.text import Text

from .errors import CapacityError, RunDirError, RunInterrupted, ScslabError

__all__ = ["console", "err", "say", "fail", "emit", "warn_scenario", "aborted", "progress_bar", "day_callback"]

console = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)


def say(to: Console, label: str, style: str, message: object = "") -> None:
    """Print ``label`` in ``style``, then ``message`` as plain text."""
    to.print(Text.assemble((label, style), " " if message != "" else "", str(message)), soft_wrap=True)


def fail(exc: ScslabError) -> None:
    """Print a scslab error and exit: 130 interrupted (resumable), 3 not enough memory or disk, 2 otherwise."""
    if isinstance(exc, RunInterrupted):
        say(err, "stopped:", "bold yellow", exc)
        raise typer.Exit(code=130)
    say(err, "error:", "bold red", exc)
    raise typer.Exit(code=3 if isinstance(exc, CapacityError) else 2)


def emit(text: str, out: Optional[Path]) -> None:
    """Print ``text``, or write it to ``out`` and say so."""
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(RunDirError(f"cannot write {str(out)!r}: {exc.strerror or exc}"))
    say(console, "wrote", "green", out)


def warn_scenario(s) -> None:
    """Print what the scenario allows but probably does not mean."""
    from .scenarios.checks import scenario_warnings

    for text in scenario_warnings(s):
        say(err, "warning:", "bold yellow", text)


def ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C that a library reported as an error of its own: pydantic-core, when one lands
    while it builds a validator (the scenario schema is built on its first import), raises a SchemaError that
    names the KeyboardInterrupt instead of letting it through."""
    return type(exc).__name__ == "SchemaError" and "KeyboardInterrupt" in str(exc)


def interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is a Ctrl-C: a KeyboardInterrupt, or one a library reported as its own error
    (:func:`ctrl_c`)."""
    return isinstance(exc, KeyboardInterrupt) or ctrl_c(exc)


def aborted(out: Optional[Path]) -> None:
    """A Ctrl-C that ended a command at once (while starting, or a second Ctrl-C): say what is left, exit 130."""
    left = False
    if out is not None and out.is_dir():  # imported only then: a Ctrl-C while starting may have cut an import
        from .output.checkpoint import list_checkpoints  # (numba's) short, which a new import would trip on

        left = bool(list_checkpoints(out))
    say(err, "stopped:", "bold yellow", f"aborted; resume from the last checkpoint with: scslab resume {out}"
        if left else "aborted before any checkpoint; nothing to resume")
    raise typer.Exit(code=130)


def progress_bar(quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
                    TextColumn("days  {task.fields[rate]}"), TimeRemainingColumn(), console=err, disable=quiet,
                    transient=False)


def day_callback(bar, task, n: int, first_day: int = 0):
    t0 = time.perf_counter()

    def progress(day: int) -> None:
        elapsed = time.perf_counter() - t0
        bar.update(task, completed=day + 1,
                   rate=f"{(day + 1 - first_day) * n / max(elapsed, 1e-9):.3g} agent-days/s")

    return progress
