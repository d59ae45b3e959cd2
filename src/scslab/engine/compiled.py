"""The per-agent rules of ``engine/kernels.py``, compiled once for the CPU, and the drivers' disk cache.

``K`` holds the compiled functions (``K.finish``, ``K.act``, ``K.partner``...), inlined into every driver that
calls them. The end of day comes twice, from one rule: ``K.finish``, called (the dense pass: a shorter
compile for an engine no scheme takes by default), and ``K.finish_inlined`` (the lazy pass, which runs it for
every woken agent that the shortcut ``quick`` cannot settle: on the court list every debtor, every day).
Drivers are module-level ``njit`` functions with ``cache=CACHE``, so that numba keeps their machine code on
disk, stamped with their module's import closure (``engine/jitcache.py``).
"""

from __future__ import annotations

from numba import njit

from .jitcache import engine_cache
from .kernels import build

__all__ = ["K", "CACHE"]

K = build(njit(inline="always", nogil=True), call=njit(nogil=True))
CACHE = engine_cache()
