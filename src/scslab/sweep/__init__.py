"""Sweeps: designed experiments over scenario parameters, run on Dask and catalogued in DuckDB.

Needs the ``sweep`` extra (``pip install 'scslab[sweep]'``): Dask distributed, DuckDB, SALib, xarray.
"""

from .execute import SweepDir, SweepRun, execute_run, open_sweep, run_sweep
from .spec import SweepFile, derive_seed, design_points, load_sweep, plan_runs

__all__ = ["run_sweep", "open_sweep", "load_sweep", "plan_runs", "design_points", "derive_seed", "execute_run",
           "SweepFile", "SweepDir", "SweepRun"]
