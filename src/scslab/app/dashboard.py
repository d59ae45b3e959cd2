"""The web page (Solara): pick a scheme, move a few knobs, run it, watch a city, follow one citizen.

``scslab serve`` serves :func:`Page`; in Jupyter, display ``Page()``. Each browser tab is its own session
(Solara's reactive variables are per session). The page trusts nothing its client sends: a scheme is a
bundled preset, taken by name only, or the text of a TOML file the page uploads (``app.inputs``); the
number fields are text this module reads itself, and ``app.params`` writes the numbers into the scenario
and validates it with the scenario schema, so a bad entry shows its message beside its field and **Run**
stays disabled. A session runs one simulation at a time, bounded by ``MAX_POPULATION`` and
``MAX_AGENT_DAYS``, and the run is cancelled when the session closes. No traceback reaches the page: a
scslab error shows its message, anything else a generic one (the details go to the server's log).
"""

from __future__ import annotations

import functools
import html
import io
import logging
import threading

import pandas  # noqa: F401  imported here, before any run's thread: reacton checks for pandas.DataFrame
import solara  # while the engine thread may be importing it, and a half-imported pandas breaks the page
import solara.lab

from ..errors import ScslabError
from ..scenarios.load import preset_names
from ..scenarios.schema import Scenario
from . import charts
from .inputs import MAX_UPLOAD_BYTES, checked_preset, describe, preset_scenario, read_upload, uploaded_scenario
from .live import Cancelled, Partial, engine_loaded, live_run, release_memory
from .params import (COMPILE_S, MAX_AGENT_DAYS, MAX_POPULATION, apply_knobs, estimate_seconds, knobs,
                     scenario_toml, whole_number)

log = logging.getLogger(__name__)

DEFAULT_PRESET = "press-2018"
DEFAULT_POPULATION = 200_000
MAX_SEED = 2**63 - 1
GENERIC = "Something went wrong on the server; the page is unchanged. Try again, or reload the page."

preset = solara.reactive(DEFAULT_PRESET)  # always a checked preset name
uploaded: solara.Reactive[Scenario | None] = solara.reactive(None)  # an uploaded scenario, used instead
upload_name = solara.reactive("")
notice = solara.reactive("")  # why the last preset choice or upload was refused
fields = solara.reactive({"population": str(DEFAULT_POPULATION), "days": "365", "seed": "0"})  # as typed
compare = solara.reactive(False)
values: solara.Reactive[dict] = solara.reactive({})
partial: solara.Reactive[Partial | None] = solara.reactive(None)
baseline: solara.Reactive[Partial | None] = solara.reactive(None)
result = solara.reactive(None)
message = solara.reactive("")
running = solara.reactive(False)


RELEASE_AFTER_S = 2.0  # after a session closes, its memory is handed back once Solara has dropped it


class Session:
    """What closing a page session must stop: its run in progress. :meth:`close` may run on any thread."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.cancel: threading.Event | None = None  # the run in progress's; Cancel and close set it

    def close(self) -> None:
        """Cancel the run in progress, and hand the session's memory back once Solara has freed it."""
        self.closed.set()
        if self.cancel is not None:
            self.cancel.set()
        later = threading.Timer(RELEASE_AFTER_S, release_memory)
        later.daemon = True
        later.start()


session: solara.Reactive[Session | None] = solara.reactive(None)


@solara.lab.on_kernel_start
def _cancel_when_closed():
    """Solara calls this as each page session starts; it calls what this returns when the session closes
    (its page closed, or disconnected for longer than the cull timeout): the session's run is cancelled."""
    this = Session()
    session.value = this
    return this.close


def _session() -> Session:
    if session.value is None:  # a page displayed outside Solara's server (Jupyter) may start without one
        session.value = Session()
    return session.value


def _at_boundary(action):
    """``action`` as a handler of the page's events: a scslab error becomes its message in ``notice``;
    anything else is logged here with its traceback and shows a generic message, never the details."""

    @functools.wraps(action)
    def handler(*args):
        try:
            return action(*args)
        except ScslabError as exc:
            notice.value = describe(exc)
        except Exception:  # noqa: BLE001 - the page boundary: the details stay in the server's log
            log.exception("the page's %s failed", action.__name__)
            notice.value = GENERIC

    return handler


def _clear_results() -> None:
    """Forget the results shown (final-day numbers, charts, story, message): they belong to the scheme the
    page leaves. A run in progress is stopped, and nothing of it is shown when it ends."""
    this = _session()
    if this.cancel is not None:
        this.cancel.set()
        this.cancel = None  # the run's own check: it is no longer the page's current run
    result.value, partial.value, baseline.value, message.value = None, None, None, ""


