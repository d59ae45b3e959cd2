"""One function per figure: each takes the run's tidy metrics (pandas) and manifest and returns a
matplotlib Figure, or None when the run has nothing to show for it. Units are on the axes, labels are in
words (:func:`words`), lines use a colour-blind-safe palette with line styles beyond its colours
(:func:`style`), every panel with more than one line has a legend, and a panel with nothing in it is left
out: the figure's caption (:func:`caption_of`, whole sentences) says what had no events."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .entity_figures import entities, joint  # noqa: E402
from .awareness_figure import awareness  # noqa: E402
from .tie_figures import ostracism, who_pays  # noqa: E402
from .shaming_figure import shaming  # noqa: E402

__all__ = ["FIGURES", "by_day", "words", "scenario_words", "style", "caption_of", "snapshot_cadence"]

# A figure function returns a Figure, None when the scenario has nothing of its kind (no lists, say), or a
# sentence when the scenario has it but the run had no event of it: the report prints the sentence instead.

# Okabe and Ito's colour-blind-safe palette (its yellow left out: too pale on white), then the same colours
# dashed, dotted and dash-dotted: 28 lines a panel can tell apart
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LINESTYLES = ("-", "--", ":", "-.")
_PREFIXES = {"tier": "tier {}", "region": "region {}", "group": "group {}", "class": "class {}",
             "listed": "on {}", "innocent_listed": "wrongly on {}", "entered": "entered {}", "exited": "left {}",
             "sanctioned": "under {}", "rewarded": "granted {}", "blocked": "attempts blocked by {}",
             "granted": "attempts granted by {}", "acts": "{} (acts)", "detected": "{} (detected acts)",
             "false": "{} (false attributions)", "coverage_ppm": "{}", "score": "score {}",
             "linked": "persons under {} through a link", "linked_blocked": "linked persons' attempts blocked by {}",
             "linked_granted": "linked persons' attempts granted by {}",
             "through_link": "under {} through a linked person",
             "through_link_blocked": "attempts blocked by {} (through a linked person)",
             "through_link_granted": "attempts granted by {} (through a linked person)",
             "agency": "measures in force: {}",
             "agency_attempts": "attempts under the measures of {}",
             "under_agencies": "under the measures of {} agencies"}


def words(name: str) -> str:
    """A metric, group or other name in words: ``tier:AAA`` -> "tier AAA", ``region:west`` -> "region west",
    ``listed:court_list`` -> "on court list", ``criticize_government`` -> "criticize government",
    ``firms.listed:blacklist`` -> "firms: on blacklist"."""
    head, dot, tail = str(name).partition(".")
    if dot and ":" in tail and ":" not in head:  # an entity type's metric
        return f"{words(head)}: {words(tail)}"
    prefix, sep, rest = str(name).partition(":")
    if sep and prefix in _PREFIXES:
        return _PREFIXES[prefix].format(words(rest))
    if sep:
        return f"{words(prefix)} {words(rest)}"
    return str(name).replace("_", " ")


def scenario_words(manifest: dict) -> str:
    """The run's scenario as a reader knows it: the preset's name (``press_2018`` -> "press-2018")."""
    from ..storylog import run_name

    return run_name(manifest)


def style(i: int) -> dict:
    """Colour and line style of a panel's i-th line (``PALETTE`` x ``LINESTYLES``)."""
    return {"color": PALETTE[i % len(PALETTE)], "ls": LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]}


def new_figure(rows: int = 1, cols: int = 1, size=(7, 3.6), **kw):
    """A figure laid out by matplotlib's constrained layout (nothing clipped, legends beside the axes)."""
    return plt.subplots(rows, cols, figsize=size, layout="constrained", squeeze=False, **kw)


def add_caption(fig, text: str):
    """Attach the report's caption (whole sentences) to ``fig``; returns ``fig``."""
    fig.scslab_caption = text
    return fig


