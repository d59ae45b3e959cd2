"""The optional extras (``pip install 'scslab[EXTRA]'``) and a check that one is installed.

A command that needs an extra calls :func:`require` before any work, so a missing package is named with
the line that installs it (a :class:`~scslab.errors.BackendError`, exit status 2 on the command line),
never an import traceback halfway through.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Iterable

from .errors import BackendError

__all__ = ["EXTRAS", "require", "install_hint"]

# extra -> what it brings (pyproject.toml's [project.optional-dependencies])
EXTRAS = {
    "report": "Matplotlib: reports and figures",
    "sweep": "Dask, DuckDB, SALib, optuna, xarray: sweeps, sensitivity, calibration",
    "app": "Solara and uvicorn: the web dashboard",
}


def install_hint(extra: str) -> str:
    return f"pip install 'scslab[{extra}]'"


def _missing(name: str, *, load: bool) -> bool:
    if name in sys.modules and sys.modules[name] is None:  # import blocked
        return True
    if not load:
        try:
            return importlib.util.find_spec(name) is None
        except (ImportError, ValueError):  # a parent package missing, or a module without a spec
            return True
    try:
        importlib.import_module(name)
    except ImportError:
        return True
    return False


def require(extra: str, what: str, modules: Iterable[str], *, load: bool = True) -> None:
    """Raise a BackendError naming the missing modules and ``pip install 'scslab[EXTRA]'`` when any of
    ``modules`` cannot be imported. ``load=False`` only looks the modules up (for packages that read their
    settings when imported)."""
    missing = [name for name in modules if _missing(name, load=load)]
    if missing:
        raise BackendError(f"{what} needs the {extra} extra ({', '.join(missing)} "
                           f"{'is' if len(missing) == 1 else 'are'} not installed): {install_hint(extra)}")
