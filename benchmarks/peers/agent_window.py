"""One agent's window of days in bench-v1, for the agent-by-agent peer (``agent_peer.py``).

An agent's window of ``W`` days (a year at most) is run at once, with the agent's state in registers:

- **Days with a detected act are drawn, not searched for.** Detected acts other than criticism come on
  Binomial(W, G) days (``G``: the class's chance of at least one, at the undeterred rates), placed uniformly
  without repetition (Floyd's sampler into a bitmap of the window, so they come out in order). Criticism has
  its own days the same way. Each day's acts are resolved by inverse CDF, one draw per act plus one.
- **Deterrence thins.** On a day that starts below 850, each negative act drawn at the undeterred rate is
  kept with probability 1/2, so the law is the deterred one.
- **Quiet days are closed form.** Between two days with something happening, recovery (+1 a day from 30
  days after the last detected offence, up to 1000), the tier crossings it causes and the blacklist exit
  are computed, not stepped. Tier and blacklist counts are kept as daily changes.

Draws are SplitMix64 of (window key, agent, counter): an agent's draws do not depend on anything else, so a
window can be run again, in any order, on any thread, with the same result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from scslab import population, rng
from scslab.engine import bits
from scslab.engine.bits import lowest
from scslab.engine.jitcache import files_digest, stamped_cache
from scslab.rng import GOLDEN, mix64

from . import numpy_peer
from .numpy_peer import BEHAVIOURS, CONTAGION, CRITICIZE, DETECT, RATES, TIERS

# numba's disk cache of the peer's two files, stamped with everything they compile in (a plain cache=True would
# keep stale code after an edit of this file seen from agent_peer.py, or of scslab's population)
_FILES = [Path(__file__).with_name("agent_window.py"), Path(__file__).with_name("agent_peer.py")]
CACHE = stamped_cache(_FILES, files_digest(_FILES + [Path(m.__file__) for m in (population, rng, bits, numpy_peer)]))

mix = njit(mix64)
C2 = np.uint64(0x632BE59BD9B4E019)
U32, S32, ONE = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(1)
HALF = np.uint64(1 << 31)
MINS = np.array([floor for _, floor in TIERS[:-1]], np.int64)  # AAA .. C; below the last is D
NOT = -(1 << 30)   # "never" for window-relative days
NEVER = -32768     # "never" in the int16 state columns
MAX_W = 384        # days of a window: the bitmap has 6 words
MAX_CRIT = 15      # criticism days of one agent in a window (more has probability < 1e-16)
# The guess of a sender's criticisms runs its window only when it could fall below 850 losing this many points
# on each day with other acts. Any value gives the same result (a wrong guess is corrected); 10 runs the
# windows that need it: at 21.7 M, 0 leaves 21,342 senders to correct, 10 to 43 leave 3,835.
GUESS_LOSS = 10
OTHER = np.array([b for b in range(len(BEHAVIOURS)) if b != CRITICIZE], np.int64)


def _thresholds(p) -> np.ndarray:
    return np.minimum(np.round(np.asarray(p, float) * 2.0**32), 2.0**32).astype(np.uint64)


def _binomial_cdf(W: int, p: float, size: int) -> np.ndarray:
    pmf = np.zeros(size)
    pmf[0] = (1.0 - p) ** W
    for k in range(size - 1):
        pmf[k + 1] = pmf[k] * (W - k) / (k + 1) * p / (1.0 - p) if k < W else 0.0
    cdf = _thresholds(np.cumsum(pmf))
    cdf[-1] = 1 << 32
    return cdf


def tables(W: int):
    """uint32 thresholds: the first act of a day (``first[class, a]``), the next one after act a
    (``tail[class, a, b]``), and the number of act days and criticism days in a window (``k_other``, ``k_crit``)."""
    q = RATES.T * DETECT                        # detected-act rate [class, behaviour]
    qo = q[:, OTHER]
    G = 1.0 - np.prod(1.0 - qo, axis=1)
    first = _thresholds((1.0 - np.cumprod(1.0 - qo, axis=1)) / G[:, None])
    first[:, -1] = 1 << 32
    NO = len(OTHER)
    tail = np.zeros((3, NO, NO), np.uint64)
    for c in range(3):
        for a in range(NO):
            none = np.cumprod(1.0 - qo[c, a + 1:])
            tail[c, a, a + 1:] = _thresholds(1.0 - none)
    k_other = np.array([_binomial_cdf(W, g, 128) for g in G])
    k_crit = np.array([_binomial_cdf(W, g, MAX_CRIT + 1) for g in q[:, CRITICIZE]])
    return first, tail, k_other, k_crit


def model(W: int, keys: np.ndarray, points) -> tuple:
    """What a window's runs read: (keys, first, tail, k_other, k_crit, points, ``GUESS_LOSS``)."""
    pts = np.asarray(points, np.int64)
    return (keys, *tables(W), pts, GUESS_LOSS)


