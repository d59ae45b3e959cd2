"""Work items run on threads: a compiled function that releases the GIL (``nogil=True``), called once per item
from a thread pool of numba's thread count. It replaces a ``prange`` loop whose body is a single call: the
result is the same (items write disjoint parts), and numba has no parallel loop to compile (seconds of a
first run; ``docs/performance.md``, "Compilation")."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["in_threads"]


def in_threads(item: Callable[[int], object], count: int) -> None:
    """Call ``item(k)`` for k in 0 .. count-1 on numba's number of threads; an item's exception is raised."""
    threads = min(numba.get_num_threads(), count)
    if threads <= 1:
        for k in range(count):
            item(k)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in pool.map(item, range(count)):
            pass
