"""The compiled drivers are cached on disk, stamped with the import closure of their modules."""

from pathlib import Path

from scslab.engine import dense, jitcache, lazy, sparse
from scslab.engine.compiled import CACHE


def test_drivers_are_stamped_with_their_import_closure():
    assert CACHE, "numba's cache API changed: the engine would compile in every process"
    from scslab.engine.windowed import agent, driver, friends, penalties, route

    for driver_ in (dense.dense_pass, dense.init_pass, sparse.sparse_pass, sparse.tie_targets, lazy.lazy_pass,
                    lazy.build_bitmaps, lazy.settle, route.sweep_blocks, penalties.senders_of, agent.agent, driver.start_chunk,
                    friends.friends_batch):
        locator = driver_._cache._impl.locator
        assert getattr(locator, "_scslab", False)
        assert locator.get_source_stamp() == jitcache.closure_digest(str(Path(locator._py_file).resolve()))


def test_the_closure_holds_what_the_drivers_compile_in():
    names = {str(p.relative_to(jitcache.ROOT)) for p in jitcache.closure(dense.__file__)}
    assert {"engine/kernels.py", "engine/compiled.py", "engine/state.py", "compile.py", "rng.py",
            "population.py"} <= names
    assert "engine/lazy.py" not in names  # the dense scheduler does not reach the lazy one
    windowed = {str(p.relative_to(jitcache.ROOT)) for p in jitcache.closure(str(jitcache.ROOT / "engine" /
                                                                                "windowed" / "route.py"))}
    assert {"engine/windowed/agent.py", "engine/windowed/friends.py", "engine/windowed/model.py",
            "population.py"} <= windowed


def test_an_edit_anywhere_in_the_closure_changes_the_stamp(tmp_path, monkeypatch):
    pkg = tmp_path / "scslab"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "engine" / "__init__.py").write_text("")
    (pkg / "engine" / "driver.py").write_text("from . import rules\n\ndef f():\n    from ..other import x\n")
    (pkg / "engine" / "rules.py").write_text("A = 1\n")
    (pkg / "other.py").write_text("x = 1\n")
    (pkg / "apart.py").write_text("y = 1\n")
    monkeypatch.setattr(jitcache, "ROOT", pkg)
    jitcache.closure.cache_clear(), jitcache.closure_digest.cache_clear()
    path = str(pkg / "engine" / "driver.py")
    assert {p.name for p in jitcache.closure(path)} == {"driver.py", "rules.py", "other.py", "__init__.py"}
    before = jitcache.closure_digest(path)
    (pkg / "other.py").write_text("x = 2\n")  # imported inside a function
    jitcache.closure_digest.cache_clear()
    after = jitcache.closure_digest(path)
    (pkg / "apart.py").write_text("y = 2\n")  # outside the closure
    jitcache.closure_digest.cache_clear()
    assert after != before and jitcache.closure_digest(path) == after
    jitcache.closure.cache_clear(), jitcache.closure_digest.cache_clear()


