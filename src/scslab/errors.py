"""Errors raised by scslab. Every error names what was wrong, the value, and what is allowed."""

from __future__ import annotations

__all__ = ["ScslabError", "ScenarioWarning", "ScenarioError", "SweepError", "CalibrationError", "OptionError",
           "CapacityError", "BackendError", "RunDirError", "RunInterrupted"]


class ScslabError(Exception):
    """Root of every error scslab raises on purpose."""


class ScenarioWarning(UserWarning):
    """A scenario is valid but holds something that probably is not meant (a change that never happens)."""


class ScenarioError(ScslabError, ValueError):
    """A scenario file or override is invalid.

    ``problems`` is a list of ``(path, value, message)``; ``path`` is a dotted path into the scenario
    such as ``behaviours.jaywalking.rate.risky``.
    """

    what = "scenario"

    def __init__(self, problems: list[tuple[str, object, str]] | str, *, source: str | None = None):
        if isinstance(problems, str):
            problems = [("", None, problems)]
        self.problems = list(problems)
        self.source = source
        super().__init__(self._format())

    def _format(self) -> str:
        head = f"invalid {self.what}{f' {self.source}' if self.source else ''}"
        lines = [f"{head}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"]
        for path, value, msg in self.problems:
            where = path or "(top level)"
            shown = "" if value is None else f" (got {_short(value)})"
            lines.append(f"  - {where}: {msg}{shown}")
        return "\n".join(lines)


class SweepError(ScenarioError):
    """A sweep or calibration file is invalid, or a sweep directory does not match its sweep file."""

    what = "sweep file"


class CalibrationError(SweepError):
    """A calibration (targets) file is invalid or does not fit its scenario."""

    what = "calibration file"


class OptionError(ScenarioError):
    """A command-line option (or the argument of the same name) holds a value that is not allowed:
    ``invalid option --population: must be an integer from 1 to 2,000,000,000 (got -5)``."""

    what = "option"

    def __init__(self, option: str, value: object = None, message: str = ""):
        self.option = option
        super().__init__([(option, value, message)])

    def _format(self) -> str:
        return "\n".join(f"invalid option {path}: {msg}" + ("" if value is None else f" (got {_short(value)})")
                         for path, value, msg in self.problems)

    def __reduce__(self):  # the constructor's arguments, not the message (errors cross process boundaries)
        option, value, message = self.problems[0]
        return type(self), (option, value, message)


class CapacityError(ScslabError, MemoryError):
    """A run would not fit in memory; carries the estimate in bytes."""

    def __init__(self, message: str, *, needed_bytes: int, available_bytes: int):
        self.needed_bytes = needed_bytes
        self.available_bytes = available_bytes
        super().__init__(message)


class BackendError(ScslabError, RuntimeError):
    """A requested engine or backend is unknown or unavailable here."""


class RunDirError(ScslabError, FileExistsError):
    """A run directory exists and would be overwritten, or is not a run directory."""


class RunInterrupted(ScslabError):
    """A run stopped on request (Ctrl-C) after writing a checkpoint; ``run_dir`` can be resumed."""

    def __init__(self, run_dir, days_done: int, days: int):
        self.run_dir = run_dir
        self.days_done = days_done
        super().__init__(f"interrupted after {days_done} of {days} days; a checkpoint is in {str(run_dir)!r}. "
                         f"Resume with: scslab resume {run_dir}")


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
