# %% [markdown]
# # Comparing two policies
#
# Does punishing people for what their friends say change how many end up in the low tiers? Run the
# same population under two policies with the same seeds. Every random draw is keyed by (seed, decision,
# day, agent), so both policies see the same people making the same choices until the policy itself makes
# them differ: a difference is the policy's, not noise (common random numbers). Several seeds give the
# spread to judge it by.

# %%
import numpy as np

import scslab

SEEDS = range(1, 6)
N, DAYS = 20_000, 365


def low_tiers(result):
    return result.final("tier:C") + result.final("tier:D")


base, harsh = [], []
for seed in SEEDS:
    a = scslab.simulate("bench-v1", population=N, days=DAYS, seed=seed)
    b = scslab.simulate("bench-v1", population=N, days=DAYS, seed=seed,
                        overrides={"behaviours.criticize_government.network.friends": -30})
    base.append(low_tiers(a))
    harsh.append(low_tiers(b))

diff = np.array(harsh) - np.array(base)
print("people in tiers C and D, base :", base)
print("people in tiers C and D, harsh:", harsh)
print(f"difference: {diff.mean():.1f} people (spread across seeds: sd {diff.std(ddof=1):.1f})")

# %% [markdown]
# The paired differences are what matter: with common random numbers their spread is much smaller than
# the spread of either policy alone, so a small policy effect is visible with few replicates.

# %%
print(f"sd of the base runs: {np.std(base, ddof=1):.1f}; sd of the paired differences: {diff.std(ddof=1):.1f}")
assert diff.mean() > 0  # punishing friends' speech harder pushes more people down
