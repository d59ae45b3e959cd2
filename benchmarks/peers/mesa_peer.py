"""bench-v1 in Mesa, written the way Mesa's documentation teaches: one Agent per citizen, a DataCollector.

Each day the model calls ``act`` on every agent (behaviours drawn with the agent's start-of-day score, points
and friends' penalties collected as pending), then ``end_of_day`` (clamp, recovery, blacklist), then the
DataCollector records the day's metrics. Randomness is the model's ``random`` (Python's Mersenne Twister),
as Mesa provides it. Friends are 4 random perfect matchings, like scslab's. Requires ``mesa>=3.1``.
"""

from __future__ import annotations

import time

import mesa
import numpy as np

from .numpy_peer import BEHAVIOURS, CRITICIZE, DETECT, NEVER, POINTS, RATES, TIERS

RATE = RATES.T.tolist()  # [class][behaviour]
DET, PTS = DETECT.tolist(), POINTS.tolist()


class Citizen(mesa.Agent):
    def __init__(self, model: "BenchModel", cls: int):
        super().__init__(model)
        self.cls = cls
        self.score = 1000
        self.pending = 0
        self.last_offence = NEVER
        self.listed_since = NEVER
        self.friends: list[Citizen] = []

    def act(self) -> None:
        m = self.model
        deterred = self.score < 850
        rnd = self.random.random
        pts = m.points
        for b, p in enumerate(RATE[self.cls]):
            if deterred and pts[b] < 0:
                p *= 0.5
            if rnd() < p and rnd() < DET[b]:
                self.pending += pts[b]
                m.detected[b] += 1
                if pts[b] < 0:
                    self.last_offence = m.day
                if b == CRITICIZE:
                    for friend in self.friends:
                        friend.pending -= 3
                        m.contagion += 1

    def end_of_day(self) -> None:
        day = self.model.day
        self.score = min(max(self.score + self.pending, 0), 1300)
        self.pending = 0
        if self.score < 1000 and day - self.last_offence >= 30:
            self.score += 1
        if self.listed_since != NEVER and day - self.listed_since >= 180 and self.score >= 600:
            self.listed_since = NEVER
        elif self.listed_since == NEVER and self.score < 600:
            self.listed_since = day

    def tier(self) -> str:
        for name, floor in TIERS:
            if self.score >= floor:
                return name
        return TIERS[-1][0]


class BenchModel(mesa.Model):
    def __init__(self, n: int, seed: int = 0, points=PTS):
        super().__init__(seed=seed)
        self.points = [int(p) for p in points]
        self.day = 0
        self.detected = [0] * len(BEHAVIOURS)
        self.contagion = 0
        for cls in self.random.choices(range(3), weights=[0.70, 0.25, 0.05], k=n):
            Citizen(self, cls)
        people = list(self.agents)
        for _ in range(4):
            self.random.shuffle(people)
            for a, b in zip(people[0::2], people[1::2]):
                a.friends.append(b)
                b.friends.append(a)
        reporters = {f"tier:{name}": (lambda m, t=name: sum(1 for a in m.agents if a.tier() == t))
                     for name, _ in TIERS}
        reporters["listed:blacklist"] = lambda m: sum(1 for a in m.agents if a.listed_since != NEVER)
        reporters["network_penalties"] = "contagion"
        reporters.update({f"detected:{b}": (lambda m, k=k: m.detected[k]) for k, b in enumerate(BEHAVIOURS)})
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def step(self) -> None:
        self.detected = [0] * len(BEHAVIOURS)
        self.contagion = 0
        self.agents.do("act")
        self.agents.do("end_of_day")
        self.datacollector.collect(self)
        self.day += 1


def simulate(n: int, days: int, seed: int = 0, points=POINTS, clock: dict | None = None) -> dict[str, np.ndarray]:
    """Run bench-v1 in Mesa and return daily metrics: name -> int64[days] (``points``, ``clock``: as in
    numpy_peer)."""
    model = BenchModel(n, seed, points)
    if clock is not None:
        clock["setup_end"] = time.perf_counter()
    for _ in range(days):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    return {name: frame[name].to_numpy(np.int64) for name in frame.columns}
