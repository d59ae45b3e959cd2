"""The ``scslab`` command line (Typer + Rich)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from .cli_common import aborted, console, day_callback, emit, err, fail, interrupted, progress_bar, say, warn_scenario
from .engine import BACKENDS, DEFAULT_ENGINE, ENGINES
from .errors import BackendError, ScenarioWarning, ScslabError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="scslab: simulate social credit systems over synthetic populations (synthetic only: "
                       "no real records, no face recognition, no identification).")
def _version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"scslab {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print scslab's version and exit.")) -> None:
    pass


presets_app = typer.Typer(rich_markup_mode=None, help="List the bundled presets with a one-line description; "
                                                      "`scslab presets show NAME` prints one as TOML.")
app.add_typer(presets_app, name="presets")


@presets_app.callback(invoke_without_command=True)
def presets(ctx: typer.Context) -> None:
    """List the bundled presets with a one-line description; `scslab presets show NAME` prints one as TOML."""
    if ctx.invoked_subcommand is not None:
        return
    from .scenarios import load_scenario, preset_names

    table = Table(title="scslab presets (scslab presets show NAME > my.toml starts a scheme of your own)")
    table.add_column("preset", style="bold", no_wrap=True)
    table.add_column("kind")
    table.add_column("agents", justify="right")
    table.add_column("description")
    for name in preset_names():
        try:
            s = load_scenario(name)
        except ScslabError as exc:
            fail(exc)
        table.add_row(name, s.meta.kind, f"{s.population.size:,}", s.meta.description)
    console.print(table)


@presets_app.command("show")
def presets_show(
    name: str = typer.Argument(..., help="A preset name (see `scslab presets`); press_2018 works as press-2018."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the TOML here instead of stdout."),
) -> None:
    """Print a preset's scenario file as it ships (comments and provenance marks included).

    Start a scheme of your own from it: `scslab presets show press-2018 > my-scheme.toml`, edit, then
    `scslab validate my-scheme.toml`. The file loads and validates as it is.
    """
    from .scenarios.load import preset_path

    try:
        text = preset_path(name).read_text(encoding="utf-8")
    except ScslabError as exc:
        fail(exc)
    emit(text, out)


@app.command()
def validate(file: Path = typer.Argument(..., help="Scenario TOML file (or preset name) to check.")) -> None:
    """Check a scenario file and explain every problem."""
    from .scenarios import load_scenario

    try:
        s = load_scenario(str(file) if not file.exists() else file)
    except ScslabError as exc:
        fail(exc)
    warn_scenario(s)
    documented = sum(1 for v in s.provenance.values() if v.startswith("documented"))
    counts = ", ".join(_count(len(items), noun) for items, noun in (
        (s.behaviours, "behaviour"), (s.channels, "channel"), (s.lists, "list"), (s.consequences, "consequence"),
        (s.timeline, "timeline change")))
    say(console, "ok", "green", f"{file}: {s.meta.name} ({s.meta.kind}), {counts}; provenance: {documented} "
                                f"documented, {len(s.provenance) - documented} assumed")


def _count(n: int, noun: str) -> str:
    """``1 list``, ``2 lists``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


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
        fail(exc)
    emit(text, out)


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
    emit(text + "\n", out)


