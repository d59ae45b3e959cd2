"""scslab: simulate social credit systems over synthetic populations.

Synthetic populations only: scslab has no importer of real people's records, no face recognition and no
identification. It is a model of such systems, not an instance of one.
"""

from .api import Result, simulate
from .engine import DEFAULT_ENGINE, ENGINES
from .errors import BackendError, CapacityError, RunDirError, RunInterrupted, ScenarioError, ScslabError
from .runs import resume, run
from .scenarios import Scenario, load_scenario, preset_names

__version__ = "0.1.0"

__all__ = ["simulate", "run", "resume", "Result", "load_scenario", "preset_names", "Scenario", "ScslabError",
           "ScenarioError", "CapacityError", "BackendError", "RunDirError", "RunInterrupted", "ENGINES",
           "DEFAULT_ENGINE", "__version__"]
