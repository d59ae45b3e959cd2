"""The report's figure of published lists (``lists.NAME.shaming``): who is on them, and how much the names
on show deter everyone else's acts (``scslab.shaming.factor``, worked out again from the run's own counts)."""

from __future__ import annotations

import numpy as np

from ..shaming import factor

__all__ = ["shaming"]

MAX_REGIONS = 8  # lines the deterrence panel shows at most


def _people_by_region(metrics, regions: list[str], population: int) -> dict[str, float]:
    """Each region's people (all of them in one region: the run's population)."""
    if len(regions) < 2:
        return {regions[0]: float(population)}
    sel = metrics[metrics["group"].str.startswith("region:") & metrics["metric"].str.startswith("tier:")
                  & (metrics["day"] == 0)]
    people = sel.groupby("group")["value"].sum()
    return {r: float(people.get(f"region:{r}", 0)) for r in regions}


def _listed(metrics, name: str, region: str, several: bool, days: int) -> np.ndarray:
    group = f"region:{region}" if several else "all"
    sel = metrics[(metrics["group"] == group) & (metrics["metric"] == f"listed:{name}")]
    return sel.set_index("day")["value"].reindex(range(days), fill_value=0).to_numpy(np.float64)


def shaming(metrics, manifest):
    """The people on each published list, as a share of everyone (left), and, for lists that deter others,
    the factor on every act that costs points or creates a debt in each region, day by day (right)."""
    from .figures import add_caption, at_least_one, legend, listing, new_figure, style, words

    sc = manifest["scenario"]
    published = {n: L["shaming"] for n, L in sc.get("lists", {}).items() if L.get("shaming")}
    if not published:
        return None
    days, population = manifest["days"], manifest["population"]
    regions = list(sc["population"].get("regions", {"all": {}}))
    several = len(regions) > 1
    people = _people_by_region(metrics, regions, population)
    deterring = {n: float(x.get("deters", 0)) for n, x in published.items() if x.get("deters", 0) > 0}
    fig, axes = new_figure(1, 2 if deterring else 1, size=(10, 3.4) if deterring else (6, 3.4))
    ax = axes[0][0]
    for k, name in enumerate(published):
        on = sum(_listed(metrics, name, r, several, days) for r in regions)
        ax.plot(range(days), 100 * on / population, label=words(f"listed:{name}"), **style(k))
    ax.set(xlabel="day of the run", ylabel="% of everyone", title="On a published list")
    at_least_one(ax)
    legend(ax, len(published))
    does = []
    for name, x in published.items():
        parts = ([f"each friend and colleague drops the tie with a chance of {100 * x['ties']:g} % a day"]
                 if x.get("ties", 0) else [])
        parts += [f"{100 * x['work']:g} % of the employed on it lose their work"] if x.get("work", 0) else []
        if x.get("deters", 0):
            parts.append(f"acts are less likely by {x['deters']:g} x the share of the region on it")
        does.append(f"{words(name)}: " + ("; ".join(parts) if parts else "published, with no effect set"))
    text = ("Left: the people on each published list, as a share of everyone. What publishing does: "
            + "; ".join(does) + ".")
    if deterring:
        ax = axes[0][1]
        by_list = np.array(list(deterring.values()))
        shown = sorted(regions, key=lambda r: -people[r])[:MAX_REGIONS]
        for k, r in enumerate(shown):
            listed = np.array([_listed(metrics, n, r, several, days) for n in deterring])  # [list, day]
            before = np.concatenate([np.zeros((len(deterring), 2)), listed[:, :-2]], axis=1)  # end of day d - 2
            f = np.array([factor(by_list, before[:, [d]], np.array([people[r]]))[0] for d in range(days)])
            ax.plot(range(days), f, label=words(f"region:{r}") if several else "everyone", **style(k))
        ax.set(xlabel="day of the run", ylabel="factor on the chance of an act", title="Others deterred")
        ax.set_ylim(top=1.02)
        legend(ax, len(shown))
        text += (f" Right: the factor by which the names on {listing([words(n) for n in deterring])} multiply "
                 "the daily chance of every act that costs points or creates a court debt, region by region (1: "
                 "no effect), from the lists as they stood at the start of the day before"
                 + (f"; the {len(shown)} largest regions are shown" if len(shown) < len(regions) else "") + ".")
    return add_caption(fig, text + " Model figures.")
