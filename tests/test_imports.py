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