@njit(inline="always")
def d32(key, i, c):
    return mix(key + np.uint64(i) * GOLDEN + np.uint64(c) * C2) >> S32


@njit(inline="always")
def count_of(cdf, u):
    k = 0
    while u >= cdf[k]:
        k += 1
    return k


@njit(inline="always")
def pick_days(key, i, K, W, bits):
    """K distinct days of [0, W) into the bitmap ``bits`` (Floyd's sampler)."""
    for w in range(6):
        bits[w] = 0
    for j in range(W - K, W):
        t = np.int64((d32(key, i, j) * np.uint64(j + 1)) >> S32)
        if (bits[t >> 6] >> np.uint64(t & 63)) & ONE:
            t = j
        bits[t >> 6] |= ONE << np.uint64(t & 63)


@njit(inline="always")
def next_day(bits, W):
    """Take the earliest day out of the bitmap (W when it is empty)."""
    for w in range(6):
        if bits[w] != 0:
            t = np.int64(lowest(bits[w]))
            bits[w] &= bits[w] - ONE
            return w * 64 + t
    return W


@njit(inline="always")
def tier_of(s):
    t = 0
    while t < MINS.shape[0] and s < MINS[t]:
        t += 1
    return t




@njit(inline="always")
def agent(i, d0, W, cls, s, lo, bl, inc, k_inc, M, write, sgn, tdiff, bdiff, detc, ndiff, out, bo, bc):
    """Agent i's days d0 .. d0+W-1 from its state (score ``s``, day of the last detected offence ``lo``, day
    listed ``bl``; -32768: never), with incoming penalties on the days ``inc[:k_inc]`` (sorted). ``write``: add
    ``sgn`` times its metric changes; otherwise stop after the last criticism day. Returns the number of its
    criticisms kept (their days in ``out``), of its detected criticisms, its end state, the last day a
    criticism is dropped if deterred, and the first day deterred (``d0 + W``: never). The criticisms of a
    run with penalties coming in are those of a run without when no penalty comes before the last such
    day, or when the agent is not deterred until after it (the run without would not be either).
    ``M``: ``model``."""
    keys, first, tail, k_other, k_crit, pts, _ = M
    r = mix(keys[0] + np.uint64(i) * GOLDEN)
    Ko = count_of(k_other[cls], r & U32)
    Kc = count_of(k_crit[cls], r >> S32)
    pick_days(keys[1], i, Ko, W, bo)
    pick_days(keys[2], i, Kc, W, bc)
    lo = lo - d0
    bl = bl - d0 if bl != NEVER else NOT
    tier = tier_of(s)
    t, no, c, ko, unc, fd = 0, 0, 0, 0, NOT, W
    eo, ec = next_day(bo, W), next_day(bc, W)
    NO = OTHER.shape[0]
    while True:
        e = min(eo, ec)
        if c < k_inc:
            e = min(e, inc[c] - d0)
        ra = max(t, lo + 30)  # quiet days t .. e-1: recovery from day ra on
        if s < 1000 and ra < e:
            n = min(e - ra, 1000 - s)
            while tier > 0 and s + n >= MINS[tier - 1]:
                if write:
                    u = d0 + ra + (MINS[tier - 1] - s) - 1
                    tdiff[u, tier] -= sgn
                    tdiff[u, tier - 1] += sgn
                tier -= 1
            if bl != NOT:
                u = max(bl + 180, ra + (600 - s) - 1 if s < 600 else t, t)
                if u < e and s + n >= 600:
                    if write:
                        bdiff[d0 + u] -= sgn
                    bl = NOT
            s += n
        elif bl != NOT and s >= 600:
            u = max(bl + 180, t)
            if u < e:
                if write:
                    bdiff[d0 + u] -= sgn
                bl = NOT
        if e >= W or (not write and ec >= W):
            break
        deterred = s < 850
        if deterred and fd == W:
            fd = e
        delta, offended = 0, False
        if eo == e:  # the day's other detected acts
            u = d32(keys[3], i, ko)
            a = 0
            while u >= first[cls, a]:
                a += 1
            while True:
                b = OTHER[a]
                if pts[b] >= 0 or not deterred or d32(keys[4], i, ko * 8 + a) < HALF:
                    delta += pts[b]
                    offended |= pts[b] < 0
                    if write:
                        detc[d0 + e, b] += sgn
                u = d32(keys[5], i, ko * 8 + a)
                if u >= tail[cls, a, NO - 1]:
                    break
                a0 = a
                a += 1
                while u >= tail[cls, a0, a]:
                    a += 1
            ko += 1
            eo = next_day(bo, W)
        if ec == e:  # a detected criticism: kept unless deterred and its draw falls in the dropped half
            drop = d32(keys[6], i, e) >= HALF
            if drop:
                unc = e
            if not deterred or not drop:
                delta += pts[CRITICIZE]
                offended = True
                out[no] = d0 + e
                no += 1
                if write:
                    detc[d0 + e, CRITICIZE] += sgn
            ec = next_day(bc, W)
        while c < k_inc and inc[c] - d0 == e:
            delta += CONTAGION
            c += 1
            if write:
                ndiff[d0 + e] += sgn
        if offended:
            lo = e
        s = min(max(s + delta, 0), 1300)
        if s < 1000 and e - lo >= 30:
            s += 1
        if bl == NOT and s < 600:
            bl = e
            if write:
                bdiff[d0 + e] += sgn
        elif bl != NOT and e - bl >= 180 and s >= 600:
            bl = NOT
            if write:
                bdiff[d0 + e] -= sgn
        new = tier_of(s)
        if new != tier and write:
            tdiff[d0 + e, tier] -= sgn
            tdiff[d0 + e, new] += sgn
        tier = new
        t = e + 1
    return no, Kc, s, max(lo + d0, NEVER), (bl + d0 if bl != NOT else NEVER), d0 + unc, d0 + fd




