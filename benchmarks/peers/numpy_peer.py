"""bench-v1 in plain vectorised NumPy: what a careful scientist would write without scslab.

One array per state field, one ``Generator.random(N, float32)`` per behaviour per day (against rate x
detection: the peer reports detected acts only), and the rules of ``docs/bench-v1.md`` as array
expressions in the documented order. Friends are 4 random perfect
matchings, like scslab's, so ties are symmetric. It returns the same daily metrics as scslab's metric table,
under the same names, for the agreement test (``benchmarks/peers/agree.py``).
"""

from __future__ import annotations

import time

import numpy as np

BEHAVIOURS = ("jaywalking", "late_payment", "smoking_on_train", "traffic_violation", "excess_alcohol",
              "long_gaming", "criticize_government", "volunteering")
# daily probability for compliant / average / risky, detection probability, points when detected
RATES = np.array([[0.002, 0.01, 0.03], [0.0005, 0.003, 0.02], [0.0002, 0.001, 0.005], [0.0005, 0.002, 0.01],
                  [0.0002, 0.002, 0.01], [0.001, 0.005, 0.02], [0.0002, 0.001, 0.005], [0.003, 0.002, 0.0005]])
DETECT = np.array([0.30, 0.95, 0.50, 0.60, 0.90, 0.80, 0.70, 1.00])
POINTS = np.array([-5, -10, -10, -10, -5, -3, -20, 5])
CRITICIZE = BEHAVIOURS.index("criticize_government")
TIERS = (("AAA", 1050), ("AA", 1030), ("A", 960), ("B", 850), ("C", 600), ("D", -1))
K, CONTAGION, DETER_BELOW, RECOVER_AFTER, MIN_LISTED = 4, -3, 850, 30, 180
NEVER = -(10**9)


def friends(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, K] friend ids from K random perfect matchings (an odd agent out per matching has -1)."""
    out = np.full((n, K), -1, np.int64)
    for k in range(K):
        perm = rng.permutation(n)
        a, b = perm[0 : n - 1 : 2], perm[1:n:2]
        out[a, k], out[b, k] = b, a
    return out


def simulate(n: int, days: int, seed: int = 0, points=POINTS, clock: dict | None = None) -> dict[str, np.ndarray]:
    """Run bench-v1 and return daily metrics: name -> int64[days]. ``points`` replaces the points table
    (the agreement test uses harsher points to exercise tiers C and D and the blacklist); ``clock`` gets
    ``setup_end`` (``time.perf_counter()`` when the population is built)."""
    POINTS = np.asarray(points)
    rng = np.random.default_rng(seed)
    cls = rng.choice(3, size=n, p=[0.70, 0.25, 0.05])
    ties = friends(n, rng)
    score = np.full(n, 1000, np.int32)
    last_off = np.full(n, NEVER, np.int64)
    listed_since = np.full(n, NEVER, np.int64)
    # an act and its detection are independent: one draw against rate x detection decides a detected act
    p_caught = (RATES[:, cls] * DETECT[:, None]).astype(np.float32)  # [behaviours, n]
    names = [f"tier:{t}" for t, _ in TIERS] + ["listed:blacklist", "network_penalties"]
    names += [f"detected:{b}" for b in BEHAVIOURS]
    out = {name: np.zeros(days, np.int64) for name in names}
    if clock is not None:
        clock["setup_end"] = time.perf_counter()
    for day in range(days):
        # (1) the start-of-day score decides deterrence
        halve = np.where(score < DETER_BELOW, np.float32(0.5), np.float32(1.0))
        delta = np.zeros(n, np.int32)
        offended = np.zeros(n, bool)
        for b in range(len(BEHAVIOURS)):
            p = p_caught[b] * halve if POINTS[b] < 0 else p_caught[b]
            caught = rng.random(n, dtype=np.float32) < p  # (2) detected acts -> points
            delta[caught] += POINTS[b]
            out[f"detected:{BEHAVIOURS[b]}"][day] = np.count_nonzero(caught)
            if POINTS[b] < 0:
                offended |= caught
            if b == CRITICIZE:
                criticized = caught
        last_off[offended] = day
        hit = ties[criticized].ravel()  # (3) contagion: each friend of a caught critic loses 3
        hit = hit[hit >= 0]
        np.add.at(delta, hit, CONTAGION)
        out["network_penalties"][day] = hit.size
        score = np.clip(score + delta, 0, 1300)  # (4)
        score += (score < 1000) & (day - last_off >= RECOVER_AFTER)  # (5) recovery
        listed = listed_since != NEVER  # (6) blacklist
        leave = listed & (day - listed_since >= MIN_LISTED) & (score >= 600)
        listed_since[leave] = NEVER
        enter = (listed_since == NEVER) & (score < 600) & ~leave
        listed_since[enter] = day
        lower = np.inf  # (7) metrics
        for name, floor in TIERS:
            out[f"tier:{name}"][day] = np.count_nonzero((score >= floor) & (score < lower))
            lower = floor
        out["listed:blacklist"][day] = np.count_nonzero(listed_since != NEVER)
    return out
