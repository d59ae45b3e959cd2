"""Work items run on threads: a compiled function that releases the GIL (``nogil=True``), called once per item
from a thread pool of numba's thread count. It replaces a ``prange`` loop whose body is a single call: the
result is the same (items write disjoint parts), and numba has no parallel loop to compile (seconds of a
first run; ``docs/performance.md``, "Compilation")."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba

__all__ = ["in_threads", "work_slots"]


# one pool per thread count, kept between calls (a new pool per call cost 1.4 ms: 64 items, 2 threads); never
# shut down while the process runs, so that callers on other threads with another count keep theirs
_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()
# a forked child has none of its parent's worker threads: it starts its own pools
os.register_at_fork(after_in_child=_pools.clear)


def _workers(threads: int) -> ThreadPoolExecutor:
    """The pool of ``threads`` workers, made on first use."""
    with _pools_lock:
        if threads not in _pools:
            _pools[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"scslab-{threads}")
        return _pools[threads]


def work_slots() -> int:
    """How many work items may run at once: numba's number of threads. A caller that gives each running item a
    row of its own (metric changes added up afterwards) needs this many rows, not one per item."""
    return max(1, numba.get_num_threads())


def in_threads(item: Callable, count: int, slots: int | None = None) -> None:
    """Call ``item(k)`` for k in 0 .. count-1 on numba's number of threads; an item's exception is raised.

    With ``slots``, call ``item(k, slot)`` instead, on at most ``slots`` threads: ``slot`` (0 .. slots-1) is
    held by no other item while this one runs, so items may add into row ``slot`` of shared arrays. Which
    item gets which slot is up to the threads; a sum over the rows of integers does not depend on it."""
    threads = numba.get_num_threads() if slots is None else min(numba.get_num_threads(), slots)
    run = item
    if slots is not None:
        free = queue.SimpleQueue()
        for q in range(slots):
            free.put(q)

        def run(k):
            q = free.get()
            try:
                item(k, q)
            finally:
                free.put(q)
    if threads <= 1 or count <= 1:
        for k in range(count):
            run(k)
        return
    for _ in _workers(threads).map(run, range(count)):
        pass
