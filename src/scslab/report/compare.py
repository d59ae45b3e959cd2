"""Compare two runs of the same population: what policy B changes against policy A.

Both runs draw every decision from (seed, stream, day, agent), so with the same seed and population the
same people make the same choices until the policies make them differ (common random numbers): a
difference is the policy's, not noise. With ``replicates`` > 0 both scenarios are run again with further
seeds, and a two-sided sign test on the paired differences (this pair and the replicates' pairs) says which
differences stand out: p < 0.05, which needs at least MIN_PAIRS pairs (six pairs of one sign give p = 0.031;
five can give no less than 0.0625). With fewer pairs the table says it cannot tell. The sign test assumes
only that the pairs are independent (one seed each); ties (a difference of 0) carry no sign and are dropped.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..api import Result, simulate
from ..errors import RunDirError

__all__ = ["compare_runs", "difference_figure", "figure_title", "scenario_differences", "sign_test", "MIN_PAIRS",
           "ALPHA"]

ALPHA = 0.05
MIN_PAIRS = 6  # the fewest pairs with which a two-sided sign test can reach p < ALPHA (2 x 0.5**6 = 0.031)


def sign_test(differences) -> float:
    """Two-sided p-value of the sign test: how likely a split of signs at least this uneven is when a positive
    and a negative difference are equally likely. Differences of 0 are dropped (p = 1 when none is left)."""
    plus = sum(1 for d in differences if d > 0)
    minus = sum(1 for d in differences if d < 0)
    n = plus + minus
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(plus, minus) + 1)) / 2**n
    return min(1.0, 2 * tail)


def _paired(manifest_a: dict, manifest_b: dict, seed: int) -> dict[str, int]:
    a = simulate(manifest_a["scenario"], population=manifest_a["population"], days=manifest_a["days"], seed=seed)
    b = simulate(manifest_b["scenario"], population=manifest_b["population"], days=manifest_b["days"], seed=seed)
    sa, sb = a.summary(), b.summary()
    return {k: sb.get(k, 0) - sa.get(k, 0) for k in sorted(set(sa) | set(sb))}


def _loaded(run: str | Path | Result) -> Result:
    return run if isinstance(run, Result) else Result.load(run)


def compare_runs(run_a: str | Path | Result, run_b: str | Path | Result, *,
                 replicates: int = 0) -> tuple[list[dict], list[str]]:
    """Rows (measure, a, b, difference, sd of the paired differences, sign test p, stands out, why) and
    warnings.

    ``run_a`` and ``run_b`` are complete run directories (or their loaded results) of the same population
    size and days; ``replicates`` further seeds are run for both. ``stands_out`` is True or False by the sign
    test (p < ALPHA), or None when there are too few pairs to tell (``why`` says so).
    """
    a, b = _loaded(run_a), _loaded(run_b)
    ma, mb = a.manifest, b.manifest
    if (ma["population"], ma["days"]) != (mb["population"], mb["days"]):
        raise RunDirError(f"the runs differ in size: {ma['population']:,} x {ma['days']} days against "
                          f"{mb['population']:,} x {mb['days']} days; compare runs of one population")
    warnings = []
    if ma["seed"] != mb["seed"]:
        warnings.append(f"the seeds differ ({ma['seed']} and {mb['seed']}): no common random numbers, so the "
                        "difference mixes the policy with chance")
    sa, sb = a.summary(), b.summary()
    spread: dict[str, list[int]] = {}
    for k in range(replicates):
        for key, diff in _paired(ma, mb, ma["seed"] + 1 + k).items():
            spread.setdefault(key, []).append(diff)
    if 0 < replicates < MIN_PAIRS - 1:
        warnings.append(f"{replicates + 1} pairs of runs cannot show any difference standing out: a sign test at "
                        f"{ALPHA:.0%} needs at least {MIN_PAIRS} (--replicates {MIN_PAIRS - 1} or more)")
    rows = []
    for key in sorted(set(sa) | set(sb)):
        va, vb = sa.get(key, 0), sb.get(key, 0)
        pairs = [vb - va, *spread.get(key, [])] if replicates else []
        sd = float(np.std(pairs, ddof=1)) if len(pairs) >= 2 else None
        p = sign_test(pairs) if pairs else None
        if not pairs:
            stands_out, why = None, "one pair: run with --replicates to test the difference"
        elif len(pairs) < MIN_PAIRS:
            stands_out, why = None, f"cannot tell: {len(pairs)} pairs, a sign test needs {MIN_PAIRS}"
        else:
            stands_out = p < ALPHA
            why = f"sign test over {len(pairs)} pairs, p = {p:.3g}"
        rows.append({"measure": key, "a": va, "b": vb, "difference": vb - va, "sd": sd, "p": p,
                     "stands_out": stands_out, "why": why})
    return rows, warnings


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def scenario_differences(manifest_a: dict, manifest_b: dict) -> list[str]:
    """What B's resolved scenario sets differently from A's, as ``path = value`` (B's value; ``(unset)`` where
    B lacks it): the overrides that make policy B, whether they came from ``--set`` or another file. The
    scenario's name, description, caveats and provenance marks are left out, and so is the seed (the title
    gives it)."""
    skip = ("meta.", "provenance.", "run.seed")
    a, b = _flat(manifest_a.get("scenario", {})), _flat(manifest_b.get("scenario", {}))
    out = []
    for key in sorted(set(a) | set(b)):
        if key.startswith(skip) or a.get(key) == b.get(key):
            continue
        out.append(f"{key} = {b[key]!r}" if key in b else f"{key} (unset)")
    return out


def run_words(manifest: dict) -> str:
    """A run as a title names it: its scenario (the preset's name) and seed."""
    from .figures import scenario_words

    return f"{scenario_words(manifest)}, seed {manifest.get('seed')}"


def figure_title(manifest_a: dict, manifest_b: dict, most: int = 3) -> str:
    """"B minus A" with both runs named, and what B's scenario changes (up to ``most`` settings)."""
    changed = scenario_differences(manifest_a, manifest_b)
    b = run_words(manifest_b)
    if changed:
        more = f" and {len(changed) - most} more" if len(changed) > most else ""
        b += " with " + "; ".join(changed[:most]) + more
    return f"B minus A. A: {run_words(manifest_a)}. B: {b}."


def difference_figure(run_a: str | Path | Result, run_b: str | Path | Result):
    """A figure of ``run_b`` minus ``run_a`` (run directories or loaded results) over time for the tiers,
    lists and consequences (people); the title names both runs and what B changes."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .figures import legend, style, words

    ra, rb = _loaded(run_a), _loaded(run_b)
    a, b = ra.metrics, rb.metrics
    key = ["day", "metric"]
    wa = a[a["group"] == "all"].set_index(key)["value"]
    wb = b[b["group"] == "all"].set_index(key)["value"]
    diff = (wb - wa).dropna().unstack("metric")
    tiers = [f"tier:{name}" for name in ra.manifest.get("scenario", {}).get("score", {}).get("tiers", {})]
    panels, same = [], []
    for prefix, title in (("tier:", "Tiers"), ("listed:", "Lists"),
                          (("sanctioned:", "rewarded:"), "Sanctions and rewards")):
        cols = [c for c in diff.columns if c.startswith(prefix)]
        cols.sort(key=lambda c: tiers.index(c) if c in tiers else len(tiers))  # tiers in the scheme's order
        moved = [c for c in cols if diff[c].any()]
        if moved:
            panels.append((title, moved))
        elif cols:
            same.append(title.lower())
    if not panels:  # no difference anywhere: the tiers, flat at 0, say so
        panels = [("Tiers", [c for c in diff.columns if c.startswith("tier:")])]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels) + 1.4, 4.1), layout="constrained",
                             squeeze=False)
    for ax, (title, cols) in zip(axes[0], panels):
        for i, c in enumerate(cols):
            ax.plot(diff.index, diff[c], label=words(c), **style(i))
        ax.axhline(0, color="grey", lw=0.8)
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, -1), max(high, 1))
        ax.set(xlabel="day of the run", ylabel="people, B minus A", title=title)
        legend(ax, len(cols))
    title = figure_title(ra.manifest, rb.manifest)
    if same:
        title += f" No difference in {' or '.join(same)}."
    fig.suptitle("\n".join(textwrap.wrap(title, int(fig.get_figwidth() * 15))), fontsize=9)
    return fig
