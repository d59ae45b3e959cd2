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
