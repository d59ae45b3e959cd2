# %% [markdown]
# # Calibration to the court list
#
# The `court-defaulters-national` preset marks its default rates and purchase attempts as assumptions. The
# court list's published running totals (`scslab sources spc-counts-2017-12` and the entries beside it) pin them down.
# `scslab calibrate` fits them with optuna:
#
# ```bash
# scslab calibrate court-defaulters-national      # the bundled calibration file: 12 targets, 7 parameters
# ```
#
# It writes `calibrated.toml` (the scenario with the fitted values, each marked `calibrated:` in its
# provenance) and a fit report. The shipped preset `court-defaulters-calibrated` is its result. Here is the
# same thing in small: two parameters, two targets, a small population, a few trials.

# %%
import datetime
import tempfile
from pathlib import Path

from scslab.calibrate import calibrate, write_fit

calibration = {
    "calibrate": {"name": "court_small_fit", "population": 5_000, "represents": 1.1e9,
                  "start": datetime.date(2013, 10, 1), "end": datetime.date(2017, 12, 31), "trials": 12},
    "params": {
        "listing": {"paths": ["behaviours.court_default.rate.able", "behaviours.court_default.rate.strained",
                              "behaviours.court_default.rate.refusing"], "scale": [0.2, 5.0], "log": True},
        "flight": {"paths": ["consequences.flight_ban.attempts_per_day"], "range": [0.0005, 0.02], "log": True},
    },
    "targets": [
        {"name": "listed (cumulative), end 2017", "metric": "entered:court_list",
         "date": datetime.date(2017, 12, 31), "value": 9.59e6, "source": "Business Standard 2018-01-14 [spc-counts-2017-12]"},
        {"name": "flights blocked, end 2017", "metric": "blocked:flight_ban",
         "date": datetime.date(2017, 12, 31), "value": 9.36e6, "source": "Business Standard 2018-01-14 [spc-counts-2017-12]"},
    ],
}
fit = calibrate("court-defaulters-national", calibration)
for t in fit.targets:
    print(f"{t['name']:32} documented {t['documented']:>12,.0f}  simulated {t['simulated']:>12,.0f}  "
          f"{t['error']:+.1%}")
print("fitted:", {k: round(v, 6) for k, v in fit.values.items()})

# %% [markdown]
# Each agent stands for `represents / population` adults, so simulated counts are person-times on the
# national scale. Trial 0 is the preset as shipped; the fit can only improve on it.

# %%
folder = Path(tempfile.mkdtemp())
write_fit(fit, "tutorial", "court-defaulters-national", folder)
print((folder / "fit.md").read_text())
assert fit.loss <= fit.trials[0]["loss"]
