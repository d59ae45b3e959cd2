"""Figures and a self-contained HTML report of a run directory (needs the ``report`` extra: matplotlib).

Nothing here is imported by the core: ``scslab report`` imports it when asked.
"""

from .build import write_report

__all__ = ["write_report"]
