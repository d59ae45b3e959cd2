"""Pages generated when the site is built (mkdocs-gen-files), so they never disagree with the code:
the scenario reference (from the schema), the CLI reference (from the Typer app), one ODD description per
preset, and the tutorials (from their jupytext scripts, which the tests execute)."""

import subprocess
import sys
from pathlib import Path

import jupytext
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

for script in sorted(Path("docs/tutorials").glob("*.py")):
    notebook = jupytext.read(script)
    parts = []
    for cell in notebook.cells:
        parts.append(cell.source if cell.cell_type == "markdown" else f"```python\n{cell.source}\n```")
    with mkdocs_gen_files.open(f"tutorials/{script.stem}.md", "w") as fh:
        fh.write("\n\n".join(parts) + "\n")