@_at_boundary
def choose_preset(value) -> None:
    """The preset selector's handler. ``value`` is whatever the client sent: only a preset's name is taken
    (anything else, a path above all, is refused with the list of presets, and nothing is read). The
    previous scheme's results are cleared."""
    name = checked_preset(value)
    _clear_results()
    preset.value, uploaded.value, upload_name.value, values.value, notice.value = name, None, "", {}, ""


@_at_boundary
def take_upload(file) -> None:
    """The file drop's handler: the uploaded bytes (at most ``MAX_UPLOAD_BYTES``) parsed as a scenario
    file; its problems, one a line, in ``notice``. A scenario taken clears the previous scheme's results."""
    name = str(file.get("name", ""))[:100]
    scenario = uploaded_scenario(read_upload(file["file_obj"], file.get("size")))
    _clear_results()
    uploaded.value, upload_name.value, values.value, notice.value = scenario, name, {}, ""


def _base() -> Scenario:
    """The scheme the page works on: the uploaded scenario, or else the chosen preset."""
    return uploaded.value if uploaded.value is not None else preset_scenario(preset.value)


def _numbers() -> tuple[dict[str, int], dict[str, str]]:
    """The population, days and seed fields as whole numbers, and a problem for each one that is not."""
    numbers, problems = {}, {}
    for key, low, high in (("population", None, None), ("days", None, None), ("seed", 0, MAX_SEED)):
        try:
            numbers[key] = whole_number(fields.value.get(key, ""), low, high)
        except ValueError as exc:
            problems[key] = str(exc)
    return numbers, problems


def _form(base: Scenario) -> tuple[Scenario | None, dict[str, str], dict[str, int]]:
    """The scenario the form describes (None while any field holds a bad entry), the problems by field,
    and the whole numbers read from the fields."""
    numbers, problems = _numbers()
    scenario, more = apply_knobs(base, values.value, population=numbers.get("population"), days=numbers.get("days"))
    problems = {**problems, **more}
    return (None if problems else scenario), problems, numbers


REFRESH_S = 1.0  # the page redraws the charts at most this often while a run goes on
# a citizen's story, rows per page: one of the table's own choices (Solara's data table offers 10, 20, 50
# and 100), so that its "Rows per page" says what it shows
STORY_ROWS_PER_PAGE = 10


def _engine(scenario, base, seed_value, with_baseline, cancel, latest: dict) -> None:
    """The simulation, in a plain thread: it only writes ``latest`` (the page's thread reads it), so the
    engine never waits for a chart to be drawn."""
    try:
        if with_baseline:
            unchanged, _ = apply_knobs(base, {}, population=scenario.population.size, days=scenario.run.days)
            final: dict = {}
            live_run(unchanged, seed=seed_value, cancel=cancel, on_update=lambda p: final.update(p=p))
            latest["baseline"] = final.get("p")
        latest["result"] = live_run(scenario, seed=seed_value, cancel=cancel,
                                    on_update=lambda p: latest.update(partial=p))
    except ScslabError as exc:  # Cancelled included
        latest["error"] = exc
    except Exception as exc:  # noqa: BLE001 - the page boundary: the details stay in the server's log
        log.exception("a run from the page failed")
        latest["error"] = exc
    finally:
        release_memory()  # the engine's working arrays


def _watch(worker: threading.Thread, latest: dict, current) -> None:
    """Show the engine's latest partial result every REFRESH_S seconds until ``worker`` ends; once the run
    is no longer the page's (the session closed, another scheme chosen), only wait for it to stop."""
    shown = None
    while worker.is_alive():
        worker.join(REFRESH_S)
        if current() and latest.get("partial") is not shown:
            shown = partial.value = latest.get("partial")


def _outcome(error) -> str:
    """The run's closing message."""
    if isinstance(error, Cancelled):
        return f"Stopped: {error}"
    if isinstance(error, ScslabError):
        return f"Error: {describe(error)}"
    return f"Error: {GENERIC}"


@solara.lab.task(prefer_threaded=True)
def run_task():
    """Run the chosen scenario (and, when asked, the unchanged preset with the same seed); redraw the
    page from the engine's latest partial result every REFRESH_S seconds. Cancel, or the session's
    close, stops it at the engine's next pass."""
    this = _session()
    try:
        _run(this)
    except ScslabError as exc:
        message.value = f"Error: {describe(exc)}"
    except Exception:  # noqa: BLE001 - the page boundary: the details stay in the server's log
        log.exception("the page's run failed")
        message.value = f"Error: {GENERIC}"


