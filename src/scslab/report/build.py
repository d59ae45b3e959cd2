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
from .figures import FIGURES, caption_of, close, scenario_words, words
from .economy_section import economy_section
from .legal_section import legal_section

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


SECTIONS = {"scores": "Scores", "tiers": "Tiers", "lists": "Lists", "consequences": "Sanctions and rewards",
            "ties": "Network-penalty victims", "who pays": "Who pays through ties", "chilling": "Chilling effect", "coverage": "Observation coverage",
            "regions": "Regions", "disparity": "Disparity", "entities": "Entities",
            "joint punishment": "Joint punishment"}


def _stories(result, manifest: dict, run_dir: Path, per_agent: int) -> list[str]:
    """The stories of up to eight citizens chosen by role: daily recoveries in a row told as one line, and a
    story longer than ``per_agent`` lines cut with a note saying so."""
    from ..storylog import told_rows

    stories = result.stories
    if "population" in stories:
        stories = stories[stories["population"] == "persons"]
    roles = manifest.get("story_roles", {})
    sampled = manifest.get("story_agents", [])
    chosen = [a for a in sampled if roles.get(str(a), "sampled") != "sampled"]
    shown = (chosen or sampled)[:8]
    out = [f"<h2>Citizens' stories</h2><p class='mark'>{len(shown)} of the {len(sampled)} sampled citizens, "
           "chosen by role. <em>Score after</em> is the score right after the event: a day's events add up in "
           "order. Daily recoveries in a row are one line. <code>scslab story RUN_DIR --agent ID</code> tells "
           "any sampled citizen's whole story.</p>"]
    for agent in shown:
        own = stories[stories["agent"] == agent]
        rows = told_rows(own)
        role = html.escape(roles.get(str(agent), "sampled"))
        cut = (f"; first {per_agent} lines of {len(rows)} shown (<code>scslab story {html.escape(str(run_dir))} "
               f"--agent {agent}</code> tells the rest)" if len(rows) > per_agent else "")
        lines = f", {len(rows)} lines" if len(rows) != len(own) else ""
        if not len(own):
            base = manifest["scenario"]["score"]["base"]
            out.append(f"<h3>Citizen {agent}, {role}</h3><p class='mark'>No events: the score stayed at its "
                       f"start, {base}.</p>")
            continue
        out.append(f"<h3>Citizen {agent}, {role}</h3><p class='mark'>{len(own)} events{lines}{cut}.</p>")
        out.append("<table><tr><th>day</th><th>event</th><th>points</th><th>score after</th><th>reason</th></tr>")
        for row in rows[:per_agent]:
            points = f"{row['points']:+d}" if row["points"] else ""
            after = "" if row["score_after"] is None else row["score_after"]
            out.append(f"<tr><td class='n'>{row['day']}</td><td>{words(row['event'])}</td><td class='n'>{points}"
                       f"</td><td class='n'>{after}</td><td>{html.escape(row['reason'])}</td></tr>")
        out.append("</table>")
    return out


def write_report(run_dir: str | Path, *, stories_per_agent: int = 40, replicates: int = 0,
                 progress=None) -> Path:
    """Write the figures and ``report.html`` of the complete run in ``run_dir``; return the HTML path.

    ``stories_per_agent`` caps the lines shown per sampled citizen (daily recoveries in a row are one line;
    a cut story says "first N lines of M" and how to see the rest). ``replicates`` > 0 runs the scenario
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
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(scenario_words(manifest))}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(scenario_words(manifest))}: {manifest['population']:,} agents x {manifest['days']} days"
             f"</h1><p>{html.escape(s['meta'].get('description', ''))}</p>",
             f"<p class='mark'>Seed {manifest['seed']}, scslab {manifest.get('scslab_version')}. "
             f"<strong>{BOUNDARY}</strong> No real person is represented.</p>"]
    for caveat in s["meta"].get("caveats", []):
        parts.append(f"<p class='mark'>Caveat: {html.escape(caveat)}</p>")
    parts.append("<h2>Headline numbers</h2><p class='mark'>On the last day, or added up over the run (total). "
                 "The metric column names the rows of <code>metrics.parquet</code>.</p><table><tr><th>measure</th>"
                 "<th>value</th><th>unit</th><th>metric</th></tr>")
    for key, value in result.summary().items():
        parts.append(f"<tr><td>{html.escape(words(key))}</td><td class='n'>{value:,}</td><td>{unit_of(key)}</td>"
                     f"<td class='mark'>{html.escape(key.split(' (')[0])}</td></tr>")
    parts.append(f"</table><p class='mark'>Simulated: {manifest['population'] * manifest['days']:,} "
                 "agent-days.</p>")
    for name, make in FIGURES.items():
        fig = make(m, manifest, reps) if name == "disparity" else make(m, manifest)
        file = name.replace(" ", "_")
        if fig is None or isinstance(fig, str):  # nothing to show: no figure, and none left from an earlier report
            for ext in ("png", "svg"):
                (figdir / f"{file}.{ext}").unlink(missing_ok=True)
            if fig:  # the scenario has it, the run had no event of it: say so
                parts.append(f"<h2>{html.escape(SECTIONS.get(name, name.capitalize()))}</h2>"
                             f"<p class='mark'>{html.escape(fig)}</p>")
            continue
        fig.savefig(figdir / f"{file}.svg", bbox_inches="tight")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")  # rendered once: written to disk and inlined
        (figdir / f"{file}.png").write_bytes(buf.getvalue())
        text = caption_of(fig, make)
        close(fig)
        parts.append(f"<h2>{html.escape(SECTIONS.get(name, name.capitalize()))}</h2>"
                     f"<img alt='{file}' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'>"
                     f"<p class='mark'>{html.escape(text)}</p>")
    parts += _disparity_table(m, manifest, reps)
    parts += economy_section(m)
    parts += legal_section(m, s)
    parts += _stories(result, manifest, run_dir, stories_per_agent)
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
