"""The simulation engines. Importing this package loads nothing heavy; the drivers live in submodules.

Three CPU schedulers run one model (``engine.routes`` decides which runs a plan): ``windowed`` (agent by
agent, a window of days at once), ``lazy`` (day by day, only the agents something happens to) and ``dense``
(every agent every day). ``auto``, the default, picks the fastest that supports the scenario. A backend is
the hardware that runs them: ``cpu`` (every scheduler) or ``gpu`` (the dense scheduler on a CUDA device,
``engine/gpu.py``)."""

SCHEDULERS = ("windowed", "lazy", "dense")  # fastest first
ENGINES = ("auto", *SCHEDULERS)
DEFAULT_ENGINE = "auto"
BACKENDS = ("cpu", "gpu")
ON_BACKEND = {"cpu": SCHEDULERS, "gpu": ("dense",)}  # the schedulers each backend runs
