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


def test_callers_with_different_thread_counts_run_side_by_side(monkeypatch):
    """Two callers on their own threads, one with 2 threads and one with 3 (numba's count is per thread; here
    it is stood in for, as this machine may have fewer cores), each get every item once while the other
    runs: a pool is never replaced under a caller."""
    import threading

    import scslab.engine.threads as threads_module

    mine = threading.local()
    monkeypatch.setattr(threads_module.numba, "get_num_threads", lambda: mine.count)
    seen, errors = {2: [], 3: []}, []

    def caller(count):
        mine.count = count
        try:
            for _ in range(50):
                got = []
                in_threads(got.append, 32)
                seen[count].append(sorted(got) == list(range(32)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    callers = [threading.Thread(target=caller, args=(c,)) for c in (2, 3)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert not errors, errors
    assert seen[2] == seen[3] == [True] * 50


def test_a_forked_child_runs_its_items(monkeypatch):
    """A process forked after the pools exist (a sweep's worker, say) runs its items on pools of its own: the
    parent's worker threads do not exist in it."""
    import multiprocessing

    import scslab.engine.threads as threads_module

    monkeypatch.setattr(threads_module.numba, "get_num_threads", lambda: 2)  # a pool, on any machine
    in_threads(lambda k: None, 8)  # the parent's pool exists
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_items_in_child).get(timeout=60) == list(range(16))


def _items_in_child():
    got = []
    in_threads(got.append, 16)
    return sorted(got)


def test_items_given_slots_never_share_one_while_running(monkeypatch):
    """With ``slots``, each running item holds a slot no other running item holds (so it may add into that row
    of shared arrays), every item runs once, and at most ``slots`` run at once. Four threads are stood in for
    (numba's count is capped by the cores) with slowed items, so that items overlap."""
    import threading
    import time

    import scslab.engine.threads as threads_module
    from scslab.engine.threads import work_slots

    monkeypatch.setattr(threads_module.numba, "get_num_threads", lambda: 4)
    assert work_slots() == 4
    for slots in (4, 2, 1):
        lock, held, seen, most = threading.Lock(), set(), [], [0]

        def item(k, slot):
            with lock:
                assert slot not in held and 0 <= slot < slots, (k, slot, held)
                held.add(slot)
                most[0] = max(most[0], len(held))
            time.sleep(0.002)
            with lock:
                held.remove(slot)
                seen.append(k)

        in_threads(item, 40, slots=slots)
        assert sorted(seen) == list(range(40))
        assert 1 <= most[0] <= slots
        assert most[0] > 1 or slots == 1  # the items did overlap
