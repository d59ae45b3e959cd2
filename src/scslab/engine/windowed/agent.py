"""One agent's window of days, run at once with its state in registers (the windowed route's kernel).

- **Days with a detected act are drawn, not searched for.** Detected acts of the behaviours without a network
  penalty come on Binomial(W, G) days (``G``: the class's chance of at least one, at the undeterred rates),
  placed uniformly without repetition (Floyd's sampler into a bitmap of the window, so they come out in
  order); the network behaviours (whose detection costs ties points) have their own days the same way. A
  day's acts of each group are resolved by inverse CDF, one draw per act plus one.
- **Deterrence thins.** On a day that starts below the deterrence line each act drawn at the undeterred
  rate is kept with its behaviour's factor, so the law is the deterred one.
- **False attributions are a day's events too.** A false attribution of b is drawn with the detected acts, as
  one more event after them (``Tables.other``: the events' behaviours; ``SC.NACT`` of them are acts), never
  thinned by deterrence; it takes b's points and marks the agent as carrying a false record (``MARKED``), for
  good, or until a contested record is removed (``redress.py``).
- **Quiet days are closed form.** Between two days with something happening, recovery (a step a day from
  ``quiet`` days after the last detected offence, up to the cap), the tier crossings it causes, the list exit
  and the score snapshots are computed, not stepped. Level metrics are kept as daily changes, recovery
  steps as range additions.

Draws are SplitMix64 of (window key, agent, counter): an agent's draws depend on nothing else, so a window can
be run again, in any order, on any thread, with the same result. ``replay.py`` is the same law day by day, in
plain Python: the tests hold the two to each other.

``M``, what a run reads, is a ``tables.Tables`` (``tables.tables``), its fields read by name; the window's stream keys
by ``KEY``, the model's scalars by ``model.SC``.
``D``, what a run writes, per chunk ``ch`` and class ``c``, by window day: tier changes [ch, c, day, tier],
list entries and exits, ``sanctioned_by_ties`` changes, recovery-step range marks, detected acts
[ch, c, deterred, day, b], network penalties received, and snapshots [ch, k, bin] as changes over the
window's snapshots k: an agent adds one in its start bin at k = 0 and, when its score changes bin, minus one
in the old bin and one in the new from the first snapshot after the change on. Its score is written only
where its bin changes, not at every snapshot (16-18 % of the sweep's time at 4 M agents). Then the people
newly carrying a false record, and the changes of the innocent listed (on list L with a false record)
[ch, c, L, day]. Detected acts of b are column b, false attributions column NB + b.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import rules
from ..borrow import borrowed
from .draws import (CACHE, FULL, act_code, act_counts, act_day, act_net, carried, crit_thresholds, d32, drop_draw,
                    event_threshold, first_event, first_net, inc_day, inc_kind, is_child, network_acts, next_day,
                    next_event, next_net, pick_days, present)
from .model import LS, MAX_LISTS, MAX_OTHER, MAX_W, SC
from .tables import KEY

__all__ = ["agent", "guess", "KIDS", "KIDS_ROW", "set_days", "watch", "listed_day", "with_listed", "packed_lists",
           "enters_at", "leaves_at", "NEVER", "NOT", "MARKED", "UNLISTED"]

R = rules.make(njit(inline="always"))  # the model's rules (engine/rules.py): recovery, lists, closed forms
recovers, recovery_step, steps, recovered = R.recovers, R.recovery_step, R.steps, R.recovered
leaves, first_exit, published = R.leaves, R.first_exit, R.published
NOT = -(1 << 30)   # "never" for window-relative days
NEVER = -32768     # "never" in the int16 columns
# the columns of a list's row as plain integers (a tuple is indexed by integers, not by IntEnum members)
LS_ENTER, LS_LEAVE, LS_MIN_DAYS, LS_RED, LS_EVERY = (int(c) for c in LS)
UNLISTED = sum((NEVER & 0xFFFF) << (16 * L) for L in range(MAX_LISTS))  # days listed: on no list
MARK_BIT = 62      # the bit of an agent's days listed that says it carries a false record (above the lists' fields)
MARKED = 1 << MARK_BIT


@njit(inline="always")
def listed_day(bl, L):
    """The day an agent was put on list L (``NEVER``: it is not on it), from its days listed ``bl``: one 16-bit
    field per list, list L's from bit 16 L on (``MAX_LISTS`` fields keep ``bl`` positive)."""
    v = (bl >> (16 * L)) & 0xFFFF
    return v - 65536 if v >= 32768 else v


