"""Compare two runs of the same population: what policy B changes against policy A.

Both runs draw every decision from (seed, stream, day, agent), so with the same seed and population the
same people make the same choices until the policies make them differ (common random numbers): a
difference is the policy's, not noise. With ``replicates`` > 0 both scenarios are run again with further
seeds, and the spread of the paired differences says which differences stand out (|mean| > 2 sd).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..api import Result, simulate
from ..errors import RunDirError

__all__ = ["compare_runs", "difference_figure"]


def _paired(manifest_a: dict, manifest_b: dict, seed: int) -> dict[str, int]:
    a = simulate(manifest_a["scenario"], population=manifest_a["population"], days=manifest_a["days"], seed=seed)
    b = simulate(manifest_b["scenario"], population=manifest_b["population"], days=manifest_b["days"], seed=seed)
    sa, sb = a.summary(), b.summary()
    return {k: sb.get(k, 0) - sa.get(k, 0) for k in sorted(set(sa) | set(sb))}


def _loaded(run: str | Path | Result) -> Result:
    return run if isinstance(run, Result) else Result.load(run)


def compare_runs(run_a: str | Path | Result, run_b: str | Path | Result, *,
                 replicates: int = 0) -> tuple[list[dict], list[str]]:
    """Rows (measure, a, b, difference, sd of paired differences or None, stands out) and warnings.

    ``run_a`` and ``run_b`` are complete run directories (or their loaded results) of the same population
    size and days; ``replicates`` further seeds are run for both to estimate the spread of the differences.
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
    rows = []
    for key in sorted(set(sa) | set(sb)):
        va, vb = sa.get(key, 0), sb.get(key, 0)
        diffs = spread.get(key, [])
        sd = float(np.std(diffs, ddof=1)) if len(diffs) >= 2 else None
        mean = float(np.mean([vb - va, *diffs]))
        stands_out = None if sd is None else abs(mean) > 2 * sd
        rows.append({"measure": key, "a": va, "b": vb, "difference": vb - va, "sd": sd, "stands_out": stands_out})
    return rows, warnings


def difference_figure(run_a: str | Path | Result, run_b: str | Path | Result):
    """A figure of ``run_b`` minus ``run_a`` (run directories or loaded results) over time for the tiers,
    lists and consequences (people)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a, b = _loaded(run_a).metrics, _loaded(run_b).metrics
    key = ["day", "metric"]
    wa = a[a["group"] == "all"].set_index(key)["value"]
    wb = b[b["group"] == "all"].set_index(key)["value"]
    diff = (wb - wa).dropna().unstack("metric")
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    for ax, prefix, title in zip(axes, ("tier:", "listed:", ("sanctioned:", "rewarded:")),
                                 ("Tiers", "Lists", "Consequences")):
        cols = [c for c in diff.columns if c.startswith(prefix)]
        for c in cols:
            ax.plot(diff.index, diff[c], label=c)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set(xlabel="day", ylabel="people, B - A", title=title)
        if cols:
            ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
