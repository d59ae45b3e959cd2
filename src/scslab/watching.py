"""The watching, actual and perceived: each channel's coverage in each region, day by day.

The *actual* coverage of channel c in region r on day d is the channel's coverage under the rules in force
there (its ramp, timeline changes for all regions and for r) times the region's ``camera_coverage`` (camera
channels) or ``data_completeness`` (the others), capped at 1. It decides which acts can be seen.

The *perceived* coverage is what deterrence's chilling effect responds to ([perception]): it follows the
actual one with a lag, each day closing 1 / (lag_days + 1) of the gap from a start value (by default the
actual coverage of day 0), and is then multiplied by ``overstatement`` and capped at 1. Without a lag it is
the actual coverage times ``overstatement``, and with the defaults exactly the actual one. A group's
``perceives`` factor applies on top of it, per group, in ``compile.probabilities``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["channel_coverage", "effective", "Watching"]


def channel_coverage(ch, day: int) -> float:
    """Channel ``ch``'s coverage on ``day`` as the scenario sets it: a number, or its ramp interpolated."""
    if not isinstance(ch.coverage, list):
        return float(ch.coverage)
    pts = ch.coverage
    if day <= pts[0][0]:
        return float(pts[0][1])
    for (d0, v0), (d1, v1) in zip(pts, pts[1:]):
        if d0 <= day < d1:
            return float(v0 + (v1 - v0) * (day - d0) / (d1 - d0)) if ch.interpolate == "linear" else float(v0)
    return float(pts[-1][1])


def effective(s, channels: list[str], region: str, day: int) -> np.ndarray:
    """float64[channel]: each of ``channels``' actual coverage in ``region`` on ``day`` under rules ``s``."""
    reg = s.population.regions[region]
    covs = np.array([channel_coverage(s.channels[c], day) for c in channels])
    factor = np.array([reg.camera_coverage if s.channels[c].kind == "camera" else reg.data_completeness
                       for c in channels])
    return np.minimum(1.0, covs * factor)


class Watching:
    """Actual and perceived coverage, [region, channel] per day (``actual(d)``, ``perceived(d)``).

    ``actual(d)`` gives the day's actual coverage [region, channel], ``perception(d)`` each region's
    ``Perception`` that day, ``all_perceptions`` every one of the run. A lagging perception depends on every
    day before, so its days are worked out in order, once, and kept (days x regions x channels floats);
    otherwise each day is worked out on its own."""

    def __init__(self, actual, perception, all_perceptions):
        self.actual, self.perception = actual, perception
        self.lagging = any(p.lag_days > 0 or p.start is not None for p in all_perceptions)
        """Whether perception lags the actual coverage (or starts elsewhere) on some day of the run."""
        self.as_it_is = not self.lagging and all(p.overstatement == 1.0 for p in all_perceptions)
        """Whether people perceive the coverage as it is, every day of the run (the perceived = the actual)."""
        self._lagged: list[np.ndarray] = []  # the lagged (not yet overstated) perception of days 0, 1, ...

    def perceived(self, day: int) -> np.ndarray:
        over = np.array([p.overstatement for p in self.perception(day)])[:, None]
        if not self.lagging:
            return np.minimum(1.0, self.actual(day) * over) if (over != 1.0).any() else self.actual(day)
        while len(self._lagged) <= day:  # in order from day 0
            d = len(self._lagged)
            now = self.actual(d)
            if d == 0:
                start = [p.start for p in self.perception(0)]
                lagged = np.array([now[r] if s is None else np.full(now.shape[1], float(s))
                                   for r, s in enumerate(start)]).reshape(now.shape)
            else:
                lag = np.array([p.lag_days for p in self.perception(d)], np.float64)[:, None]
                prev = self._lagged[-1]
                lagged = prev + (now - prev) / (lag + 1.0)
            self._lagged.append(lagged)
        return np.minimum(1.0, self._lagged[day] * over)
