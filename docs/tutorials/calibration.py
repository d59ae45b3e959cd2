# %% [markdown]
# # Calibration to the court list figures
#
# The `court-defaulters-national` preset marks its default rates and purchase attempts as assumptions to
# calibrate. Two documented figures (`shared/reference/facts.md`, section 3):
# - about 13 M people on the list at the end of 2018, out of about 1.1 bn adults: 1.2 %;
# - flight purchases blocked about 8.1 M times in 2018: about 0.62 per listed person per year.
#
# This tutorial fits the two matching parameters with optuna on a small population. It is a teaching
# example: the list in 2018 had been filling since 2013, and one simulated year from an empty list is a
# simplification.

# %%
import optuna

import scslab

TARGET_LISTED, TARGET_BLOCKED_PER_LISTED = 0.012, 0.62
N = 20_000


def loss(trial):
    refusing = trial.suggest_float("refusing_rate", 1e-5, 1e-2, log=True)
    attempts = trial.suggest_float("flight_attempts", 1e-4, 1e-2, log=True)
    r = scslab.simulate("court-defaulters-national", population=N, days=365, seed=1, overrides={
        "behaviours.court_default.rate.refusing": refusing, "consequences.flight_ban.attempts_per_day": attempts})
    listed = r.final("listed:court_list") / N
    blocked = r.series("blocked:flight_ban").sum() / max(r.final("listed:court_list"), 1)
    return (listed / TARGET_LISTED - 1) ** 2 + (blocked / TARGET_BLOCKED_PER_LISTED - 1) ** 2


optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1))
study.optimize(loss, n_trials=25)
print("best parameters:", study.best_params, "loss:", round(study.best_value, 4))

# %% [markdown]
# The fitted values replace the preset's assumptions with `--set` (or `overrides=`). Record them in the
# scenario's `[provenance]` as `documented: calibrated to ...`, so that readers can tell them apart.

# %%
assert study.best_value < study.trials[0].value or study.best_value < 0.5
