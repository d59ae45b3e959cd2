"""Sweeps: the sweep file, designs and seeds, and runs on a 2-worker Dask cluster (crashes, failures, resume)."""

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scslab import simulate
from scslab.errors import SweepError
from scslab.sweep import derive_seed, design_points, load_sweep, open_sweep, plan_runs, run_sweep
from scslab.sweep.execute import execute_run

pytest.importorskip("distributed")


def tiny(**design) -> dict:
    """A small bench-v1 sweep: two parameters of the criticism rule, 2 replicates."""
    return {
        "sweep": {"name": "tiny", "base": "bench-v1", "population": 3000, "days": 40, "replicates": 2, "seed": 5,
                  "outputs": ["network_penalties", "listed:blacklist"]},
        "design": design or {"kind": "grid"},
        "params": {
            "points": {"path": "behaviours.criticize_government.points", "values": [-10, -60]},
            "detect": {"path": "behaviours.criticize_government.detect", "range": [0.3, 0.9], "steps": 3},
        },
    }


# ------------------------------------------------------------------------------------------ sweep files
@pytest.mark.parametrize("change, where", [
    (lambda d: d["sweep"].update(colour="red"), "sweep.colour"),
    (lambda d: d["params"]["detect"].update(range=[0.9, 0.3]), "params.detect.range"),
    (lambda d: d["params"]["points"].update(path="behaviours.nope.points"), "behaviours.nope.points"),
    (lambda d: d["params"]["detect"].update(range=[0.5, 1.5]), "design point"),
    (lambda d: d["design"].update(kind="lhs"), "design.samples"),
    (lambda d: d["design"].update(kind="sobol", samples=4), "params.points.values"),
    (lambda d: d["sweep"].update(engine="quantum"), "sweep.engine"),
    (lambda d: d["sweep"].update(base="no-such-preset"), "sweep.base"),
    (lambda d: d["sweep"].update(outputs=["listed:nolist"]), "sweep.outputs"),
    (lambda d: d["sweep"].update(groups=["region:mars"]), "sweep.groups"),
])
def test_bad_sweep_files_name_the_field(change, where):
    data = tiny()
    change(data)
    with pytest.raises(SweepError) as info:
        load_sweep(data)
    assert where in str(info.value)
    assert "invalid sweep file" in str(info.value)


def test_grid_lhs_sobol_morris_point_counts_and_ranges():
    spec, _ = load_sweep(tiny())
    assert len(design_points(spec)) == 2 * 3
    assert {p["detect"] for p in design_points(spec)} == {0.3, 0.6, 0.9}
    ranged = tiny()
    ranged["params"]["points"] = {"path": "behaviours.criticize_government.points", "range": [-60, -5],
                                  "integer": True}
    ranged["params"]["detect"].pop("steps")
    for design, count in [({"kind": "lhs", "samples": 10}, 10), ({"kind": "sobol", "samples": 8}, 8 * (2 + 2)),
                          ({"kind": "morris", "samples": 5, "levels": 4}, 5 * (2 + 1))]:
        data = {**ranged, "design": design}
        spec, _ = load_sweep(data)
        points = design_points(spec)
        assert len(points) == count, design
        assert all(isinstance(p["points"], int) and -60 <= p["points"] <= -5 for p in points)
        assert all(0.3 <= p["detect"] <= 0.9 for p in points)
        assert design_points(spec) == points  # the design is a function of the sweep seed


def test_seeds_common_and_independent():
    spec, _ = load_sweep(tiny())
    runs = plan_runs(spec)
    assert [r.run for r in runs] == list(range(12))
    assert {r.seed for r in runs if r.replicate == 0} == {derive_seed(5, 0)}
    assert derive_seed(5, 0) != derive_seed(5, 1) != derive_seed(6, 0)
    data = tiny()
    data["sweep"]["seeds"] = "independent"
    spec, _ = load_sweep(data)
    assert len({r.seed for r in plan_runs(spec)}) == 12


