"""Scenario language: schema, loading, presets."""

from .load import load_scenario, preset_names, preset_path
from .schema import Scenario

__all__ = ["Scenario", "load_scenario", "preset_names", "preset_path"]
