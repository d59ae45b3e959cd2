"""Stamp numba's on-disk cache of scslab's compiled functions with everything they compile in.

numba stamps a cached function with its own file only, so an edit to ``kernels.py`` (inlined into the
drivers of ``dense.py``, ``lazy.py``, ``sparse.py``...) would otherwise reuse stale machine code. The locator
here stamps a function with the hash of its module's *import closure*: every scslab source file the module
imports, directly or through others, at module level or inside a function, read from the code itself (the
imports of ``scslab/__init__.py``, which load on first use of a name, are not followed). No
list of files is kept by hand, and an edit to any file a driver can reach recompiles it.

The cache goes where numba's would: ``NUMBA_CACHE_DIR`` when it is set, else ``__pycache__`` beside the
source. Files that other sources wrote there and that have not been rewritten for a week are removed
(:func:`forget_stale`), so edits and upgrades do not pile up old machine code. If numba's caching internals
ever change shape, :func:`engine_cache` returns False and the drivers are simply compiled in each process
(correct, slower).
"""

from __future__ import annotations

import hashlib
import re
import time
from functools import lru_cache
from pathlib import Path

__all__ = ["engine_cache", "engine_digest", "closure", "closure_digest", "forget_stale", "import_statements", "ROOT",
           "STALE_AFTER_DAYS"]

ROOT = Path(__file__).resolve().parent.parent  # the scslab package


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _file_of(module: str) -> Path | None:
    """The source file of a scslab module (``scslab.engine.cpu``), or None outside scslab or when absent."""
    return _file_in(ROOT, module)


@lru_cache(maxsize=None)
def _file_in(root: Path, module: str) -> Path | None:
    """:func:`_file_of` under the package folder ``root``, looked up once per process (the closures of the
    drivers ask some 2,600 times for about 200 modules)."""
    if module != "scslab" and not module.startswith("scslab."):
        return None
    base = root.parent.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


# an import statement, at any indentation: ``from X import a, b`` (names in parentheses may span lines) or
# ``import a.b, c``. Read with a pattern rather than parsed: parsing the engine's 40-odd files took 0.15 s of
# every run's start. Text that only looks like an import (in a docstring) adds a file to the closure, which
# costs at most a compile; tests/test_jitcache.py checks that the pattern finds every import the parser does.
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)|import[ \t]+([^\n#]*))",
                     re.MULTILINE)


def import_statements(text: str):
    """(module, names) of every import statement in the source ``text``: ``from`` imports give the module as
    written (leading dots kept) and the names imported, plain imports each module with no names. (A
    backslash joins lines and a semicolon parts them, as in Python.)"""
    for m in _IMPORT.finditer(text.replace("\\\n", " ").replace(";", "\n")):
        base, names, plain = m.groups()
        if plain is not None:
            for item in plain.split(","):
                if item.split():
                    yield item.split()[0], ()
        else:
            items = (item.split() for item in re.sub(r"#[^\n]*", "", names).strip("()").split(","))
            yield base, tuple(item[0] for item in items if item and item[0] != "*")


@lru_cache(maxsize=None)
def _imports(path: Path) -> frozenset[Path]:
    """The scslab files ``path`` imports, anywhere in its code (a package's ``__init__`` with each module).
    Read once per process: the drivers' closures share most of their files."""
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    out: set[Path] = set()
    for module, imported in import_statements(path.read_text(encoding="utf-8")):
        level = len(module) - len(module.lstrip("."))
        if level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - level + 1] + ([module[level:]] if module[level:] else []))
        else:
            base = module
        for name in [base] + [f"{base}.{a}" for a in imported]:
            parts = name.split(".")
            for k in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
                found = _file_of(".".join(parts[:k]))
                if found is not None:
                    out.add(found)
    out.discard(path)
    return frozenset(out)


