"""Stamp numba's on-disk cache of scslab's compiled functions with everything they compile in.

numba stamps a cached function with its own file only, so an edit to ``kernels.py`` (inlined into the
drivers of ``dense.py``, ``lazy.py``, ``sparse.py``...) would otherwise reuse stale machine code. The locator
here stamps a function with the hash of its module's *import closure*: every scslab source file the module
imports, directly or through others, at module level or inside a function, read from the code itself (the
imports of ``scslab/__init__.py``, which load on first use of a name, are not followed). No
list of files is kept by hand, and an edit to any file a driver can reach recompiles it.

The cache goes where numba's would: ``NUMBA_CACHE_DIR`` when it is set, else ``__pycache__`` beside the
source. If numba's caching internals ever change shape, :func:`engine_cache` returns False and the drivers
are simply compiled in each process (correct, slower).
"""

from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

__all__ = ["engine_cache", "engine_digest", "closure", "closure_digest", "ROOT"]

ROOT = Path(__file__).resolve().parent.parent  # the scslab package


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _file_of(module: str) -> Path | None:
    """The source file of a scslab module (``scslab.engine.cpu``), or None outside scslab or when absent."""
    if module != "scslab" and not module.startswith("scslab."):
        return None
    base = ROOT.parent.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _statements(nodes):
    """Every statement in ``nodes`` and in the blocks nested in them (imports are statements, so expressions
    need not be walked)."""
    for node in nodes:
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                yield from _statements(block)


@lru_cache(maxsize=None)
def _imports(path: Path) -> frozenset[Path]:
    """The scslab files ``path`` imports, anywhere in its code (a package's ``__init__`` with each module).
    Read once per process: the drivers' closures share most of their files."""
    tree = ast.parse(path.read_bytes())
    package = _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]
    out: set[Path] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
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

        @classmethod
        def from_function(cls, py_func, py_file):
            try:
                Path(py_file).resolve().relative_to(ROOT)
            except (ValueError, OSError):
                return None
            return super().from_function(py_func, py_file)

    impl._locator_classes.insert(0, ClosureStampedLocator)
    return True
