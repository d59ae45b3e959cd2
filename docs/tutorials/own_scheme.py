# %% [markdown]
# # Writing your own scheme
#
# A scenario is one TOML file. Here is a small village scheme written from scratch: two behaviours, one
# camera channel, three tiers, and a blacklist that bars people from the village loan fund.

# %%
import tempfile
from pathlib import Path

import scslab

VILLAGE = """
[meta]
name = "village"
description = "a village points scheme: littering and helping neighbours"

[run]
days = 180

[population]
size = 3000
classes = { careful = 0.8, careless = 0.2 }

[channels.cameras]
kind = "camera"
coverage = [[0, 0.1], [90, 0.5]]   # cameras go up over the first three months
detect = 0.8

[channels.reporters]
kind = "informant"
coverage = 0.3

[behaviours.littering]
rate = { careful = 0.002, careless = 0.02 }
channels = ["cameras", "reporters"]
points = -10

[behaviours.helping]
rate = { careful = 0.01, careless = 0.002 }
channels = ["reporters"]
points = 5

[score]
base = 100
bounds = [0, 200]
tiers = { good = 100, fair = 70, poor = 0 }
recovery = { points_per_day = 1, after_quiet_days = 14, up_to = 100 }

[lists.blacklist]
enter = { tier_at_most = "poor" }
exit = { tier_at_least = "fair" }
min_days = 30

[consequences.no_loans]
on = ["lists.blacklist"]
attempts_per_day = 0.01

[provenance]
meta = "assumed"
run = "assumed"
population = "assumed"
channels = "assumed: a made-up village"
behaviours = "assumed"
score = "assumed"
lists = "assumed"
consequences = "assumed"
"""

folder = Path(tempfile.mkdtemp())
path = folder / "village.toml"
path.write_text(VILLAGE)
scenario = scslab.load_scenario(path)
print(scenario.meta.description)

# %% [markdown]
# Mistakes are reported all at once, each with its path, the value and what is allowed:

# %%
broken = VILLAGE.replace('channels = ["cameras", "reporters"]', 'channels = ["camera"]').replace(
    "tiers = { good = 100, fair = 70", "tiers = { good = 100, fair = 170")
(folder / "broken.toml").write_text(broken)
try:
    scslab.load_scenario(folder / "broken.toml")
except scslab.ScenarioError as err:
    print(err)
    assert len(err.problems) == 2

# %% [markdown]
# Run it, and describe it for a paper (ODD protocol):

# %%
result = scslab.simulate(scenario, seed=3)
for key, value in result.summary().items():
    print(f"{key:32} {value}")
from scslab.odd import odd_markdown

print(odd_markdown(scenario)[:600])
