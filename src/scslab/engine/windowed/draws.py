"""An agent's draws in a window (the windowed route): its days with events, a day's events, and which it keeps.

Every draw is SplitMix64 of (window key, agent, counter) (:func:`d32`; the window's keys by ``tables.KEY``), so
an agent's draws depend on nothing else. The kernel (``agent.py``), the senders' passes (``penalties.py``,
``route.py``), the refunds carried (``redress.py``) and the replay (``replay.py``) draw through these functions:

- :func:`act_counts`: the numbers of an agent's days with other detected events and with detected network
  acts (none for a child: :func:`child_of`), whose days :func:`pick_days` places uniformly (Floyd's sampler
  into a bitmap, read in order by :func:`next_day`);
- :func:`first_event` and :func:`next_event`: a day's events, by inverse CDF, one draw per event plus one;
- :func:`first_net` and :func:`next_net`: a network day's acts (of the behaviours ``Tables.nets``), the same way;
  :func:`network_acts`: all of an agent's detected network acts, as codes (:func:`act_code`);
- :func:`event_threshold` and :func:`crit_thresholds`: whether a drawn event is kept (deterrence, and a
  coverage ramp's thinning); numba overloads that fold to constants where a scheme has no ramp;
- :func:`household`: the ids of an agent's household, when household members lose points for its acts;
- :func:`carried`: where an agent's refunds carried into the window are (redress).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from ...encodings import REL
from ...population import make_ties
from ...rng import GOLDEN, mix64
from ..bits import lowest
from ..jitcache import engine_cache
from .model import MAX_KINDS, MAX_NET, MAX_OTHER, MAX_W
from .tables import KEY

__all__ = ["CACHE", "mix", "d32", "d32_call", "count_of", "pick_days", "next_day", "days_of", "child_of",
           "is_child", "act_counts", "crit_count", "event_threshold", "crit_thresholds", "first_event",
           "next_event", "first_net", "next_net", "present", "tie_relation", "drop_counter", "drop_draw",
           "network_acts", "household", "act_code", "act_day", "act_net", "inc_code", "inc_day", "inc_kind", "carried", "FULL", "ONE", "U32", "S32", "S24"]

# numba's disk cache of the scheduler's compiled functions, stamped with their modules' import closures
CACHE = engine_cache()
mix = njit(mix64)
_relation = make_ties(njit(inline="always"))[0]  # (``population.household_relation``)
C2 = np.uint64(0x632BE59BD9B4E019)
FULL = np.uint64(1 << 32)  # a threshold that keeps without a draw
U32, S32, S24, ONE = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(24), np.uint64(1)


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


# one draw, compiled once and cached, for Python callers (the replay): an inline function called from Python
# would be compiled again in every process
d32_call = njit(cache=CACHE)(getattr(d32, "py_func", d32))


@njit(cache=CACHE)
def days_of(key, i, K, W):
    """The K days :func:`pick_days` draws, in order (for Python callers: the replay)."""
    bits, out = np.empty(6, np.uint64), np.empty(K, np.int64)
    pick_days(key, i, K, W, bits)
    for q in range(K):
        out[q] = next_day(bits, W)
    return out


def child_of(i, adult):
    """Whether agent i is a child: ``adult`` is the household block's pattern (``Tables.adult``, agent i's slot
    ``i & (len - 1)``), or None in a scheme without households."""
    return adult is not None and adult[i & (len(adult) - 1)] == 0


@overload(child_of)  # (not inlined by numba: compiled once per type, the call inlined and folded by LLVM; inlined
def _child_of(i, adult):  # at every call site by numba, the three overloads cost about 1.3 s of a first run's compile)
    """:func:`child_of` compiled: False, a constant the compiler folds away, in a scheme without households (the
    check in every agent's window cost bench-v1's sweep 5-20 %)."""
    if isinstance(adult, types.NoneType):
        return lambda i, adult: False
    return lambda i, adult: adult[i & (adult.shape[0] - 1)] == 0


def tie_relation(a, m, head, adult):
    """What household member m is to agent a (``REL``; ``population.make_ties``), in the household whose first
    id is ``head``, from the household block's adults (``Tables.adult``; None without households)."""
    if adult is None:
        return REL.HOUSEHOLD
    return _relation(a, m, head, adult)


