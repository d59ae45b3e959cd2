"""The report's money and work: jobs and income lost through sanctions, court debts owed and repaid, and fines,
by group and region (an HTML table; only for a scenario with an economy, debt amounts or fines)."""

from __future__ import annotations

import html

__all__ = ["economy_section", "COLUMNS"]

# (metric, heading, how it is read over the run: "total" of a flow, "last" day of a level)
COLUMNS = (("jobs_lost", "jobs lost", "total"), ("out_of_work", "out of work (last day)", "last"),
           ("income_lost_yuan", "income lost (yuan)", "total"), ("repaid_yuan", "debts repaid (yuan)", "total"),
           ("debt_owed_yuan", "debts owed, last day (yuan)", "last"), ("fines_yuan", "fines (yuan)", "total"),
           ("fines_wrongful_yuan", "fines on false records (yuan)", "total"))


def economy_section(metrics) -> list[str]:
    """HTML rows of the persons' money and work by group (none when the run has no such metric)."""
    present = [c for c in COLUMNS if c[0] in set(metrics["metric"].unique())]
    if not present:
        return []
    m = metrics[metrics["metric"].isin([c[0] for c in present])]
    last_day = int(metrics["day"].max())
    totals = m.groupby(["group", "metric"])["value"].sum()
    last = m[m["day"] == last_day].groupby(["group", "metric"])["value"].sum()
    groups = ["all"] + sorted(g for g in m["group"].unique() if g != "all")
    out = ["<h2>Money and work</h2><p class='mark'>Through the scheme, in the model: jobs lost when a sanction "
           "that bars a person's work begins (<code>costs_work</code>), the income the people out of work lose "
           "(their daily income summed over the days), court debts owed and repaid, and fines for recorded acts, "
           "those for false attributions apart. Income and debts are drawn per person from the scenario's bands "
           "(<code>[economy]</code>, <code>[debt] amounts</code>).</p><table><tr><th>group</th>"
           + "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in present) + "</tr>"]
    for g in groups:
        cells = []
        for metric, _, how in present:
            v = (totals if how == "total" else last).get((g, metric), 0)
            cells.append(f"<td class='n'>{int(v):,}</td>")
        out.append(f"<tr><td>{html.escape(g)}</td>{''.join(cells)}</tr>")
    out.append("</table>")
    return out
