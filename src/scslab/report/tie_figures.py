"""The figures of ties: who pays for an act through them (the points each kind of tie loses, by behaviour), and
how ostracism thins them around shunned people."""

from __future__ import annotations

__all__ = ["who_pays", "ostracism"]

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


def _shunned_words(on) -> str:
    """Who is shunned, in words: "on blacklist or tier C"."""
    from .figures import listing, words

    return listing([words(("listed:" if r.startswith("lists.") else "tier:") + r.split(".", 1)[1]) for r in on], "or")


def ostracism(metrics, manifest):
    """How the network thins around shunned people: the ties each keeps on average against everyone else's,
    and the people who have lost ties, with and without an act of their own."""
    from .figures import add_caption, at_least_one, by_day, legend, new_figure, style

    shun = manifest["scenario"].get("ostracism") or {}
    shamed = {name: float((L.get("shaming") or {}).get("ties", 0))  # lists whose publishing costs ties
              for name, L in manifest["scenario"].get("lists", {}).items()}
    shamed = {name: x for name, x in shamed.items() if x > 0}
    if not shun and not shamed:
        return None
    on = list(shun.get("on", [])) + [f"lists.{n}" for n in shamed if f"lists.{n}" not in shun.get("on", [])]
    w, people = by_day(metrics), manifest["population"]
    if not w["shunned"].any():
        return (f"Nobody was shunned in this run ({_shunned_words(on)}),"
                " so no tie was dropped and there is no figure.")
    fig, axes = new_figure(1, 2, size=(10, 3.4))
    ax = axes[0][0]
    shunned = w["shunned"].where(w["shunned"] > 0)
    ax.plot(w.index, w["ties:shunned"] / shunned, label="shunned people", **style(1))
    ax.plot(w.index, w["ties:others"] / (people - w["shunned"]), label="everyone else", **style(0))
    ax.set(xlabel="day of the run", ylabel="friend and colleague ties per person", title="Ties left")
    ax.set_ylim(bottom=0)
    legend(ax, 2)
    ax = axes[0][1]
    ax.plot(w.index, w["lost_ties"], label="have lost a tie", **style(2))
    ax.plot(w.index, w["lost_ties_no_act"], label="... with no act of their own", **style(3))
    ax.set(xlabel="day of the run", ylabel="people", title="People who lost ties")
    at_least_one(ax)
    legend(ax, 2)
    rates = ([f"{100 * float(shun.get('rate', 0)):g} % a day" + (" where ostracism shuns" if shamed else "")]
             if shun else [])
    rates += [f"{100 * x:g} % a day for the names published on {_shunned_words([f'lists.{n}'])}"
              for n, x in shamed.items()]
    text = (f"Friends and colleagues drop their ties to people who are shunned "
            f"({_shunned_words(on)}), each tie with a chance of {'; '.join(rates)} (the higher where both apply, "
            "as the scheme sets it at the start), and a dropped tie carries no network penalty. Left: the ties each "
            "shunned person still has, on average, against everyone else's (household ties are never dropped and not counted). Right: the people who have "
            f"lost at least one tie, either end of it ({int(w['ties_dropped'].sum()):,} ties dropped in all), "
            "and those of them never penalised for an act of their own: model figures.")
    return add_caption(fig, text)