@overload(tie_relation)
def _tie_relation(a, m, head, adult):
    if isinstance(adult, types.NoneType):
        return lambda a, m, head, adult: np.int64(REL.HOUSEHOLD)
    return lambda a, m, head, adult: np.int64(_relation(a, m, head, adult))


def event_threshold(vary, cls, e, a, st, kept_a):
    """The threshold under which a drawn event a of window day e is kept by an agent of class ``cls`` whose day
    starts in state ``st`` (``model.state_codes``: 0 undeterred and unsanctioned): ``FULL`` keeps it without a
    draw. ``vary``: ``Tables.vary`` (coverage over time), or None: then a day in state st keeps an act with
    ``kept_a[st]`` (``Tables.kept[a]``) and a day in state 0 keeps everything."""
    if vary is None:
        return kept_a[st] if st else FULL
    return vary[cls, st, e, a]


@overload(event_threshold)
def _event_threshold(vary, cls, e, a, st, kept_a):
    if isinstance(vary, types.NoneType):
        return lambda vary, cls, e, a, st, kept_a: kept_a[st] if st else FULL
    return lambda vary, cls, e, a, st, kept_a: vary[cls, st, e, a]


def crit_thresholds(vary, cls, e, a, keep_b, st):
    """The thresholds under which a drawn network act of window day e is kept on a day that starts in state
    ``st``, and the lowest over every state (``event_threshold``'s, for the network act: ``vary``'s event a,
    ``NO + j`` for the behaviour ``nets[j]``; ``keep_b``: its ``Tables.keep`` row)."""
    if vary is None:
        return (keep_b[st] if st else FULL), min(keep_b[1:])
    return vary[cls, st, e, a], min(vary[cls, :, e, a])


@overload(crit_thresholds)
def _crit_thresholds(vary, cls, e, a, keep_b, st):
    if isinstance(vary, types.NoneType):
        def fixed(vary, cls, e, a, keep_b, st):
            low = keep_b[1]
            for x in range(2, keep_b.shape[0]):
                low = min(low, keep_b[x])
            return (keep_b[st] if st else FULL), low
        return fixed

    def ramp(vary, cls, e, a, keep_b, st):
        low = vary[cls, 0, e, a]
        for x in range(1, vary.shape[1]):
            low = min(low, vary[cls, x, e, a])
        return vary[cls, st, e, a], low
    return ramp


# A network act is coded as ``day << ACT_BITS | j`` (its day, and its behaviour ``nets[j]``), so that codes sort by
# day and, within a day, in the order of the behaviours; a penalty a tie receives as ``day << INC_BITS | kind``,
# its kind a pair of the act's behaviour and the kind of tie (``Model.kinds``, ``Model.ties``' columns).
ACT_BITS, INC_BITS = 3, 4
assert MAX_NET <= 1 << ACT_BITS and MAX_KINDS <= 1 << INC_BITS


@njit(inline="always")
def act_code(day, j):
    return (day << ACT_BITS) | j


@njit(inline="always")
def act_day(code):
    return code >> ACT_BITS


@njit(inline="always")
def act_net(code):
    return code & ((1 << ACT_BITS) - 1)


@njit(inline="always")
def inc_code(day, kind):
    return (day << INC_BITS) | kind


@njit(inline="always")
def inc_day(code):
    return code >> INC_BITS


@njit(inline="always")
def inc_kind(code):
    return code & ((1 << INC_BITS) - 1)


@njit(inline="always")
def first_net(i, cls, kc, M):
    """The first network act (j: the behaviour ``Tables.nets[j]``) of agent i's kc-th network day, by inverse
    CDF; with one network behaviour it is that one, without a draw."""
    if M.nets.shape[0] == 1:
        return 0
    u = d32(M.keys[KEY.FIRST_NET], i, kc)
    j = 0
    while u >= M.nfirst[cls, j]:
        j += 1
    return j


@njit(inline="always")
def next_net(i, cls, kc, j, M):
    """The network act after act j of that day, ``len(Tables.nets)`` when there is none (one draw per act)."""
    NN = M.nets.shape[0]
    if j == NN - 1:
        return NN
    u = d32(M.keys[KEY.NEXT_NET], i, kc * MAX_NET + j)
    if u >= M.ntail[cls, j, NN - 1]:
        return NN
    j2 = j + 1
    while u >= M.ntail[cls, j, j2]:
        j2 += 1
    return j2


