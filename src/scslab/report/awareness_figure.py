"""The figure of awareness of the scheme ([awareness]): who knows of it, and how they learnt."""

from __future__ import annotations

__all__ = ["awareness"]

WAYS = {"penalty": "lost points themselves", "told": "told by a tie", "seen": "saw a tie sanctioned"}


def awareness(metrics, manifest):
    """The share of people aware of the scheme over time, and how many learnt it each way."""
    from .figures import add_caption, by_day, legend, new_figure, style

    spec = manifest["scenario"].get("awareness")
    if not spec:
        return None
    w, people = by_day(metrics), manifest["population"]
    fig, axes = new_figure(1, 2, size=(10, 3.4))
    ax = axes[0][0]
    ax.plot(w.index, 100 * w["aware"] / people, **style(0))
    ax.set(xlabel="day of the run", ylabel="% of people", title="Aware of the scheme")
    ax.set_ylim(bottom=0)
    ax = axes[0][1]
    for i, (how, label) in enumerate(WAYS.items()):
        ax.plot(w.index, w[f"aware_by:{how}"].cumsum(), label=label, **style(i + 1))
    ax.set(xlabel="day of the run", ylabel="people (cumulative)", title="How people learnt of it")
    legend(ax, len(WAYS))
    text = (f"Only people aware of the scheme are chilled by the watching they perceive. "
            f"{100 * float(spec.get('start', 1.0)):g} % of adults know of it at the start; an unaware person learns "
            f"of it on a day it loses points (chance {float(spec.get('penalised', 0)):g}), from a tie who has just "
            f"learnt ({float(spec.get('told', 0)):g} per tie) or on seeing a tie come under a sanction "
            f"({float(spec.get('seen', 0)):g} per tie). Left: the aware as a share of all people, children "
            "included (they are never aware: they are not scored). Right: how many learnt each way, added up: "
            "model figures.")
    return add_caption(fig, text)
