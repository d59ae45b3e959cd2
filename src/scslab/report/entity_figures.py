"""Figures for entity types and joint punishment (see ``scslab.populations`` for the metrics they read)."""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["entities", "joint"]


def _all(metrics):
    sel = metrics[metrics["group"] == "all"]
    return sel.pivot(index="day", columns="metric", values="value")


def entities(metrics, manifest):
    """Entity types (firms, authorities): entities on each list, and the persons sanctioned through a link
    (a listed firm's legal representative, an authority's officials)."""
    types = manifest["scenario"].get("entities", {})
    if not types:
        return None
    w = _all(metrics)
    fig, axes = plt.subplots(len(types), 1, figsize=(7, 2.8 * len(types)), squeeze=False)
    for ax, (name, e) in zip(axes[:, 0], types.items()):
        for lst in e.get("lists", {}):
            ax.plot(w.index, w[f"{name}.listed:{lst}"], label=f"{name} on {lst} ({name})")
        linked = [c for c, q in e.get("consequences", {}).items() if q.get("applies_to", "self").startswith("links.")]
        if linked:
            ax2 = ax.twinx()
            for i, c in enumerate(linked):
                ax2.plot(w.index, w[f"{name}.linked:{c}"], ls="--", color=f"C{i + len(e.get('lists', {}))}",
                         label=f"persons under {c} through their link")
            ax2.set_ylabel("persons")
            ax2.legend(loc="lower right", fontsize=8)
        ax.set(xlabel="day", ylabel=name, title=f"{name.capitalize()}: lists and linked persons")
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def joint(metrics, manifest):
    """Joint punishment: the measures each agency has in force (one listing counts once per measure that
    follows from it), and the attempts its measures blocked or granted, cumulative."""
    w = _all(metrics)
    agencies = sorted(c[len("agency:"):] for c in w.columns if c.startswith("agency:"))
    if not agencies:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.stackplot(w.index, [w[f"agency:{n}"] for n in agencies], labels=agencies)
    a.set(xlabel="day", ylabel="measures in force", title="Measures in force, by agency")
    for n in agencies:
        b.plot(w.index, w[f"agency_attempts:{n}"].cumsum(), label=n)
    b.set(xlabel="day", ylabel="attempts (cumulative)", title="Attempts blocked or granted, by agency")
    a.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    return fig
