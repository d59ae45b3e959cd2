"""The report's legal reading: the quantities of ``scslab.legal`` as an HTML section, with their definitions."""

from __future__ import annotations

import html

from ..legal import legal_reading, number

__all__ = ["legal_section"]


def legal_section(metrics, scenario: dict) -> list[str]:
    """HTML for the legal reading of a run's ``metrics`` under ``scenario`` (a dict): every run has one."""
    r = legal_reading(metrics, scenario)
    out = ["<h2>Legal reading: EU AI Act, Art. 5(1)(c)</h2><p class='mark'>The Act bans scoring people over time "
           "by their social behaviour when the score leads to (i) detrimental treatment in social contexts unrelated "
           "to where the data was collected, or (ii) treatment unjustified or disproportionate to the behaviour "
           "(<code>scslab sources eu-ai-act-art5</code>). These are the model's measured quantities such a judgment "
           "would weigh, not a verdict. A measure-day is one person under one sanction for one day; rewards are "
           "left out.</p>",
           f"<p><strong>What is evaluated:</strong> {html.escape(r.evaluation)}</p>",
           "<table><tr><th>quantity</th><th>clause</th><th>value</th><th>unit</th><th>definition</th></tr>"]
    for q in r.quantities:
        out.append(f"<tr><td>{html.escape(q.name)}</td><td>{q.clause}</td><td class='n'>{number(q.value, q.unit)}"
                   f"</td><td>{html.escape(q.unit)}</td><td class='mark'>{html.escape(q.definition)}</td></tr>")
    out.append("</table>")
    if r.measures:
        out.append("<table><tr><th>sanction</th><th>falls on</th><th>context</th><th>data behind it, by context"
                   "</th><th>related</th><th>measure-days</th><th>blocked</th></tr>")
        for m in r.measures:
            name = m.name if m.population == "persons" else f"{m.population}: {m.name}"
            data = ", ".join(f"{k} {100 * v:.0f} %" for k, v in sorted(m.data_contexts.items(), key=lambda kv: -kv[1]))
            out.append(f"<tr><td>{html.escape(name)}</td><td>{m.who}</td><td>{html.escape(m.context)}</td>"
                       f"<td>{html.escape(data)}</td><td class='n'>{number(m.related, 'share')}</td>"
                       f"<td class='n'>{m.measure_days:,}</td><td class='n'>{m.blocked:,}</td></tr>")
        out.append("</table><p class='mark'>Contexts come from the scenario's <code>context</code> fields, else "
                   "from each behaviour's first channel and each sanction's agency (<code>scslab.legal</code>).</p>")
    return out