def test_numba_cache_dir_is_honoured(tmp_path):
    """With NUMBA_CACHE_DIR set, the engine's compiled code goes there (still stamped with its closure), not
    beside the sources: what a read-only install needs."""
    import os
    import subprocess
    import sys

    code = ("from scslab.engine import lazy; from scslab.engine.jitcache import closure_digest; "
            "c = lazy.lazy_pass._cache; print(c._cache_path); "
            "print(c._impl.locator.get_source_stamp() == closure_digest(lazy.__file__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}).stdout.split()
    assert out[0].startswith(str(tmp_path)) and out[1] == "True"


def test_files_written_by_other_sources_are_never_opened(tmp_path):
    """The cache's file names carry the closure's stamp: an index left by other sources (here one naming a type
    that no longer exists, as one written before a type moved between modules does) under the name numba alone
    would give it is not opened, and the compiled function loads and runs."""
    import os
    import subprocess
    import sys

    code = """
import sys
import numpy as np
import numba
from scslab.engine.jitcache import closure_digest
from scslab.engine.windowed import draws
impl = draws.days_of._cache._impl
assert impl.filename_base.split(".py")[0].endswith(closure_digest(draws.__file__)[:12]), impl.filename_base
lineno = impl.locator.get_disambiguator().split("-")[0]
old = f"draws.days_of-{lineno}.py{sys.version_info[0]}{sys.version_info[1]}{getattr(sys, 'abiflags', '')}.nbi"
import os, pickle
with open(os.path.join(impl.locator.get_cache_path(), old), "wb") as f:
    pickle.dump(numba.__version__, f)
    f.write(b"cscslab.engine.windowed.draws\\nNoSuchType\\n.")
print(" ".join(str(d) for d in draws.days_of(np.uint64(7), 3, 4, 30)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    days = [int(d) for d in out.stdout.split()]
    assert len(days) == 4 and days == sorted(set(days)) and all(0 <= d < 30 for d in days)


def test_files_of_other_sources_go_once_a_week_has_passed(tmp_path):
    """Each edit or upgrade gives the compiled code a new stamp: a module's files under other stamps that nothing
    has rewritten for a week are removed; its current files, newer ones of other stamps (another checkout in use),
    other modules' files and anything else are kept."""
    import os
    import time

    now = time.time()
    old, new = now - (jitcache.STALE_AFTER_DAYS + 1) * 86400, now - 3600
    names = {"route.sweep_blocks-409-aaaaaaaaaaaa.py311.nbi": old,      # another stamp, a week old: goes
             "route.sweep_blocks-409-aaaaaaaaaaaa.py311.3.nbc": old,    # its data: goes
             "route.sweep_blocks-409-bbbbbbbbbbbb.py311.nbi": new,      # another stamp, written an hour ago
             "route.sweep_blocks-409-cccccccccccc.py311.nbi": old,      # the current stamp, however old
             "routes.pick-12-aaaaaaaaaaaa.py311.nbi": old,              # another module
             "route.cpython-311.pyc": old,                              # not numba's
             "route.sweep_blocks-409.py311.nbi": old}                   # no stamp (numba's own naming)
    for name, mtime in names.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (mtime, mtime))
    stale = {n for n in names if n.startswith("route.") and "aaaa" in n}
    gone = jitcache.forget_stale(tmp_path, "route", "cccccccccccc", now=now)
    assert {p.name for p in gone} == stale and len(stale) == 2
    assert {p.name for p in tmp_path.iterdir()} == set(names) - stale
    assert jitcache.forget_stale(tmp_path / "missing", "route", "cccccccccccc") == []


def test_a_cached_function_sweeps_its_folder_when_first_used(tmp_path):
    """The stale files of a module go when one of its compiled functions is first looked up in a process."""
    import os
    import subprocess
    import sys

    code = "from scslab.engine.windowed import draws; print(draws.days_of._cache._impl.locator.get_cache_path())"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    folder = Path(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env=env).stdout.split()[0])
    stale = folder / "draws.days_of-85-0123456789ab.py311.nbi"
    stale.write_bytes(b"x")
    week = (jitcache.STALE_AFTER_DAYS + 1) * 86400
    os.utime(stale, (stale.stat().st_mtime - week, stale.stat().st_mtime - week))
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert not stale.exists()


def _parsed_imports(text):
    """The reference: every import statement as Python's parser reads it, as ``import_statements`` gives it."""
    import ast

    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            yield from ((a.name, ()) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield "." * node.level + (node.module or ""), tuple(a.name for a in node.names if a.name != "*")


def test_the_import_pattern_finds_every_import_the_parser_does():
    """On every scslab source file, and on the forms the pattern must know (names over several lines, with
    comments, aliases, a backslash, an import inside a function)."""
    tricky = ("from .a import (b,  # why\n    c as d,\n    e)\nimport x.y as z, w\nfrom ..p import \\\n    q\n"
              "def f():\n    from . import r; import s\n")
    texts = [tricky] + [p.read_text(encoding="utf-8") for p in jitcache.ROOT.rglob("*.py")]
    for text in texts:
        found = set(jitcache.import_statements(text))
        missing = set(_parsed_imports(text)) - found
        assert not missing, missing
    assert set(_parsed_imports(tricky)) - set(jitcache.import_statements(tricky)) == set()