@app.command()
def run(
    scenario: str = typer.Argument(..., help="A preset name (see `scslab presets`) or a scenario TOML file."),
    population: Optional[str] = typer.Option(None, "--population", "-n", metavar="INTEGER",
                                             help="Number of agents (1000000 or 1_000_000)."),
    days: Optional[str] = typer.Option(None, "--days", "-d", metavar="INTEGER", help="Days to simulate."),
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
                                         "that goes by windows (the windowed scheduler, bench-v1 and its kin) "
                                         "writes one at the first window end (every 365 days) on or after each "
                                         "D days."),
    engine: str = typer.Option(DEFAULT_ENGINE, "--engine", "-e",
                               help=f"Scheduler: {', '.join(ENGINES)}. Same laws (docs/engine.md): windowed "
                                    "runs each agent's year at once (bench-v1 and its kin), lazy visits only "
                                    "the agents something happens to, dense every agent every day; auto picks "
                                    "the fastest that can run the scheme, and a scheduler that cannot is "
                                    "refused with what it lacks."),
    backend: str = typer.Option("cpu", "--backend", "-b",
                                help=f"Hardware: {', '.join(BACKENDS)}. gpu runs the dense scheduler on a CUDA "
                                     "device with the same results (needs scslab[gpu] and a GPU; refused at once "
                                     "without them)."),
    replicates: Optional[int] = typer.Option(
        None, "--replicates", "-r", help="Run the scenario under this many seeds (--seed, then the next ones), "
                                         "each into its own run directory OUT/seed-S; with --backend gpu all "
                                         "at once on the device."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run a scenario and write a run directory (manifest, metrics.parquet, stories.parquet).

    Ctrl-C stops at the end of the day, writes a checkpoint and tells how to resume; press it twice to abort
    (a run that goes by windows stops at the end of its window, up to a year; a run of a year or less then
    simply finishes).
    """
    try:
        from . import runs
        from .scenarios import load_scenario

        # every option is checked before anything is drawn: the bar appears once the run really starts
        population, days = _integer(population), _integer(days)
        _check_options(population=population, days=days, seed=seed, threads=threads,
                       checkpoint_every=checkpoint_every, engine=engine, backend=backend, replicates=replicates)
        s = load_scenario(scenario, set_ or None)
        if replicates is not None:
            return _run_replicates(s, out, replicates, population=population, days=days, seed=seed,
                                   threads=threads, engine=engine, backend=backend, force=force, quiet=quiet,
                                   checkpoint_every=checkpoint_every)
        n = population if population is not None else s.population.size
        d = days if days is not None else s.run.days
        warn_scenario(s.model_copy(update={"run": s.run.model_copy(update={"days": d})}))
        bar = progress_bar(quiet)
        progress = _Started(bar, f"{s.meta.name} x {n:,} agents", d, n, backend=backend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ScenarioWarning)  # printed above, as text
            try:
                result = runs.run(s, out, population=population, days=days, seed=seed, threads=threads,
                                  checkpoint_every=checkpoint_every, force=force, engine=engine,
                                  backend=backend, progress=progress, on_start=progress.start)
            finally:
                progress.stop()
    except ScslabError as exc:
        fail(exc)
    except (KeyboardInterrupt, Exception) as exc:  # a Ctrl-C, also one a library reported as its own error
        if not interrupted(exc):
            raise
        aborted(out)
    _print_summary(result, result.path)


def _run_replicates(s, out, replicates: int, *, population, days, seed, threads, engine, backend, force, quiet,
                    checkpoint_every) -> None:
    """``scslab run --replicates R``: the ensemble (``scslab.api.ensemble``), one run directory per seed under
    ``out``, and each headline number's lowest, median and highest value over the seeds."""
    import datetime as _dt
    import statistics

    from .api import ensemble
    from .errors import OptionError
    from .output.rundir import check_target, default_name

    if checkpoint_every is not None:
        raise OptionError("--checkpoint-every", checkpoint_every, "an ensemble (--replicates) writes no checkpoints; "
                          "run the seeds one by one to checkpoint them")
    first = seed if seed is not None else s.run.seed
    out = Path(out) if out is not None else default_name(s.meta.name, _dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
    targets = [out / f"seed-{first + r}" for r in range(replicates)]
    for t in targets:  # every folder checked before anything runs
        check_target(t, force)
    n = population if population is not None else s.population.size
    d = days if days is not None else s.run.days
    bar = progress_bar(quiet)
    progress = _Started(bar, f"{s.meta.name} x {n:,} agents x {replicates} seeds", d * replicates, n,
                        backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        progress.start(None, "dense" if backend == "gpu" else engine)
        try:
            results = ensemble(s, replicates, population=population, days=days, seed=seed, threads=threads,
                               engine=engine, backend=backend, progress=progress)
        finally:
            progress.stop()
    for result, target in zip(results, targets):
        result.save(target, force=force)
    table = Table(title=f"{s.meta.name}: {replicates} seeds from {first} (model results)")
    for col in ("metric", "lowest", "median", "highest"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    summaries = [r.summary() for r in results]
    for key in summaries[0]:
        values = [sm.get(key, 0) for sm in summaries]
        table.add_row(key, f"{min(values):,}", f"{statistics.median(values):,.0f}", f"{max(values):,}")
    console.print(table)
    m = results[0].manifest
    console.print(Text.assemble(f"{m['ensemble']['elapsed_s']:.2f} s for {replicates} runs ({m['route']} scheduler"
                                f"{', on ' + m['device'] if m.get('device') else ''}); written to ",
                                (str(out), "bold"), f" (seed-{first} ... seed-{first + replicates - 1})"),
                  soft_wrap=True)


def _check_options(*, engine: str | None = None, backend: str | None = None, **values: int | None) -> None:
    """Refuse a bad option value, named as the option (``invalid option --population: ...``)."""
    from .api import arg_problem
    from .errors import OptionError

    if engine is not None and engine not in ENGINES:
        raise OptionError("--engine", engine, f"unknown engine; allowed: {', '.join(ENGINES)}")
    if backend is not None and backend not in BACKENDS:
        raise OptionError("--backend", backend, f"unknown backend; allowed: {', '.join(BACKENDS)}")
    for name, value in values.items():
        option = "--" + name.replace("_", "-")
        problem = arg_problem(name, value)
        if problem is not None:
            raise OptionError(option, value, problem)
        if name == "threads" and value is not None:
            import numba

            cores = numba.config.NUMBA_NUM_THREADS
            if value > cores:
                raise OptionError(option, value, f"must be an integer from 1 to {cores} (the CPU threads of this "
                                                 "machine; more would not run)")


def _integer(text: str | None):
    """An integer option as typed: the int it spells (digits, a sign, ``_`` between digits), else the text
    itself, which :func:`_check_options` refuses with the words any bad value of the option gets."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return text


class _Started:
    """The progress of a run, drawn once the run starts (``on_start(plan, route)``: all its checks passed),
    saying whether the engine compiles first; then called with each finished day."""

    def __init__(self, bar, description: str, days: int, n: int, completed: int = 0, first_day: int = 0,
                 backend: str = "cpu"):
        self.bar, self.description, self.days, self.n = bar, description, days, n
        self.completed, self.first_day, self.backend = completed, first_day, backend
        self.day = None

    def start(self, plan, route: str) -> None:
        from .engine.jitstatus import compile_note, will_compile

        if self.backend == "gpu":  # numba compiles the kernels for the device in every process
            note = "compiling the GPU kernels..."
        else:
            note = compile_note(route) if will_compile(route) else "starting..."
        self.bar.start()
        task = self.bar.add_task(self.description, total=self.days, completed=self.completed, rate=note)
        self.day = day_callback(self.bar, task, self.n, self.first_day)

    def __call__(self, day: int) -> None:
        if self.day is not None:
            self.day(day)

    def stop(self) -> None:
        if self.day is not None:  # drawn: finish it (a bar never drawn prints nothing)
            self.bar.stop()


@app.command()
def resume(
    run_dir: Path = typer.Argument(..., help="An incomplete run directory (stopped, killed or crashed)."),
    threads: Optional[int] = typer.Option(None, "--threads", "-t", help="CPU threads (default: all cores)."),
    backend: Optional[str] = typer.Option(None, "--backend", "-b",
                                          help=f"Hardware: {', '.join(BACKENDS)} (default: the run's own; a run "
                                               "begun on a GPU may finish on the CPU and the other way round)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Finish an interrupted run from its newest checkpoint; the outputs equal an uninterrupted run's, byte for byte."""
    from . import runs
    from .output.checkpoint import latest_pass
    from .output.rundir import read_manifest

    try:
        _check_options(threads=threads, backend=backend)
        manifest = read_manifest(run_dir)
        first = latest_pass(run_dir)
        n, d = manifest.get("population", 0), manifest.get("days", 0)
        progress = _Started(progress_bar(quiet), f"resuming {manifest.get('name', run_dir)} x {n:,} agents", d, n,
                            completed=max(first - 1, 0), first_day=first,
                            backend=backend or manifest.get("backend", "cpu"))
        try:
            with warnings.catch_warnings(record=True) as caught:  # an unreadable checkpoint, skipped
                warnings.simplefilter("always", RuntimeWarning)
                result = runs.resume(run_dir, threads=threads, progress=progress, on_start=progress.start,
                                     backend=backend)
        finally:
            progress.stop()
        for w in caught:
            say(err, "warning:", "bold yellow", w.message)
    except ScslabError as exc:
        fail(exc)
    except (KeyboardInterrupt, Exception) as exc:  # a Ctrl-C, also one a library reported as its own error
        if not interrupted(exc):
            raise
        aborted(run_dir)
    _print_summary(result, run_dir)


def _print_summary(result, path: Path) -> None:
    """The run's headline numbers, and a note when a stop came too late to stop it; a Ctrl-C while they are
    printed ends the command (exit 130) and says the run is complete."""
    try:
        _summary_table(result, path)
        if getattr(result, "stopped_late", False):
            say(err, "note:", "bold yellow", "the stop came after the run's last stopping point (its last day, or "
                "its last window end); the run finished and its files are written")
    except KeyboardInterrupt:
        say(err, "stopped:", "bold yellow", f"while printing the summary; the run is complete in {path}")
        raise typer.Exit(code=130) from None


def _summary_table(result, path: Path) -> None:
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
    device = f", on {m.get('device', m['backend'])}" if m.get("backend", "cpu") != "cpu" else ""
    route = f" ({m['route']} scheduler{device})" if m.get("route", "days") != "days" else ""
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
    from .app.server import HostError, allowed_hosts, serve as run_server

    try:
        allowed = allowed_hosts(host, port, allow_host or ())
    except HostError as exc:
        fail(exc)
    from .extras import require

    try:  # looked up, not imported: Solara reads its settings at import, and run_server sets them first
        require("app", "scslab serve (the dashboard)", ("solara", "uvicorn"), load=False)
        _port_free(host, port)
    except ScslabError as exc:
        fail(exc)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    err.print(f"scslab dashboard on http://{shown}:{port}/ (Ctrl-C stops)", markup=False, highlight=False)
    # Solara warns on every page load that its cookie falls back to SameSite=Lax over plain http; on this
    # server that is what is meant (the page is served from its own host), so the warning says nothing
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
    run_server(host, port, allowed)


def _port_free(host: str, port: int) -> None:
    """A BackendError with a hint when ``host:port`` cannot be listened on (in use, or not this machine's)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise BackendError(f"cannot listen on --host {host!r}: {exc.strerror or exc}; give an address of this "
                           "machine (127.0.0.1 for this machine only)") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise BackendError(f"port {port} on {host} is in use (another scslab serve, or another "
                                   f"program); stop it, or choose another port: scslab serve --port "
                                   f"{port + 1 if port < 65535 else 8765}") from None
            raise BackendError(f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --host or "
                               "--port") from None


from .cli_results import register as _register_results  # noqa: E402  (report, compare, story, verify)

_register_results(app)

from .cli_sweep import register as _register_sweep  # noqa: E402  (sweep, sensitivity, calibrate)

_register_sweep(app)

from .cli_sources import register as _register_sources  # noqa: E402  (sources)

_register_sources(app)

from .cli_targets import register as _register_targets  # noqa: E402  (validate-targets)

_register_targets(app)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