@lru_cache(maxsize=None)
def closure(path: str) -> tuple[Path, ...]:
    """Every scslab source file that the module at ``path`` imports, directly or not, with itself (sorted)."""
    seen, todo = set(), [Path(path).resolve()]
    face = ROOT / "__init__.py"  # the package's face: its names load on first use, not on import
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            if p != face:
                todo.extend(_imports(p) - seen)
    return tuple(sorted(seen))


@lru_cache(maxsize=None)
def closure_digest(path: str) -> str:
    """Hash of the import closure of the module at ``path``: file names and contents."""
    h = hashlib.sha256()
    for p in closure(path):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def engine_digest() -> str:
    """Hash of every source file a run can compile: what a checkpoint and the compiled cache must agree on."""
    return closure_digest(str(ROOT / "engine" / "cpu.py"))


_REGISTERED: list[bool] = []

STALE_AFTER_DAYS = 7  # a cache file of other sources unwritten this long is removed (an upgrade, an edit)
_STAMPED = re.compile(r"-([0-9a-f]{12})\.py\d+(\.\d+)?\.nb[ic]$")  # numba's index (.nbi) and data (.nbc) files
_SWEPT: set = set()  # (folder, module) pairs looked at by this process


def forget_stale(folder: Path, module: str, stamp: str, now: float | None = None) -> list[Path]:
    """Remove the compiled-cache files of ``module`` in ``folder`` that other sources wrote (a stamp other
    than ``stamp``) and that nothing has rewritten for :data:`STALE_AFTER_DAYS` days; returns them. Each edit
    or upgrade of scslab's sources gives their compiled code a new stamp, and the old files would otherwise
    pile up (tens of megabytes each time). Another checkout sharing the folder keeps its files while it is
    in use; a file that cannot be removed is left."""
    now = time.time() if now is None else now
    gone = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return gone
    for path in entries:
        found = _STAMPED.search(path.name)
        if not path.name.startswith(module + ".") or found is None or found.group(1) == stamp:
            continue
        try:
            if now - path.stat().st_mtime > STALE_AFTER_DAYS * 86400:
                path.unlink()
                gone.append(path)
        except OSError:
            pass
    return gone


def engine_cache() -> bool:
    """Register the stamping locator once; True when scslab's drivers may use ``cache=True``."""
    if not _REGISTERED:
        _REGISTERED.append(_register())
    return _REGISTERED[0]


def _register() -> bool:
    try:
        from numba.core import caching, config
    except ImportError:  # pragma: no cover
        return False
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    in_tree = getattr(caching, "InTreeCacheLocator", None)
    # numba 0.57-0.60 name it with a leading underscore, later releases without
    user_dir = getattr(caching, "UserProvidedCacheLocator", None) or getattr(caching, "_UserProvidedCacheLocator", None)
    if impl is None or in_tree is None or not isinstance(getattr(impl, "_locator_classes", None), list):
        return False
    base = user_dir if (config.CACHE_DIR and user_dir is not None) else in_tree

    class ClosureStampedLocator(base):
        """numba's locator for scslab's files, stamped with the module's import closure."""

        _scslab = True

        def get_source_stamp(self):
            return closure_digest(str(Path(self._py_file).resolve()))

        def get_disambiguator(self):
            # the stamp goes into the file names too, so that files written by other sources are never opened:
            # numba unpickles an index before it compares the stamps, and a type named in the index that has
            # moved to another module since (the windowed route's tables did) fails to unpickle
            return f"{super().get_disambiguator()}-{self.get_source_stamp()[:12]}"

        def ensure_cache_path(self):
            super().ensure_cache_path()
            folder, module = Path(self.get_cache_path()), Path(self._py_file).stem
            if (folder, module) not in _SWEPT:  # once per folder and module in a process
                _SWEPT.add((folder, module))
                forget_stale(folder, module, self.get_source_stamp()[:12])

        @classmethod
        def from_function(cls, py_func, py_file):
            try:
                Path(py_file).resolve().relative_to(ROOT)
            except (ValueError, OSError):
                return None
            return super().from_function(py_func, py_file)

    impl._locator_classes.insert(0, ClosureStampedLocator)
    return True