def caption_of(fig, make=None) -> str:
    """The caption of a figure made by one of :data:`FIGURES`: the one it carries, else its function's first
    paragraph (whole sentences)."""
    text = getattr(fig, "scslab_caption", None)
    if text:
        return text
    doc = (make.__doc__ or "") if make is not None else ""
    return " ".join(doc.split("\n\n")[0].split())


def legend(ax, n: int, **kw) -> None:
    """A legend for a panel of ``n`` lines: inside when there are few, beside the axes when there are many."""
    if n > 6:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, frameon=False, ncol=1 + n // 14, **kw)
    else:
        ax.legend(fontsize=8, **kw)


def at_least_one(ax) -> None:
    """Counts of people: the axis starts at 0 and spans at least 1 (never matplotlib's -0.04..0.04)."""
    low, high = ax.get_ylim()
    ax.set_ylim(min(0, low), max(high + 0.04 * (high - min(0, low)), 1))  # headroom above the highest line


def listing(names, conjunction: str = "or") -> str:
    """Names in words, as a phrase: "a", "a or b", "a, b or c"."""
    names = [words(n) for n in names]
    if not names:
        return "nothing"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {conjunction} " + names[-1]


def snapshot_cadence(manifest: dict) -> int:
    """Days between the score distribution's snapshots: ``run.score_every_days``, or the engine's default
    (``engine.histogram.snapshot_every``: about 12 a run)."""
    from ..engine.histogram import snapshot_every

    return snapshot_every(manifest["days"], manifest["scenario"].get("run", {}).get("score_every_days"))


def _wide(metrics, prefix: str, group: str = "all"):
    sel = metrics[(metrics["group"] == group) & metrics["metric"].str.startswith(prefix)]
    return sel.pivot(index="day", columns="metric", values="value")


def by_day(metrics, prefix: str = "", group: str = "all"):
    """The metrics of ``group`` whose names start with ``prefix``, one column each, by day."""
    return _wide(metrics, prefix, group)


def tier_shares(metrics, manifest):
    """The share of people in each tier over time, on a log scale so that small tiers stay visible."""
    wide = _wide(metrics, "tier:")
    order = [f"tier:{t}" for t in manifest["scenario"]["score"]["tiers"]]
    wide = wide[[c for c in order if c in wide]]
    share = 100 * wide / manifest["population"]
    used = [c for c in share if (share[c] > 0).any()]
    if not used:
        return None
    fig, axes = new_figure()
    ax = axes[0, 0]
    for i, c in enumerate(used):
        ax.plot(share.index, share[c].where(share[c] > 0), label=words(c), lw=1.6, **style(i))
    ax.set_yscale("log")
    low = float(share[used].where(share[used] > 0).min().min())
    ax.set_ylim(max(low / 2, 1e-6), 150)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g} %"))
    ax.set(xlabel="day of the run", ylabel="share of people (%, log scale)", title="People in each tier")
    legend(ax, len(used))
    empty = [c for c in wide if c not in used]
    text = ("The share of people in each tier of the score, day by day, on a log scale: a line falls by a "
            "factor of ten for each grid step, so tiers holding a few people in a thousand stay as visible as "
            "the tier most people are in.")
    if empty:
        text += f" Nobody was ever in {listing(empty)}."
    return add_caption(fig, text)