def _run(this: Session) -> None:
    base = _base()
    scenario, _, numbers = _form(base)
    if scenario is None:
        message.value = "Fix the highlighted values first."
        return
    cancel = this.cancel = threading.Event()
    if this.closed.is_set():
        return
    running.value, result.value, baseline.value, partial.value, message.value = True, None, None, None, ""
    latest: dict = {}
    worker = threading.Thread(target=_engine, daemon=True, name="scslab-page-run",
                              args=(scenario, base, numbers["seed"], compare.value, cancel, latest))
    worker.start()

    def current() -> bool:  # still the run of the page's scheme, and someone to show it to
        return this.cancel is cancel and not this.closed.is_set()

    try:
        _watch(worker, latest, current)
        if not current():
            return  # nobody to show it to, or another scheme's page
        partial.value = latest.get("partial")
        baseline.value = latest.get("baseline")
        if "error" in latest:
            message.value = _outcome(latest["error"])
        else:
            result.value = latest["result"]
            message.value = f"Done in {result.value.manifest['elapsed_s']:.1f} s."
    finally:
        if not this.closed.is_set():
            running.value = False


def _stop():
    cancel = _session().cancel
    if cancel is not None:
        cancel.set()


def _duration(seconds: float) -> str:
    return f"{max(seconds, 1):.0f} s" if seconds < 90 else f"{seconds / 60:.1f} minutes"


def will_compile() -> bool | None:
    """Whether the page's next run compiles the engine first (its day route's drivers are neither loaded
    nor in numba's disk cache), None when that cannot be told."""
    try:
        from ..engine.jitstatus import will_compile as route_compiles
    except ImportError:
        return None
    return route_compiles("lazy")  # the page's runs go day by day on the lazy engine


def estimate_text(scenario: Scenario, both: bool, loaded: bool, compiles: bool | None = None) -> str:
    """The page's estimate of a run of ``scenario`` (and of the unchanged preset first, when ``both``): the
    measured speed of the page's runs (``params.estimate_seconds``), and, until a run has finished in this
    server (``loaded``), what the first one adds: compiling the engine where it ``compiles``, or else
    loading it from numba's disk cache (both when it cannot be told, ``compiles`` None)."""
    agents = scenario.population.size + sum(e.population.size for e in scenario.entities.values())
    days = scenario.run.days
    secs = (2 if both else 1) * estimate_seconds(agents, days, scenario.meta.name)
    text = (f"{agents * days:,} agent-days (at most {MAX_AGENT_DAYS:,}): about {_duration(secs)} on a 2-core "
            f"laptop{' for both runs' if both else ''}.")
    compiling = f"{COMPILE_S[0] // 60}-{COMPILE_S[1] // 60} minutes more"
    if loaded:
        return text
    if compiles:
        return text + f" The engine is not compiled on this machine yet: the first run compiles it, {compiling}."
    if compiles is False:
        return text + " The first run since the server started also loads the compiled engine: a few seconds more."
    return text + (" The first run since the server started also loads the compiled engine (a few seconds), or "
                   f"compiles it if this machine never has: {compiling}.")


def _problem(problems: dict, key: str) -> None:
    if key in problems:
        solara.Error(problems[key], dense=True, classes=[f"problem-{key}"])


@solara.component
def NumberField(label: str, key: str, problems: dict):
    """A text field the page reads as a whole number itself, its problem beside it."""

    def set_text(text, key=key):
        fields.value = {**fields.value, key: text}

    solara.InputText(label=label, value=str(fields.value.get(key, "")), on_value=set_text)
    _problem(problems, key)


@solara.component
def Knobs(base, problems):
    for k in knobs(base):
        current = values.value.get(k.key, k.value)

        def set_value(v, key=k.key):
            values.value = {**values.value, key: v}

        if k.kind == "choice":
            solara.Select(label=k.label, value=current if current in k.choices else k.value, values=list(k.choices),
                          on_value=set_value)
        elif k.kind == "int":
            solara.InputText(label=k.label, value=str(current), on_value=set_value)
        else:
            shown = current if isinstance(current, (int, float)) and k.low <= current <= k.high else k.value
            solara.SliderFloat(label=k.label, value=float(shown), min=k.low, max=k.high, step=k.step,
                               on_value=set_value, thumb_label="always")
        if k.key in problems:
            solara.Error(problems[k.key], dense=True, classes=[f"problem-{k.key}"])
        else:
            solara.Text(k.help, style={"font-size": "0.8em", "color": "#666"})


@solara.component
def Story(res):
    roles = res.manifest.get("story_roles", {})
    ids = list(res.manifest.get("story_agents", []))
    labels = {f"{a} ({roles.get(str(a), 'sampled')})": a for a in ids}
    chosen = solara.use_reactive(next(iter(labels), ""))
    if not ids:
        return
    solara.Select(label="Follow a citizen", value=chosen, values=list(labels))
    agent = labels.get(chosen.value, ids[0])
    st = res.stories
    own = st[(st["agent"] == agent) & (st["population"] == "persons")][["day", "event", "points", "score_after", "reason"]]
    _html(f"<h3>Agent {agent}, {html.escape(roles.get(str(agent), 'sampled'))}: {len(own)} events</h3>",
          "story-title")
    solara.DataFrame(own.head(200), items_per_page=STORY_ROWS_PER_PAGE)


