"""scslab: simulate social credit systems over synthetic populations.

Synthetic populations only: scslab has no importer of real people's records, no face recognition and no
identification. It is a model of such systems, not an instance of one.

Importing ``scslab`` is cheap and has no side effects: the names below are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what documentation tools and type checkers read; at run time the names load on first use
    from .api import Result, ensemble, simulate
    from .engine import DEFAULT_ENGINE, ENGINES
    from .errors import BackendError, CapacityError, RunDirError, RunInterrupted, ScenarioError, ScslabError
    from .runs import resume, run
    from .scenarios import Scenario, load_scenario, preset_names

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "simulate": "api", "ensemble": "api", "Result": "api",
    "run": "runs", "resume": "runs",
    "load_scenario": "scenarios", "preset_names": "scenarios", "Scenario": "scenarios",
    "ENGINES": "engine", "DEFAULT_ENGINE": "engine",
    **{name: "errors" for name in ("ScslabError", "ScenarioError", "CapacityError", "BackendError", "RunDirError",
                                   "RunInterrupted")},
}

__all__ = ["simulate", "ensemble", "run", "resume", "Result", "load_scenario", "preset_names", "Scenario", "ScslabError",
           "ScenarioError", "CapacityError", "BackendError", "RunDirError", "RunInterrupted", "ENGINES",
           "DEFAULT_ENGINE", "__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scslab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
