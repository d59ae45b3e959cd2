"""The simulation engines. Importing this package loads nothing heavy; the drivers live in submodules."""

ENGINES = ("dense", "lazy")  # dense: every agent every day; lazy (default): only the agents something happens to
DEFAULT_ENGINE = "lazy"
