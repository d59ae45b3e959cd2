"""CLI command ``sources``: scslab's table of sources, the facts that the presets' documented marks cite."""

from __future__ import annotations

from typing import Optional

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["register"]


def _short(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters (the full text: ``scslab sources ID``)."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def sources(
        source_id: Optional[str] = typer.Argument(None, metavar="[ID]",
                                                  help="A source id (as cited in a mark: [ID]); omit to list all."),
        markdown: bool = typer.Option(False, "--markdown", help="Print the whole table as Markdown instead."),
    ) -> None:
        """List the table of sources (id, value, unit, date, publication), or show one source with its address
        and note.

        A preset's mark "documented: ... [ID]" cites these ids; `scslab odd` and `scslab report` list the
        entries a scenario cites. An unknown id exits with status 2 and names the nearest ids.
        """
        from .errors import ScslabError
        from .sources import near, sources as table, sources_markdown

        out = Console(highlight=False)  # markup on: every text from the table goes through escape()
        try:
            entries = table()
        except ScslabError as exc:
            from .cli_common import fail

            fail(exc)
        if markdown:
            typer.echo(sources_markdown(), nl=False)
            return
        if source_id is None:
            grid = Table(title="scslab sources (scslab sources ID shows one with its address and note)",
                         box=box.SIMPLE_HEAD, padding=(0, 1))
            for name, ratio in (("id", None), ("value", 2), ("unit", 2), ("date", None), ("publication", 3)):
                grid.add_column(name, no_wrap=ratio is None, ratio=ratio, overflow="fold",
                                min_width=len(name) if ratio else None)
            for s in entries.values():
                style = "dim" if s.status == "unsourced" else ""
                grid.add_row(f"[bold]{escape(s.id)}[/]", escape(_short(s.value_text())), escape(_short(s.unit)),
                             escape(s.date),
                             escape(s.publication) + (" [italic](unsourced)[/]" if s.status == "unsourced" else ""),
                             style=style)
            out.print(grid)
            return
        s = entries.get(source_id)
        if s is None:
            close = near(source_id)
            err = Console(stderr=True, highlight=False)
            err.print(f"[bold red]error:[/] no source {escape(repr(source_id))}"
                      + (f"; near: {escape(', '.join(close))}" if close else "")
                      + " (scslab sources lists them all)", soft_wrap=True)
            raise typer.Exit(code=2)
        grid = Table(title=f"source {escape(s.id)}", show_header=False)
        grid.add_column("field", style="bold", no_wrap=True)
        grid.add_column("value", overflow="fold")
        address = s.address if s.is_url or not s.address else f"{s.address} (in the scslab repository)"
        for field, value in (("value", s.value_text()), ("unit", s.unit), ("date", s.date), ("status", s.status),
                             ("publication", s.publication), ("address", address or "none"), ("note", s.note)):
            grid.add_row(field, escape(value))
        out.print(grid)
