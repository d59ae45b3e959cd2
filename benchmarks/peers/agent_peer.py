"""bench-v1 agent by agent: each agent's whole year at once, the route measured for issue 10.

scslab's engines go day by day over the population. This peer turns the loops around: it takes one agent
and runs its whole window of days (a year at most) before the next agent, with the agent's state in
registers. It is a peer of the benchmark, not an engine: it implements ``shared/reference/bench-v1.md``
only, returns the same daily metrics as the other peers, and the agreement test
(``benchmarks/peers/agree.py``, ``tests/test_peers.py``) checks it against scslab. Its purpose is to measure,
on the real model, how fast an agent-major engine can be (``docs/performance.md``, issue 10).

An agent's window, with ``W`` days:

- **Days with a detected act are drawn, not searched for.** Detected acts other than criticism come on
  Binomial(W, G) days (``G``: the class's chance of at least one, at the undeterred rates), placed uniformly
  without repetition (Floyd's sampler into a bitmap of the window, so they come out in order). Criticism has
  its own days the same way. Each day's acts are resolved by inverse CDF, one draw per act plus one.
- **Deterrence thins.** On a day that starts below 850, each negative act drawn at the undeterred rate is
  kept with probability 1/2, so the law is the deterred one.
- **Quiet days are closed form.** Between two days with something happening, recovery (+1 a day from 30
  days after the last detected offence, up to 1000), the tier crossings it causes and the blacklist exit
  are computed, not stepped. Tier and blacklist counts are kept as daily changes.
- **Ties by relaxation.** A detected criticism costs each friend 3 points the same day, so agents are not
  independent. Only the ~13 % of agents with a criticism day in the window can send penalties. A first
  round runs those agents without incoming penalties; an agent whose criticism days all fall in the kept
  half of the deterrence draw sends them whatever its state, and is not simulated at all. The penalties
  are then sorted by target, and an agent is simulated again only when its incoming penalties changed and
  could have taken it across the deterrence line before its last criticism day (3 points each, against
  the margin its first round kept above 850). Rounds repeat until no outgoing list changes; the result is
  the fixed point, which is the day-by-day model's outcome for these draws (a penalty only acts from the
  next day on). Then one sweep over everyone, in id order, writes the states and the metrics; it also
  recomputes every sender's outgoing list and counts any that differ from the fixed point (0, checked).

Draws are SplitMix64 of (window key, agent, counter), friends scslab's Feistel matchings: the result depends
on the seed only, not on threads. Memory: 7 bytes per agent plus 8 per penalty in a window.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from numba import njit, prange

from scslab import population
from scslab.engine.bits import lowest
from scslab.rng import GOLDEN, mix64

from .numpy_peer import BEHAVIOURS, CONTAGION, CRITICIZE, DETECT, POINTS, RATES, TIERS

mix = njit(mix64)
partner = population.make(njit, mix)[1]
C2 = np.uint64(0x632BE59BD9B4E019)
U32, S32, ONE = np.uint64(0xFFFFFFFF), np.uint64(32), np.uint64(1)
HALF = np.uint64(1 << 31)
MINS = np.array([floor for _, floor in TIERS[:-1]], np.int64)  # AAA .. C; below the last is D
NOT = -(1 << 30)   # "never" for window-relative days
FAR = 1 << 40      # margin of an agent whose outgoing list does not depend on its state
CHUNKS = 64        # parallel work items; the result does not depend on it
MAX_W = 384        # days of a window: the bitmap has 6 words
MAX_CRIT = 15      # criticism days of one agent in a window (more has probability < 1e-16)
DAY_BITS, DAY_MASK = 12, 4095  # a penalty record: target << DAY_BITS | day (runs up to 4096 days)
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
def agent(i, d0, W, cls, score, last_off, listed, inc, k_inc, keys, first, tail, k_other, k_crit, pts, write,
          tdiff, bdiff, detc, out, bo, bc, margin):
    """Agent i's days d0 .. d0+W-1 from its columns, with incoming penalties on the days ``inc[:k_inc]``
    (sorted). Returns the number of its detected criticisms, their days in ``out``. ``write``: store the state
    and count the metrics; otherwise stop after the last criticism day and keep in ``margin[0]`` the lowest
    start-of-day score above 850 on the days simulated."""
    r = mix(keys[0] + np.uint64(i) * GOLDEN)
    Ko = count_of(k_other[cls], r & U32)
    Kc = count_of(k_crit[cls], r >> S32)
    pick_days(keys[1], i, Ko, W, bo)
    pick_days(keys[2], i, Kc, W, bc)
    s = np.int64(score[i])
    lo = np.int64(last_off[i]) - d0
    bl = np.int64(listed[i]) - d0 if listed[i] != -32768 else NOT
    tier = tier_of(s)
    t, no, c, ko = 0, 0, 0, 0
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
                    tdiff[u, tier] -= 1
                    tdiff[u, tier - 1] += 1
                tier -= 1
            if bl != NOT:
                u = max(bl + 180, ra + (600 - s) - 1 if s < 600 else t, t)
                if u < e and s + n >= 600:
                    if write:
                        bdiff[d0 + u] -= 1
                    bl = NOT
            s += n
        elif bl != NOT and s >= 600:
            u = max(bl + 180, t)
            if u < e:
                if write:
                    bdiff[d0 + u] -= 1
                bl = NOT
        if e >= W or (not write and ec >= W):
            break
        deterred = s < 850
        if not write and s - 850 < margin[0]:
            margin[0] = s - 850
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
                        detc[d0 + e, b] += 1
                u = d32(keys[5], i, ko * 8 + a)
                if u >= tail[cls, a, NO - 1]:
                    break
                a0 = a
                a += 1
                while u >= tail[cls, a0, a]:
                    a += 1
            ko += 1
            eo = next_day(bo, W)
        if ec == e:  # a detected criticism (its deterrence draw is the one first_round looks at)
            if not deterred or d32(keys[6], i, e) < HALF:
                delta += pts[CRITICIZE]
                offended = True
                out[no] = d0 + e
                no += 1
                if write:
                    detc[d0 + e, CRITICIZE] += 1
            ec = next_day(bc, W)
        while c < k_inc and inc[c] - d0 == e:
            delta += CONTAGION
            c += 1
        if offended:
            lo = e
        s = min(max(s + delta, 0), 1300)
        if s < 1000 and e - lo >= 30:
            s += 1
        if bl == NOT and s < 600:
            bl = e
            if write:
                bdiff[d0 + e] += 1
        elif bl != NOT and e - bl >= 180 and s >= 600:
            bl = NOT
            if write:
                bdiff[d0 + e] -= 1
        new = tier_of(s)
        if new != tier and write:
            tdiff[d0 + e, tier] -= 1
            tdiff[d0 + e, new] += 1
        tier = new
        t = e + 1
    if write:
        score[i] = s
        last_off[i] = max(lo + d0, -32768)
        listed[i] = bl + d0 if bl != NOT else -32768
    return no


@njit(inline="always")
def out_hash(out, no):
    h = np.uint64(no)
    for m in range(no):
        h = mix(h + np.uint64(out[m]) + C2)
    return h


@njit(parallel=True)
def senders(n, cls, keys, k_crit, flag):
    for i in prange(n):
        flag[i] = count_of(k_crit[cls[i]], mix(keys[0] + np.uint64(i) * GOLDEN) >> S32) > 0


@njit(parallel=True)
def first_round(ids, d0, W, cls, score, last_off, listed, keys, first, tail, k_other, k_crit, pts, out, cnt,
                margin, last):
    """Outgoing criticisms of the senders without incoming penalties; ``margin[j]``: FAR when they do not
    depend on the state (every deterrence draw keeps the act), else the lowest score above 850 before the last
    criticism day ``last[j]``."""
    z2, z1 = np.zeros((1, 1), np.int64), np.zeros(1, np.int64)
    for ch in prange(CHUNKS):
        bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
        marg = np.zeros(1, np.int64)
        for j in range(ch * ids.shape[0] // CHUNKS, (ch + 1) * ids.shape[0] // CHUNKS):
            i = ids[j]
            r = mix(keys[0] + np.uint64(i) * GOLDEN)
            K = count_of(k_crit[cls[i]], r >> S32)
            pick_days(keys[2], i, K, W, bc)
            certain = True
            for m in range(K):
                e = next_day(bc, W)
                out[j, m] = d0 + e
                certain &= d32(keys[6], i, e) < HALF
            last[j] = out[j, K - 1]
            cnt[j] = K
            margin[j] = FAR
            if not certain:
                marg[0] = FAR
                cnt[j] = agent(i, d0, W, cls[i], score, last_off, listed, z1, 0, keys, first, tail, k_other,
                               k_crit, pts, False, z2, z1, z2, out[j], bo, bc, marg)
                margin[j] = marg[0]


@njit(parallel=True)
def incoming(ids, out, cnt, n, fkeys, friends, B):
    """(target << DAY_BITS | day) of every penalty, sorted: targets bucketed by ``target >> B``, buckets sorted.
    ``friends[j, :4]`` caches the sender's partners (-1: unmatched), ``friends[j, 4]`` is 1 once they are known."""
    m = ids.shape[0]
    nb = (n >> B) + 1
    per = np.zeros((CHUNKS, nb), np.int64)
    for ch in prange(CHUNKS):
        for j in range(ch * m // CHUNKS, (ch + 1) * m // CHUNKS):
            if cnt[j] and friends[j, 4] == 0:
                for k in range(4):
                    friends[j, k] = partner(ids[j], k, 0, n, fkeys)
                friends[j, 4] = 1
            for k in range(4):
                if cnt[j] and friends[j, k] >= 0:
                    per[ch, friends[j, k] >> B] += cnt[j]
    start = np.zeros(nb + 1, np.int64)
    total = 0
    for b in range(nb):
        for ch in range(CHUNKS):
            x = per[ch, b]
            per[ch, b] = total
            total += x
        start[b + 1] = total
    rec = np.empty(total, np.int64)
    for ch in prange(CHUNKS):
        for j in range(ch * m // CHUNKS, (ch + 1) * m // CHUNKS):
            for q in range(cnt[j]):
                for k in range(4):
                    f = friends[j, k]
                    if f >= 0:
                        rec[per[ch, f >> B]] = (f << DAY_BITS) | out[j, q]
                        per[ch, f >> B] += 1
    for b in prange(nb):
        rec[start[b]:start[b + 1]] = np.sort(rec[start[b]:start[b + 1]])
    return rec


@njit(parallel=True)
def recheck(ids, d0, W, cls, score, last_off, listed, rec, keys, first, tail, k_other, k_crit, pts, out, cnt,
            out1, cnt1, margin, last, ihash, ohash):
    """Senders whose incoming penalties changed: simulated again unless the penalties before their last
    criticism day cannot reach their margin, in which case the first round's list stands. Returns how many
    outgoing lists changed."""
    z2, z1 = np.zeros((1, 1), np.int64), np.zeros(1, np.int64)
    changed = np.zeros(CHUNKS, np.int64)
    for ch in prange(CHUNKS):
        bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
        inc = np.empty(256, np.int64)
        marg = np.zeros(1, np.int64)
        j0, j1 = ch * ids.shape[0] // CHUNKS, (ch + 1) * ids.shape[0] // CHUNKS
        if j0 >= j1:
            continue
        c = np.searchsorted(rec, ids[j0] << DAY_BITS)
        for j in range(j0, j1):
            i = ids[j]
            while c < rec.shape[0] and (rec[c] >> DAY_BITS) < i:
                c += 1
            k, before, h = 0, 0, np.uint64(0)
            while c < rec.shape[0] and (rec[c] >> DAY_BITS) == i:
                day = rec[c] & DAY_MASK
                inc[k] = day
                k += 1
                c += 1
                h = mix(h + np.uint64(day) + C2)  # never 0 for a non-empty list (mix64(0) is 0)
                before += day < last[j]
            if h == ihash[j]:
                continue
            ihash[j] = h
            if -CONTAGION * before < margin[j]:
                no = cnt1[j]
                out[j, :no] = out1[j, :no]
            else:
                marg[0] = FAR
                no = agent(i, d0, W, cls[i], score, last_off, listed, inc, k, keys, first, tail, k_other, k_crit,
                           pts, False, z2, z1, z2, out[j], bo, bc, marg)
            cnt[j] = no
            hh = out_hash(out[j], no)
            if hh != ohash[j]:
                ohash[j] = hh
                changed[ch] += 1
    return changed.sum()


@njit(parallel=True)
def sweep(n, d0, W, cls, score, last_off, listed, rec, keys, first, tail, k_other, k_crit, pts, ids, ohash,
          tdiff, bdiff, detc, wrong_ids):
    """Everyone's window in id order, writing states and metric changes (per chunk). Returns the number of
    senders whose outgoing list differs from the fixed point (0), the first of them per chunk in ``wrong_ids``."""
    wrong = np.zeros(CHUNKS, np.int64)
    for ch in prange(CHUNKS):
        a, b = ch * n // CHUNKS, (ch + 1) * n // CHUNKS
        c = np.searchsorted(rec, a << DAY_BITS)
        js = np.searchsorted(ids, a)
        bo, bc = np.empty(6, np.uint64), np.empty(6, np.uint64)
        out, inc = np.empty(64, np.int64), np.empty(256, np.int64)
        marg = np.zeros(1, np.int64)
        for i in range(a, b):
            k = 0
            while c < rec.shape[0] and (rec[c] >> DAY_BITS) == i:
                inc[k] = rec[c] & DAY_MASK
                k += 1
                c += 1
            no = agent(i, d0, W, cls[i], score, last_off, listed, inc, k, keys, first, tail, k_other, k_crit, pts,
                       True, tdiff[ch, cls[i]], bdiff[ch, cls[i]], detc[ch, cls[i]], out, bo, bc, marg)
            sender = js < ids.shape[0] and ids[js] == i
            if (out_hash(out, no) != ohash[js]) if sender else no > 0:
                if wrong[ch] == 0:
                    wrong_ids[ch] = i
                wrong[ch] += 1
            js += sender
    return wrong.sum()


@njit(parallel=True)
def start(n, key, cls, score, last_off, listed):
    for i in prange(n):
        u = d32(key, i, 0)
        cls[i] = 0 if u < np.uint64(3006477107) else (1 if u < np.uint64(4080218931) else 2)  # 70 / 25 / 5 %
        score[i] = 1000
        last_off[i] = -32768
        listed[i] = -32768


def simulate(n: int, days: int, seed: int = 0, points=POINTS, clock: dict | None = None,
             stats: dict | None = None, window: int = 365) -> dict[str, np.ndarray]:
    """Run bench-v1 and return daily metrics: name -> int64[days], as the other peers. ``clock`` gets
    ``setup_end``; ``stats`` gets the time of each phase, the rounds, senders, simulations and mismatches;
    ``window``: days simulated agent by agent before the next window (at most 384)."""
    if not 1 <= window <= MAX_W:
        raise ValueError(f"window must be 1..{MAX_W} days, got {window!r}")
    if not 1 <= days <= DAY_MASK:
        raise ValueError(f"days must be 1..{DAY_MASK} (a penalty record keeps the day in {DAY_BITS} bits), got {days!r}")
    pts = np.asarray(points, np.int64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        keys0 = np.array([mix64(np.uint64(seed) * np.uint64(1000003) + np.uint64(k)) for k in range(8)], np.uint64)
    fkeys = population.feistel_keys(seed, 4)
    cls = np.empty(n, np.uint8)
    score, last_off, listed = np.empty(n, np.int16), np.empty(n, np.int16), np.empty(n, np.int16)
    start(n, keys0[7], cls, score, last_off, listed)
    tdiff = np.zeros((CHUNKS, 3, days + 1, len(TIERS)), np.int64)
    bdiff = np.zeros((CHUNKS, 3, days + 1), np.int64)
    detc = np.zeros((CHUNKS, 3, days + 1, len(BEHAVIOURS)), np.int64)
    net = np.zeros(days, np.int64)
    st = {"senders": 0.0, "rounds": 0.0, "sweep": 0.0, "n_rounds": [], "n_senders": 0, "n_simulated": 0,
          "wrong": 0}
    if clock is not None:
        clock["setup_end"] = time.perf_counter()
    W = min(days, window)
    for d0 in range(0, days, W):
        Ww = min(W, days - d0)
        first, tail, k_other, k_crit = tables(Ww)
        with np.errstate(over="ignore"):
            keys = np.array([mix64(k ^ (np.uint64(d0 + 1) * GOLDEN)) for k in keys0[:7]], np.uint64)
        t0 = time.perf_counter()
        flag = np.empty(n, np.bool_)
        senders(n, cls, keys, k_crit, flag)
        ids = np.flatnonzero(flag)
        t1 = time.perf_counter()
        out = np.zeros((len(ids), MAX_CRIT), np.int64)
        cnt, margin, last = (np.zeros(len(ids), np.int64) for _ in range(3))
        first_round(ids, d0, Ww, cls, score, last_off, listed, keys, first, tail, k_other, k_crit, pts, out, cnt,
                    margin, last)
        out1, cnt1 = out.copy(), cnt.copy()
        ohash = np.zeros(len(ids), np.uint64)
        _hash_all(out, cnt, ohash)
        ihash = np.zeros(len(ids), np.uint64)
        friends = np.full((len(ids), 5), -1, np.int64)
        friends[:, 4] = 0
        rounds = 1
        while True:
            rec = incoming(ids, out, cnt, n, fkeys, friends, 12)
            rounds += 1
            if recheck(ids, d0, Ww, cls, score, last_off, listed, rec, keys, first, tail, k_other, k_crit, pts, out,
                       cnt, out1, cnt1, margin, last, ihash, ohash) == 0:
                break
        t2 = time.perf_counter()
        wrong_ids = np.full(CHUNKS, -1, np.int64)
        st["wrong"] += sweep(n, d0, Ww, cls, score, last_off, listed, rec, keys, first, tail, k_other, k_crit, pts,
                             ids, ohash, tdiff, bdiff, detc, wrong_ids)
        st.setdefault("wrong_ids", []).extend(int(x) for x in wrong_ids if x >= 0)
        t3 = time.perf_counter()
        net += np.bincount((rec & DAY_MASK), minlength=days)[:days]
        st["senders"] += t1 - t0
        st["rounds"] += t2 - t1
        st["sweep"] += t3 - t2
        st["n_rounds"].append(rounds)
        st["n_senders"] += len(ids)
        st["n_simulated"] += int((margin < FAR).sum())
    if stats is not None:
        stats.update(st)
    people = np.bincount(cls, minlength=3)
    tiers = np.cumsum(tdiff.sum(axis=(0, 1)), axis=0)[:days]
    tiers[:, TIERS.index(("A", 960))] += people.sum()
    series = {f"tier:{name}": tiers[:, k] for k, (name, _) in enumerate(TIERS)}
    series["listed:blacklist"] = np.cumsum(bdiff.sum(axis=(0, 1)))[:days]
    series["network_penalties"] = net
    for b, name in enumerate(BEHAVIOURS):
        series[f"detected:{name}"] = detc.sum(axis=(0, 1))[:days, b]
    return series


@njit(parallel=True)
def _hash_all(out, cnt, ohash):
    for j in prange(cnt.shape[0]):
        ohash[j] = out_hash(out[j], cnt[j])


def main(argv=None) -> None:
    """``python -m benchmarks.peers.agent_peer N [DAYS] [REPEATS]``: time a run (after a small warm-up)."""
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 1_000_000
    days = int(argv[1]) if len(argv) > 1 else 365
    repeats = int(argv[2]) if len(argv) > 2 else 1
    simulate(2_000, days, seed=1)
    for r in range(repeats):
        st: dict = {}
        t = time.perf_counter()
        out = simulate(n, days, seed=1 + r, stats=st)
        wall = time.perf_counter() - t
        shares = {k: round(100 * out[k][-1] / n, 3) for k in ("tier:AA", "tier:A", "tier:B", "tier:C")}
        print(f"n={n:,} days={days}: {wall:.2f} s ({n * days / wall:.3g} agent-days/s); senders "
              f"{st['senders']:.2f} s, rounds {st['rounds']:.2f} s ({st['n_rounds']}), sweep {st['sweep']:.2f} s; "
              f"{st['n_senders']:,} senders, {st['n_simulated']:,} simulated in the first round, "
              f"{st['wrong']} mismatches; last day % {shares}", flush=True)


if __name__ == "__main__":
    main()