@njit(inline="always")
def drop_counter(e, j):
    """The counter of the draw that decides whether network act j of window day e is kept (j 0: the day, as
    with one network behaviour)."""
    return e + (MAX_W + 128) * j


@njit(inline="always")
def drop_draw(i, e, j, M):
    """The draw that decides whether network act j of window day e is kept (against ``crit_thresholds``)."""
    return d32(M.keys[KEY.DROP], i, drop_counter(e, j))


@njit(inline="always")
def network_acts(i, cls, K, W, M, bc, codes):
    """Agent i's detected network acts (before deterrence or thinning drops any), on its K network days of the
    window, as codes ``act_code(window day, j)`` in order into ``codes``; returns their number."""
    pick_days(M.keys[KEY.CRIT_DAYS], i, K, W, bc)
    NN, g = M.nets.shape[0], 0
    for kc in range(K):
        e = next_day(bc, W)
        j = first_net(i, cls, kc, M)
        while j < NN:
            codes[g] = act_code(e, j)
            g += 1
            j = next_net(i, cls, kc, j, M)
    return g


def present(x):
    """Whether a table of ``Tables`` that a scheme may lack (None) is there: numba compiles it to a constant, so a
    scheme without the mechanism compiles its code away (``Tables.by_state``, ``Tables.children``)."""
    return x is not None


@overload(present)
def _present(x):
    if isinstance(x, types.NoneType):
        return lambda x: False
    return lambda x: True


def household(i, n, house):
    """The ids ``lo .. hi-1`` of agent i's household (i among them) in a population of n, from ``house``
    (``Tables.house``); (0, 0) when no household member loses points (None)."""
    if house is None:
        return 0, 0
    head, size = house
    lo = i - head[i & (len(head) - 1)]
    return lo, min(lo + size[i & (len(head) - 1)], n)


@overload(household)
def _household(i, n, house):
    if isinstance(house, types.NoneType):
        return lambda i, n, house: (0, 0)

    def impl(i, n, house):
        head, size = house
        lo = i - head[i & (head.shape[0] - 1)]
        return lo, min(lo + size[i & (head.shape[0] - 1)], n)
    return impl


@njit(inline="always")
def first_event(i, cls, ko, M):
    """The first event (``Tables.other``'s index) of agent i's ko-th day with other events, by inverse CDF."""
    u = d32(M.keys[KEY.FIRST_ACT], i, ko)
    a = M.guide[cls, u >> S24]
    while u >= M.first[cls, a]:
        a += 1
    return a


@njit(inline="always")
def next_event(i, cls, ko, a, M):
    """The event after event a of that day, ``len(Tables.other)`` when there is none (one draw per event)."""
    NO = M.other.shape[0]
    u = d32(M.keys[KEY.NEXT_ACT], i, ko * MAX_OTHER + a)
    if u >= M.tail[cls, a, NO - 1]:
        return NO
    a0 = a
    a += 1
    while u >= M.tail[cls, a0, a]:
        a += 1
    return a


@njit(inline="always")
def carried(i, R):
    """Where agent i's refunds carried into the window are in ``R``'s table (``redress.Redress``): ``R.days[a:b]``."""
    if (R.bits[i >> 6] >> np.uint64(i & 63)) & ONE == 0:
        return 0, 0
    return np.searchsorted(R.agents, i), np.searchsorted(R.agents, i, side="right")


@njit(inline="always")
def is_child(i, M):
    """Whether agent i is a child (:func:`child_of` of ``Tables.adult``)."""
    return child_of(i, M.adult)


@njit(inline="always")
def act_counts(i, cls, M):
    """The numbers of days with other detected acts and with detected network acts in agent i's window: none
    for a child (children do not act)."""
    if is_child(i, M):
        return 0, 0
    r = mix(M.keys[KEY.COUNTS] + np.uint64(i) * GOLDEN)
    return count_of(M.k_other[cls], r & U32), count_of(M.k_crit[cls], r >> S32)


@njit(inline="always")
def crit_count(i, cls, M):
    """The number of days with a detected network act in agent i's window (:func:`act_counts`' second, without
    the search for its first: every agent's is asked for)."""
    if is_child(i, M):
        return 0
    return count_of(M.k_crit[cls], mix(M.keys[KEY.COUNTS] + np.uint64(i) * GOLDEN) >> S32)
