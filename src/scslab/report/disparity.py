"""Disparity between groups and regions: rate ratios with intervals.

For each group or region ``g`` and each measure, the rate in ``g`` (per person) is set against the rate in the
rest of the population: ``ratio = (a / n_g) / (b / n_rest)``. Two intervals say how far to trust it:

* **within the run** (always): the usual 95 % interval for a ratio of two Poisson counts,
  ``exp(log ratio +- 1.96 sqrt(1/a + 1/b))``;
* **across seeds** (with replicates): the lowest and highest ratio over the run and its replicates (the
  same scenario, population and days under further seeds), which also carries the variation of the
  population itself. With a handful of seeds this range is all the runs can show; it is not a percentile
  interval.

Measures: false attributions over the whole run (``false:*``, events), and people on a blacklist on the last
day (``listed:*`` of the black lists, people). A ratio above 1 means the group fares worse than everybody else.
"""

from __future__ import annotations

import math


__all__ = ["measures", "disparity_rows", "group_sizes"]

def measures(black_lists=None) -> dict[str, tuple[list[str] | str, str]]:
    """Measure name -> (metric names, or a prefix; ``total`` over the run or ``final`` day)."""
    listed = "listed:" if black_lists is None else [f"listed:{name}" for name in black_lists]
    return {"false attributions (whole run)": ("false:", "total"), "on a blacklist (last day)": (listed, "final")}


def group_sizes(metrics) -> dict[str, int]:
    """People in each group on the last day (the tiers add up to everybody)."""
    last = metrics[metrics["day"] == metrics["day"].max()]
    return last[last["metric"].str.startswith("tier:")].groupby("group")["value"].sum().astype(int).to_dict()


def _counts(metrics, names: list[str] | str, kind: str) -> dict[str, int]:
    pick = metrics["metric"].str.startswith(names) if isinstance(names, str) else metrics["metric"].isin(names)
    sel = metrics[pick]
    if kind == "final":
        sel = sel[sel["day"] == metrics["day"].max()]
    return sel.groupby("group")["value"].sum().astype(int).to_dict()


def _ratio(a: int, n_g: int, b: int, n_rest: int) -> float:
    if n_g == 0 or n_rest == 0 or b == 0:
        return math.nan
    return (a / n_g) / (b / n_rest)


def disparity_rows(metrics, replicates=(), black_lists=None) -> list[dict]:
    """One row per (measure, group) with ``rate`` (per 100,000 people), ``ratio`` against the rest,
    ``low``/``high`` (within-run 95 % interval) and ``seed_low``/``seed_high`` (lowest and highest over the seeds; None without
    replicates). ``replicates`` are the metrics tables of the same scenario under other seeds;
    ``black_lists`` names the lists that count as blacklists (default: every list)."""
    groups = sorted(g for g in metrics["group"].unique() if g.startswith(("group:", "region:")))
    rows = []
    for measure, (prefix, kind) in measures(black_lists).items():
        runs = [metrics, *replicates]
        per_run = [(_counts(m, prefix, kind), group_sizes(m)) for m in runs]
        counts, sizes = per_run[0]
        total, everybody = counts.get("all", 0), sizes.get("all", 0)
        if total == 0:
            continue
        for g in groups:
            a, n_g = counts.get(g, 0), sizes.get(g, 0)
            b, n_rest = total - a, everybody - n_g
            ratio = _ratio(a, n_g, b, n_rest)
            low = high = math.nan
            if a > 0 and b > 0:
                half = 1.96 * math.sqrt(1 / a + 1 / b)
                low, high = ratio * math.exp(-half), ratio * math.exp(half)
            seed_low = seed_high = None
            if replicates:
                ratios = [_ratio(c.get(g, 0), s.get(g, 0), c.get("all", 0) - c.get(g, 0),
                                 s.get("all", 0) - s.get(g, 0)) for c, s in per_run]
                finite = [r for r in ratios if math.isfinite(r)]
                if finite:
                    seed_low, seed_high = float(min(finite)), float(max(finite))
            rows.append({"measure": measure, "group": g, "count": a, "people": n_g,
                         "rate": 1e5 * a / n_g if n_g else math.nan, "ratio": ratio, "low": low, "high": high,
                         "seed_low": seed_low, "seed_high": seed_high, "seeds": len(runs)})
    return rows
