"""Counter-based randomness: every draw is a pure function of (seed, stream, day, agent).

A day's key for each stream is computed once on the host (:func:`day_keys`); an agent's draw is
``mix64(key + agent * GOLDEN) >> 32``, a uint32 compared with a uint32 threshold. ``mix64`` is the
SplitMix64 finaliser (Steele, Lea & Flood 2014), a bijection of 64-bit words with full avalanche. Results
therefore do not depend on threads, chunking, iteration order or backend.

The per-agent functions here are plain Python on NumPy scalars; ``engine.kernels`` compiles them.
"""

from __future__ import annotations

from enum import IntEnum
from functools import lru_cache

import numpy as np

__all__ = ["mix64", "draw32", "day_keys", "threshold", "Stream", "N_STREAMS", "stream_key", "draw_array"]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
S30 = np.uint64(30)
S27 = np.uint64(27)
S31 = np.uint64(31)
S32 = np.uint64(32)


def mix64(z):
    """SplitMix64 finaliser on a uint64 (scalar or array)."""
    z = (z ^ (z >> S30)) * M1
    z = (z ^ (z >> S27)) * M2
    return z ^ (z >> S31)


def draw32(key, agent):
    """Uniform uint32 for ``agent`` (uint64) under a day's stream ``key`` (uint64)."""
    return np.uint32(mix64(key + agent * GOLDEN) >> S32)


class Stream(IntEnum):
    """Stream numbers: one per decision, so adding a rule never shifts another rule's draws."""

    GATE = 0           # did anything happen to this agent today (one draw per agent-day)
    EVENT = 1          # + event index: later events after the first one that fired (up to 64 events)
    DETECT = 65        # + behaviour * 8 + channel: detection by each channel
    REDRESS = 265      # + behaviour: contesting a false attribution
    REPAY = 290        # repayment by a debtor
    ATTEMPT = 291      # + consequence: attempts at a sanctioned / rewarded activity
    VICTIM = 310       # reserved
    SKIP = 311         # lazy engine: geometric skips to the next candidate (keyed by band and block)
    UNDETECTED = 312   # lazy engine: + behaviour: undetected acts of the agents it visits (engine/detected.py)
    UNDETECTED_COUNT = 345  # lazy engine: undetected acts of everyone else, counted in aggregate
    ATTEMPT_COUNT = 346  # lazy engine: attempts by tier of everyone but the story agents (engine/attempts.py)
    WINDOW = 350       # lazy engine's windowed route: + 0..7, keyed by the window's first day (engine/windowed)
    SHUN = 360         # + matching (up to 16): whether a shunned person's tie in that matching breaks today
    AWARE = 376        # aware of the scheme at the start (day 0)
    AWARE_PENALTY = 377  # becoming aware on a day of lost points
    AWARE_TOLD = 378   # told by a tie (keyed by day and the tie who tells)
    AWARE_SEEN = 379   # seeing a tie sanctioned (keyed by day and the tie sanctioned)
    # population (day-independent; use day = 0)
    CLASS = 400
    GROUP = 401
    HOLDER = 402
    LIST_EXTRA = 403   # + list: extra listing days
    STORY = 410
    HOUSEHOLD = 411
    FRIENDS = 420      # + matching index (Feistel round keys)
    LINK = 436         # persons linked to entities (scenarios.entities; day = link index)
    LINKED_ATTEMPT = 437  # attempts by linked persons (day = consequence index)
    WORK = 440         # + consequence: whether a sanction bars this person's work ([economy], costs_work)
    EMPLOYED = 456     # in work ([economy])
    INCOME = 457       # income band ([economy])
    DEBT_AMOUNT = 458  # a court debt's amount band ([debt] amounts)
    LIST_WORK = 460    # + list: whether a published list bars this person's work (lists.NAME.shaming.work)


N_STREAMS = 464


_STREAM_BITS = np.arange(N_STREAMS, dtype=np.uint64) << np.uint64(40)


@lru_cache(maxsize=64)
def _seed_base(seed: int) -> np.uint64:
    """The seed's own key, from which every (stream, day) key is mixed."""
    with np.errstate(over="ignore"):
        return mix64(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) ^ np.uint64(0x5EED5EED5EED5EED))


def stream_key(seed: int, stream: int, day: int) -> np.uint64:
    """The key of one (seed, stream, day)."""
    with np.errstate(over="ignore"):
        k = mix64(_seed_base(seed) ^ np.uint64(((stream & 0xFFFF) << 40) | (day & 0xFFFFFFFFFF)))
    return np.uint64(k)


def day_keys(seed: int, day: int) -> np.ndarray:
    """Keys of every stream for one day, as a uint64 array indexed by stream number (the same as
    :func:`stream_key` for each stream; integer arrays wrap around without warnings)."""
    return mix64(_seed_base(seed) ^ (_STREAM_BITS | np.uint64(day & 0xFFFFFFFFFF)))


def draw_array(key: np.uint64, agents: np.ndarray) -> np.ndarray:
    """Vectorised :func:`draw32` for many agents (host side)."""
    with np.errstate(over="ignore"):
        return (mix64(np.uint64(key) + agents.astype(np.uint64) * GOLDEN) >> S32).astype(np.uint32)


def threshold(p) -> np.ndarray:
    """Probability -> integer threshold t in [0, 2**32] with P(draw32 < t) = floor(p * 2**32) / 2**32.

    Stored as uint64 so that p = 1 (t = 2**32) means "always" exactly. All decisions in the kernels are
    integer comparisons against these thresholds, so every backend makes the same decisions.
    """
    p = np.clip(np.nan_to_num(np.asarray(p, dtype=np.float64), nan=0.0), 0.0, 1.0)
    return np.floor(p * 4294967296.0).astype(np.uint64)
