"""One agent's day, written once as plain functions and compiled by :func:`build` for any backend.

``build(jit)`` returns the compiled set: ``build(numba.njit)`` for the CPU, ``build(cuda.jit(device=True))``
for a GPU, ``build(lambda f: f)`` for plain Python (tests run it to check the compiled code).

A pass over the population does, for each agent ``i``:

1. ``finish`` (the end of day d-1): apply the inbox (flag changes made by others) and the pending points
   (own acts + network penalties) -> clamp -> expiries and recovery -> domain account restoration -> list
   entries and exits (on publication days) -> the breaks of a shunned agent's ties -> awareness (telling,
   or learning on a day of lost points) -> consequences and attempts -> repayment -> record metrics.
   Returns the start-of-day state code. An agent that is not BUSY, with an empty inbox, takes ``quick``
   instead while it stays in its tier: nothing to do, or its pending points and one recovery step.
2. ``act`` (day d): one uniform draw gates the day; only if it is below the gate threshold are the
   events (acts, false attributions) resolved: the first that fires by inverse CDF, then the rest of the
   list the same way on its conditional tail (one draw per event that fires, plus one).
   Detected acts add points to ``pending`` and append network, story and redress records to ``emit``.

Level metrics (people per tier, listed, sanctioned, ...) are counted as changes (-1 for the agent's state
before, +1 after) so quiet agents cost nothing; the driver adds the changes up. Network penalties are applied
between passes by the sparse pass (``engine.sparse``), which is why the end of day d-1 is finished at the start
of pass d: the documented order of phases is kept with one dense pass.
Decisions are integer comparisons of uint32 draws with uint64 thresholds; no float arithmetic.
"""

from __future__ import annotations

import numpy as np

from .. import population, rng
from . import economy, rules
from . import levels as levels_rules
from ..compile import BEH, CONS, LIST, REC, REL, STATE, EVENT, EXIT, FLAG, INBOX, SE, P
from ..encodings import AWARE, AWARE_BY, FINE_ROWS
from ..rng import Stream

__all__ = ["build", "NONE_DAY", "EMIT_WIDTH", "emit_margin"]

NONE_DAY = -32768   # "never" for int16 day columns
EMIT_WIDTH = len(REC)  # an event record's fields (compile.REC)
I16 = 30000


def emit_margin(prm) -> int:
    """Most emit records one agent can append in one pass (the buffer keeps this much room)."""
    return int(3 * prm[P.NE] + 3 * prm[P.NL] + prm[P.NC] + 15)


