"""Run directories on disk."""

from .rundir import read_run, write_run

__all__ = ["read_run", "write_run"]
