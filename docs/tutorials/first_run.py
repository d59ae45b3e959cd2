# %% [markdown]
# # First run and plots
#
# Run the `press-2018` preset on a small synthetic population and look at what the scheme does over a
# year. The population here is small (50,000 agents) so that the tutorial runs in seconds; a national
# run is the same call with a bigger `population`.

# %%
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import scslab

result = scslab.simulate("press-2018", population=50_000, days=365, seed=1)
result.summary()

# %% [markdown]
# `result.metrics` is a tidy table: one row per day, metric and group. `series` picks one metric for one
# group; here, the share of people in each tier over time.

# %%
tiers = [m for m in result.metrics["metric"].unique() if m.startswith("tier:")]
fig, ax = plt.subplots(figsize=(7, 4))
for name in tiers:
    ax.plot(result.series(name) / 50_000, label=name.removeprefix("tier:"))
ax.set(xlabel="day", ylabel="share of people", yscale="log", title="Tiers over a year (press-2018)")
ax.legend(ncol=3)
fig.savefig("tiers.png", dpi=100)
assert abs(sum(result.final(t) for t in tiers) - 50_000) == 0  # every person is in exactly one tier

# %% [markdown]
# Who is listed, and how many of them wrongly? `innocent_listed:*` counts people on a list while
# carrying a false attribution (a face-recognition mismatch, for example).

# %%
listed = result.series("listed:blacklist")
wrongly = result.series("innocent_listed:blacklist")
print(f"on the blacklist at the end: {listed.iloc[-1]}, of whom wrongly: {wrongly.iloc[-1]}")

# %% [markdown]
# The stories are complete event logs of a few sampled citizens, with the reason for every change.

# %%
story = result.stories
print(story.head(10).to_string())
