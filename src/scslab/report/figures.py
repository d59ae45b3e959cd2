"""One function per figure: each takes the run's tidy metrics (pandas) and manifest and returns a
matplotlib Figure, or None when the run has nothing to show for it. Units are on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .entity_figures import entities, joint  # noqa: E402

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
        edges = np.r_[w.index.to_numpy(), w.index[-1] + 1] - 0.5  # one filled step patch per series, not a bar a day
        ax2.stairs(w[f"entered:{name}"].to_numpy(), edges, fill=True, color="tab:green", alpha=0.4,
                   label="entries / day")
        ax2.stairs(-w[f"exited:{name}"].to_numpy(), edges, fill=True, color="tab:red", alpha=0.4,
                   label="exits / day")
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
    """Acts per day by behaviour, against the acts the same population would do with nobody deterred
    (``expected.undeterred_acts``: adults at their class's rate; children never act)."""
    from ..expected import undeterred_baseline

    baseline = undeterred_baseline(manifest["scenario"])
    w = _wide(metrics, "acts:")
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for name, expected in baseline.items():
        if f"acts:{name}" in w and expected > 0:
            ax.plot(w.index, w[f"acts:{name}"] / expected, label=name)
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


def black_lists(manifest) -> list[str]:
    """The scenario's blacklists (lists that sanction, not reward)."""
    return [name for name, spec in manifest["scenario"].get("lists", {}).items() if spec.get("kind") == "black"]


def disparity(metrics, manifest, replicates=()):
    """Rate ratios of each group and region against the rest of the population, with 95 % intervals
    within the run (Poisson) and, with replicates, across seeds; 1 means no disparity."""
    from .disparity import disparity_rows

    rows = disparity_rows(metrics, replicates, black_lists(manifest))
    rows = [r for r in rows if np.isfinite(r["ratio"]) and r["ratio"] > 0]
    if not rows:
        return None
    measures = list(dict.fromkeys(r["measure"] for r in rows))
    n = max(sum(r["measure"] == m for r in rows) for m in measures)
    fig, axes = plt.subplots(1, len(measures), figsize=(4.6 * len(measures), 0.9 + 0.42 * n), squeeze=False)
    for ax, measure in zip(axes[0], measures):
        sel = [r for r in rows if r["measure"] == measure]
        y = np.arange(len(sel))
        ratio = np.array([r["ratio"] for r in sel])
        low = np.array([r["low"] if np.isfinite(r["low"]) else r["ratio"] for r in sel])
        high = np.array([r["high"] if np.isfinite(r["high"]) else r["ratio"] for r in sel])
        ax.errorbar(ratio, y, xerr=[ratio - low, high - ratio], fmt="o", color="tab:purple", capsize=3,
                    label="95 % interval, this run")
        if sel[0]["seed_low"] is not None:
            sl = np.array([r["seed_low"] if r["seed_low"] is not None else r["ratio"] for r in sel])
            sh = np.array([r["seed_high"] if r["seed_high"] is not None else r["ratio"] for r in sel])
            ax.hlines(y + 0.22, sl, sh, color="tab:orange", lw=2.5,
                      label=f"2.5-97.5 % over {sel[0]['seeds']} seeds")
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y, [r["group"] for r in sel])
        ax.set(xlabel="rate ratio against the rest (log scale)", title=measure)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1 if n > 3 else 0.16, 1, 1))
    return fig


def scores(metrics, manifest):
    """The score distribution over time: share of people in each score bin on each snapshot day (weekly),
    with the tier thresholds as dashed lines."""
    sel = metrics[(metrics["group"] == "all") & metrics["metric"].str.startswith("score:")]
    if sel.empty:
        return None
    wide = sel.pivot(index="metric", columns="day", values="value")
    lows = np.array([int(name[6:].split("..")[0]) for name in wide.index])
    highs = np.array([int(name[6:].split("..")[1]) for name in wide.index])
    order = np.argsort(lows)
    share = wide.values[order] / np.maximum(wide.values.sum(axis=0, keepdims=True), 1)
    days = wide.columns.to_numpy()
    edges_x = np.r_[days, days[-1] + 1]
    edges_y = np.r_[lows[order], highs[order][-1] + 1]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    mesh = ax.pcolormesh(edges_x, edges_y, np.where(share > 0, share, np.nan), shading="flat",
                         norm=matplotlib.colors.LogNorm(vmin=max(share[share > 0].min(), 1e-7), vmax=1),
                         cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="share of people (log scale)")
    for name, minimum in manifest["scenario"]["score"]["tiers"].items():
        if edges_y[0] < minimum <= edges_y[-1]:
            ax.axhline(minimum, color="white", lw=0.7, ls="--")
            ax.text(edges_x[-1], minimum, f" {name}", va="bottom", ha="right", color="white", fontsize=7)
    occupied = np.nonzero(share.sum(axis=1) > 0)[0]
    ax.set_ylim(edges_y[occupied[0]], edges_y[occupied[-1] + 1])
    ax.set(xlabel="day", ylabel="score", title="Score distribution over time")
    return fig


def ties(metrics, manifest):
    """People sanctioned only because of their ties (no act of their own on record), with the network
    penalties that put them there."""
    w = _wide(metrics, "")
    if "sanctioned_by_ties" not in w or not w["network_penalties"].any():
        return None
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(w.index, w["sanctioned_by_ties"], color="tab:red", label="sanctioned only because of ties (people)")
    ax2 = ax.twinx()
    ax2.plot(w.index, w["network_penalties"].cumsum(), color="tab:grey", lw=1,
             label="network penalties (cumulative events)")
    ax.set(xlabel="day", ylabel="people", title="Network-penalty victims")
    ax2.set_ylabel("events (cumulative)")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


FIGURES = {"scores": scores, "tiers": tier_shares, "lists": lists, "consequences": consequences, "ties": ties,
           "chilling": chilling, "coverage": coverage, "disparity": disparity, "entities": entities,
           "joint punishment": joint}


def close(fig) -> None:
    plt.close(fig)

