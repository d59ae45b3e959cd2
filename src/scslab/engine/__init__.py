"""The simulation engines. Importing this package loads nothing heavy; the drivers live in submodules.

Three CPU schedulers run one model (``engine.routes`` decides which runs a plan): ``windowed`` (agent by
agent, a window of days at once), ``lazy`` (day by day, only the agents something happens to) and ``dense``
(every agent every day). ``auto``, the default, picks the fastest that supports the scenario."""

SCHEDULERS = ("windowed", "lazy", "dense")  # fastest first
ENGINES = ("auto", *SCHEDULERS)
DEFAULT_ENGINE = "auto"
