"""The web page (Solara): pick a scheme, move a few knobs, run it, watch a city, follow one citizen.

``scslab serve`` serves :func:`Page`; in Jupyter, display ``Page()``. Each browser tab is its own session
(Solara's reactive variables are per session). A session runs one simulation at a time, bounded by
``MAX_POPULATION``; the form only carries numbers and names, which ``app.params`` writes into the scenario
and validates with the scenario schema, so a bad value shows the schema's message beside its field.
"""

from __future__ import annotations

import html
import io
import threading

import pandas  # noqa: F401  imported here, before any run's thread: reacton checks for pandas.DataFrame
import solara  # while the engine thread may be importing it, and a half-imported pandas breaks the page
import solara.lab

from ..errors import ScslabError
from ..scenarios.load import load_scenario, preset_names
from . import charts
from .live import Cancelled, Partial, live_run
from .params import MAX_POPULATION, apply_knobs, estimate_seconds, knobs, scenario_toml

DEFAULT_PRESET = "press-2018"
DEFAULT_POPULATION = 200_000

preset = solara.reactive(DEFAULT_PRESET)
population = solara.reactive(DEFAULT_POPULATION)
days = solara.reactive(365)
seed = solara.reactive(0)
compare = solara.reactive(False)
values: solara.Reactive[dict] = solara.reactive({})
partial: solara.Reactive[Partial | None] = solara.reactive(None)
baseline: solara.Reactive[Partial | None] = solara.reactive(None)
result = solara.reactive(None)
message = solara.reactive("")
running = solara.reactive(False)
stop_event: solara.Reactive[threading.Event | None] = solara.reactive(None)  # this session's Cancel


def _scenario():
    base = load_scenario(preset.value)
    return base, apply_knobs(base, values.value, population=population.value, days=days.value)


REFRESH_S = 1.0  # the page redraws the charts at most this often while a run goes on


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


@solara.lab.task(prefer_threaded=True)
def run_task():
    """Run the chosen scenario (and, when asked, the unchanged preset with the same seed); redraw the
    page from the engine's latest partial result every REFRESH_S seconds."""
    base, (scenario, problems) = _scenario()
    if scenario is None:
        message.value = "Fix the highlighted values first."
        return
    cancel = threading.Event()
    stop_event.value = cancel
    running.value, result.value, baseline.value, partial.value, message.value = True, None, None, None, ""
    latest: dict = {}
    worker = threading.Thread(target=_engine, daemon=True,
                              args=(scenario, base, seed.value, compare.value, cancel, latest))
    worker.start()
    try:
        shown = None
        while worker.is_alive():
            worker.join(REFRESH_S)
            if latest.get("partial") is not shown:
                shown = partial.value = latest.get("partial")
        partial.value = latest.get("partial")
        baseline.value = latest.get("baseline")
        error = latest.get("error")
        if isinstance(error, Cancelled):
            message.value = f"Stopped: {error}"
        elif error is not None:
            message.value = f"Error: {error}"
        else:
            result.value = latest["result"]
            message.value = f"Done in {result.value.manifest['elapsed_s']:.1f} s."
    finally:
        running.value = False


def _stop():
    if stop_event.value is not None:
        stop_event.value.set()


@solara.component
def Knobs(base, problems):
    for k in knobs(base):
        current = values.value.get(k.key, k.value)

        def set_value(v, key=k.key):
            values.value = {**values.value, key: v}

        if k.kind == "choice":
            solara.Select(label=k.label, value=current, values=list(k.choices), on_value=set_value)
        elif k.kind == "int":
            solara.InputInt(label=k.label, value=int(current), on_value=set_value)
        else:
            solara.SliderFloat(label=k.label, value=float(current), min=k.low, max=k.high, step=k.step,
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
    solara.DataFrame(own.head(200), items_per_page=15)


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
def Page():
    solara.Title("scslab: a social credit scheme to play with")
    base, (scenario, problems) = _scenario()
    with solara.Sidebar():
        _html("<h3>Scheme</h3>")
        solara.Select(label="Preset", value=preset, values=preset_names(),
                      on_value=lambda _: setattr(values, "value", {}))
        solara.InputInt(label=f"Population (agents, at most {MAX_POPULATION:,})", value=population)
        if "population" in problems:
            solara.Error(problems["population"], dense=True, classes=["problem-population"])
        solara.InputInt(label="Days", value=days)
        if "days" in problems:
            solara.Error(problems["days"], dense=True, classes=["problem-days"])
        solara.InputInt(label="Seed", value=seed)
        _html("<h3>Policy</h3>")
        Knobs(base, problems)
        if "scenario" in problems:
            solara.Error(problems["scenario"], dense=True)
        solara.Checkbox(label="Compare with the unchanged preset (same seed)", value=compare)
        if scenario is not None:
            secs = estimate_seconds(population.value, days.value) * (2 if compare.value else 1)
            solara.Info(f"{population.value * days.value:,} agent-days: about {max(secs, 1):.0f} s on a 2-core "
                        "laptop, plus up to 2 minutes to compile the engine on first use.", dense=True)
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
        total = days.value if p is None else p.days
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
