"""The per-agent rules of ``engine/kernels.py``, compiled once for the CPU, and the drivers' disk cache.

``K`` holds the compiled functions (``K.finish``, ``K.act``, ``K.partner``...), inlined into every driver that
calls them, except ``finish``, the end of day, which is called: inlined it doubled the lazy scheduler's
compile time for no measurable speed. Drivers are module-level ``njit`` functions with ``cache=CACHE``, so that numba keeps their
machine code on disk, stamped with their module's import closure (``engine/jitcache.py``).
"""

from __future__ import annotations

from numba import njit

from .jitcache import engine_cache
from .kernels import build

__all__ = ["K", "CACHE"]

K = build(njit(inline="always", nogil=True), call=njit(nogil=True))
CACHE = engine_cache()