def lists(metrics, manifest):
    """Each list: the people on it and how many of them wrongly (left), and the people entering and leaving
    it each day (right)."""
    names = list(manifest["scenario"].get("lists", {}))
    if not names:
        return None
    w = _wide(metrics, "")
    used = [n for n in names if w[f"listed:{n}"].any() or w[f"entered:{n}"].any()]
    if not used:
        return f"Nobody was ever on {listing(names)} in this run, so there is no figure."
    fig, axes = new_figure(len(used), 2, size=(10, 2.9 * len(used)))
    edges = np.r_[w.index.to_numpy(), w.index[-1] + 1] - 0.5  # one filled step patch per series, not a bar a day
    for (size, flow), name in zip(axes, used):
        size.plot(w.index, w[f"listed:{name}"], label="on the list", **style(0))
        size.plot(w.index, w[f"innocent_listed:{name}"], label="of whom wrongly listed", **style(1))
        size.set(xlabel="day of the run", ylabel="people", title=f"{words(name).capitalize()}: people on it")
        at_least_one(size)
        size.legend(fontsize=8)
        flow.stairs(w[f"entered:{name}"].to_numpy(), edges, fill=True, color=PALETTE[2], alpha=0.6,
                    label="entering")
        flow.stairs(-w[f"exited:{name}"].to_numpy(), edges, fill=True, color=PALETTE[1], alpha=0.6,
                    label="leaving (drawn below 0)")
        flow.axhline(0, color="grey", lw=0.6)
        flow.set(xlabel="day of the run", ylabel="people per day", title=f"{words(name).capitalize()}: in and out")
        low, high = flow.get_ylim()
        flow.set_ylim(min(low, -1), max(high, 1))
        flow.legend(fontsize=8)
    text = ("For each list: on the left, the people on it at the end of each day and, among them, those listed "
            "while carrying a false attribution; on the right, the people entering the list (above the line) "
            "and leaving it (below) each day.")
    empty = [n for n in names if n not in used]
    if empty:
        text += f" Nobody was ever on {listing(empty)}, so {'it has' if len(empty) == 1 else 'they have'} no panel."
    return add_caption(fig, text)


def consequences(metrics, manifest):
    """The people under each sanction and those enjoying each reward, each in its own panel, and the attempts
    they blocked or granted, added up over the run."""
    spec = manifest["scenario"].get("consequences", {})
    if not spec:
        return None
    w = _wide(metrics, "")
    level, flow = {}, {}
    for name, c in spec.items():
        lv, fl = ("sanctioned", "blocked") if c.get("kind", "sanction") == "sanction" else ("rewarded", "granted")
        level[name] = w[f"{lv}:{name}"]  # (one on linked entities has no attempts of the persons: theirs)
        flow[name] = w.get(f"{fl}:{name}", 0 * level[name]).cumsum()
    reward = {n for n, c in spec.items() if c.get("kind", "sanction") != "sanction"}
    sanctions = [n for n in spec if n not in reward and level[n].any()]
    rewards = [n for n in spec if n in reward and level[n].any()]
    tried = [n for n in spec if flow[n].any()]
    if not sanctions and not rewards and not tried:
        return f"Nobody was ever under {listing(spec)} in this run, so there is no figure."
    panels = [(what, names, title, ylabel, text) for what, names, title, ylabel, text in (
        ("sanctions", sanctions, "People under each sanction", "people",
         "the people under each sanction at the end of each day"),
        ("rewards", rewards, "People enjoying each reward", "people",
         "the people enjoying each reward at the end of each day"),
        ("tried", tried, "Attempts blocked or granted", "attempts (person-times, cumulative)",
         "the attempts these consequences blocked (a refused ticket, say) or granted, added up from the first "
         "day; a person can make many attempts, so the unit is person-times")) if names]
    fig, axes = new_figure(1, len(panels), size=(4.8 * len(panels) + (1.6 if len(spec) > 6 else 0), 3.8))
    for ax, (what, names, title, ylabel, _) in zip(axes[0], panels):
        series = flow if what == "tried" else level
        for name in names:
            ax.plot(w.index, series[name], label=words(name), **style(list(spec).index(name)))
        ax.set(xlabel="day of the run", ylabel=ylabel, title=title)
        at_least_one(ax)
        legend(ax, len(names))
    where = {1: [""], 2: ["Left: ", "Right: "], 3: ["Left: ", "Middle: ", "Right: "]}[len(panels)]
    text = " ".join(f"{w_}{p[4]}." if w_ else p[4][0].upper() + p[4][1:] + "." for w_, p in zip(where, panels))
    never = [n for n in spec if not level[n].any() and not flow[n].any()]
    if never:
        text += f" Nobody was ever under {listing(never)}."
    if not tried:
        text += " No attempt was blocked or granted in this run."
    return add_caption(fig, text)