# the same function compiled once as a callee, where a call costs less than its code inlined again
agent_call = njit(cache=CACHE)(agent.py_func)


@njit(inline="always")
def crit_count(i, cls, M):
    """The number of days with a detected criticism in agent i's window."""
    return count_of(M[4][cls], mix(M[0][0] + np.uint64(i) * GOLDEN) >> S32)


@njit(inline="always")
def guess(i, d0, W, cls, s, lo, bl, M, out, bo, bc, z1, z2):
    """The guess of agent i's criticisms (days in ``out``) and how many it has detected: all of them when every
    deterrence draw keeps them or its score is unlikely to fall below 850 before the last one (``GUESS_LOSS``),
    else those of its window run from its start state with no penalty coming in. Deterministic: the same
    guess wherever it is made. ``z1``, ``z2``: empty int64 arrays of 1 and 2 dimensions."""
    r = mix(M[0][0] + np.uint64(i) * GOLDEN)
    Ko, K = count_of(M[3][cls], r & U32), count_of(M[4][cls], r >> S32)
    pick_days(M[0][2], i, K, W, bc)
    kept = True  # every deterrence draw keeps the criticism
    for q in range(K):
        e = next_day(bc, W)
        out[q] = d0 + e
        kept &= d32(M[0][6], i, e) < HALF
    if kept or s + M[5][CRITICIZE] * (K - 1) - M[6] * Ko >= 850:
        return K, K
    return agent_call(i, d0, W, cls, s, lo, bl, z1, 0, M, False, 0, z2, z1, z2, z1, out, bo, bc)[:2]