@njit(inline="always")
def with_listed(bl, L, day):
    """``bl`` with the day listed on list L set to ``day`` (``NEVER``: not on it)."""
    return (bl & ~(0xFFFF << (16 * L))) | ((day & 0xFFFF) << (16 * L))


@njit(inline="always")
def packed_lists(col, marks, i):
    """Agent i's days listed as one integer (:func:`listed_day`, and ``MARKED``), from the columns
    ``col[list, agent]`` and ``marks[agent]`` (a scheme without false attributions keeps one, never marked)."""
    bl = np.int64(UNLISTED)
    for L in range(col.shape[0]):
        bl = with_listed(bl, L, np.int64(col[L, i]))
    # read without a branch (a branch on the read here made the whole sweep twice as slow: bench-v1 at 4 M)
    return bl | (np.int64(marks[min(i, marks.shape[0] - 1)]) << MARK_BIT)


@njit(inline="always")
def enters_at(s, enter, red):
    """Whether a score ``s`` meets a list's entry condition, as a score: below the listing line ``enter`` (a
    black list), or at least it (``red``: a red list). ``model.list_row`` draws the lines from the tiers."""
    return s >= enter if red else s < enter


@njit(inline="always")
def leaves_at(s, leave, red):
    """Whether a score ``s`` meets a list's exit condition, as a score: at least the leaving line ``leave``, or
    below it (``red``)."""
    return s < leave if red else s >= leave


@njit(inline="always")
def on_list(bl, L):
    """Whether ``bl`` has the agent on list L (none for L < 0)."""
    if L < 0:
        return False
    return listed_day(bl, L) != NEVER


@njit(inline="always")
def sanctioned(on_sl, tier, stiers):
    """Whether an agent on the sanctioning list or not (``on_sl``) in ``tier`` is under a sanction: the list's or
    its tier's (``stiers``: bit t for tier t)."""
    return on_sl or ((stiers >> tier) & 1) != 0


