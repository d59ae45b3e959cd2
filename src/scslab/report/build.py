"""``write_report(run_dir)``: figures as PNG and SVG in ``RUN_DIR/figures/``, and ``RUN_DIR/report.html``,
one self-contained file (images inlined, no script, no remote asset) that opens offline."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from ..api import Result
from .figures import FIGURES, close

__all__ = ["write_report"]

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em}
td.n{text-align:right}img{max-width:100%}.mark{color:#666;font-size:.85em}"""


def _units(key: str) -> str:
    if key.startswith(("blocked:", "granted:")):
        return "person-times"
    return "events" if "(total)" in key else "people"


def write_report(run_dir: str | Path, *, stories_per_agent: int = 40) -> Path:
    """Write the figures and ``report.html`` of the complete run in ``run_dir``; return the HTML path.

    ``stories_per_agent`` caps the events shown per sampled citizen.
    """
    run_dir = Path(run_dir)
    result = Result.load(run_dir)
    m, manifest = result.metrics, result.manifest
    s = manifest["scenario"]
    figdir = run_dir / "figures"
    figdir.mkdir(exist_ok=True)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(s['meta']['name'])}"
             f"</title><style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(s['meta']['name'])}: {manifest['population']:,} agents x {manifest['days']} days"
             f"</h1><p>{html.escape(s['meta'].get('description', ''))}</p>",
             f"<p class='mark'>Seed {manifest['seed']}, scslab {manifest.get('scslab_version')}. Synthetic "
             "population: no real person is represented.</p>"]
    for caveat in s["meta"].get("caveats", []):
        parts.append(f"<p class='mark'>Caveat: {html.escape(caveat)}</p>")
    parts.append("<h2>Headline numbers</h2><table><tr><th>measure</th><th>value</th><th>unit</th></tr>")
    for key, value in result.summary().items():
        parts.append(f"<tr><td>{html.escape(key)}</td><td class='n'>{value:,}</td><td>{_units(key)}</td></tr>")
    parts.append(f"</table><p class='mark'>Simulated: {manifest['population'] * manifest['days']:,} "
                 "agent-days.</p>")
    for name, make in FIGURES.items():
        fig = make(m, manifest)
        if fig is None:
            continue
        fig.savefig(figdir / f"{name}.svg")
        fig.savefig(figdir / f"{name}.png", dpi=110)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        close(fig)
        title = make.__doc__.split("\n")[0] if make.__doc__ else name
        parts.append(f"<h2>{html.escape(name.capitalize())}</h2><p class='mark'>{html.escape(title)}</p>"
                     f"<img alt='{name}' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'>")
    parts.append("<h2>Citizens' stories</h2>")
    stories = result.stories
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
    for key, mark in s.get("provenance", {}).items():
        parts.append(f"<tr><td>{html.escape(key)}</td><td>{html.escape(mark)}</td></tr>")
    parts.append("</table></body></html>")
    out = run_dir / "report.html"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out
