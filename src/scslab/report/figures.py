"""One function per figure: each takes the run's tidy metrics (pandas) and manifest and returns a
matplotlib Figure, or None when the run has nothing to show for it. Units are on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["FIGURES"]


def _wide(metrics, prefix: str, group: str = "all"):
    sel = metrics[(metrics["group"] == group) & metrics["metric"].str.startswith(prefix)]
    return sel.pivot(index="day", columns="metric", values="value")


def tier_shares(metrics, manifest):
    wide = _wide(metrics, "tier:")
    order = [f"tier:{t}" for t in manifest["scenario"]["score"]["tiers"]]
    wide = wide[[c for c in order if c in wide]]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.stackplot(wide.index, (wide / manifest["population"]).T.values, labels=[c[5:] for c in wide.columns])
    ax.set(xlabel="day", ylabel="share of people", ylim=(0, 1), title="Tier shares over time")
    ax.legend(loc="lower left", ncol=min(len(wide.columns), 6), fontsize=8)
    return fig


def lists(metrics, manifest):
    names = list(manifest["scenario"].get("lists", {}))
    if not names:
        return None
    w = _wide(metrics, "")
    fig, axes = plt.subplots(len(names), 1, figsize=(7, 2.6 * len(names)), squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        ax.plot(w.index, w[f"listed:{name}"], label="on the list (people)")
        ax.plot(w.index, w[f"innocent_listed:{name}"], label="of whom wrongly (people)")
        ax2 = ax.twinx()
        ax2.bar(w.index, w[f"entered:{name}"], color="tab:green", alpha=0.4, label="entries / day")
        ax2.bar(w.index, -w[f"exited:{name}"], color="tab:red", alpha=0.4, label="exits / day")
        ax.set(xlabel="day", ylabel="people", title=f"List {name}: size, entries and exits")
        ax2.set_ylabel("people per day")
        ax.legend(loc="upper left", fontsize=8)
        ax2.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def consequences(metrics, manifest):
    names = list(manifest["scenario"].get("consequences", {}))
    if not names:
        return None
    w = _wide(metrics, "")
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.6))
    for name in names:
        kind = manifest["scenario"]["consequences"][name].get("kind", "sanction")
        level, flow = ("sanctioned", "blocked") if kind == "sanction" else ("rewarded", "granted")
        a.plot(w.index, w[f"{level}:{name}"], label=name)
        b.plot(w.index, w[f"{flow}:{name}"].cumsum(), label=name)
    a.set(xlabel="day", ylabel="people", title="Under each consequence")
    b.set(xlabel="day", ylabel="person-times (cumulative)", title="Blocked or granted attempts")
    a.legend(fontsize=7)
    fig.tight_layout()
    return fig


def chilling(metrics, manifest):
    """Acts per day by behaviour, against the rate the scenario gives before any deterrence."""
    s = manifest["scenario"]
    classes = s["population"]["classes"]
    w = _wide(metrics, "acts:")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, b in s["behaviours"].items():
        baseline = manifest["population"] * sum(classes[c] * r for c, r in b["rate"].items())
        if f"acts:{name}" in w and baseline > 0:
            ax.plot(w.index, w[f"acts:{name}"] / baseline, label=name)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="day", ylabel="acts / pre-scheme baseline", title="Behaviour under watch (chilling effect)")
    ax.legend(fontsize=7, ncol=2)
    return fig


def coverage(metrics, manifest):
    w = _wide(metrics, "coverage_ppm:")
    if w.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 3))
    for col in w:
        ax.plot(w.index, w[col] / 1e6, label=col.split(":", 1)[1])
    ax.set(xlabel="day", ylabel="coverage (share of acts seen)", ylim=(0, 1.05), title="Observation channels")
    ax.legend(fontsize=8)
    return fig


def disparity(metrics, manifest):
    """Wrongly and rightly listed, and false attributions per 100,000 people, by group and region."""
    groups = sorted(g for g in metrics["group"].unique() if g.startswith(("group:", "region:")))
    if not groups:
        return None
    last = metrics[metrics["day"] == metrics["day"].max()]
    total = metrics.groupby(["group", "metric"])["value"].sum()
    size = last[last["metric"].str.startswith("tier:")].groupby("group")["value"].sum()
    false = total[total.index.get_level_values("metric").str.startswith("false:")].groupby("group").sum()
    rates = [1e5 * false.get(g, 0) / max(size.get(g, 0), 1) for g in groups]
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.4 * len(groups)))
    ax.barh(groups, rates, color="tab:purple")
    ax.set(xlabel="false attributions per 100,000 people (whole run)", title="Who is wrongly recorded")
    fig.tight_layout()
    return fig


FIGURES = {"tiers": tier_shares, "lists": lists, "consequences": consequences, "chilling": chilling,
           "coverage": coverage, "disparity": disparity}


def close(fig) -> None:
    plt.close(fig)

