"""Work items run on threads: a compiled function that releases the GIL (``nogil=True``), called once per item
from a thread pool of numba's thread count. It replaces a ``prange`` loop whose body is a single call: the
result is the same (items write disjoint parts), and numba has no parallel loop to compile (seconds of a
first run; ``docs/performance.md``, "Compilation")."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["in_threads"]


_pool: ThreadPoolExecutor | None = None  # kept between calls (a new pool per call cost 1.4 ms: 64 items, 2 threads)
_pool_size = 0
_pool_lock = threading.Lock()


def _workers(threads: int) -> ThreadPoolExecutor:
    """The pool of ``threads`` workers, made on first use and again when numba's thread count changes."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != threads:
            if _pool is not None:
                _pool.shutdown(wait=False)  # its threads end once their items are done
            _pool, _pool_size = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scslab"), threads
        return _pool


def in_threads(item: Callable[[int], object], count: int) -> None:
    """Call ``item(k)`` for k in 0 .. count-1 on numba's number of threads; an item's exception is raised."""
    threads = numba.get_num_threads()
    if threads <= 1 or count <= 1:
        for k in range(count):
            item(k)
        return
    for _ in _workers(threads).map(item, range(count)):
        pass
