"""Sensitivity indices from a finished sweep: Sobol (first and total order) or Morris, via SALib.

The method follows the sweep's design: a ``sobol`` design gives Sobol indices (``S1``, ``ST`` and their 95 %
confidence half-widths from SALib's bootstrap), a ``morris`` design gives Morris elementary effects (``mu*``,
its confidence half-width, ``sigma``). An outcome is a catalogue column (``innocent_listed_blacklist``,
``network_penalties``) or its metric name (``innocent_listed:blacklist``). Replicates of a design point are
averaged first, so every point needs at least one finished run.

Small designs give indices that mean nothing (a first-order index above the total, intervals wider than the
index): below MIN_SOBOL_SAMPLES base samples or MIN_MORRIS_TRAJECTORIES trajectories the table's ``note``
says so on every row, and ``table.attrs["warnings"]`` says why. An outcome that never varies has no
variance to share out: its indices are NaN, noted "undefined".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SweepError
from .catalog import column_name
from .execute import SweepDir, open_sweep
from .spec import problem

__all__ = ["sensitivity", "plot_sensitivity", "METHODS"]

METHODS = {"sobol": "sobol", "morris": "morris"}
MIN_SOBOL_SAMPLES = 64      # Saltelli base samples below which Sobol indices are unreliable (SALib's bootstrap too)
MIN_MORRIS_TRAJECTORIES = 10  # Morris trajectories below which mu* and sigma are unreliable


def _outcome_matrix(sweep: SweepDir, outcomes: list[str]) -> tuple[np.ndarray, list[str]]:
    runs = sweep.catalog()
    known = sweep.outcomes()
    columns = []
    for name in outcomes:
        col = name if name in known else column_name(name)
        if col not in known:
            raise SweepError([("outcome", name, f"not in the catalogue; allowed: {', '.join(sorted(known))}")])
        columns.append(col)
    done = runs[runs["status"] == "done"]
    n_points = len(sweep.record["points"])
    means = done.groupby("point")[columns].mean().reindex(range(n_points))
    missing = means.index[means.isna().any(axis=1)].tolist()
    if missing:
        raise SweepError([("sweep", str(sweep.path), f"{len(missing)} of {n_points} design points have no "
                                                      f"finished run (first: {missing[:5]}); resume the sweep")])
    return means.to_numpy(dtype=float), columns


def sensitivity(path: str | Path, outcomes: list[str], *, seed: int = 0) -> pd.DataFrame:
    """Sensitivity indices of ``outcomes`` in the sweep at ``path``: one row per (outcome, parameter).

    Columns for Sobol: ``S1, S1_conf, ST, ST_conf``; for Morris: ``mu_star, mu_star_conf, sigma``. Confidence
    values are 95 % half-widths. ``note`` is empty, or says why a row's indices cannot be trusted
    ("undefined", "unreliable", "inconsistent"); ``table.attrs["warnings"]`` lists the design's problems.
    """
    import warnings

    from SALib.analyze import morris, sobol

    sweep = open_sweep(path)
    kind = sweep.spec.design.kind
    if kind not in METHODS:
        raise SweepError([("design.kind", kind, f"sensitivity needs a design made for it; allowed: "
                                                f"{', '.join(METHODS)} (run a sweep with one of these)")])
    if not outcomes:
        raise SweepError([("outcome", None, "name at least one outcome")])
    Y, columns = _outcome_matrix(sweep, outcomes)
    prob = problem(sweep.spec)
    X = np.array([[float(np.log(p[n])) if sweep.spec.params[n].log else float(p[n]) for n in prob["names"]]
                  for p in sweep.record["points"]])
    samples = sweep.spec.design.samples
    least = MIN_SOBOL_SAMPLES if kind == "sobol" else MIN_MORRIS_TRAJECTORIES
    unit = "base samples" if kind == "sobol" else "trajectories"
    small = samples < least
    design_warnings = [f"the design has {samples} {unit}; {kind} indices need at least {least} to mean anything: "
                       f"treat every row as unreliable and run a larger sweep"] if small else []
    rows = []
    for j, col in enumerate(columns):
        y = Y[:, j]
        if np.ptp(y) == 0:  # no variance to share out between the parameters
            design_warnings.append(f"{col} is the same ({y[0]:g}) at every design point: its indices are undefined")
            for name in prob["names"]:
                blank = ({"S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan} if kind == "sobol"
                         else {"mu_star": np.nan, "mu_star_conf": np.nan, "sigma": np.nan})
                rows.append({"outcome": col, "parameter": name, **blank,
                             "note": "undefined: the outcome never varies"})
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):  # SALib divides by small variances
            warnings.simplefilter("ignore", RuntimeWarning)
            if kind == "sobol":
                res = sobol.analyze(prob, y, calc_second_order=sweep.spec.design.second_order, seed=seed,
                                    print_to_console=False)
            else:
                res = morris.analyze(prob, X, y, num_levels=sweep.spec.design.levels, seed=seed,
                                     print_to_console=False)
        for i, name in enumerate(prob["names"]):
            if kind == "sobol":
                row = {"S1": res["S1"][i], "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                       "ST_conf": res["ST_conf"][i]}
                odd = row["S1"] > row["ST"] + row["ST_conf"] or row["S1"] > 1 or row["ST"] < 0
            else:
                row = {"mu_star": res["mu_star"][i], "mu_star_conf": res["mu_star_conf"][i],
                       "sigma": res["sigma"][i]}
                odd = False
            note = (f"unreliable: {samples} {unit} (at least {least} needed)" if small
                    else "inconsistent: S1 above ST or outside [0, 1]; run a larger sweep" if odd else "")
            rows.append({"outcome": col, "parameter": name, **row, "note": note})
    table = pd.DataFrame(rows)
    table.attrs["warnings"] = design_warnings
    return table


def plot_sensitivity(table: pd.DataFrame, out: str | Path) -> list[Path]:
    """Bar charts of the indices with their confidence intervals, one panel per outcome: PNG and SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(table["outcome"]))
    fig, axes = plt.subplots(len(outcomes), 1, figsize=(7, 2.4 + 1.6 * len(outcomes)), squeeze=False)
    for ax, outcome in zip(axes[:, 0], outcomes):
        t = table[table["outcome"] == outcome]
        y = np.arange(len(t))
        if "S1" in t:
            ax.barh(y + 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)", capsize=3)
            ax.barh(y - 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total order (ST)", capsize=3)
            ax.set_xlabel("Sobol index (share of output variance), 95 % CI")
        else:
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], label="mu* (mean |elementary effect|)",
                    capsize=3)
            ax.set_xlabel("Morris mu* (outcome units per unit of the parameter range), 95 % CI")
        ax.set_yticks(y, t["parameter"])
        ax.set_title(outcome)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    out = Path(out)
    paths = [out.with_suffix(".png"), out.with_suffix(".svg")]
    for p in paths:
        fig.savefig(p, dpi=120)
    plt.close(fig)
    return paths
