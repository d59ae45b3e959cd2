"""Figures for entity types and joint punishment (see ``scslab.populations`` for the metrics they read)."""

from __future__ import annotations

__all__ = ["entities", "joint"]


def _all(metrics):
    sel = metrics[metrics["group"] == "all"]
    return sel.pivot(index="day", columns="metric", values="value")


def entities(metrics, manifest):
    """Entity types (firms, authorities): entities on each list, and the persons sanctioned through a link
    (a listed firm's legal representative, an authority's officials)."""
    from .figures import at_least_one, add_caption, new_figure, legend, listing, style, words

    types = manifest["scenario"].get("entities", {})
    if not types:
        return None
    w = _all(metrics)
    panels, empty = [], []
    for name, e in types.items():
        lists = [l for l in e.get("lists", {}) if w[f"{name}.listed:{l}"].any()]
        empty += [f"{name}: {l}" for l in e.get("lists", {}) if l not in lists]
        if lists:
            panels.append((name, "lists", lists))
        linked = [c for c, q in e.get("consequences", {}).items() if q.get("applies_to", "self").startswith("links.")]
        if any(w[f"{name}.linked:{c}"].any() for c in linked):
            panels.append((name, "linked", linked))
    if not panels:
        return (f"No entity ({listing(list(types), 'and')}) was ever on a list or had a person sanctioned "
                "through a link in this run, so there is no figure.")
    fig, axes = new_figure(len(panels), 1, size=(7.4, 2.9 * len(panels)))
    for ax, (name, what, items) in zip(axes[:, 0], panels):
        for i, item in enumerate(items):
            if what == "lists":
                ax.plot(w.index, w[f"{name}.listed:{item}"], label=f"on {words(item)}", **style(i))
            else:
                ax.plot(w.index, w[f"{name}.linked:{item}"], label=f"under {words(item)}", **style(i))
        if what == "lists":
            ax.set(xlabel="day of the run", ylabel=words(name), title=f"{words(name).capitalize()} on each list")
        else:
            ax.set(xlabel="day of the run", ylabel="persons",
                   title=f"Persons sanctioned through their link to {words(name)}")
        at_least_one(ax)
        legend(ax, len(items))
    text = ("For each entity type: how many of its entities are on each of its lists at the end of each day, "
            "and how many persons (a listed firm's legal representative, an authority's officials) are under a "
            "sanction that reaches them through that link.")
    if empty:
        text += f" No entity was ever on {listing(empty)}."
    return add_caption(fig, text)


def joint(metrics, manifest):
    """Joint punishment: the measures each agency has in force (one listing counts once per measure that
    follows from it), the attempts its measures blocked or granted, cumulative, and per person (and per
    entity): how many agencies' measures each one is under."""
    from .figures import at_least_one, add_caption, new_figure, legend, listing, style, words

    w = _all(metrics)
    agencies = sorted(c[len("agency:"):] for c in w.columns if c.startswith("agency:"))
    if not agencies:
        return None
    held = [n for n in agencies if w[f"agency:{n}"].any()]
    tried = [n for n in agencies if f"agency_attempts:{n}" in w and w[f"agency_attempts:{n}"].any()]
    if not held:
        return (f"No measure of any agency ({listing(agencies, 'and')}) was in force in this run, so there is "
                "no figure.")
    several = [c for c in w.columns if _agencies_of(c) is not None and w[c].any()]
    n = 1 + bool(tried) + bool(several)
    fig, axes = new_figure(1, n, size=(5.4 * n + 0.8, 3.9))
    a = axes[0, 0]
    for i, name in enumerate(held):
        a.plot(w.index, w[f"agency:{name}"], label=words(name), **style(i))
    a.set(xlabel="day of the run", ylabel="measures in force", title="Measures in force, by agency")
    at_least_one(a)
    legend(a, len(held))
    text = ("The measures each agency has in force at the end of each day (one listing counts once for every "
            "measure that follows from it). ")
    if tried:
        b = axes[0, 1]
        for i, name in enumerate(tried):
            b.plot(w.index, w[f"agency_attempts:{name}"].cumsum(), label=words(name), **style(held.index(name)))
        b.set(xlabel="day of the run", ylabel="attempts (cumulative)", title="Attempts blocked or granted, by agency")
        at_least_one(b)
        legend(b, len(tried))
        text += "Next: the attempts the agency's measures blocked or granted, added up from the first day. "
    else:
        text += "No attempt was blocked or granted by any agency's measures in this run. "
    if several:
        c = axes[0, n - 1]
        for i, col in enumerate(sorted(several, key=lambda c: (_agencies_of(c)[0] != "persons", _agencies_of(c)))):
            population, k = _agencies_of(col)
            c.plot(w.index, w[col], label=f"{population} under {k} {'agency' if k == 1 else 'agencies'}", **style(i))
        c.set(xlabel="day of the run", ylabel="people or entities", title="Under the measures of how many agencies")
        at_least_one(c)
        legend(c, len(several))
        text += ("Last: per person (and per entity), how many agencies' measures each one is under at the end of "
                 "each day: its own measures, from its lists, its tier, a zeroed account and, for a child, its "
                 "adults' listing (a firm's measures on its representative are counted in the agencies' measures "
                 "in force, in neither population's count here).")
    idle = [name for name in agencies if name not in held]
    if idle:
        text += f" No measure of {listing(idle)} was in force."
    return add_caption(fig, text)


def _agencies_of(column: str):
    """(the population, K) of an ``under_agencies:K`` column (``firms.under_agencies:3``), else None."""
    from ..populations import split_metric

    population, base = split_metric(column)
    head, _, k = base.partition(":")
    return (population, int(k)) if head == "under_agencies" else None
