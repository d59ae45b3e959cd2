"""The figure of who pays for an act through ties: the points each kind of tie loses, by behaviour."""

from __future__ import annotations

__all__ = ["who_pays"]

# the kinds of tie (``encodings.REL``'s order), as a reader says them of the person who acted
KIND_WORDS = {"household": "other household member", "partner": "partner", "parents": "parent",
              "children": "child", "best_friend": "best friend", "friends": "friend", "colleagues": "colleague"}


def _present(population: dict) -> set[str]:
    """The kinds of tie (``schema.Network``'s names) a scenario's population (its manifest's dict) has."""
    from ..population import kinds_present
    from ..scenarios.schema import Population

    return {rel.name.lower() for rel, has in kinds_present(Population.model_validate(population)).items() if has}


def who_pays(metrics, manifest):
    """The points each kind of tie loses when the person who acted is caught, by behaviour, at the start of
    the run: the scheme's rule that the network-penalty figure counts the outcome of."""
    from ..scenarios.schema import Network
    from .figures import add_caption, legend, listing, new_figure, style, words

    scenario = manifest["scenario"]
    present = _present(scenario.get("population", {}))
    rows = {b: Network(**(spec.get("network") or {})).by_relation() for b, spec in scenario.get("behaviours", {}).items()}
    rows = {b: {k: v for k, v in pts.items() if k in present} for b, pts in rows.items()}
    rows = {b: pts for b, pts in rows.items() if any(pts.values())}
    kinds = [k for k in KIND_WORDS if k in present and any(pts[k] for pts in rows.values())]
    if not rows or len(kinds) < 2:
        return None  # one kind of tie (or none) pays: the network-penalty figure's caption says it
    fig, axes = new_figure(1, 1, size=(7, 0.45 * len(kinds) * len(rows) ** 0.5 + 1.6))
    ax = axes[0][0]
    height = 0.8 / len(rows)
    top = len(kinds) - 1  # the first kind at the top, without inverting the axis
    for i, (b, pts) in enumerate(rows.items()):
        ys = [top - y + 0.4 - (i + 0.5) * height for y in range(len(kinds))]
        ax.barh(ys, [-pts[k] for k in kinds], height=height, color=style(i)["color"], label=words(b))
    ax.set_yticks([top - y for y in range(len(kinds))], [KIND_WORDS[k] for k in kinds])
    ax.set(xlabel="points lost per act caught", title="Who pays for an act: each kind of tie")
    legend(ax, len(rows))
    changed = [t.get("note") or f"day {t['day']}" for t in scenario.get("timeline", [])
               if any(".network." in key for key in t.get("set", {}))]
    text = (f"The points each kind of tie of the person caught loses for {listing(list(rows), 'and')} (bars to the "
            "right: points lost), as the scheme sets them at the start of the run; the kind is what the tie is "
            "to the person who acted. Children under age lose nothing: they are not scored.")
    if changed:
        text += " The timeline changes them later: " + "; ".join(changed) + "."
    return add_caption(fig, text)