def chilling(metrics, manifest):
    """Acts per day by behaviour, against the acts the same population would do with nobody deterred
    (``expected.undeterred_acts``: adults at their class's rate; children never act)."""
    from ..expected import undeterred_baseline

    baseline = undeterred_baseline(manifest["scenario"])
    w = _wide(metrics, "acts:")
    shown = [(name, expected) for name, expected in baseline.items() if f"acts:{name}" in w and expected > 0]
    if not shown:
        return None
    fig, axes = new_figure(size=(8.6 if len(shown) > 6 else 7, 3.8))
    ax = axes[0, 0]
    span = min(7, len(w))  # a week's average: daily counts of rare acts jump about
    for i, (name, expected) in enumerate(shown):
        ax.plot(w.index, w[f"acts:{name}"].rolling(span, min_periods=1).mean() / expected, label=words(name),
                lw=1.3, **style(i))
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set(xlabel="day of the run", ylabel="acts / acts with nobody deterred",
           title="Behaviour under watch (chilling effect)")
    ax.set_ylim(bottom=0)
    legend(ax, len(shown))
    return add_caption(fig, f"Acts of each behaviour per day, averaged over the last {span} days and divided by the "
                         "acts the same population would do if nobody were deterred (adults at their class's "
                         "rate; children never act). The dashed line at 1 means no change; below it, people hold "
                         "back because they are watched or scored low. Rare acts still jump about from week to "
                         "week.")


def coverage(metrics, manifest):
    """Each observation channel's coverage, day by day; where people do not perceive it as it is, the
    perceived coverage beside it and the acts the chilling holds back each way."""
    w = _wide(metrics, "coverage_ppm:")
    if w.empty:
        return None
    seen = _wide(metrics, "perceived_ppm:")
    fig, axes = new_figure(1, 1 if seen.empty else 2, size=(7 if seen.empty else 11, 3.2))
    ax = axes[0, 0]
    for i, col in enumerate(w):
        ax.plot(w.index, w[col] / 1e4, label=words(col), **style(i))
        if not seen.empty:
            ax.plot(seen.index, seen["perceived_ppm:" + col.split(":", 1)[1]] / 1e4, ls="--",
                    color=style(i)["color"], label=f"{words(col)}, perceived")
    ax.set(xlabel="day of the run", ylabel="share of acts seen (%)", ylim=(0, 105), title="Observation channels")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g} %"))
    legend(ax, w.shape[1] * (1 if seen.empty else 2))
    text = ("Each observation channel's coverage on each day: the share of acts in its reach (cameras, "
            "financial records, informants...), before its own detection rate and the regions' camera and data "
            "factors. It grows where the scenario adds cameras or pools records.")
    if seen.empty:
        return add_caption(fig, text)
    from ..expected import chilling_explained

    aware = metrics[(metrics["metric"] == "aware") & (metrics["group"] == "all")].sort_values("day")["value"]
    days, perceived, actual = chilling_explained(manifest["scenario"], aware.to_numpy() if len(aware) else None)
    ax = axes[0, 1]
    ax.plot(days, perceived, label="as people perceive the watching (the run)", **style(0))
    ax.plot(days, actual, label="if they saw it as it is", **style(1))
    ax.set(xlabel="day of the run", ylabel="acts a day", title="Acts the chilling holds back (model)")
    at_least_one(ax)
    legend(ax, 2)
    return add_caption(fig, text + " Dashed: the same coverage as people perceive it; deterrence responds to "
                       "the perceived coverage, not to the actual one (it lags, and may be overstated). Right: the acts a day that the chilling effect alone holds back, worked out "
                       "from the rules (no tier or sanction deterrence), as people perceive the watching and as "
                       "they would if they saw it as it is; the gap is what their perception explains."
                       + (" Only the people aware of the scheme, as many as in the run each day, are chilled."
                          if len(aware) else ""))


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
    fig, axes = new_figure(1, len(measures), size=(4.8 * len(measures), 1.5 + 0.42 * n))
    for ax, measure in zip(axes[0], measures):
        sel = [r for r in rows if r["measure"] == measure]
        y = np.arange(len(sel))
        ratio = np.array([r["ratio"] for r in sel])
        low = np.array([r["low"] if np.isfinite(r["low"]) else r["ratio"] for r in sel])
        high = np.array([r["high"] if np.isfinite(r["high"]) else r["ratio"] for r in sel])
        ax.errorbar(ratio, y, xerr=[ratio - low, high - ratio], fmt="o", color=PALETTE[0], capsize=3,
                    label="95 % interval, this run")
        if sel[0]["seed_low"] is not None:
            sl = np.array([r["seed_low"] if r["seed_low"] is not None else r["ratio"] for r in sel])
            sh = np.array([r["seed_high"] if r["seed_high"] is not None else r["ratio"] for r in sel])
            ax.hlines(y + 0.22, sl, sh, color=PALETTE[1], lw=2.5,
                      label=f"lowest to highest over {sel[0]['seeds']} seeds")
        ax.axvline(1.0, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y, [words(r["group"]) for r in sel])
        ax.set_ylim(-0.6, len(sel) - 0.4)
        ax.set(xlabel="rate ratio against the rest (log scale)", title=measure.capitalize())
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=8,
               frameon=False)
    seeds = rows[0]["seeds"]
    return add_caption(fig, "For each group and region, the rate of each measure (per person) against the rate "
                         "in the rest of the population: 1 (dashed) means no disparity, 2 twice the rest's rate. "
                         "Bars: 95 % interval of the ratio within this run (Poisson counts)"
                    + (f"; thick lines: the lowest to the highest ratio over {seeds} seeds." if seeds > 1
                       else "."))


