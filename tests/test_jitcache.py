"""The CPU drivers are cached on disk, stamped with every engine source file."""

from scslab.engine import cpu, jitcache


def test_drivers_use_the_engine_stamp():
    assert cpu._CACHE, "numba's cache API changed: the engine would compile in every process"
    from scslab.engine import lazy

    for driver in (cpu.dense_pass, cpu.init_pass, cpu.sparse_pass, cpu.tie_targets, lazy.lazy_pass, lazy.build_bitmaps,
                   lazy.settle):
        locator = driver._cache._impl.locator
        assert getattr(locator, "_scslab", False)
        assert locator.get_source_stamp() == jitcache.engine_digest()


def test_stamp_covers_kernels_and_constants():
    assert {"engine/kernels.py", "engine/lazy.py", "engine/deferral.py", "engine/detected.py", "engine/bits.py",
            "compile.py", "rng.py", "population.py"} <= set(
        jitcache.ENGINE_SOURCES)


def test_windowed_route_cache_is_stamped_with_what_it_compiles_in(tmp_path):
    """The windowed route inlines agent.py, friends.py and scslab's population into route.py's and driver.py's
    kernels: its disk cache is stamped with a hash of all of them, so an edit to any recompiles."""
    from pathlib import Path

    from scslab.engine.windowed import agent, driver, friends, route

    stamps = set()
    for kernel in (route.sweep, route.penalties, route.redo, agent.agent_call, driver._start, friends.friends_of):
        locator = kernel._cache._impl.locator
        assert {Path(f).name for f in locator._scslab} == {"agent.py", "route.py", "driver.py", "friends.py"}
        stamps.add(locator.get_source_stamp())
    assert len(stamps) == 1
    files = [tmp_path / "a.py", tmp_path / "b.py"]
    files[0].write_text("x = 1\n")
    files[1].write_text("y = 2\n")
    before = jitcache.files_digest(files)
    files[1].write_text("y = 3\n")
    assert jitcache.files_digest(files) != before
