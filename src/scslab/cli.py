"""The ``scslab`` command line (Typer + Rich)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .engine import DEFAULT_ENGINE, ENGINES
from .errors import BackendError, CapacityError, RunDirError, RunInterrupted, ScenarioWarning, ScslabError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="scslab: simulate social credit systems over synthetic populations (synthetic only: "
                       "no real records, no face recognition, no identification).")
# no markup: every string printed is text (a path or a name such as 'mk[/b]' is shown as it is); styles are
# given as Text parts (see say)
console = Console(markup=False, highlight=False)
err = Console(stderr=True, markup=False, highlight=False)


def say(to: Console, label: str, style: str, message: object = "") -> None:
    """Print ``label`` in ``style``, then ``message`` as plain text."""
    to.print(Text.assemble((label, style), " " if message != "" else "", str(message)), soft_wrap=True)


def _fail(exc: ScslabError) -> None:
    """Print a scslab error and exit: 130 interrupted (resumable), 3 not enough memory or disk, 2 otherwise."""
    if isinstance(exc, RunInterrupted):
        say(err, "stopped:", "bold yellow", exc)
        raise typer.Exit(code=130)
    say(err, "error:", "bold red", exc)
    raise typer.Exit(code=3 if isinstance(exc, CapacityError) else 2)


def _emit(text: str, out: Optional[Path]) -> None:
    """Print ``text``, or write it to ``out`` and say so."""
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(RunDirError(f"cannot write {str(out)!r}: {exc.strerror or exc}"))
    say(console, "wrote", "green", out)


def _warnings(s) -> None:
    """Print what the scenario allows but probably does not mean."""
    from .scenarios.checks import scenario_warnings

    for text in scenario_warnings(s):
        say(err, "warning:", "bold yellow", text)


def _aborted(out: Optional[Path]) -> None:
    """A Ctrl-C that ended a command at once (while starting, or a second Ctrl-C): say what is left, exit 130."""
    from .output.checkpoint import list_checkpoints

    left = out is not None and out.is_dir() and list_checkpoints(out)
    say(err, "stopped:", "bold yellow", f"aborted; resume from the last checkpoint with: scslab resume {out}"
        if left else "aborted before any checkpoint; nothing to resume")
    raise typer.Exit(code=130)


def _progress_bar(quiet: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}", style="bold", markup=False), BarColumn(), MofNCompleteColumn(),
                    TextColumn("days  {task.fields[rate]}"), TimeRemainingColumn(), console=err, disable=quiet,
                    transient=False)


def _day_callback(bar, task, n: int, first_day: int = 0):
    t0 = time.perf_counter()

    def progress(day: int) -> None:
        elapsed = time.perf_counter() - t0
        bar.update(task, completed=day + 1,
                   rate=f"{(day + 1 - first_day) * n / max(elapsed, 1e-9):.3g} agent-days/s")

    return progress


@app.command()
def presets() -> None:
    """List the bundled presets with a one-line description."""
    from .scenarios import load_scenario, preset_names

    table = Table(title="scslab presets")
    table.add_column("preset", style="bold", no_wrap=True)
    table.add_column("kind")
    table.add_column("agents", justify="right")
    table.add_column("description")
    for name in preset_names():
        try:
            s = load_scenario(name)
        except ScslabError as exc:
            _fail(exc)
        table.add_row(name, s.meta.kind, f"{s.population.size:,}", s.meta.description)
    console.print(table)


@app.command()
def validate(file: Path = typer.Argument(..., help="Scenario TOML file (or preset name) to check.")) -> None:
    """Check a scenario file and explain every problem."""
    from .scenarios import load_scenario

    try:
        s = load_scenario(str(file) if not file.exists() else file)
    except ScslabError as exc:
        _fail(exc)
    _warnings(s)
    documented = sum(1 for v in s.provenance.values() if v.startswith("documented"))
    say(console, "ok", "green", f"{file}: {s.meta.name} ({s.meta.kind}), {len(s.behaviours)} behaviours, "
                                f"{len(s.channels)} channels, {len(s.lists)} lists, {len(s.consequences)} consequences, "
                                f"{len(s.timeline)} timeline changes; provenance: {documented} documented, "
                                f"{len(s.provenance) - documented} assumed")


@app.command()
def odd(
    scenario: str = typer.Argument(..., help="A preset name or a scenario TOML file."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the Markdown here instead of stdout."),
    set_: List[str] = typer.Option([], "--set", help="Override a value: path.to.key=value (repeatable)."),
) -> None:
    """Write an ODD description (Overview, Design concepts, Details) of a scenario, as Markdown.

    Generated from the resolved scenario: every behaviour, channel, rule, list and consequence with its
    parameters and each number's documented/assumed mark.
    """
    from .odd import odd_markdown
    from .scenarios import load_scenario

    try:
        text = odd_markdown(load_scenario(scenario, set_ or None))
    except ScslabError as exc:
        _fail(exc)
    _emit(text, out)


@app.command()
def schema(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout.")
           ) -> None:
    """Print the JSON Schema of scenario files, for editors that validate and complete TOML.

    Save it (`scslab schema -o scslab.schema.json`) and put `#:schema ./scslab.schema.json` on the first
    line of a scenario file: Even Better TOML (VS Code) and taplo then check and complete it as you type.
    The schema covers types, ranges and allowed keys; `scslab validate` adds the cross-checks.
    """
    import json

    from .scenarios.schema import Scenario

    text = json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **Scenario.model_json_schema()},
                      indent=2)
    _emit(text + "\n", out)


@app.command()
def run(
    scenario: str = typer.Argument(..., help="A preset name (see `scslab presets`) or a scenario TOML file."),
    population: Optional[int] = typer.Option(None, "--population", "-n", help="Number of agents."),
    days: Optional[int] = typer.Option(None, "--days", "-d", help="Days to simulate."),
    seed: Optional[int] = typer.Option(None, "--seed", "-s", help="Random seed (same seed, same bytes)."),
    threads: Optional[int] = typer.Option(None, "--threads", "-t", help="CPU threads (default: all cores)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run directory (default runs/NAME-TIME, with -2, "
                                                                 "-3... when that name is taken)."),
    set_: List[str] = typer.Option([], "--set", help="Override a value: path.to.key=value (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing run directory (only a scslab run whose "
                                                      "files match its manifest, or an empty folder; never one "
                                                      "in use)."),
    checkpoint_every: Optional[int] = typer.Option(
        None, "--checkpoint-every", help="Write a checkpoint every D days (resume with `scslab resume`); a run "
                                         "that goes by windows (the lazy engine on bench-v1) writes one at the "
                                         "first window end (every 365 days) on or after each D days."),
    engine: str = typer.Option(DEFAULT_ENGINE, "--engine", "-e",
                               help=f"CPU engine: {' or '.join(ENGINES)} (see docs/engine.md; same laws, "
                                    "lazy visits only the agents something happens to, and runs bench-v1 "
                                    "and its kin agent by agent)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a scenario on the CPU and write a run directory (manifest, metrics.parquet, stories.parquet).

    Ctrl-C stops at the end of the day, writes a checkpoint and tells how to resume; press it twice to abort
    (a run that goes by windows stops at the end of its window, up to a year; a run of a year or less then
    simply finishes).
    """
    try:
        from . import runs
        from .scenarios import load_scenario

        s = load_scenario(scenario, set_ or None)
        n = population if population is not None else s.population.size
        d = days if days is not None else s.run.days
        _warnings(s.model_copy(update={"run": s.run.model_copy(update={"days": d})}))
        with _progress_bar(quiet) as bar, warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)  # printed above, as text
            task = bar.add_task(f"{s.meta.name} x {n:,} agents", total=d, rate="compiling...")
            result = runs.run(s, out, population=population, days=days, seed=seed, threads=threads,
                              checkpoint_every=checkpoint_every, force=force, engine=engine,
                              progress=_day_callback(bar, task, n))
    except ScslabError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _aborted(out)
    _print_summary(result, result.path)


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="An incomplete run directory (stopped, killed or crashed)."),
    threads: Optional[int] = typer.Option(None, "--threads", "-t", help="CPU threads (default: all cores)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Finish an interrupted run from its newest checkpoint; the outputs equal an uninterrupted run's, byte for byte."""
    from . import runs
    from .output.checkpoint import latest_pass
    from .output.rundir import read_manifest

    try:
        manifest = read_manifest(run_dir)
        first = latest_pass(run_dir)
        n, d = manifest.get("population", 0), manifest.get("days", 0)
        with _progress_bar(quiet) as bar:
            task = bar.add_task(f"resuming {manifest.get('name', run_dir)} x {n:,} agents", total=d,
                                completed=max(first - 1, 0), rate="loading...")
            with warnings.catch_warnings(record=True) as caught:  # an unreadable checkpoint, skipped
                warnings.simplefilter("always", RuntimeWarning)
                result = runs.resume(run_dir, threads=threads, progress=_day_callback(bar, task, n, first))
        for w in caught:
            say(err, "warning:", "bold yellow", w.message)
    except ScslabError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _aborted(run_dir)
    _print_summary(result, run_dir)


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
    try:
        from .report import write_report
    except ImportError as exc:
        _fail(BackendError(f"the report needs matplotlib: pip install 'scslab[report]' ({exc})"))
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
        _fail(exc)
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
    try:
        from .report.compare import compare_runs, difference_figure
    except ImportError as exc:
        _fail(BackendError(f"compare needs matplotlib: pip install 'scslab[report]' ({exc})"))
    from .api import Result

    try:
        a, b = Result.load(run_a), Result.load(run_b)  # read once, for the table and the figure
        rows, warnings = compare_runs(a, b, replicates=replicates)
    except ScslabError as exc:
        _fail(exc)
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

    Without --agent, list the sampled agents with their number of events and final score.
    """
    from rich.table import Table as RichTable

    from .output.rundir import read_run

    try:
        _, stories, manifest = read_run(run_dir)
    except ScslabError as exc:
        _fail(exc)
    log = stories.to_pandas()
    entities = manifest.get("entities", {})
    if population != "persons" and population not in entities:
        raise typer.BadParameter(f"{population!r} is not a population of this run; allowed: "
                                 f"{', '.join(['persons', *entities])}", param_hint="--population")
    if "population" in log:
        log = log[log["population"] == population]
    sampled = manifest if population == "persons" else entities[population]  # story_agents, story_roles
    ids, roles = sampled.get("story_agents", []), sampled.get("story_roles", {})
    if agent is None:
        table = RichTable(title=f"sampled citizens of {manifest.get('name', run_dir)} (scslab story --agent ID)")
        for col, just in (("agent", "right"), ("role", "left"), ("events", "right"), ("tier changes", "right"),
                          ("final score", "right")):
            table.add_column(col, justify=just)
        for a in ids:
            own = log[log["agent"] == a]
            final = own["score_after"].dropna()
            table.add_row(str(a), roles.get(str(a), ""), f"{len(own):,}",
                          str(int((own["event"] == "tier_change").sum())),
                          str(int(final.iloc[-1])) if len(final) else "-")
        console.print(table)
        return
    if agent not in ids:
        raise typer.BadParameter(f"{agent} is not a sampled agent of this run; sampled: "
                                 f"{', '.join(map(str, ids[:30]))}{' ...' if len(ids) > 30 else ''}",
                                 param_hint="--agent")
    own = log[log["agent"] == agent]
    role = roles.get(str(agent))
    table = RichTable(title=f"agent {agent}{f' ({role})' if role else ''}: {len(own)} events over "
                            f"{manifest.get('days')} days")
    for col in ("day", "event", "channel", "points", "score after", "reason"):
        table.add_column(col, justify="right" if col in ("day", "points", "score after") else "left")
    for row in own.itertuples():
        table.add_row(str(row.day), row.event, row.channel, f"{row.points:+d}" if row.points else "",
                      "" if row.score_after is None else str(row.score_after), row.reason)
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
        _fail(exc)
    if problems:
        for p in problems:
            say(err, "bad:", "bold red", f"{run_dir}: {p}")
        raise typer.Exit(code=1)
    say(console, "ok", "green", f"{run_dir}: complete, checksums match")


def _print_summary(result, path: Path) -> None:
    from .populations import split_metric, unit_of

    m = result.manifest
    summary = result.summary()
    beside = "".join(f" and {e['population']:,} {name}" for name, e in m.get("entities", {}).items())
    table = Table(title=f"{m['name']}: {m['population']:,} agents{beside} x {m['days']} days, seed {m['seed']}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("unit")
    sizes = {"people": m["population"], **{name: e["population"] for name, e in m.get("entities", {}).items()}}
    for key, value in summary.items():
        unit = unit_of(key)
        linked = split_metric(key)[1].startswith("linked:")  # persons through a link, not the entity type's share
        share = f" ({100 * value / sizes[unit]:.2f} %)" if unit in sizes and not linked else ""
        table.add_row(key, f"{value:,}{share}", unit)
    console.print(table)
    route = " by windows" if m.get("route") == "windowed" else ""
    console.print(Text.assemble(f"{m['elapsed_s']:.2f} s{route}, {m['agent_days_per_s']:.3g} agent-days/s; "
                                "written to ", (str(path), "bold")), soft_wrap=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="TCP port."),
    allow_host: Optional[List[str]] = typer.Option(
        None, "--allow-host", help="Another host name (NAME or NAME:PORT) the page may be reached by, e.g. behind "
                                   "a proxy; repeatable. Loopback names and --host are always allowed."),
) -> None:
    """Serve the web dashboard: pick a scheme, move its key parameters, run it, follow a citizen.

    Needs the app extra (`pip install 'scslab[app]'`). Open http://HOST:PORT/ in a browser; Ctrl-C stops.
    Requests whose Host or Origin names another host are refused (403).
    """
    import importlib.util

    from .app.server import HostError, allowed_hosts, serve as run_server

    try:
        allowed = allowed_hosts(host, port, allow_host or ())
    except HostError as exc:
        _fail(exc)
    missing = [name for name in ("solara", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:  # looked up, not imported: Solara reads its settings at import, and run_server sets them first
        _fail(BackendError(f"the dashboard needs {' and '.join(missing)}: pip install 'scslab[app]'"))
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    err.print(f"scslab dashboard on http://{shown}:{port}/ (Ctrl-C stops)", markup=False, highlight=False)
    run_server(host, port, allowed)


from .cli_sweep import register as _register_sweep  # noqa: E402  (sweep, sensitivity, calibrate)

_register_sweep(app)

from .cli_sources import register as _register_sources  # noqa: E402  (sources)

_register_sources(app)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
