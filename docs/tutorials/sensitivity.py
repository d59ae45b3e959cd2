# %% [markdown]
# # A sweep with sensitivity analysis
#
# Which assumption drives how many people fall below tier A, and how many are penalised for a friend's
# speech? A Morris screening over three parameters of bench-v1, run as a **sweep**: the design comes from
# SALib, the runs go to a local Dask cluster, and every run lands in a DuckDB catalogue. The same sweep as a
# file runs with `scslab sweep sweep.toml --out DIR` and `scslab sensitivity DIR -y network_penalties`.

# %%
import tempfile
from pathlib import Path

import duckdb
from distributed import Client

from scslab.sweep import run_sweep
from scslab.sweep.sensitivity import sensitivity

sweep = {
    "sweep": {"name": "screening", "base": "bench-v1", "population": 5_000, "days": 120, "seed": 1,
              "outputs": ["network_penalties", "tier:B"]},
    "design": {"kind": "morris", "samples": 6, "levels": 4},
    "params": {
        "detect": {"path": "behaviours.criticize_government.detect", "range": [0.1, 0.9]},
        "points": {"path": "behaviours.criticize_government.points", "range": [-60, -5], "integer": True},
        "late_risky": {"path": "behaviours.late_payment.rate.risky", "range": [0.005, 0.05], "log": True},
    },
}
# `run_sweep(sweep, out, workers=2)` would start worker processes itself; a plain script must then guard its
# code with `if __name__ == "__main__":`. Here two worker threads in this process do, with an explicit client.
client = Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None)
out = Path(tempfile.mkdtemp()) / "screening"
stats = run_sweep(sweep, out, client=client)
client.close()
print(f"{stats.done} runs in {stats.elapsed_s:.1f} s")

# %% [markdown]
# Every run's parameters and outcomes are one row of `runs` in `catalog.duckdb`: plain SQL works.

# %%
con = duckdb.connect(str(out / "catalog.duckdb"), read_only=True)
print(con.sql("SELECT round(detect, 2) AS detect, points, network_penalties, tier_B FROM runs "
              "ORDER BY network_penalties DESC LIMIT 5"))
con.close()

# %% [markdown]
# `mu*` ranks the parameters by their overall effect on an outcome (with a 95 % interval); `sigma` flags
# interactions or non-linearity. Penalties for friends follow how often criticism is detected, not how many
# points it costs the critic.

# %%
table = sensitivity(out, ["network_penalties", "tier:B"])
print(table.round(2).to_string(index=False))
net = table[table["outcome"] == "network_penalties"].set_index("parameter")
assert net.loc["detect", "mu_star"] > net.loc["points", "mu_star"]
