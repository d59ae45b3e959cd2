"""Execute a tutorial (a jupytext script) cell by cell, as a notebook would, for the documentation site.

    python docs/run_tutorial.py SCRIPT OUTDIR

writes ``OUTDIR/cells.json``: for each cell, its kind and source and, for a code cell, what it printed,
the value of its last line when that is an expression (as a notebook shows it), and the names of the PNG
files (in OUTDIR) of the figures it left open. ``docs/gen_pages.py`` runs it once per tutorial, in a fresh
process and a temporary folder, and embeds the outputs and figures in the tutorial's page; a cell that
fails fails the build.
"""

import ast
import contextlib
import io
import json
import pprint
import sys
import warnings
from pathlib import Path


def shown(value) -> str:
    """What a notebook shows for a cell's last value (plain text)."""
    if isinstance(value, (dict, list, tuple)):
        return pprint.pformat(value, width=100, sort_dicts=False)
    return repr(value)


def execute(script: Path, out: Path) -> list[dict]:
    import jupytext
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    warnings.simplefilter("ignore")  # a page shows what a reader's notebook shows, without the warnings
    namespace: dict = {"__name__": "__main__", "__file__": str(script)}
    cells, figures = [], 0
    for cell in jupytext.read(script).cells:
        if cell.cell_type != "code":
            cells.append({"kind": cell.cell_type, "source": cell.source})
            continue
        tree = ast.parse(cell.source, str(script))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, str(script), "exec"), namespace)  # noqa: S102 - the project's own tutorial
            value = None if last is None else eval(compile(ast.Expression(last.value), str(script), "eval"),
                                                   namespace)  # noqa: S307
        text = printed.getvalue() + ("" if value is None else shown(value))
        names = []
        for number in plt.get_fignums():
            figures += 1
            names.append(f"{script.stem}-{figures}.png")
            plt.figure(number).savefig(out / names[-1], format="png", dpi=80)
        plt.close("all")
        cells.append({"kind": "code", "source": cell.source, "output": text.rstrip("\n"), "figures": names})
    return cells


if __name__ == "__main__":
    script, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "cells.json").write_text(json.dumps(execute(script, out)))