def scores(metrics, manifest):
    """The score distribution over time: the share of people in each score bin on each snapshot day, with
    the tier thresholds as dashed lines."""
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
    fig, axes = new_figure(size=(7.4, 3.9))
    ax = axes[0, 0]
    mesh = ax.pcolormesh(edges_x, edges_y, np.where(share > 0, share, np.nan), shading="flat",
                         norm=matplotlib.colors.LogNorm(vmin=max(share[share > 0].min(), 1e-7), vmax=1),
                         cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="share of people (log scale)")
    occupied = np.nonzero(share.sum(axis=1) > 0)[0]
    bottom, top = edges_y[occupied[0]], edges_y[occupied[-1] + 1]
    ax.set_ylim(bottom, top)
    shown = [(name, m) for name, m in manifest["scenario"]["score"]["tiers"].items() if bottom < m < top]
    gap = 0.07 * (top - bottom)  # labels at least this far apart, nudged apart when thresholds are close
    shown.sort(key=lambda x: x[1])
    placed = [float(m) for _, m in shown]
    for k in range(1, len(placed)):  # push up ...
        placed[k] = max(placed[k], placed[k - 1] + gap)
    for k in range(len(placed) - 1, -1, -1):  # ... and back down below the top
        placed[k] = min(placed[k], (placed[k + 1] if k + 1 < len(placed) else top) - gap)
    for (name, minimum), y in zip(shown, placed):
        ax.axhline(minimum, color="white", lw=0.7, ls="--")
        ax.annotate(f"{name} ", (edges_x[-1], y), ha="right", va="bottom", color="white", fontsize=7)
    ax.set(xlabel="day of the run", ylabel="score", title="Score distribution over time")
    every = snapshot_cadence(manifest)
    return add_caption(fig, f"The share of people in each score bin on each snapshot day: day 0, then every {every} "
                         f"day{'s' if every != 1 else ''} and the last day (run.score_every_days); each column "
                         "lasts until the next snapshot. The colour scale is logarithmic, so bins holding a few "
                         "people in a million still show; the dashed lines are the tiers' lower bounds, each "
                         "labelled with its tier.")