# forceinline: numba compiles the agent once per table type, and LLVM inlines that code wherever it is called
# (every call's arguments are then constants and registers again, as if written inline). Inlined by numba
# instead (``inline="always"``), its code was typed and lowered again in every caller: 45 s of a first
# bench-v1 run's compile against 25 s, for the same speed. error_model="numpy": the recovery steps' division
# (rules.steps) raises nothing, and the exception path a division would otherwise carry slowed the whole
# agent kernel by 1.4x (bench-v1 at 4 M agents)
@njit(cache=CACHE, error_model="numpy", forceinline=True)
def agent(i, d0, W, cls, s, lo, bl, inc, k_inc, M, write, sgn, D, ch, out, bo, bc, redress):
    """Agent i's days d0 .. d0+W-1 from its state (score ``s``, day of the last detected offence ``lo``, days
    listed ``bl``, a 16-bit field per list: :func:`listed_day`, -32768: never; and ``MARKED``: a false record
    carried), with network penalties coming in on the days ``inc[:k_inc]`` (sorted), and with redress
    (``redress``: ``redress.Redress``, or None for a scheme without; its code is then not compiled) its refunds
    carried into the window and those of its own contested false attributions. Where sanctions pass to
    children, an adult's run that writes also adds to ``D[13][ch, :6]`` the days its household's children are
    under them for its sake (:func:`watch`: a bitmap of window days; ``route.before_member`` clears it at
    each household's first member).
    ``write``: add ``sgn`` times its metric changes to ``D[...][ch]``; otherwise stop after the last network
    act day. Returns the number of its network acts kept (their days in ``out``), of its detected network
    acts, its end state, the last day a network act is dropped if deterred, and the first day deterred
    (``d0 + W``: never). The network acts of a run with penalties coming in are those of a run without when
    no penalty comes before the last such day, or when the agent is not deterred until after it (the run
    without would not be either: penalties only take points)."""
    keys, pts = M.keys, M.points
    keep, other, mins, bins, edges, before, tiers = M.keep, M.other, M.mins, M.bins, M.edges, M.before, M.tiers
    kept, column = M.kept, M.column
    sc = M.sc
    LOW, HIGH, QUIET, UPTO, DETER = sc[SC.LOW], sc[SC.HIGH], sc[SC.QUIET], sc[SC.UPTO], sc[SC.DETER]
    nets, tie_pts = M.nets, M.ties
    NN = nets.shape[0]
    SL = sc[SC.SLIST]       # the list that carries a sanction (-1: none)
    STIERS = sc[SC.STIERS]  # the tiers that carry a sanction (bit t: tier t)
    STEP = sc[SC.STEP]     # the points of a recovery step
    NACT = sc[SC.NACT]     # a day's events from NACT on are false attributions
    lists = M.lists
    NL = len(lists)
    tdiff, ent, ext, ties, rec, detc, ndiff, hist, first_pen, marked, inn, sanc, _, _ = D  # (the last two: route.py)
    S4 = present(M.by_state)  # sanctions change act rates: a day's state has a sanctioned bit (model.state_codes)
    DT = sc[SC.DTIER]          # the first deterred tier
    Ko, Kc = act_counts(i, cls, M)
    if is_child(i, M):  # children are not scored: a tie who is a child loses nothing
        k_inc = 0
    pick_days(keys[KEY.OTHER_DAYS], i, Ko, W, bo)
    pick_days(keys[KEY.CRIT_DAYS], i, Kc, W, bc)
    own = lo != NEVER
    mk = (bl & MARKED) != 0  # carries a false record
    # redress: its table of carried refunds is read from rd, borrowed (no reference counts, engine/borrow.py: every
    # agent looks itself up); the queue and the metric are read and written through redress itself (writes through
    # a view made here were lost: seen with numba 0.68). The checks are on redress itself, so that numba prunes the
    # code when it is None (before typing: on the caller's argument only)
    rd = borrowed(redress)
    CL = sc[SC.CLISTS]  # the lists whose adults' children are sanctioned (bit L: list L)
    hb = D[13]  # [ch]: the days for the household's children (a checked flag, not an argument that may be None:
    # an inlined kernel with one more argument that may be None lost redress's queue writes, seen with numba 0.68)
    kids = present(M.children) and write and not is_child(i, M)  # (a child's own listing passes nothing on)
    if kids:
        for L in range(NL):  # listed at the start: its children are from the window's first day
            hb[ch, 6 + L] = -1 if (CL >> L) & 1 and listed_day(bl, L) != NEVER else NOT
    nq, qc, cc, c1 = 0, 0, 0, 0  # refunds queued within the window and the next of them; the next carried in
    if redress is not None:
        cc, c1 = carried(i, rd)  # rd.days[cc:c1]
    lo = lo - d0
    tier = tiers[s - LOW]
    if write:
        hist[ch, 0, bins[s - LOW]] += sgn
    t, no, c, ko, kc, kd, unc, fd = 0, 0, 0, 0, 0, 0, NOT, W
    eo, ec = next_day(bo, W), next_day(bc, W)
    ef = W
    for L in range(NL):  # a start score that lists: day 0
        if listed_day(bl, L) == NEVER and enters_at(s, lists[L][LS_ENTER], lists[L][LS_RED] != 0):
            ef = 0
    NO = other.shape[0]
    while True:
        e = min(eo, ec, ef)
        ef = W
        if c < k_inc:
            e = min(e, inc_day(inc[c]) - d0)
        if redress is not None:
            if cc < c1:
                e = min(e, rd.days[cc] - d0)
            if qc < nq:
                e = min(e, redress.qday[qc])
        ra = max(t, lo + QUIET)  # quiet days t .. e-1: recovery from day ra on, n steps, g points
        n = min(e - ra, steps(UPTO - s, STEP)) if s < UPTO and ra < e and STEP > 0 else 0
        g = min(n * STEP, UPTO - s) if n > 0 else 0
        if write and n > 0:
            rec[ch, cls, ra] += sgn
            rec[ch, cls, ra + n] -= sgn
            for b in range(bins[s - LOW] + 1, bins[s + g - LOW] + 1):  # the ramp reaches bin b on day u
                k = before[ra + steps(edges[b] - s, STEP) - 1]  # u's snapshot or the first after it
                hist[ch, k, b - 1] -= sgn
                hist[ch, k, b] += sgn
        # each list across the quiet days: a day it is left (u_out) and a day it is entered (u_in), NOT for none;
        # entries and exits fall on publication days (absolute days that are multiples of EVERY)
        sl0, sl_out, sl_in = False, NOT, NOT  # the sanctioning list's, for the tiers' sanctions below
        for L in range(NL):
            ENTER, RED = lists[L][LS_ENTER], lists[L][LS_RED] != 0  # red: entered at a score of at least ENTER
            b = listed_day(bl, L)
            if b == NEVER and not (s + g >= ENTER if RED else s < ENTER):
                continue  # the list cannot change on a quiet day
            LEAVE, MIN_DAYS, EVERY = lists[L][LS_LEAVE], lists[L][LS_MIN_DAYS], lists[L][LS_EVERY]
            b = b - d0 if b != NEVER else NOT
            listed0, u_out, u_in = b != NOT, NOT, NOT
            if RED:  # recovery only raises the score: a red list may be left (before the ramp lifts the score) and entered
                if b != NOT and s < LEAVE:
                    u = first_exit(b + d0, t + d0, MIN_DAYS, EVERY, W + d0) - d0  # the exit condition holds until the
                    if u < e and (s + g < LEAVE or u < ra + steps(LEAVE - s, STEP) - 1):  # ramp reaches the line
                        u_out, b = u, NOT
                if b == NOT and s + g >= ENTER:  # listed on the first publication day the score is at the line
                    u = published((ra + steps(ENTER - s, STEP) - 1 if s < ENTER else t) + d0, EVERY) - d0
                    if u < e:
                        u_in, b = u, u
            else:  # a black list: entered while the ramp has not lifted the score to the line, then perhaps left
                if b == NOT and s < ENTER:  # (between publication days only: a day with events lists otherwise)
                    u = published(t + d0, EVERY) - d0
                    if u < e and (s + g < ENTER or u < ra + steps(ENTER - s, STEP) - 1):
                        u_in, b = u, u
                if b != NOT and (s + g >= LEAVE if n > 0 else s >= LEAVE):  # the exit condition holds from the day
                    u = first_exit(b + d0, (ra + steps(LEAVE - s, STEP) - 1 if s < LEAVE else t) + d0, MIN_DAYS,
                                   EVERY, W + d0) - d0  # the ramp reaches the line on
                    if u < e:
                        u_out, b = u, NOT
            if u_out != NOT or u_in != NOT:
                bl = with_listed(bl, L, b + d0 if b != NOT else NEVER)
                if kids and (CL >> L) & 1:
                    watch(hb, ch, L, u_in, u_out)
            if write:
                if u_out != NOT:
                    ext[ch, cls, L, u_out] += sgn
                if u_in != NOT:
                    ent[ch, cls, L, u_in] += sgn
                if mk:  # the innocent listed: on the list with a false record (which no quiet day changes)
                    if u_out != NOT:
                        inn[ch, cls, L, u_out] -= sgn
                    if u_in != NOT:
                        inn[ch, cls, L, u_in] += sgn
                if not own and L == SL:  # sanctioned only through ties: the list's changes count unless the tier
                    # sanctions (the tier of the ramp's score at the end of that day: rules.recovered, up to s + g)
                    if u_out != NOT and not sanctioned(False, tiers[recovered(s, ra, u_out, STEP, s + g) - LOW], STIERS):
                        ties[ch, cls, u_out] -= sgn
                    if u_in != NOT and not sanctioned(False, tiers[recovered(s, ra, u_in, STEP, s + g) - LOW], STIERS):
                        ties[ch, cls, u_in] += sgn
                if S4 and L == SL:  # the sanctioned by side of the deterrence line: the same, for everyone
                    for u, x in ((u_out, -sgn), (u_in, sgn)):
                        if u != NOT:
                            tu = tiers[recovered(s, ra, u, STEP, s + g) - LOW]
                            if not sanctioned(False, tu, STIERS):
                                sanc[ch, cls, 1 if tu >= DT else 0, u] += x
            if L == SL:
                sl0, sl_out, sl_in = listed0, u_out, u_in
        if n > 0:
            while tier > 0 and s + g >= mins[tier - 1]:
                if write:
                    u = ra + steps(mins[tier - 1] - s, STEP) - 1
                    tdiff[ch, cls, u, tier] -= sgn
                    tdiff[ch, cls, u, tier - 1] += sgn
                    if (not own and STIERS != 0) or S4:  # ... and the tiers' sanctions, on the list as it was before
                        # day u's change (the list's change above is counted at the tier after it: together, the change)
                        on = (sl0 and (sl_out == NOT or u <= sl_out)
                              or sl_in != NOT and u > sl_in and (sl_out == NOT or sl_out < sl_in or u <= sl_out))
                        a0, a1 = sanctioned(on, tier, STIERS), sanctioned(on, tier - 1, STIERS)
                        if not own and STIERS != 0:
                            ties[ch, cls, u] += sgn * (np.int64(a1) - np.int64(a0))
                        if S4:
                            if a0:
                                sanc[ch, cls, 1 if tier >= DT else 0, u] -= sgn
                            if a1:
                                sanc[ch, cls, 1 if tier - 1 >= DT else 0, u] += sgn
                tier -= 1
        s += g
        if e >= W or (not write and ec >= W):
            break
        deterred = s < DETER
        sn = (S4 or (write and not own)) and sanctioned(on_list(bl, SL), tier, STIERS)  # at the start of the day
        by_ties = write and not own and sn
        st = (1 if deterred else 0) + (2 if S4 and sn else 0)  # the day's state (model.state_codes)
        if st != 0 and fd == W:
            fd = e
        delta, offended, s_day, marks = 0, False, s, False
        if eo == e:  # the day's other detected acts
            a = first_event(i, cls, ko, M)
            while a < NO:
                b = other[a]
                thr = event_threshold(M.vary, cls, e, a, st, kept[a])
                if thr >= FULL or d32(keys[KEY.KEEP], i, ko * MAX_OTHER + a) < thr:
                    delta += pts[b]
                    offended |= pts[b] < 0
                    marks |= a >= NACT  # a false attribution (they come after the acts)
                    if write:
                        detc[ch, cls, st, e, column[a]] += sgn
                    if redress is not None and a >= NACT and e + rd.delay < W:  # (a refund after the window: carried)
                        if d32(keys[KEY.CONTEST], i, ko * MAX_OTHER + a) < rd.thr:  # contested: refunded
                            redress.qday[nq] = e + rd.delay  # (in order: the days come in order, the delay is one)
                            redress.qb[nq] = b
                            nq += 1
                a = next_event(i, cls, ko, a, M)
            ko += 1
            eo = next_day(bo, W)
        if ec == e:  # the day's detected network acts: each kept unless its draw falls in the day's dropped part
            j = first_net(i, cls, kc, M)
            while j < NN:
                b = nets[j]
                kd += 1
                u = drop_draw(i, e, j, M)
                thr, low = crit_thresholds(M.vary, cls, e, NO + j, keep[b], st)
                if u >= low:  # dropped in some state
                    unc = e
                if u < thr:
                    delta += pts[b]
                    offended |= pts[b] < 0
                    out[no] = act_code(d0 + e, j)
                    no += 1
                    if write:
                        detc[ch, cls, st, e, b] += sgn
                j = next_net(i, cls, kc, j, M)
            kc += 1
            ec = next_day(bc, W)
        while c < k_inc and inc_day(inc[c]) - d0 == e:
            delta += tie_pts[e, inc_kind(inc[c])]
            c += 1
            if write:
                ndiff[ch, cls, e] += sgn
        refunded = False
        if redress is not None:  # refunds: points back, not an offence
            while cc < c1 and rd.days[cc] - d0 == e:
                delta -= pts[rd.beh[cc]]
                cc += 1
                refunded = True
                if write:
                    redress.red[ch, cls, e] += sgn
            while qc < nq and redress.qday[qc] == e:
                delta -= pts[redress.qb[qc]]
                qc += 1
                refunded = True
                if write:
                    redress.red[ch, cls, e] += sgn
        if offended:
            lo = e
            if not own:
                own = True
                if write:
                    first_pen[ch, cls, e] += sgn  # the agent's first deduction ever (newly_penalised)
        s = min(max(s + delta, LOW), HIGH)
        if recovers(s, e - lo, QUIET, STEP, UPTO):
            s = recovery_step(s, STEP, UPTO)
            if write:
                rec[ch, cls, e] += sgn
                rec[ch, cls, e + 1] -= sgn
        for L in range(NL):  # the lists, on their publication days (the conditions first: most days meet none)
            b, RED = listed_day(bl, L), lists[L][LS_RED] != 0
            if b == NEVER:
                ENTER, EVERY = lists[L][LS_ENTER], lists[L][LS_EVERY]
                if enters_at(s, ENTER, RED) and published(d0 + e, EVERY) == d0 + e:  # a publication day
                    bl = with_listed(bl, L, d0 + e)
                    if kids and (CL >> L) & 1:
                        watch(hb, ch, L, e, NOT)
                    if write:
                        ent[ch, cls, L, e] += sgn
                        if mk:  # the innocent listed, of an agent that carried a false record before the day
                            inn[ch, cls, L, e] += sgn
            else:
                LEAVE, EVERY = lists[L][LS_LEAVE], lists[L][LS_EVERY]
                met = leaves_at(s, LEAVE, RED)  # leaves: no exit unless the condition is met
                if met and leaves(published(d0 + e, EVERY) == d0 + e, met, d0 + e - b, lists[L][LS_MIN_DAYS], False,
                                  -1, 0):
                    bl = with_listed(bl, L, NEVER)
                    if kids and (CL >> L) & 1:
                        watch(hb, ch, L, NOT, e)
                    if write:
                        ext[ch, cls, L, e] += sgn
                        if mk:
                            inn[ch, cls, L, e] -= sgn
        if refunded and mk and not marks:  # a record removed: the mark goes (the day engines clear it whole), unless
            mk = False                    # a false attribution comes the same day
            bl &= ~MARKED
            if write:
                marked[ch, cls, e] -= sgn
                for L in range(NL):  # ... and it is no longer innocent on the lists it is on at the day's end
                    if on_list(bl, L):
                        inn[ch, cls, L, e] -= sgn
        if marks and not mk:  # the day's false attribution is the agent's first false record
            mk = True
            bl |= MARKED
            if write:
                marked[ch, cls, e] += sgn
                for L in range(NL):  # ... and it is innocent on each list it is on at the day's end
                    if on_list(bl, L):
                        inn[ch, cls, L, e] += sgn
        new = tiers[s - LOW]
        if write:
            if by_ties != (not own and sanctioned(on_list(bl, SL), new, STIERS)):
                ties[ch, cls, e] += -sgn if by_ties else sgn
            if S4:  # the sanctioned by side of the deterrence line
                sn1 = sanctioned(on_list(bl, SL), new, STIERS)
                if sn:
                    sanc[ch, cls, 1 if tier >= DT else 0, e] -= sgn
                if sn1:
                    sanc[ch, cls, 1 if new >= DT else 0, e] += sgn
            if new != tier:
                tdiff[ch, cls, e, tier] -= sgn
                tdiff[ch, cls, e, new] += sgn
            b0, b1 = bins[s_day - LOW], bins[s - LOW]
            if b0 != b1:  # in another bin from this day's snapshot (or the first after it) on
                hist[ch, before[e], b0] -= sgn
                hist[ch, before[e], b1] += sgn
        tier = new
        t = e + 1
    if kids:
        for L in range(NL):  # still listed at the window's end: its children until then
            if hb[ch, 6 + L] != NOT:
                set_days(hb, ch, hb[ch, 6 + L] + 1, W)
    return no, kd, s, max(lo + d0, NEVER), bl, d0 + unc, d0 + fd


