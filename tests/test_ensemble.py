"""Ensembles: a scenario under several seeds (``scslab.ensemble``, ``scslab run --replicates R``)."""

from __future__ import annotations

import json
import subprocess
import sys

import scslab


def test_an_ensemble_is_its_seeds_run_one_by_one():
    results = scslab.ensemble("court-defaulters-national", 3, population=2000, days=40, seed=11)
    assert [r.manifest["seed"] for r in results] == [11, 12, 13]
    for r, result in enumerate(results):
        alone = scslab.simulate("court-defaulters-national", population=2000, days=40, seed=11 + r)
        assert result.metrics_table.equals(alone.metrics_table)
        assert result.stories_table.equals(alone.stories_table)
        ens = result.manifest["ensemble"]
        assert ens["replicate"] == r and ens["replicates"] == 3 and ens["seeds"] == [11, 12, 13]
        assert result.manifest["elapsed_s"] <= ens["elapsed_s"]
    assert results[0].summary() != results[1].summary()  # other seeds, other draws


def test_the_cli_writes_one_run_directory_per_seed_and_the_spread_of_each_number(tmp_path):
    out = tmp_path / "ens"
    done = subprocess.run([sys.executable, "-m", "scslab", "run", "bench-v1", "-n", "3000", "-d", "30", "--seed", "5",
                           "--replicates", "3", "--out", str(out), "-q"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["seed-5", "seed-6", "seed-7"]
    for k, folder in enumerate(sorted(out.iterdir())):
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["status"] == "complete" and manifest["seed"] == 5 + k
    assert "3 seeds from 5" in done.stdout and "lowest" in done.stdout and "highest" in done.stdout
    again = subprocess.run([sys.executable, "-m", "scslab", "run", "bench-v1", "-n", "3000", "-d", "30",
                            "--replicates", "2", "--checkpoint-every", "10", "--out", str(tmp_path / "x"), "-q"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "writes no checkpoints" in again.stderr and not (tmp_path / "x").exists()
