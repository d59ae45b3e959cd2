"""Commands that read or compare runs: ``report``, ``compare``, ``story``, ``verify``, ``legal`` and ``contrast``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .cli_common import console, err, fail, say
from .errors import BackendError, ScslabError

__all__ = ["register"]


def _from_report_extra(command: str, module: str, *names: str) -> list:
    """``names`` from ``module``, which needs the report extra; exit 2 with the line that installs it when it
    is missing."""
    import importlib

    from .extras import require

    try:
        require("report", f"scslab {command}", ("matplotlib",))
        loaded = importlib.import_module(module)
    except ImportError as exc:
        fail(BackendError(f"scslab {command} needs the report extra ({exc}): pip install 'scslab[report]'"))
    except ScslabError as exc:
        fail(exc)
    return [getattr(loaded, name) for name in names]


def register(app: typer.Typer) -> None:
    """Add the commands to ``app``."""

    @app.command()
    def contrast(
        scenario_a: str = typer.Argument("press-2018", help="The first scheme (A): a preset name or file."),
        scenario_b: str = typer.Argument("court-defaulters-national", help="The second scheme (B)."),
        population: int = typer.Option(100_000, "--population", "-n", min=1, help="Persons in each run."),
        days: Optional[int] = typer.Option(None, "--days", "-d", min=1, help="Days (default: A's own)."),
        seed: int = typer.Option(0, "--seed", help="The seed of both runs."),
        out: Optional[Path] = typer.Option(None, "--out", "-o",
                                           help="Folder for contrast.csv and, with the report extra, the figure."),
    ) -> None:
        """Run two schemes on populations of the same size, days and seed and compare them number by number: by
        default the 2018 press picture (press-2018) against the documented court list of judgment defaulters
        (court-defaulters-national), where they differ and by how much. Model numbers, not measurements.
        """
        import csv

        from rich.progress import Progress

        from .contrast import contrast as run_contrast
        from .legal import number

        try:
            with Progress(console=err) as bar:
                task = bar.add_task(f"{scenario_a} and {scenario_b}", total=2)
                rows, _ = run_contrast(scenario_a, scenario_b, population=population, days=days, seed=seed,
                                       progress=lambda done, total: bar.update(task, completed=done))
        except ScslabError as exc:
            fail(exc)

        table = Table(title=f"A = {scenario_a}, B = {scenario_b}: {population:,} persons, seed {seed} (model numbers)")
        for col in ("quantity", "A", "B", "unit", "differs"):
            table.add_column(col, justify="right" if col in ("A", "B") else "left")
        for r in rows:
            table.add_row(r.name, number(r.a, ""), number(r.b, ""), r.unit, r.differs)  # (shares as fractions)
        console.print(table)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            with open(out / "contrast.csv", "w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["key", "quantity", scenario_a, scenario_b, "unit", "differs", "definition"])
                for r in rows:
                    w.writerow([r.key, r.name, r.a, r.b, r.unit, r.differs, r.definition])
            say(console, "wrote", "green", out / "contrast.csv")
            try:
                from .report.contrast_figure import contrast_figure
                from .report.figures import close
            except ImportError:
                say(console, "no figure", "yellow", "the figure needs the report extra: pip install 'scslab[report]'")
                return
            fig = contrast_figure(rows, scenario_a, scenario_b)
            for ext in ("png", "svg"):
                fig.savefig(out / f"contrast.{ext}", bbox_inches="tight", dpi=110)
            close(fig)
            say(console, "wrote", "green", f"{out / 'contrast.png'} and .svg")

    @app.command()
    def legal(
        target: str = typer.Argument(..., help="A complete run directory, or a scenario (preset name or file) to run."),
        population: int = typer.Option(100_000, "--population", "-n", min=1,
                                       help="Agents, when TARGET is a scenario (a quick reading)."),
        days: Optional[int] = typer.Option(None, "--days", "-d", min=1,
                                           help="Days, when TARGET is a scenario (default: its own)."),
        seed: Optional[int] = typer.Option(None, "--seed", help="Seed, when TARGET is a scenario."),
        json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the reading as JSON to this file."),
    ) -> None:
        """Measure a run against the EU AI Act's ban on social scoring, Art. 5(1)(c): treatment in unrelated
        contexts, and treatment out of proportion to the act, as quantities with their definitions (no verdict).

        Each sanction's context and the contexts of the data behind it are listed; set them with `context` in
        the scenario's behaviours and consequences. The report's "Legal reading" section shows the same.
        """
        import json

        from .api import Result, simulate
        from .legal import legal_reading, number

        try:
            if Path(target).is_dir():
                result = Result.load(target)
            else:
                with console.status(f"running {target} at {population:,} agents"):
                    result = simulate(target, population=population, days=days, seed=seed)
        except ScslabError as exc:
            fail(exc)
        r = legal_reading(result.metrics, result.manifest["scenario"])
        say(console, "evaluates", "cyan", r.evaluation)
        table = Table(title="Legal reading: EU AI Act Art. 5(1)(c) (model quantities, not a verdict)")
        for col in ("quantity", "clause", "value", "unit"):
            table.add_column(col, justify="right" if col == "value" else "left")
        for q in r.quantities:
            table.add_row(q.name, q.clause, number(q.value, q.unit), q.unit)
        console.print(table)
        measures = Table(title="Sanctions: context, the data behind them, treatment")
        for col in ("sanction", "on", "context", "related", "measure-days", "blocked"):
            measures.add_column(col, justify="right" if col in ("related", "measure-days", "blocked") else "left",
                                no_wrap=col == "sanction")
        for m in r.measures:
            measures.add_row(m.name if m.population == "persons" else f"{m.population}: {m.name}",
                             {"linked persons": "linked"}.get(m.who, m.who), m.context,
                             "n/a" if m.related is None else f"{100 * m.related:.0f} %", f"{m.measure_days:,}",
                             f"{m.blocked:,}")
        if r.measures:
            console.print(measures)
        for q in r.quantities:
            console.print(f"{q.name} {q.clause}: {q.definition}", markup=False, highlight=False)
        if json_out is not None:
            json_out.write_text(json.dumps(r.as_dict(), indent=1))
            say(console, "wrote", "green", json_out)

    @app.command()
    def report(
        run_dir: Path = typer.Argument(..., help="A complete run directory."),
        replicates: int = typer.Option(0, "--replicates", "-r", min=0, max=100,
                                       help="Run the scenario again with this many further seeds for the disparity "
                                            "intervals across seeds."),
    ) -> None:
        """Write RUN_DIR/report.html (self-contained, opens offline) and the figures as PNG and SVG.

        Needs matplotlib (`pip install 'scslab[report]'`).
        """
        write_report = _from_report_extra("report", "scslab.report", "write_report")[0]
        try:
            if replicates:
                from rich.progress import Progress

                with Progress(console=err) as bar:
                    task = bar.add_task("replicate seeds", total=replicates)
                    path = write_report(run_dir, replicates=replicates,
                                        progress=lambda done, total: bar.update(task, completed=done))
            else:
                path = write_report(run_dir)
        except ScslabError as exc:
            fail(exc)
        say(console, "wrote", "green", f"{path} and {path.parent / 'figures'}/")


    @app.command()
    def compare(
        run_a: Path = typer.Argument(..., help="The run with policy A (the baseline)."),
        run_b: Path = typer.Argument(..., help="The run with policy B, same population, days and seed."),
        replicates: int = typer.Option(0, "--replicates", "-r", min=0, max=100,
                                       help="Run both again with this many further seeds to judge the differences."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for the difference figure (PNG, SVG)."),
    ) -> None:
        """Compare two policies run on the same population: a table of differences and a figure over time.

        With the same seed both runs share their random numbers, so differences are the policy's. With
        --replicates R, both are run again under R further seeds, and a difference stands out when a two-sided
        sign test over the R + 1 paired differences gives p < 0.05; that needs R >= 5 (with fewer pairs the
        table says it cannot tell).
        """
        compare_runs, difference_figure = _from_report_extra("compare", "scslab.report.compare", "compare_runs",
                                                             "difference_figure")
        from .api import Result

        try:
            a, b = Result.load(run_a), Result.load(run_b)  # read once, for the table and the figure
            rows, warnings = compare_runs(a, b, replicates=replicates)
        except ScslabError as exc:
            fail(exc)
        for w in warnings:
            say(err, "warning:", "bold yellow", w)
        table = Table(title=f"B = {run_b} against A = {run_a}")
        for col in ("measure", "A", "B", "B - A", "sd of B - A", "sign test p", "stands out"):
            table.add_column(col, justify="left" if col == "measure" else "right")
        for r in rows:
            table.add_row(r["measure"], f"{r['a']:,}", f"{r['b']:,}", f"{r['difference']:+,}",
                          "-" if r["sd"] is None else f"{r['sd']:.1f}", "-" if r["p"] is None else f"{r['p']:.3g}",
                          "-" if not replicates else "cannot tell" if r["stands_out"] is None
                          else ("yes" if r["stands_out"] else "no"))
        console.print(table)
        if replicates:
            console.print(f"stands out: a two-sided sign test over the paired differences (this pair and "
                          f"{replicates} replicate pairs) gives p < 0.05; it needs at least 6 pairs. Model "
                          "estimates on a synthetic population.", soft_wrap=True)
        folder = out or Path(f"compare-{run_a.name}-vs-{run_b.name}")
        folder.mkdir(parents=True, exist_ok=True)
        fig = difference_figure(a, b)
        for ext in ("png", "svg"):
            fig.savefig(folder / f"difference.{ext}", dpi=110)
        say(console, "wrote", "green", f"{folder}/difference.png and .svg")


    @app.command()
    def story(
        run_dir: Path = typer.Argument(..., help="A complete run directory."),
        agent: Optional[int] = typer.Option(None, "--agent", "-a", help="The sampled agent to show (default: list them)."),
        population: str = typer.Option("persons", "--population", "-p",
                                       help="Whose stories: persons, or an entity type of the scenario (firms, ...)."),
    ) -> None:
        """Tell a sampled citizen's story: every event with its channel, points, score after and reason.

        Without --agent, list the sampled agents with their role, number of events and final score. With it, the
        agent's log: the score after each event is the score right after it (a day's events add up in order),
        and daily recoveries in a row are told as one line.
        """
        from rich.table import Table as RichTable

        from .output.rundir import read_run
        from .storylog import population_words, role_words, run_name, starting_score, told_rows

        try:
            _, stories, manifest = read_run(run_dir)
        except ScslabError as exc:
            fail(exc)
        log = stories.to_pandas()
        entities = manifest.get("entities", {})
        if population != "persons" and population not in entities:
            raise typer.BadParameter(f"{population!r} is not a population of this run; allowed: "
                                     f"{', '.join(['persons', *entities])}", param_hint="--population")
        if "population" in log:
            log = log[log["population"] == population]
        sampled = manifest if population == "persons" else entities[population]  # story_agents, story_roles
        ids, roles = sampled.get("story_agents", []), sampled.get("story_roles", {})
        noun, nouns = population_words(manifest, population)
        base = starting_score(manifest, population)
        if agent is None:
            more = "" if population == "persons" else f" --population {population}"
            table = RichTable(title=f"sampled {nouns} of {run_name(manifest, str(run_dir))}",
                              caption=f"scslab story {run_dir}{more} --agent ID tells one {noun}'s story")
            for col, just in ((noun, "right"), ("role", "left"), ("events", "right"), ("tier changes", "right"),
                              ("final score", "right")):
                table.add_column(col, justify=just)
            for a in ids:
                own = log[log["agent"] == a]
                final = own["score_after"].dropna()
                if len(final):
                    score = str(int(final.iloc[-1]))
                else:  # no event changed it: the starting score
                    score = "-" if base is None else f"{base} (no events)"
                table.add_row(str(a), role_words(roles.get(str(a), ""), noun), f"{len(own):,}",
                              str(int((own["event"] == "tier_change").sum())), score)
            console.print(table)
            return
        if agent not in ids:
            raise typer.BadParameter(f"{agent} is not a sampled agent of this run (scslab story {run_dir} lists the "
                                     f"sampled {nouns}): {', '.join(map(str, ids[:30]))}{' ...' if len(ids) > 30 else ''}",
                                     param_hint="--agent")
        own = log[log["agent"] == agent]
        role = role_words(roles.get(str(agent), ""), noun)
        rows = told_rows(own)
        note = "score after: the score right after the event (a day's events add up in order)"
        if len(rows) < len(own):
            note += f"; daily recoveries in a row are one line ({len(rows)} lines for {len(own)} events)"
        if not len(own) and base is not None:
            note = f"no events: the score stayed at its start, {base}"
        table = RichTable(title=f"{noun} {agent}{f' ({role})' if role else ''}: {len(own)} events over "
                                f"{manifest.get('days')} days", caption=note)
        for col in ("day", "event", "channel", "points", "score after", "reason"):
            table.add_column(col, justify="right" if col in ("day", "points", "score after") else "left")
        for row in rows:
            table.add_row(row["day"], row["event"], row["channel"], f"{row['points']:+d}" if row["points"] else "",
                          "" if row["score_after"] is None else str(row["score_after"]), row["reason"])
        console.print(table)


    @app.command()
    def verify(run_dir: Path = typer.Argument(..., help="A run directory.")) -> None:
        """Check a run directory: complete, and every output file matching the checksum in its manifest.

        Exit status 0 when it is intact, 1 when a file is missing, truncated or altered or the run is incomplete.
        """
        from .output.rundir import verify_run

        try:
            problems = verify_run(run_dir)
        except ScslabError as exc:
            fail(exc)
        if problems:
            for p in problems:
                say(err, "bad:", "bold red", f"{run_dir}: {p}")
            raise typer.Exit(code=1)
        say(console, "ok", "green", f"{run_dir}: complete, checksums match")