KIDS = 6 + MAX_LISTS  # a household's days for its children: a bitmap of window days (6 words), and the day its
                      # member being run was listed on each list (``D[13][ch]``; ``route.after_member``)
# the length of a work item's row of ``D[13]``: its KIDS words, then at least 56 bytes unused, so that the rows of
# two work items running at once never share a cache line, whatever the array's alignment (every agent's run
# reads and writes its row; with rows of KIDS words the two threads' rows shared one, and press-2018's sweep
# spent about a tenth of its time waiting for it)
KIDS_ROW = -(-(KIDS + 7) // 8) * 8


@njit(inline="always")
def set_days(hb, ch, a, b):
    """Set the days ``a .. b-1`` (window days, from 0 on) of the bitmap ``hb[ch, 0:6]``."""
    for t in range(max(a, 0), b):
        hb[ch, t >> 6] |= np.int64(1) << (t & 63)


@njit(inline="always")
def watch(hb, ch, L, u_in, u_out):
    """An agent enters list L on window day ``u_in`` and leaves it on ``u_out`` (``NOT``: not in the window;
    both: in the order of the days): its household's children are under the list's sanctions from the day
    after its entry to the day of its exit (the day engines pass a list change on to children the next day),
    marked in ``hb[ch]`` (``agent``), with the day listed kept in ``hb[ch, 6 + L]``."""
    if u_out != NOT and (u_in == NOT or u_out < u_in):
        set_days(hb, ch, hb[ch, 6 + L] + 1, u_out + 1)
        hb[ch, 6 + L] = NOT
    if u_in != NOT:
        hb[ch, 6 + L] = u_in
    if u_out != NOT and u_in != NOT and u_in < u_out:
        set_days(hb, ch, u_in + 1, u_out + 1)
        hb[ch, 6 + L] = NOT


@njit(cache=CACHE, error_model="numpy", forceinline=True)  # (compiled once, inlined by LLVM: see ``agent``)
def guess(i, d0, W, cls, s, lo, bl, M, out, bo, bc, z1, D0, redress):
    """The guess of agent i's network acts (codes in ``out``) and how many it has detected: all of them when
    no deterrence draw would drop one, or when its score cannot fall below the guard (``SC.GUARD``: the
    deterrence line, or where sanctions change act rates, the line below which a day may start sanctioned)
    before the last act such a draw would drop (every earlier act day losing ``guess_loss`` points, or where
    that bound fails the points of every event it draws, every earlier network act its points, nothing
    recovered), else those of its window run from its start state with no penalty coming in. Deterministic:
    the same guess wherever it is made. ``z1``: an empty int64 array; ``D0``: metric arrays that are not
    written. Returns (the number kept, the number detected, which were kept: bit x for the x-th
    detected, or -1 when the guess ran the window, whose kept acts are not matched to the detected ones)."""
    Ko, Kc = act_counts(i, cls, M)
    pts, nets, NO = M.points, M.nets, M.other.shape[0]
    K = network_acts(i, cls, Kc, W, M, bc, out)  # window days; rewritten in place below as the kept
    guard = M.sc[SC.GUARD]  # no day from a score at least this starts in a state that drops acts
    last, loss = -1, 0  # the last act a deterred day would drop, and the points of the network acts before it
    g, acc, mask = 0, 0, 0  # the acts a day may keep (with coverage over time a day may drop one whatever its
    for q in range(K):      # state), and which they are
        e, j = act_day(out[q]), act_net(out[q])
        b = nets[j]
        u = drop_draw(i, e, j, M)
        thr_u, low = crit_thresholds(M.vary, cls, e, NO + j, M.keep[b], 0)
        if u >= thr_u:
            continue
        if u >= low:
            last, loss = e, acc
        out[g] = act_code(d0 + e, j)
        g += 1
        mask |= 1 << q
        acc += min(pts[b], 0)
    if last < 0:
        return g, K, mask
    # (where sanctions change act rates, an agent under one from the start is run: the guard is a score line)
    if present(M.by_state) and on_list(bl, M.sc[SC.SLIST]):
        return _run_guess(i, d0, W, cls, s, lo, bl, M, out, bo, bc, z1, D0, redress)
    pick_days(M.keys[KEY.OTHER_DAYS], i, Ko, W, bo)
    other = 0  # the days with other acts before it
    while other < Ko and next_day(bo, W) < last:
        other += 1
    if s + loss - M.loss * other >= guard:
        return g, K, mask
    # the bound with the points of the events those days draw (thinning only drops events, and nothing else
    # before it takes points: no penalty comes in, recovery and refunds give): press-2018's largest loss, 200,
    # sent four in ten senders to a run of the window, where the drawn events' points send few
    for ko in range(other):
        a = first_event(i, cls, ko, M)
        while a < NO:
            loss += min(pts[M.other[a]], 0)
            a = next_event(i, cls, ko, a, M)
    if s + loss >= guard:
        return g, K, mask
    return _run_guess(i, d0, W, cls, s, lo, bl, M, out, bo, bc, z1, D0, redress)


@njit(inline="always")
def _run_guess(i, d0, W, cls, s, lo, bl, M, out, bo, bc, z1, D0, redress):
    """:func:`guess` by running agent i's window from its start state with no penalty coming in."""
    # typed zeros and False, not literals: every caller's arguments have the same types, so one signature
    zero = np.int64(0)
    g, K = agent(i, d0, W, cls, s, lo, bl, z1, zero, M, np.bool_(False), zero, D0, zero, out, bo, bc, redress)[:2]
    return g, K, -1

assert MAX_W <= 6 * 64 and MAX_LISTS * 16 < 63
