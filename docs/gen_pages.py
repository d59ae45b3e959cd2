"""Pages generated when the site is built (mkdocs-gen-files), so they never disagree with the code:
the scenario reference (from the schema), the CLI reference (from the Typer app), one ODD description per
preset, and the tutorials (from their jupytext scripts, run when the site is built: each page shows what
its code printed and drew; the tests run them too)."""

import html
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import mkdocs_gen_files

from scslab import load_scenario, preset_names
from scslab.odd import odd_markdown
from scslab.scenarios.reference import reference_markdown

with mkdocs_gen_files.open("reference/scenario.md", "w") as fh:
    fh.write(reference_markdown())

cli = subprocess.run([sys.executable, "-m", "typer", "scslab.cli", "utils", "docs", "--name", "scslab",
                      "--title", "Command line"], capture_output=True, text=True, check=True).stdout
with mkdocs_gen_files.open("reference/cli.md", "w") as fh:
    fh.write(cli)

for name in preset_names():
    with mkdocs_gen_files.open(f"odd/{name}.md", "w") as fh:
        fh.write(odd_markdown(load_scenario(name)))


def executed(script: Path) -> str:
    """The tutorial's page: its text, its code, and what each code cell printed or showed (its last value)
    and drew, from running it once in a fresh process (``docs/run_tutorial.py``, in a temporary folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run([sys.executable, str(Path("docs/run_tutorial.py").resolve()), str(script.resolve()),
                              tmp], cwd=tmp, capture_output=True, text=True, timeout=900,
                             env={**os.environ, "MPLBACKEND": "Agg"})
        if res.returncode != 0:
            raise RuntimeError(f"the tutorial {script} failed:\n{res.stderr[-3000:]}")
        parts = []
        for cell in json.loads((Path(tmp) / "cells.json").read_text()):
            if cell["kind"] != "code":
                parts.append(cell["source"])
                continue
            parts.append(f"```python\n{cell['source']}\n```")
            if cell["output"]:
                parts.append(f'<pre class="tutorial-output"><code>{html.escape(cell["output"])}</code></pre>')
            for name in cell["figures"]:
                with mkdocs_gen_files.open(f"tutorials/{name}", "wb") as fh:
                    fh.write((Path(tmp) / name).read_bytes())
                parts.append(f"![A figure drawn by the code above]({name})")
    return "\n\n".join(parts) + "\n"


for script in sorted(Path("docs/tutorials").glob("*.py")):
    page = executed(script)
    with mkdocs_gen_files.open(f"tutorials/{script.stem}.md", "w") as fh:
        fh.write(page)
