"""``write_report(run_dir)``: figures as PNG and SVG in ``RUN_DIR/figures/``, and ``RUN_DIR/report.html``,
one self-contained file (images inlined, no script, no remote asset) that opens offline."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from ..api import Result
from ..populations import unit_of
from ..sources import BOUNDARY, html_mark, html_sources
from .figures import FIGURES, close

__all__ = ["write_report", "replicate_metrics"]

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em}
td.n{text-align:right}img{max-width:100%}.mark{color:#666;font-size:.85em}"""


def replicate_metrics(manifest: dict, replicates: int, progress=None) -> list:
    """Metrics of the run's scenario, population and days under seeds ``seed + 1 .. seed + replicates``."""
    from ..api import simulate

    out = []
    for k in range(replicates):
        r = simulate(manifest["scenario"], population=manifest["population"], days=manifest["days"],
                     seed=manifest["seed"] + 1 + k, engine=manifest.get("engine", "dense"))
        out.append(r.metrics)
        if progress is not None:
            progress(k + 1, replicates)
    return out


def _disparity_table(m, manifest, reps) -> list[str]:
    from .disparity import disparity_rows
    from .figures import black_lists

    rows = disparity_rows(m, reps, black_lists(manifest))
    if not rows:
        return []
    seeds = rows[0]["seeds"]
    out = ["<h2>Disparity: rate ratios</h2><p class='mark'>Each group against the rest of the population. "
           "Within-run interval: 95 % Poisson interval of the ratio. "
           + (f"Across seeds: the lowest and highest ratio over {seeds} seeds (this run and {seeds - 1} "
              "replicates): a range, not a percentile interval."
              if seeds > 1 else "For intervals across seeds, run <code>scslab report RUN_DIR --replicates K</code>.")
           + "</p><table><tr><th>measure</th><th>group</th><th>count</th><th>people</th><th>per 100,000 people"
           "</th><th>ratio</th><th>95 % (run)</th>" + (f"<th>range over {seeds} seeds</th>" if seeds > 1 else "") + "</tr>"]

    def f(x):
        return "n/a" if x is None or x != x else f"{x:.2f}"

    for r in rows:
        unit = "events" if "whole run" in r["measure"] else "people"
        out.append(f"<tr><td>{html.escape(r['measure'])}</td><td>{html.escape(r['group'])}</td>"
                   f"<td class='n'>{r['count']:,} {unit}</td><td class='n'>{r['people']:,}</td>"
                   f"<td class='n'>{f(r['rate'])}</td><td class='n'>{f(r['ratio'])}</td>"
                   f"<td class='n'>{f(r['low'])} - {f(r['high'])}</td>"
                   + (f"<td class='n'>{f(r['seed_low'])} - {f(r['seed_high'])}</td>" if seeds > 1 else "")
                   + "</tr>")
    out.append("</table>")
    return out


def write_report(run_dir: str | Path, *, stories_per_agent: int = 40, replicates: int = 0,
                 progress=None) -> Path:
    """Write the figures and ``report.html`` of the complete run in ``run_dir``; return the HTML path.

    ``stories_per_agent`` caps the events shown per sampled citizen. ``replicates`` > 0 runs the scenario
    again under that many further seeds for the disparity intervals across seeds (``progress(done, total)``
    is called after each).
    """
    run_dir = Path(run_dir)
    result = Result.load(run_dir)
    m, manifest = result.metrics, result.manifest
    s = manifest["scenario"]
    reps = replicate_metrics(manifest, replicates, progress) if replicates else []
    figdir = run_dir / "figures"
    figdir.mkdir(exist_ok=True)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(s['meta']['name'])}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(s['meta']['name'])}: {manifest['population']:,} agents x {manifest['days']} days"
             f"</h1><p>{html.escape(s['meta'].get('description', ''))}</p>",
             f"<p class='mark'>Seed {manifest['seed']}, scslab {manifest.get('scslab_version')}. "
             f"<strong>{BOUNDARY}</strong> No real person is represented.</p>"]
    for caveat in s["meta"].get("caveats", []):
        parts.append(f"<p class='mark'>Caveat: {html.escape(caveat)}</p>")
    parts.append("<h2>Headline numbers</h2><table><tr><th>measure</th><th>value</th><th>unit</th></tr>")
    for key, value in result.summary().items():
        parts.append(f"<tr><td>{html.escape(key)}</td><td class='n'>{value:,}</td><td>{unit_of(key)}</td></tr>")
    parts.append(f"</table><p class='mark'>Simulated: {manifest['population'] * manifest['days']:,} "
                 "agent-days.</p>")
    for name, make in FIGURES.items():
        fig = make(m, manifest, reps) if name == "disparity" else make(m, manifest)
        if fig is None:
            continue
        file = name.replace(" ", "_")
        fig.savefig(figdir / f"{file}.svg")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)  # rendered once: written to disk and inlined
        (figdir / f"{file}.png").write_bytes(buf.getvalue())
        close(fig)
        title = make.__doc__.split("\n")[0] if make.__doc__ else name
        parts.append(f"<h2>{html.escape(name.capitalize())}</h2><p class='mark'>{html.escape(title)}</p>"
                     f"<img alt='{file}' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'>")
    parts += _disparity_table(m, manifest, reps)
    parts.append("<h2>Citizens' stories</h2>")
    stories = result.stories
    if "population" in stories:
        stories = stories[stories["population"] == "persons"]
    roles = manifest.get("story_roles", {})
    chosen = [a for a in manifest.get("story_agents", []) if roles.get(str(a), "sampled") != "sampled"]
    for agent in (chosen or manifest.get("story_agents", []))[:8]:
        own = stories[stories["agent"] == agent]
        role = html.escape(roles.get(str(agent), "sampled"))
        parts.append(f"<h3>Agent {agent}, {role} ({len(own)} events)</h3><table>"
                     "<tr><th>day</th><th>event</th><th>points</th><th>score after</th><th>reason</th></tr>")
        for row in own.head(stories_per_agent).itertuples():
            parts.append(f"<tr><td class='n'>{row.day}</td><td>{row.event}</td><td class='n'>{row.points:+d}</td>"
                         f"<td class='n'>{row.score_after}</td><td>{html.escape(row.reason)}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Where the numbers come from</h2><table><tr><th>scenario value</th><th>source</th></tr>")
    marks = s.get("provenance", {})
    for key, mark in marks.items():
        parts.append(f"<tr><td>{html.escape(key)}</td><td>{html_mark(mark)}</td></tr>")
    parts.append("</table>")
    cited = html_sources(marks.values())
    if cited:
        parts.append("<h2>Sources</h2><p class='mark'>The entries of scslab's table of sources that the marks "
                     f"cite (<code>scslab sources ID</code> prints one).</p>{cited}")
    parts.append(f"<p class='mark'>{BOUNDARY}</p></body></html>")
    out = run_dir / "report.html"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
