"""Make numba's on-disk cache of the CPU drivers depend on every engine source file.

numba stamps a cached function with its own file only, so an edit to ``kernels.py`` (inlined into the
drivers in ``cpu.py``, ``lazy.py`` and ``deferral.py``) would otherwise reuse stale machine code. This
locator stamps the drivers with a hash of all the files whose code or constants they compile in. If numba's
caching internals ever change shape, :func:`engine_cache` returns False and the drivers are simply compiled
in each process (correct, slower). :func:`stamped_cache` does the same for any set of files (the windowed
route's drivers use it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["engine_cache", "engine_digest", "stamped_cache", "files_digest", "ENGINE_SOURCES"]

_ROOT = Path(__file__).resolve().parent.parent
ENGINE_SOURCES = ("engine/cpu.py", "engine/lazy.py", "engine/deferral.py", "engine/detected.py",
                  "engine/bits.py", "engine/kernels.py", "population.py", "rng.py", "compile.py")
DRIVER_FILES = ("engine/cpu.py", "engine/lazy.py", "engine/deferral.py")  # modules whose drivers use the cache


def engine_digest() -> str:
    """Hash of every engine source file: what a checkpoint and the compiled cache must agree on."""
    h = hashlib.sha256()
    for rel in ENGINE_SOURCES:
        h.update(rel.encode())
        h.update((_ROOT / rel).read_bytes())
    return h.hexdigest()


def engine_cache() -> bool:
    """Register the locator once; True when the drivers may use ``cache=True``."""
    return stamped_cache({str(_ROOT / rel) for rel in DRIVER_FILES}, engine_digest())


def stamped_cache(files, stamp: str) -> bool:
    """Stamp numba's on-disk cache of the functions defined in ``files`` (absolute paths) with ``stamp`` (a
    hash of every file they compile in) instead of their own file's time. Registered once per set of files;
    True when those functions may use ``cache=True``, False (compile in each process) if numba's caching
    internals changed shape."""
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover
        return False
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    base = getattr(caching, "InTreeCacheLocator", None)
    if impl is None or base is None or not isinstance(getattr(impl, "_locator_classes", None), list):
        return False
    files = frozenset(str(Path(f).resolve()) for f in files)
    for cls in impl._locator_classes:
        if getattr(cls, "_scslab", None) == files:
            return True

    class StampedLocator(base):
        _scslab = files

        def get_source_stamp(self):
            return stamp

        @classmethod
        def from_function(cls, py_func, py_file):
            if str(Path(py_file).resolve()) not in files:
                return None
            return super().from_function(py_func, py_file)

    impl._locator_classes.insert(0, StampedLocator)
    return True


def files_digest(paths) -> str:
    """Hash of the files at ``paths``, for :func:`stamped_cache`."""
    h = hashlib.sha256()
    for path in paths:
        h.update(Path(path).read_bytes())
    return h.hexdigest()
