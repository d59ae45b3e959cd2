"""Work items on threads (engine/threads.py): every item runs once, an item's exception is raised, and the
pool follows numba's thread count."""

import numba
import pytest

from scslab.engine.threads import in_threads


def test_every_item_runs_once_whatever_the_thread_count():
    before = numba.get_num_threads()
    try:
        for threads in (before, 1, before):
            numba.set_num_threads(threads)
            seen = []
            in_threads(seen.append, 64)
            assert sorted(seen) == list(range(64))
    finally:
        numba.set_num_threads(before)


def test_an_items_exception_is_raised():
    def item(k):
        if k == 5:
            raise ValueError(f"bad item {k}")

    with pytest.raises(ValueError, match="bad item 5"):
        in_threads(item, 8)