def test_catalogue_keeps_parameter_types_and_full_range_seeds(tmp_path):
    """``create`` writes the pending rows as one Arrow table: parameter columns keep their SQL type (boolean,
    integer, float, text; mixed values as text), seeds the whole unsigned 64-bit range, and a second call adds
    nothing."""
    from types import SimpleNamespace

    from scslab.sweep.catalog import Catalog

    values = [{"flag": True, "n": 1, "x": 1, "label": "a"}, {"flag": False, "n": 2, "x": 2.5, "label": 3},
              {"flag": True, "n": 3, "x": 3, "label": None}]
    runs = [SimpleNamespace(run=i, point=i, replicate=0, seed=2**64 - 1 - i, values=v) for i, v in enumerate(values)]
    params = {name: [v[name] for v in values] for name in values[0]}
    with Catalog(tmp_path / "catalog.duckdb") as cat:
        for _ in range(2):
            cat.create(runs, params, {"tier:A": "final", "network_penalties": "total"})
        types = dict(cat.con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                     "WHERE table_name = 'runs'").fetchall())
        table = cat.runs()
        assert cat.outcomes() == {"tier_A": ("tier:A", "final"), "network_penalties": ("network_penalties", "total")}
    assert (types["flag"], types["n"], types["x"], types["label"], types["seed"]) == (
        "BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "UBIGINT")
    assert table["run"].tolist() == [0, 1, 2] and (table["status"] == "pending").all()
    assert [int(s) for s in table["seed"]] == [2**64 - 1, 2**64 - 2, 2**64 - 3]
    assert table["flag"].tolist() == [True, False, True] and table["x"].tolist() == [1.0, 2.5, 3.0]
    assert table["label"].tolist()[:2] == ["a", "3"] and pd.isna(table["label"].iloc[2])
    assert "tier_A" in types and "network_penalties" in types


def test_execute_run_matches_a_direct_simulation():
    spec, base = load_sweep(tiny())
    r = plan_runs(spec)[7]
    task = {"run": r.run, "base": base, "overrides": r.overrides, "population": 3000, "days": 40, "seed": r.seed,
            "threads": 1, "engine": "auto", "outputs": ["network_penalties"], "groups": ["all"]}
    res = execute_run(task)
    direct = simulate("bench-v1", population=3000, days=40, seed=r.seed, overrides=r.overrides)
    assert res["outcomes"]["network_penalties"] == direct.series("network_penalties").sum()
    assert res["outcomes"]["listed_blacklist"] == direct.final("listed:blacklist")
    assert res["kinds"]["listed_blacklist"] == ("listed:blacklist", "final")
    daily = res["table"].to_pandas()
    assert set(daily["metric"]) == {"network_penalties"} and set(daily["run"]) == {7}
    assert daily["value"].tolist() == direct.series("network_penalties").tolist()


# ------------------------------------------------------------------------------------ on a Dask cluster
@pytest.fixture(scope="module")
def client():
    from scslab.sweep.execute import local_cluster

    c, cluster = local_cluster(2)  # what `scslab sweep --workers 2` starts
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def reference(client, tmp_path_factory):
    """The tiny sweep run once without interference: its catalogue is what every other way must give."""
    out = tmp_path_factory.mktemp("sweep") / "ref"
    stats = run_sweep(tiny(), out, client=client)
    assert (stats.total, stats.done, stats.failed) == (12, 12, 0)
    return out


def _outcomes(path) -> pd.DataFrame:
    runs = open_sweep(path).catalog()
    keep = [c for c in runs.columns if c not in ("elapsed_s", "worker", "finished", "attempts")]
    return runs[keep].reset_index(drop=True)


def test_catalogue_holds_every_run_with_parameters_and_outcomes(reference):
    import duckdb

    con = duckdb.connect(str(reference / "catalog.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM runs WHERE status = 'done'").fetchone()[0] == 12
    by_points = dict(con.execute("SELECT points, avg(network_penalties) FROM runs GROUP BY points").fetchall())
    assert set(by_points) == {-10, -60}
    kinds = dict(con.execute("SELECT name, kind FROM outcomes").fetchall())
    assert kinds["listed_blacklist"] == "final" and kinds["network_penalties"] == "total"
    paths = [p for (p,) in con.execute("SELECT path FROM runs ORDER BY run").fetchall()]
    con.close()
    assert all((reference / p).exists() for p in paths)
    # the same run simulated directly gives the same outcome
    row = open_sweep(reference).catalog().iloc[5]
    direct = simulate("bench-v1", population=3000, days=40, seed=int(row["seed"]),
                      overrides={"behaviours.criticize_government.points": int(row["points"]),
                                 "behaviours.criticize_government.detect": float(row["detect"])})
    assert row["network_penalties"] == direct.series("network_penalties").sum()


def test_xarray_dataset_has_run_and_day(reference):
    ds = open_sweep(reference).to_xarray()
    assert dict(ds.sizes) == {"run": 12, "day": 40}
    assert set(ds.data_vars) == {"network_penalties", "listed_blacklist"}
    totals = ds["network_penalties"].sum("day").to_numpy()
    assert totals.tolist() == open_sweep(reference).catalog()["network_penalties"].tolist()
    assert set(ds["points"].to_numpy()) == {-10, -60}


def test_interrupted_sweep_resumes_and_skips_finished_runs(client, reference, tmp_path):
    out = tmp_path / "interrupted"

    def stop_after_three(info):
        if info["done"] >= 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(tiny(), out, client=client, progress=stop_after_three)
    done_before = (open_sweep(out).catalog()["status"] == "done").sum()
    assert 3 <= done_before < 12
    stats = run_sweep(tiny(), out, client=client)
    assert stats.skipped == done_before and stats.done == 12 - done_before
    pd.testing.assert_frame_equal(_outcomes(out), _outcomes(reference))


def test_resume_refuses_a_changed_sweep(client, reference):
    data = tiny()
    data["sweep"]["days"] = 41
    with pytest.raises(SweepError, match="holds a different sweep"):
        run_sweep(data, reference, client=client)


def test_worker_killed_mid_sweep_loses_no_run(client, reference, tmp_path):
    out = tmp_path / "killed"
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_a_worker(info):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    stats = run_sweep(tiny(), out, client=client, progress=kill_a_worker)
    errors = open_sweep(out).catalog().query("status == 'failed'")["error"].tolist()
    assert killed and stats.done == 12 and stats.failed == 0, errors
    assert pids[0] not in client.run(os.getpid).values()  # the nanny started a new worker
    pd.testing.assert_frame_equal(_outcomes(out), _outcomes(reference))


def flaky_runner(task):
    """Fails run 1 on every attempt, run 2 on its first attempt only (a marker file remembers)."""
    if task["run"] == 1:
        raise RuntimeError("disk on fire")
    if task["run"] == 2:
        marker = Path(task["marker"])
        if not marker.exists():
            marker.write_text("failed once")
            raise RuntimeError("transient")
    return execute_run(task)


def test_failed_run_is_retried_then_recorded(client, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    marker = tmp_path / "marker"

    def runner(task):
        return flaky_runner({**task, "marker": str(marker)})

    stats = run_sweep(tiny(), tmp_path / "flaky", client=client, runner=runner)
    runs = open_sweep(tmp_path / "flaky").catalog().set_index("run")
    assert (stats.done, stats.failed) == (11, 1)
    assert runs.loc[1, "status"] == "failed" and "disk on fire" in runs.loc[1, "error"]
    assert runs.loc[1, "attempts"] == 2
    assert runs.loc[2, "status"] == "done" and marker.exists()
    # running again retries the failed run only (it fails again: the error stays on record)
    again = run_sweep(tiny(), tmp_path / "flaky", client=client, runner=runner)
    assert (again.skipped, again.done, again.failed) == (11, 0, 1)


def test_sensitivity_sobol_and_morris(client, reference, tmp_path):
    from scslab.sweep.sensitivity import plot_sensitivity, sensitivity

    data = tiny()
    data["sweep"].update(replicates=1, days=40)
    data["params"] = {
        "points": {"path": "behaviours.criticize_government.points", "range": [-60, -5], "integer": True},
        "detect": {"path": "behaviours.criticize_government.detect", "range": [0.05, 0.95]},
    }
    for kind, design in [("sobol", {"kind": "sobol", "samples": 16}),
                         ("morris", {"kind": "morris", "samples": 6, "levels": 4})]:
        out = tmp_path / kind
        run_sweep({**data, "design": design}, out, client=client)
        table = sensitivity(out, ["network_penalties"]).set_index("parameter")
        # network penalties follow how often criticism is detected; the critic's own points barely matter
        if kind == "sobol":
            assert table.loc["detect", "ST"] > 0.5 > table.loc["points", "ST"]
            assert np.isfinite(table["S1_conf"]).all()
        else:
            assert table.loc["detect", "mu_star"] > 5 * table.loc["points", "mu_star"]
        paths = plot_sensitivity(table.reset_index(), out / "sens")
        assert all(p.stat().st_size > 1000 for p in paths)
        assert (table["note"] == "unreliable: 16 base samples (at least 64 needed)").all() if kind == "sobol" \
            else (table["note"] == "unreliable: 6 trajectories (at least 10 needed)").all()
    import scslab.sweep.sensitivity as sens

    real = sens._outcome_matrix
    constant = lambda sweep, names: (np.full_like(real(sweep, names)[0], 7.0), real(sweep, names)[1])  # noqa: E731
    sens._outcome_matrix = constant
    try:
        table = sensitivity(tmp_path / "sobol", ["network_penalties"])
    finally:
        sens._outcome_matrix = real
    assert table["S1"].isna().all() and table["ST"].isna().all()
    assert (table["note"] == "undefined: the outcome never varies").all()
    assert any("same (7) at every design point" in w for w in table.attrs["warnings"])
    with pytest.raises(SweepError, match="allowed: sobol, morris"):
        sensitivity(reference, ["network_penalties"])
    with pytest.raises(SweepError, match="not in the catalogue"):
        sensitivity(tmp_path / "sobol", ["no_such_outcome"])


def test_sweep_on_an_existing_scheduler_leaves_it_running(client, reference, tmp_path):
    out = tmp_path / "remote"
    stats = run_sweep(tiny(), out, scheduler=client.scheduler.address)
    assert stats.done == 12
    pd.testing.assert_frame_equal(_outcomes(out), _outcomes(reference))
    assert client.submit(sum, [1, 2]).result() == 3  # the cluster is still up