def build(jit, call=None):
    """Compile the per-agent functions with ``jit``; returns a namespace of them. The end of day comes twice
    from its one rule: ``finish_inlined`` compiled with ``jit`` (the lazy pass) and ``finish`` with ``call``
    (default ``jit``; on the CPU a plain call, for the dense pass, whose compile it keeps short)."""
    call = call or jit
    mix = jit(rng.mix64)
    region_of, partner, household_head = population.make(jit, mix)
    household_relation, matching_relation, matching_block = population.make_ties(jit, region_of)
    NET_HOUSEHOLD, NET_MATCHED = BEH.NET + REL.HOUSEHOLD, BEH.NET + REL.BEST_FRIEND  # (REL: household kinds first)
    NET_END = BEH.NET + len(REL)
    R = rules.make(jit)
    recovers, recovery_step = R.recovers, R.recovery_step
    enters, exit_met, leaves, shunned, tie_gone = R.enters, R.exit_met, R.leaves, R.shunned, R.tie_gone
    shun_threshold = R.shun_threshold
    AW_NO, AW_YES, AW_NEW = int(AWARE.NO), int(AWARE.YES), int(AWARE.NEW)
    GOLDEN, S32 = rng.GOLDEN, rng.S32
    F_ADULT, F_HOLDER, F_FALSE, F_DEBT = FLAG.ADULT, FLAG.HOLDER, FLAG.FALSE_MARK, FLAG.DEBT
    F_CONF, F_CHILD, F_STORY, F_SANCT = FLAG.CONFISCATED, FLAG.CHILD_SANCTION, FLAG.STORY, FLAG.SANCTIONED
    IN_FALSE, IN_DEBT, IN_CONF, IN_CLEAR_FALSE = INBOX.FALSE, INBOX.DEBT, INBOX.CONFISCATE, INBOX.CLEAR_FALSE
    IN_CHILD_ON, IN_CHILD_OFF, IN_FIRST_OWN = INBOX.CHILD_ON, INBOX.CHILD_OFF, INBOX.FIRST_OWN
    ST_CODE, ST_RECOVERING, ST_BUSY = int(STATE.CODE), int(STATE.RECOVERING), int(STATE.BUSY)
    LEVEL_FLAGS = F_FALSE | F_DEBT | F_CONF | F_CHILD  # the flags that level metrics depend on
    ONE32 = np.uint64(1 << 32)

    @jit
    def draw(key, agent):
        return mix(key + np.uint64(agent) * GOLDEN) >> S32

    @jit
    def tier_of(s, mins, nt):
        t = 0
        while t < nt - 1 and s < mins[t]:
            t += 1
        return t

    @jit
    def clamp(x, lo, hi):
        return lo if x < lo else (hi if x > hi else x)

    @jit
    def put(emit, ne, kind, agent, day, a, b, c):
        emit[ne, REC.KIND] = kind
        emit[ne, REC.AGENT] = agent
        emit[ne, REC.DAY] = day
        emit[ne, REC.A] = a
        emit[ne, REC.B] = b
        emit[ne, REC.C] = c
        return ne + 1

    @jit
    def init_agent(i, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, state,
                    prm, mins, class_cum, group_cum, holder_t, hh_adult, skeys):
        """Initial state of agent i: traits hashed from the id, base score, nothing listed."""
        uc = draw(skeys[Stream.CLASS], i)
        c = 0
        while uc >= class_cum[c]:
            c += 1
        ug = draw(skeys[Stream.GROUP], i)
        g = 0
        while ug >= group_cum[g]:
            g += 1
        traits[i] = c * group_cum.shape[0] + g
        f = 0
        if prm[P.HAS_HH] == 0 or hh_adult[i % hh_adult.shape[0]] == 1:
            f |= F_ADULT
        if prm[P.HAS_ACCT] != 0 and draw(skeys[Stream.HOLDER], i) < holder_t:
            f |= F_HOLDER
        flags[i] = f
        inbox[i] = 0
        score[i] = prm[P.BASE]
        pending[i] = 0
        last_off[i] = NONE_DAY
        for l in range(listed.shape[0]):
            listed[l, i] = NONE_DAY
        if i < on_lists.shape[0]:  # (a placeholder of length 1 without lists)
            on_lists[i] = 0
        if prm[P.HAS_ACCT] != 0:
            acct[i] = prm[P.ACCT_PTS]
            acct_since[i] = NONE_DAY
        if prm[P.HAS_STRIKES] != 0:
            strikes[i] = 0
        if prm[P.HAS_OUTSTANDING] != 0:
            outstanding[i] = 0
        state[i] = pack_state(tier_of(np.int64(score[i]), mins, prm[P.NT]), f, 0, np.int64(score[i]), prm)

    @jit
    def state_code(tier, f):
        """tier * 8 + sanctioned * 4 + holder * 2 + adult: the index of the gate's probability tables."""
        holder = 1 if (f & F_HOLDER) != 0 and (f & F_CONF) == 0 else 0
        sanct = 1 if (f & F_SANCT) != 0 else 0
        return tier * 8 + sanct * 4 + holder * 2 + (1 if (f & F_ADULT) != 0 else 0)

    L = levels_rules.make(jit, R)  # who is under which consequence, and the level metrics (engine/levels.py)
    applies, levels = L.applies, L.levels
    E = economy.make(jit, draw, applies, put)
    econ_change, debt_amount = E.change, E.debt_amount

    @jit
    def pack_state(tier, f, on, s, prm):
        """Start-of-day state byte: the gate's state code (bits 0-5), RECOVERING (bit 6), BUSY (bit 7).

        BUSY means the agent has end-of-day work even on a day when nothing happens to it (a listing, a debt,
        a confiscated account, a story, escalation or retention timers, a tier in ``BUSY_TIERS``: one that
        lists, or whose consequences draw attempts unless the scheduler counts those, ``TIER_ATTEMPTS``)."""
        busy = ((f & (F_DEBT | F_CONF | F_STORY | F_CHILD)) != 0 or on != 0
                or ((f & F_SANCT) != 0 and prm[P.TIER_ATTEMPTS] == 0)  # sanctioned: attempts every day
                or ((prm[P.BUSY_TIERS] >> tier) & 1) != 0)
        recovering = prm[P.REC_PTS] > 0 and s < prm[P.REC_UPTO]
        return state_code(tier, f) | (ST_RECOVERING if recovering else 0) | (ST_BUSY if busy else 0)

    @jit
    def quick_args(prm):
        """The scalars ``quick`` takes, from the end-of-day parameters: quiet days, recovery points and ceiling,
        score bounds, ``plain`` (no record retention, escalation or awareness: a day of lost points may make
        an unaware person aware, which only ``finish`` draws), and the ``recovered`` metric's row."""
        return (prm[P.REC_QUIET], prm[P.REC_PTS], prm[P.REC_UPTO], prm[P.LO], prm[P.HI],
                prm[P.HAS_OUTSTANDING] == 0 and prm[P.HAS_STRIKES] == 0 and prm[P.HAS_AWARE] == 0, prm[P.M_RECOVERED])

    @jit
    def quick(i, d, cell, score, pending, last_off, inbox, state, rec_quiet, rec_pts, rec_upto, lo, hi, plain, mins,
              cnt, m_recovered):
        """End of day d for an agent with an empty inbox and no running timers, when it stays in its tier:
        nothing, or its pending points and one recovery step. Returns the state code, or -1 when the full
        ``finish`` is needed (and then has changed nothing).

        An agent that is not BUSY is on no list, has no flag a level metric depends on and is in a tier that
        does not list and whose consequences' attempts, if any, the scheduler counts (``BUSY_TIERS``), so
        while its tier stays the same its end of day changes no level metric and no list: only its score, the
        ``recovered`` count and its RECOVERING bit.
        Parameters come as scalars (not the ``prm`` vector) so the compiler keeps them in registers;
        ``plain`` is false when record retention or escalation make every deduction and recovery step a full
        end of day."""
        st = np.int64(state[i])
        if inbox[i] != 0 or st >= ST_BUSY:
            return -1
        pend = np.int64(pending[i])
        step = (st & ST_RECOVERING) != 0 and d - np.int64(last_off[i]) >= rec_quiet  # recovers(): the bit says the rest
        if pend == 0 and not step:
            return st & ST_CODE
        if not plain:
            return -1
        s = np.int64(score[i])
        if pend != 0:
            s = clamp(s + pend, lo, hi)
            step = recovers(s, d - np.int64(last_off[i]), rec_quiet, rec_pts, rec_upto)
        if step:
            s = recovery_step(s, rec_pts, rec_upto)
        tier = (st >> 3) & 7
        if (tier > 0 and s >= mins[tier - 1]) or (tier < mins.shape[0] - 1 and s < mins[tier]):
            return -1  # a new tier: level metrics change
        score[i] = s
        pending[i] = 0
        if step:
            cnt[m_recovered, cell] += 1
        st = (st | ST_RECOVERING) if rec_pts > 0 and s < rec_upto else (st & (0xFF ^ ST_RECOVERING))
        state[i] = st
        return st & ST_CODE

    def finish(i, d, cell, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, state,
                    ties, aware, prm, mins, lists, cons, kf, ks, cnt, emit, ne):
        """End of day d for agent i; returns (state code for the next day, emit count)."""
        f0 = flags[i]
        f = f0
        code0 = np.int64(state[i]) & ST_CODE
        s0 = np.int64(score[i])
        nt = prm[P.NT]
        tier0 = tier_of(s0, mins, nt)
        on0 = np.int64(on_lists[i]) if lists.shape[0] > 0 else 0
        on = on0
        box = inbox[i]
        inbox[i] = 0
        own = last_off[i] != NONE_DAY
        own0 = own and (box & IN_FIRST_OWN) == 0
        if (box & IN_CLEAR_FALSE) != 0:
            f &= 0xFF ^ F_FALSE
        if (box & IN_FALSE) != 0:
            f |= F_FALSE
        if (box & IN_DEBT) != 0:
            f |= F_DEBT
        if (box & IN_CONF) != 0:
            f |= F_CONF
        if (box & IN_CHILD_ON) != 0:
            f |= F_CHILD
        if (box & IN_CHILD_OFF) != 0:
            f &= 0xFF ^ F_CHILD
        story = (f & F_STORY) != 0
        pend = np.int64(pending[i])
        pending[i] = 0
        if prm[P.HAS_OUTSTANDING] != 0 and pend < 0:
            outstanding[i] = max(-I16, outstanding[i] + pend)
        s = clamp(s0 + pend, prm[P.LO], prm[P.HI])
        quiet = d - np.int64(last_off[i])
        if prm[P.RETENTION] >= 0 and outstanding[i] < 0 and quiet >= prm[P.RETENTION]:
            back = -np.int64(outstanding[i])
            s = clamp(s + back, prm[P.LO], prm[P.HI])
            outstanding[i] = 0
            if story:
                ne = put(emit, ne, EVENT.STORY, i, d, SE.expiry, -1, back)
        if recovers(s, quiet, prm[P.REC_QUIET], prm[P.REC_PTS], prm[P.REC_UPTO]):
            ns = recovery_step(s, prm[P.REC_PTS], prm[P.REC_UPTO])
            cnt[prm[P.M_RECOVERED], cell] += 1
            if prm[P.HAS_OUTSTANDING] != 0:
                outstanding[i] = min(0, outstanding[i] + (ns - s))
            if story:
                ne = put(emit, ne, EVENT.STORY, i, d, SE.recovery, -1, ns - s)
            s = ns
        score[i] = s
        # domain account: strikes window and restoration after confiscation
        if prm[P.HAS_STRIKES] != 0 and strikes[i] > 0 and prm[P.STRIKE_WIN] >= 0:
            last = max(np.int64(last_off[i]), np.int64(acct_since[i]) if prm[P.HAS_ACCT] != 0 else NONE_DAY)
            if d - last >= prm[P.STRIKE_WIN]:
                strikes[i] = 0
        if (f & F_CONF) != 0 and d - np.int64(acct_since[i]) >= prm[P.ACCT_RESTORE]:
            acct[i] = prm[P.ACCT_PTS]
            f &= 0xFF ^ F_CONF
            if prm[P.HAS_STRIKES] != 0:
                strikes[i] = 0
            if story:
                ne = put(emit, ne, EVENT.STORY, i, d, SE.account_restored, -1, prm[P.ACCT_PTS])
        tier = tier_of(s, mins, nt)
        if story and tier != tier0:
            ne = put(emit, ne, EVENT.STORY, i, d, SE.tier_change, tier, s - s0)
        # lists: entries and exits on publication days; maximum terms end any day
        for l in range(lists.shape[0]):
            row = lists[l, LIST.ROW]  # its entry days' row in ``listed`` (-1: a list without a term keeps none)
            ek, ea, xk, xa = lists[l, LIST.ENTER], lists[l, LIST.ENTER_ARG], lists[l, LIST.EXIT], lists[l, LIST.EXIT_ARG]
            publish = lists[l, LIST.PHASE] == 0  # set per day by the driver
            if (on >> l) & 1 == 0:
                if publish and enters(ek, ea, tier, (f & F_CONF) != 0, (f & F_DEBT) != 0):
                    if row >= 0:
                        listed[row, i] = d
                    on |= 1 << l
                    cnt[prm[P.M_ENTERED] + l, cell] += 1
                    if (prm[P.CHILD_LISTS] >> l) & 1:
                        ne = put(emit, ne, EVENT.LIST_CHANGE, i, d, l, 1, 0)
                    if (prm[P.LINK_LISTS] >> l) & 1:  # its linked persons' stories (populations.linked_stories)
                        ne = put(emit, ne, EVENT.LINK, i, d, l, 1, 0)
                    if story:
                        ne = put(emit, ne, EVENT.STORY, i, d, SE.list_enter, l, 0)
            else:
                dur = d - np.int64(listed[row, i]) if row >= 0 else 0  # days on the list (none without a term)
                extra = 0
                if lists[l, LIST.MAX_DAYS] >= 0 and lists[l, LIST.EXTRA_MAX] > 0:
                    extra = np.int64(draw(ks[Stream.LIST_EXTRA + l], i) % np.uint64(lists[l, LIST.EXTRA_MAX] + 1))
                met = exit_met(xk, xa, tier, (f & F_CONF) != 0, (f & F_DEBT) != 0)
                if leaves(publish, met, dur, lists[l, LIST.MIN_DAYS], xk == EXIT.REPAID, lists[l, LIST.MAX_DAYS],
                          extra):
                    if row >= 0:
                        listed[row, i] = NONE_DAY
                    on ^= 1 << l  # the bit is set: this agent was listed
                    cnt[prm[P.M_EXITED] + l, cell] += 1
                    if (prm[P.CHILD_LISTS] >> l) & 1:
                        ne = put(emit, ne, EVENT.LIST_CHANGE, i, d, l, 0, 0)
                    if (prm[P.LINK_LISTS] >> l) & 1:
                        ne = put(emit, ne, EVENT.LINK, i, d, l, 0, 0)
                    if story:  # the days on the list are read from the story log (metrics.stories_table)
                        ne = put(emit, ne, EVENT.STORY, i, d, SE.list_exit, l, 0)
        # ostracism: each standing tie of a shunned person breaks with the day's chance (engine.ostracism applies it)
        tw = np.int64(ties[i]) if prm[P.HAS_SHUN] != 0 else 0
        shun_t = shun_threshold(on, tier, prm) if prm[P.HAS_SHUN] != 0 else 0
        if shun_t > 0:
            drawn = 0
            for k in range(prm[P.K]):
                if ((tw >> k) & 1) == 0 and draw(kf[Stream.SHUN + k], i) < np.uint64(shun_t):
                    drawn |= 1 << k
            if drawn != 0:
                ne = put(emit, ne, EVENT.SHUN, i, d, drawn, 0, 0)
        # awareness: one who became aware tells its ties (engine.awareness); a day of lost points may make one aware
        if prm[P.HAS_AWARE] != 0 and (f & F_ADULT) != 0:
            aw = np.int64(aware[i])
            if aw == AW_NEW:
                if prm[P.AWARE_TOLD_T] > 0:
                    ne = put(emit, ne, EVENT.AWARE, i, d, AWARE_BY.TOLD, 0, 0)
                aware[i] = AW_YES
            elif aw == AW_NO and pend < 0 and draw(kf[Stream.AWARE_PENALTY], i) < np.uint64(prm[P.AWARE_PEN_T]):
                aware[i] = AW_NEW
                cnt[prm[P.M_AWARE], cell] += 1
                cnt[prm[P.M_AWARE_BY] + AWARE_BY.PENALTY, cell] += 1
        # consequences and attempts
        sanctioned = 0
        counted = prm[P.TIER_ATTEMPTS] != 0 and not story  # the scheduler counts attempts by tier in aggregate
        for k in range(cons.shape[0]):
            if applies(k, cons, on, tier, f):
                if cons[k, CONS.REWARD] == 0 and cons[k, CONS.CHILDREN] == 0:
                    sanctioned = 1
                if counted and cons[k, CONS.CHILDREN] == 0 and ((cons[k, CONS.TIERS] >> tier) & 1) != 0:
                    continue
                if cons[k, CONS.ATTEMPT] > 0 and draw(kf[Stream.ATTEMPT + k], i) < np.uint64(cons[k, CONS.ATTEMPT]):
                    cnt[prm[P.M_ATTEMPT] + k, cell] += 1
                    if story:
                        code = SE.reward_granted if cons[k, CONS.REWARD] != 0 else SE.attempt_blocked
                        ne = put(emit, ne, EVENT.STORY, i, d, code, k, 0)
        if sanctioned and (f0 & F_SANCT) == 0 and prm[P.AWARE_SEEN_T] > 0:  # its ties may see it (engine.awareness)
            ne = put(emit, ne, EVENT.AWARE, i, d, AWARE_BY.SEEN, 0, 0)
        f = (f | F_SANCT) if sanctioned else (f & (0xFF ^ F_SANCT))
        # repayment of court debt
        if (f & F_DEBT) != 0:
            t = prm[P.REPAY_TS] if sanctioned else prm[P.REPAY_T]
            if draw(kf[Stream.REPAY], i) < np.uint64(t):
                f &= 0xFF ^ F_DEBT
                cnt[prm[P.M_REPAID], cell] += 1
                if prm[P.HAS_AMOUNTS] != 0:
                    cnt[prm[P.M_REPAID_YUAN], cell] += debt_amount(i, prm, ks)
                if story:
                    ne = put(emit, ne, EVENT.STORY, i, d, SE.repaid, -1, 0)
        if tier != tier0 or on != on0 or ((f ^ f0) & LEVEL_FLAGS) != 0 or own != own0:  # level metrics change
            levels(cnt, cell, -1, tier0, on0, f0, own0, tw, prm, cons)
            levels(cnt, cell, 1, tier, on, f, own, tw, prm, cons)
            if prm[P.HAS_WORK] != 0 or prm[P.HAS_AMOUNTS] != 0:  # work and debts in yuan (engine.economy)
                ne = econ_change(cnt, cell, i, d, tier0, on0, f0, tier, on, f, prm, cons, ks, story, emit, ne)
        flags[i] = f
        if lists.shape[0] > 0:
            on_lists[i] = on
        if (prm[P.HAS_OUTSTANDING] != 0 and outstanding[i] != 0 or prm[P.HAS_STRIKES] != 0 and strikes[i] != 0
                or prm[P.HAS_AWARE] != 0 and aware[i] == AW_NEW):  # (one newly aware tells its ties tomorrow)
            state[i] = pack_state(tier, f, on, s, prm) | ST_BUSY
        else:
            state[i] = pack_state(tier, f, on, s, prm)
        code = state_code(tier, f)
        if prm[P.M_CODE] >= 0 and code != code0 and not story:  # people per state code (lazy engine only)
            cnt[prm[P.M_CODE] + code0, cell] -= 1
            cnt[prm[P.M_CODE] + code, cell] += 1
        return code, ne

    # the end of day, compiled twice from the one rule: called (the dense pass: a shorter compile for an engine
    # no scheme takes by default) and inlined (the lazy pass, which runs it for every woken agent that
    # ``quick`` cannot settle: on the court list every debtor, every day)
    finish_inlined = jit(finish)
    finish = finish_inlined if call is jit else call(finish)  # (one function where both are the same)

    @jit
    def apply_points(i, d, b, ch, false, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct, strikes, outstanding, acct_since, state,
                    prm, beh, rep, ka, cnt, cell, emit, ne):
        """The points of a detected (or falsely attributed) act of behaviour ``b`` to agent i on day d: on the
        domain account or owed to the main score at the day's end, with what they cause (a zeroed account, a
        false record, a debt, network penalties, a redress appeal). An agent's first deduction ever, on the
        score or an account, counts once in ``newly_penalised``."""
        pts = np.int64(beh[b, BEH.POINTS])
        nrep = beh[b, BEH.N_REPEAT]
        if nrep > 0:
            k = np.int64(strikes[i])
            pts = np.int64(rep[b, k if k < nrep else nrep - 1])
            strikes[i] = min(k + 1, 255)
        if pts < 0 and last_off[i] == NONE_DAY and (prm[P.HAS_ACCT] == 0 or acct_since[i] == NONE_DAY):
            cnt[prm[P.M_PENALISED], cell] += 1
        fine = np.int64(beh[b, BEH.FINE])
        if fine > 0:  # a fine, in yuan; a false attribution's is wrongful (engine.economy)
            cnt[prm[P.M_FINES] + FINE_ROWS.ALL, cell] += fine
            if false:
                cnt[prm[P.M_FINES] + FINE_ROWS.WRONGFUL, cell] += fine
        story = (flags[i] & F_STORY) != 0
        box = inbox[i]
        if beh[b, BEH.ACCOUNT] >= 0:  # a domain account takes the points
            a = np.int64(acct[i]) + pts
            if pts < 0:
                acct_since[i] = d
            if a <= 0 and (flags[i] & F_CONF) == 0 and (box & IN_CONF) == 0:
                box |= IN_CONF
                if story:
                    ne = put(emit, ne, EVENT.STORY, i, d, SE.account_zero, b, pts)
            acct[i] = clamp(a, 0, prm[P.ACCT_PTS])
        else:
            pending[i] = clamp(np.int64(pending[i]) + pts, -I16, I16)
            if pts < 0:
                if last_off[i] == NONE_DAY:
                    box |= IN_FIRST_OWN
                last_off[i] = d
        if false:
            box |= IN_FALSE
            if prm[P.CONTEST_T] > 0 and draw(ka[Stream.REDRESS + b], i) < np.uint64(prm[P.CONTEST_T]):
                ne = put(emit, ne, EVENT.REDRESS, i, d + prm[P.REDRESS_DELAY], b, pts, 0)
        elif beh[b, BEH.DEBT] != 0:
            box |= IN_DEBT
        inbox[i] = box
        hh, matched = 0, 0
        for col in range(NET_HOUSEHOLD, NET_END):
            if beh[b, col] != 0:
                if col < NET_MATCHED:
                    hh = 1
                else:
                    matched = 1
        if hh or matched:
            ne = put(emit, ne, EVENT.NETWORK, i, d, b, hh, matched)
        if story:
            code = SE.false_attribution if false else SE.act_detected
            ne = put(emit, ne, EVENT.STORY, i, d, code, b + 256 * (ch + 1), pts)  # arg packs the channel
        return ne

    @jit
    def act(i, d, code, cell, tc, region, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct,
            strikes, outstanding, acct_since, state, prm, beh, rep, gate, cum, det, ka, cnt, emit, ne):
        """Day d for agent i: draw acts and false attributions, detect, apply own points. ``tc`` is the row of
        the gate and event tables: ``cell``, or with [awareness] ``cell`` + cells for an unaware agent
        (``compile.probabilities``); counts go to ``cell``.

        One draw against ``gate`` decides whether anything happens. If so, the first event that fires is
        found by inverse CDF on ``cum``; then the remaining events are resolved the same way on the
        conditional tail (the events after the one that fired), one draw per event that fires plus one. In
        fixed point, N(j) = 2**32 - cum[j] is P(none of events 0..j); the first event of the tail after s
        that fires is the least j with u * N(s) < (cum[j] - cum[s]) * 2**32. Integers only: exact.
        """
        u = draw(ka[Stream.GATE], i)
        if u >= gate[tc, code]:
            return ne
        return events(u, i, d, code, cell, tc, region, score, pending, last_off, listed, on_lists, traits, flags,
                      inbox, acct, strikes, outstanding, acct_since, state, prm, beh, rep, cum, det, ka, cnt, emit, ne)

    @jit
    def next_event(tab, cell, code, e, key, i):
        """Given that event e of the list ``tab[cell, code]`` (inverse-CDF thresholds) fired, the next one
        after it that fires, or -1: one draw. N(j) = 2**32 - tab[j] is P(none of 0..j); the next is the least
        j > e with u * N(e) < (tab[j] - tab[e]) * 2**32."""
        last = tab.shape[2] - 1
        if e >= last:
            return -1
        cs = tab[cell, code, e]
        lhs = draw(key, i) * (ONE32 - cs)
        if lhs >= (tab[cell, code, last] - cs) << S32:
            return -1
        e += 1
        while lhs >= (tab[cell, code, e] - cs) << S32:
            e += 1
        return e

    @jit
    def events(u, i, d, code, cell, tc, region, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct,
               strikes, outstanding, acct_since, state, prm, beh, rep, cum, det, ka, cnt, emit, ne):
        """The events of agent i's day, given a gate draw ``u`` below the gate (uniform on [0, gate)).

        The dense engine draws ``u`` per agent; the lazy engine reaches the agent by skipping and draws a
        ``u`` with the same conditional law, so both resolve events with this one function."""
        e = 0
        while u >= cum[tc, code, e]:
            e += 1
        n_groups = det.shape[1]
        group = np.int64(traits[i]) % n_groups if n_groups > 1 else 0  # a 64-bit division only when needed
        while True:
            b = e >> 1
            false = (e & 1) == 1
            detected = True
            j = -1
            if not false:
                cnt[prm[P.M_ACTS] + b, cell] += 1
                ud = draw(ka[Stream.DETECT + b], i)
                nch = beh[b, BEH.N_CHANNELS]
                j = 0
                while j < nch and ud >= det[region, group, b, j]:
                    j += 1
                if j == nch:
                    detected = False
                    if (flags[i] & F_STORY) != 0:
                        ne = put(emit, ne, EVENT.STORY, i, d, SE.act_undetected, b, 0)
                else:
                    cnt[prm[P.M_DETECTED] + b, cell] += 1
                    if beh[b, BEH.DEBT] != 0 and (flags[i] & F_DEBT) == 0 and (inbox[i] & IN_DEBT) == 0:
                        cnt[prm[P.M_NEW_DEBT], cell] += 1
            else:
                cnt[prm[P.M_FALSE] + b, cell] += 1
            if detected:
                ne = apply_points(i, d, b, j, false, score, pending, last_off, listed, on_lists, traits, flags, inbox, acct,
                                  strikes, outstanding, acct_since, state, prm, beh, rep, ka, cnt, cell, emit, ne)
            e = next_event(cum, tc, code, e, ka[Stream.EVENT + e + 1], i)  # the rest, given e fired
            if e < 0:
                break
        return ne

    return _Namespace(draw=draw, put=put, tier_of=tier_of, clamp=clamp, init_agent=init_agent, state_code=state_code,
                      quick=quick, quick_args=quick_args, pack_state=pack_state, levels=levels, applies=applies,
                      finish=finish, finish_inlined=finish_inlined, act=act, events=events, next_event=next_event,
                      apply_points=apply_points, partner=partner, household_head=household_head,
                      household_relation=household_relation, matching_relation=matching_relation,
                      matching_block=matching_block, region_of=region_of, mix=mix, shunned=shunned,
                      tie_gone=tie_gone, work_levels=E.work_levels, debt_amount=debt_amount)


class _Namespace:
    def __init__(self, **kw):
        self.__dict__.update(kw)
