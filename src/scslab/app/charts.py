"""Matplotlib figures of a run in progress (a :class:`~scslab.app.live.Partial`), for the page."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..expected import undeterred_baseline  # noqa: E402

__all__ = ["overview", "close", "BASELINE_LABEL"]

BASELINE_LABEL = "unchanged preset"  # the legend of the dashed lines drawn with "Compare"


def _lines(ax, series: dict, prefix: str, days: np.ndarray, scale: float = 1.0, label=lambda n: n) -> int:
    n = 0
    for name, values in series.items():
        if name.startswith(prefix):
            ax.plot(days, values / scale, label=label(name))
            n += 1
    return n


def overview(partial, scenario: dict, baseline=None):
    """Four panels: tier shares, lists (and the wrongly listed), sanctions (and victims of ties), acts
    against the pre-scheme baseline. ``baseline`` (a finished Partial of the unchanged preset, same seed)
    is drawn dashed in the lists and sanctions panels, with one legend entry, ``BASELINE_LABEL``."""
    s, series = scenario, partial.series
    days = np.arange(partial.day)
    size = s["population"]["size"]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.2))
    a, b, c, d = axes.ravel()
    _lines(a, series, "tier:", days, size, lambda n: n[5:])
    a.set(title="Tier shares", xlabel="day", ylabel="share of people", xlim=(0, partial.days), ylim=(0, 1))
    _lines(b, series, "listed:", days, label=lambda n: f"on {n[7:]}")
    _lines(b, series, "innocent_listed:", days, label=lambda n: f"wrongly on {n[16:]}")
    b.set(title="Lists", xlabel="day", ylabel="people", xlim=(0, partial.days))
    _lines(c, series, "sanctioned:", days, label=lambda n: n[11:])
    if "sanctioned_by_ties" in series:
        c.plot(days, series["sanctioned_by_ties"], "k:", label="only because of ties")
    c.set(title="Sanctioned", xlabel="day", ylabel="people", xlim=(0, partial.days))
    for name, base in undeterred_baseline(s).items():  # adults at their class's rate: children never act
        if f"acts:{name}" in series and base > 0 and len(days):
            d.plot(days, series[f"acts:{name}"] / base, label=name)
    d.axhline(1.0, color="grey", lw=0.8, ls="--")
    d.set(title="Behaviour under watch (1 = no deterrence)", xlabel="day", ylabel="acts / baseline",
          xlim=(0, partial.days))
    if baseline is not None:
        bdays = np.arange(baseline.day)
        for ax, prefix in ((b, "listed:"), (c, "sanctioned:")):
            label = BASELINE_LABEL  # one legend entry for all of a panel's dashed lines
            for name, values in baseline.series.items():
                if name.startswith(prefix):
                    ax.plot(bdays, values, ls="--", color="grey", lw=0.8, label=label)
                    label = "_nolegend_"
    for ax in (a, b, c, d):
        if ax.lines:
            ax.legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.08, top=0.95, hspace=0.38, wspace=0.22)  # not tight_layout:
    return fig                                                            # drawn every second while a run goes on


def close(fig) -> None:
    plt.close(fig)