def ties(metrics, manifest):
    """People sanctioned only because of their ties (no act of their own on record), and the network
    penalties that put them there."""
    w = _wide(metrics, "")
    if "sanctioned_by_ties" not in w:
        return None
    if not w["network_penalties"].any():
        networked = [b for b, spec in manifest["scenario"].get("behaviours", {}).items()
                     if any((spec.get("network") or {}).values())]
        return (f"No network penalty was applied in this run (acts that cost the actor's ties points: "
                f"{listing(networked)}), so there is no figure." if networked else None)
    victims = w["sanctioned_by_ties"].any()
    fig, axes = new_figure(1, 2 if victims else 1, size=(10 if victims else 6, 3.4))
    panels = iter(axes[0])
    if victims:
        ax = next(panels)
        ax.plot(w.index, w["sanctioned_by_ties"], **style(1))
        ax.set(xlabel="day of the run", ylabel="people", title="Sanctioned only because of their ties")
        at_least_one(ax)
    ax = next(panels)
    ax.plot(w.index, w["network_penalties"].cumsum(), **style(0))
    ax.set(xlabel="day of the run", ylabel="penalties (cumulative events)", title="Network penalties")
    text = ("Network penalties are points taken from a person because a friend or household member was "
            "caught for an act that counts against their ties; the right panel adds them up from the first day. "
            if victims else "Network penalties (points taken from a person because a friend or household member "
            "was caught), added up from the first day. ")
    text += ("The left panel counts the people under a sanction on each day who were never penalised for an "
             "act of their own, have no court debt and their account intact: sanctioned for their ties alone."
             if victims else "Nobody was sanctioned because of ties alone in this run.")
    return add_caption(fig, text)


MAX_REGIONS = 8  # lines a panel of the regions figure shows at most


def regions(metrics, manifest):
    """Each region over time, side by side: its detected acts and the share of its people ever penalised
    (local schemes, timeline changes for some regions only, show here)."""
    if len(manifest["scenario"]["population"].get("regions", {})) < 2:
        return None
    sel = metrics[metrics["group"].str.startswith("region:")]
    people = sel[sel["metric"].str.startswith("tier:") & (sel["day"] == 0)].groupby("group")["value"].sum()
    detected = sel[sel["metric"].str.startswith("detected:")].pivot_table(index="day", columns="group",
                                                                          values="value", aggfunc="sum")
    penalised = sel[sel["metric"] == "newly_penalised"].pivot(index="day", columns="group", values="value").cumsum()
    share = penalised / people[penalised.columns] * 100
    shown = list(share.iloc[-1].sort_values(ascending=False).index[:MAX_REGIONS])
    fig, axes = new_figure(1, 2, size=(10, 3.4))
    for i, g in enumerate(shown):
        rate = (detected[g] / people[g] * 1000).rolling(7, min_periods=1).mean()
        axes[0, 0].plot(rate.index, rate, label=words(g), **style(i))
        axes[0, 1].plot(share.index, share[g], label=words(g), **style(i))
    axes[0, 0].set(xlabel="day of the run", ylabel="per 1,000 people a day", title="Detected acts (weekly mean)")
    axes[0, 1].set(xlabel="day of the run", ylabel="% of the region's people", title="Ever penalised")
    legend(axes[0, 0], len(shown))
    legend(axes[0, 1], len(shown))
    local = [f"day {t['day']} in {listing(t['regions'], 'and')}" + (f" ({t['note']})" if t.get("note") else "")
             for t in manifest["scenario"].get("timeline", []) if t.get("regions")]
    text = ("Each region's detected acts per 1,000 of its people a day (left, a 7-day mean) and the share of its "
            "people penalised at least once for an act of their own or one wrongly attributed to them (right). ")
    if len(shown) < len(share.columns):
        text += f"The {len(shown)} regions with the highest shares penalised are shown. "
    text += (f"Rules changed for some regions only: {'; '.join(local)}." if local
             else "Every region runs the same rules; the regions differ in camera density and data completeness.")
    return add_caption(fig, text)


FIGURES = {"scores": scores, "tiers": tier_shares, "lists": lists, "consequences": consequences, "ties": ties,
           "who pays": who_pays, "ostracism": ostracism, "shaming": shaming, "chilling": chilling, "awareness": awareness,
           "coverage": coverage, "regions": regions, "disparity": disparity, "entities": entities,
           "joint punishment": joint}


def close(fig) -> None:
    plt.close(fig)