def _html(markup: str, cls: str = "") -> None:
    """Static markup (the content is escaped by the caller): Markdown would load KaTeX, which the bundled
    assets lack."""
    solara.HTML(tag="div", unsafe_innerHTML=markup, classes=[cls] if cls else [])


def _downloads(res, scenario):
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(res.metrics_table, buf)
    with solara.Row():
        solara.FileDownload(buf.getvalue(), filename="metrics.parquet", label="Download the run (Parquet)")
        solara.FileDownload(scenario_toml(scenario), filename=f"{scenario.meta.name}.toml",
                            label="Download the scenario (TOML)")


@solara.component
def Scheme():
    """The scheme's source: a preset, or an uploaded scenario file."""
    solara.Select(label="Preset", value=preset.value, values=preset_names(), on_value=choose_preset)
    solara.FileDrop(label=f"Or drop a scenario TOML file here (at most {MAX_UPLOAD_BYTES / 2**20:g} MiB)",
                    on_file=take_upload, lazy=True)
    if uploaded.value is not None:
        solara.Text(f"Using the uploaded file {upload_name.value or '(unnamed)'}", classes=["upload-name"])
        solara.Button("Back to the preset", on_click=lambda: choose_preset(preset.value), text=True)
    if notice.value:
        solara.Error(notice.value, classes=["notice"], style={"white-space": "pre-wrap"})


@solara.component
def Dashboard():
    base = _base()
    scenario, problems, numbers = _form(base)
    with solara.Sidebar():
        _html("<h3>Scheme</h3>")
        Scheme()
        NumberField(f"Population (agents, at most {MAX_POPULATION:,})", "population", problems)
        NumberField("Days", "days", problems)
        _problem(problems, "agent_days")
        NumberField("Seed", "seed", problems)
        _html("<h3>Policy</h3>")
        Knobs(base, problems)
        _problem(problems, "scenario")
        solara.Checkbox(label="Compare with the unchanged preset (same seed)", value=compare)
        if scenario is not None:
            loaded = engine_loaded()
            solara.Info(estimate_text(scenario, compare.value, loaded, None if loaded else will_compile()),
                        dense=True, classes=["estimate"])
        with solara.Row():
            solara.Button("Run", on_click=run_task, color="primary",
                          disabled=running.value or scenario is None)
            solara.Button("Cancel", on_click=_stop, disabled=not running.value)
    _html(f"<h2>{html.escape(base.meta.name)}</h2><p>{html.escape(base.meta.description)}</p>"
          "<p><em>Synthetic population: no real person is represented.</em></p>")
    p = partial.value
    if running.value or p is not None:
        if p is not None and p.queued and running.value:
            solara.Info("Waiting for a free engine slot...")
        done = 0 if p is None else p.day
        total = numbers.get("days", 0) if p is None else p.days
        solara.ProgressLinear(100 * done / max(total, 1) if running.value else False)
        solara.Text(f"day {done} of {total}", classes=["progress-day"])
    if message.value:
        solara.Info(message.value, classes=["run-message"])
    if p is not None and p.day > 0:
        fig = charts.overview(p, (scenario or base).model_dump(mode="json"), baseline.value)
        solara.FigureMatplotlib(fig, format="png", dpi=80)
        charts.close(fig)
    res = result.value
    if res is not None and not running.value:
        summary = res.summary()
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{v:,}</td></tr>"
                       for k, v in summary.items())
        _html(f"<h3>Final day</h3><table class='summary'><tr><th>measure</th><th>value</th></tr>{rows}</table>")
        Story(res)
        _downloads(res, scenario or base)


def _start_again() -> None:
    _clear_results()
    preset.value, uploaded.value, upload_name.value, values.value = DEFAULT_PRESET, None, "", {}


@solara.component
def Guarded():
    """The dashboard behind a boundary: an error while drawing any part of it is logged on the server, and
    the page shows a generic message and a way back, never the error's details."""
    error, clear = solara.use_exception()

    def report():
        if error is not None:
            log.error("the page failed", exc_info=error)

    solara.use_effect(report, [error])
    if error is None:
        Dashboard()
        return
    solara.Error(GENERIC, classes=["page-error"])

    def start_again():
        _start_again()
        clear()

    solara.Button("Start again", on_click=start_again)


@solara.component
def Page():
    solara.Title("scslab: a social credit scheme to play with")  # not beside use_exception: in one component
    Guarded()                                                    # with it, an error makes reacton loop
