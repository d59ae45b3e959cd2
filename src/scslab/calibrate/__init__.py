"""Calibration: fit a scenario's assumed parameters to documented figures (optuna).

Needs the ``sweep`` extra (optuna); the fit figure needs matplotlib.
"""

from .fit import Fit, calibrate, evaluate, write_fit
from .spec import CalibrationFile, load_calibration

__all__ = ["calibrate", "evaluate", "write_fit", "Fit", "CalibrationFile", "load_calibration"]
