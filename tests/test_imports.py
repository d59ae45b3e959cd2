"""``import scslab`` is cheap and has no side effects; every public name loads on first use."""

import subprocess
import sys

import scslab


def test_public_names_resolve():
    assert set(scslab.__all__) == {*scslab._EXPORTS, "__version__"}
    for name in scslab.__all__:
        assert getattr(scslab, name) is not None
    assert "simulate" in dir(scslab)


def test_import_loads_no_engine():
    code = "import sys, scslab; print(sorted(m for m in ('numba', 'numpy', 'pyarrow', 'pandas') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _scslab_imports():
    """(module, imported module, names) for every import between scslab's modules, anywhere in the code,
    read from the source (relative imports resolved)."""
    import ast
    from pathlib import Path

    root = Path(scslab.__file__).parent
    modules = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".")
                target = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("scslab"):
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    yield name, (sub if sub in modules else target), alias.name


def test_no_import_cycle_inside_the_engine():
    """The engine's modules form layers: no module reaches itself through its imports (also those inside
    functions)."""
    graph = {}
    for a, b, _ in _scslab_imports():
        if a.startswith("scslab.engine") and b.startswith("scslab.engine.") and a != b:
            graph.setdefault(a, set()).add(b)
    state, cycles = {}, []

    def visit(u, path):
        state[u] = "open"
        for v in sorted(graph.get(u, ())):
            if state.get(v) == "open":
                cycles.append(path[path.index(v):] + [v])
            elif v not in state:
                visit(v, path + [v])
        state[u] = "done"

    for u in sorted(graph):
        if u not in state:
            visit(u, [u])
    assert len(graph) > 15 and not cycles, cycles


def test_no_private_name_is_imported_across_modules():
    private = [(a, b, n) for a, b, n in _scslab_imports() if n.startswith("_") and not n.startswith("__")]
    assert not private, private
