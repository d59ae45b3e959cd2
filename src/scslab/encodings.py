"""The encodings the engine reads, by name, in one place: the parameter vector's slots (``P``), the epoch
tables' columns (``BEH``, ``LIST``, ``CONS``), list conditions (``ENTER``, ``EXIT``), the bits of the per-agent
bytes (``FLAG``, ``STATE``, ``INBOX``), the event records (``EVENT``, ``REC``) and the story events (``SE``).

They are IntEnums because numba reads their members as compile-time integer constants. A kernel reads a
column, slot or bit by its name; ``tests/test_encodings.py`` refuses a literal index anywhere in the package.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["P", "PARAMETERS", "SIZES", "METRIC_ROWS", "LEVEL_METRICS", "REL", "REL_BITS", "HOUSEHOLD_RELATIONS",
           "network_arg", "BEH", "N_BEH", "LIST", "CONS", "ENTER", "EXIT", "FLAG", "TIE", "SHUNNED_ROWS",
           "SHUNNED_NAMES", "WORK_ROWS", "WORK_NAMES", "FINE_ROWS", "FINE_NAMES", "BANDS", "AWARE_BY", "AWARE", "STATE", "INBOX", "EVENT", "REC", "STORY_EVENTS", "SE"]

# Metrics that are levels (people in a state on a day), counted as deltas in the kernels and summed up by
# the driver; all others are flows (events on a day).
LEVEL_METRICS = ("M_TIER", "M_LISTED", "M_INNOCENT", "M_SANCT", "M_ACCT_ZERO", "M_DEBTORS", "M_FALSE_MARKED",
                 "M_TIES", "M_SHUNNED", "M_AWARE", "M_WORK", "M_OWED", "M_AGENCIES")


# The slots of the int64 parameter vector ``Epoch.prm``, in three groups (one vector: numba reads each slot
# as a constant index, and a kernel takes one array for all of them).
PARAMETERS = """N LO HI BASE REC_PTS REC_QUIET REC_UPTO RETENTION STRIKE_WIN ACCT_PTS ACCT_RESTORE REPAY_T REPAY_TS
    CONTEST_T REDRESS_DELAY CHILD_LISTS LINK_LISTS DEBT_LISTS BUSY_TIERS LIST_TIERS TIER_ATTEMPTS SHUN_T SHUN_LISTS SHUN_TIERS
    SHUN_L0 SHUN_L1 SHUN_L2 SHUN_L3 WORK_L0 WORK_L1 WORK_L2 WORK_L3 AWARE_T AWARE_PEN_T AWARE_TOLD_T AWARE_SEEN_T EMPLOYED_T INCOME_T0 INCOME_T1 INCOME_T2 INCOME_Y0 INCOME_Y1
    INCOME_Y2 INCOME_Y3 DEBT_T0 DEBT_T1 DEBT_T2 DEBT_Y0 DEBT_Y1 DEBT_Y2 DEBT_Y3""".split()
PARAMETERS_DOC = ("the model's numbers: population size, score bounds and base, recovery, retention, strike "
                  "window, the domain account, debt repayment thresholds, contest threshold and redress delay, "
                  "and masks derived from the rules (lists passed to children, an entity type's lists whose sanctions "
                  "fall on linked persons, lists entered on a court debt, tiers that keep agents BUSY, "
                  "tiers that list, tier attempts counted in aggregate), and ostracism: the daily threshold at "
                  "which each tie of a person shunned for its tier breaks, the lists and tiers whose people are "
                  "shunned, and each list's threshold for its people (``[ostracism]``'s or the list's "
                  "``shaming.ties``, the higher); the work a published list bars (``shaming.work``: each list's "
                  "threshold of the employed whose work it bars); "
                  "awareness: the thresholds of being aware at the start, of becoming aware on a day of lost "
                  "points, when told by a tie, and when a tie is listed; the economy ([economy], ``BANDS``): "
                  "the threshold of being employed, and up to four bands of daily income and of court-debt "
                  "amounts, each a cumulative threshold (the last band has none) and yuan")
SIZES = """NT NB NL NC R T NE K K_LOCAL K_FRIENDS BEST NM HAS_HH HAS_ACCT HAS_STRIKES HAS_OUTSTANDING
    HAS_SHUN HAS_AWARE HAS_WORK HAS_AMOUNTS""".split()
SIZES_DOC = ("how many there are: tiers, behaviours, lists, consequences, regions, traits (classes x groups), "
             "event kinds, tie matchings (all; the friends' drawn within the region; the friends', before the "
             "colleagues', all within the region), whether the first friend is a best friend, metric rows; and "
             "which optional parts exist (households, an account, escalation, record retention, ostracism, awareness, "
             "sanctions that cost work, court-debt amounts)")
METRIC_ROWS = """M_TIER M_LISTED M_ENTERED M_EXITED M_INNOCENT M_SANCT M_ATTEMPT M_ACCT_ZERO M_DEBTORS M_REPAID
    M_RECOVERED M_FALSE_MARKED M_ACTS M_DETECTED M_FALSE M_NEW_DEBT M_NET M_REDRESSED M_TIES M_PENALISED
    M_SHUNNED M_BROKEN M_AWARE M_AWARE_BY M_WORK M_JOBS_LOST M_OWED M_REPAID_YUAN M_FINES M_AGENCIES M_CODE""".split()
METRIC_ROWS_DOC = ("the first row of each metric block in the count tables ``cnt[metric, cell]`` (``M_CODE``: the "
                   "lazy scheduler's rows of people per state code, -1 where there are none)")

P = IntEnum("P", [*PARAMETERS, *SIZES, *METRIC_ROWS, "SIZE"], start=0)
P.__doc__ = (f"Slots of the int64 parameter vector ``Epoch.prm``: {len(PARAMETERS)} parameters ({PARAMETERS_DOC}), "
             f"{len(SIZES)} sizes ({SIZES_DOC}) and {len(METRIC_ROWS)} metric rows ({METRIC_ROWS_DOC}); "
             "``SIZE`` is the vector's length.")

# Columns of the epoch tables (``Epoch.beh``, ``Epoch.lists``, ``Epoch.cons``), by name.
# The kinds of tie, as the caught person's: who they are to the person who acted (population.py works them
# out from ids). The first four are household members: the actor's partner, parents and children, and
# everyone else in the household (siblings); the others are the tie matchings' ties.
REL = IntEnum("REL", "HOUSEHOLD PARTNER PARENTS CHILDREN BEST_FRIEND FRIENDS COLLEAGUES", start=0)
REL.__doc__ = ("Kinds of tie, as the actor's (``population.household_relation``, ``population.matching_relation``): "
               "another household member, the partner, a parent, a child, the best friend, a friend, a colleague. "
               "A behaviour's points for each are the columns ``BEH.NET + rel`` of ``Epoch.beh``.")
HOUSEHOLD_RELATIONS = (REL.HOUSEHOLD, REL.PARTNER, REL.PARENTS, REL.CHILDREN)
REL_BITS = 3  # a kind of tie in a story row's argument (:func:`network_arg`)


def network_arg(b, rel, tie):
    """A network penalty's story argument: the behaviour b, the kind of tie ``rel`` (``REL``: what the penalised
    person is to the actor) and the actor ``tie``: ``b + 256 * rel + 2048 * (tie + 1)`` (``metrics.network_source``
    unpacks it; engines compile this function)."""
    return b + 256 * rel + (256 << REL_BITS) * (tie + 1)
BEH = IntEnum("BEH", "POINTS ACCOUNT DEBT NEGATIVE N_CHANNELS N_REPEAT FINE NET", start=0)
BEH.__doc__ = ("Columns of ``Epoch.beh``: points, account (-1: the main score), creates debt, negative points, "
               "channels, escalation steps, the fine in yuan of a recorded act, and from ``NET`` on the points each kind of the actor's ties loses "
               "(``NET + REL.x``; 0 where the population has no such tie).")
N_BEH = BEH.NET + len(REL)  # columns of ``Epoch.beh``
LIST = IntEnum("LIST", "ENTER ENTER_ARG EXIT EXIT_ARG MIN_DAYS MAX_DAYS EXTRA_MAX PUBLISH PHASE ROW", start=0)
LIST.__doc__ = ("Columns of ``Epoch.lists``: entry kind and argument, exit kind and argument, minimum and maximum "
                "days (-1: none), most random extra days, publication every so many days, the phase: days "
                "since the last publication day, set for each day by the driver in its copy (0: a publication "
                "day), and the list's row of entry days in the ``listed`` column (-1: a list without a term in "
                "any epoch keeps no entry day, only its bit in ``on_lists``).")
CONS = IntEnum("CONS", "LISTS TIERS ACCOUNT_ZERO REWARD ATTEMPT CHILDREN WORK AGENCY", start=0)
CONS.__doc__ = ("Columns of ``Epoch.cons``: mask of lists and of tiers it follows, on a zeroed account, a reward, "
                "the daily attempt threshold, passed to children, the threshold of the employed whose work it "
                "bars (``costs_work``; 0: none), the bit of the agency that delivers it to the agent under it "
                "(``metric_names.agency_names``; 0: none, or a measure on the agent's linked persons or entities).")
ENTER = IntEnum("ENTER", "TIER_AT_MOST TIER_AT_LEAST ACCOUNT_ZERO DEBT", start=0)
EXIT = IntEnum("EXIT", "TIER_AT_LEAST TIER_AT_MOST ACCOUNT_RESTORED REPAID NEVER", start=0)
ENTER.__doc__ = "A list's entry condition (column ``LIST.ENTER``; the argument, a tier, in ``LIST.ENTER_ARG``)."
EXIT.__doc__ = "A list's exit condition (column ``LIST.EXIT``; ``NEVER``: only a maximum term ends a listing)."


class FLAG(IntEnum):
    """Bits of the per-agent ``flags`` byte."""

    ADULT = 1
    HOLDER = 2
    FALSE_MARK = 4
    DEBT = 8
    CONFISCATED = 16
    CHILD_SANCTION = 32
    STORY = 64
    SANCTIONED = 128


class TIE(IntEnum):
    """Fields of the per-agent ``ties`` word (only with ostracism): bits 0-15, the matchings whose ties broke
    because this person was shunned, or that it knows to be gone or absent when it draws them (``BROKEN``: a
    tie k is gone when either end has bit k); from bit ``LOST``
    the ties this person has lost, either end (5 bits); from bit ``HAD`` the ties it had at the start (the
    matchings in which it has a partner, 5 bits); ``COUNT`` masks a 5-bit count."""

    BROKEN = 0xFFFF
    LOST = 16
    HAD = 21
    COUNT = 31


# The economy's rows: from ``P.M_WORK`` the people out of work through a sanction and the income they lose a day
# (levels); from ``P.M_FINES`` the fines of recorded acts and those of false attributions (flows, yuan)
WORK_ROWS = IntEnum("WORK_ROWS", "PEOPLE INCOME", start=0)
WORK_NAMES = {WORK_ROWS.PEOPLE: "out_of_work", WORK_ROWS.INCOME: "income_lost_yuan"}
FINE_ROWS = IntEnum("FINE_ROWS", "ALL WRONGFUL", start=0)
FINE_NAMES = {FINE_ROWS.ALL: "fines_yuan", FINE_ROWS.WRONGFUL: "fines_wrongful_yuan"}
BANDS = 4  # most bands of income or of court-debt amounts (the slots ``INCOME_T0..``, ``DEBT_T0..``)

# Ostracism's level rows, from the row ``P.M_SHUNNED``: the people shunned, the ties they still have, the ties
# everyone else still has, the people who have lost a tie, and those of them with no act of their own on record
SHUNNED_ROWS = IntEnum("SHUNNED_ROWS", "PEOPLE TIES_SHUNNED TIES_OTHERS LOST LOST_NO_ACT", start=0)
SHUNNED_NAMES = {SHUNNED_ROWS.PEOPLE: "shunned", SHUNNED_ROWS.TIES_SHUNNED: "ties:shunned",
                 SHUNNED_ROWS.TIES_OTHERS: "ties:others", SHUNNED_ROWS.LOST: "lost_ties",
                 SHUNNED_ROWS.LOST_NO_ACT: "lost_ties_no_act"}


# How people become aware of the scheme ([awareness]): the flows ``aware_by:NAME`` from the row ``P.M_AWARE_BY``
AWARE_BY = IntEnum("AWARE_BY", "PENALTY TOLD SEEN", start=0)
AWARE_BY.__doc__ = ("How a person became aware: a day on which it lost points, told by a tie that had just become "
                    "aware, seeing a tie come under a sanction (the metrics ``aware_by:penalty``, ``aware_by:told``, "
                    "``aware_by:seen``).")


class AWARE(IntEnum):
    """Values of the per-agent ``aware`` byte (only with [awareness])."""

    NO = 0
    YES = 1
    NEW = 2  # aware since its last end of day: tells its ties at the next


class STATE(IntEnum):
    """Bits of the per-agent ``state`` byte, written at the end of each day for the next."""

    CODE = 63         # mask of the state code: tier * 8 + sanctioned * 4 + holder * 2 + adult
    RECOVERING = 64   # below the recovery ceiling with points to recover
    BUSY = 128        # end-of-day work even on a day when nothing happens (kernels.pack_state)


class INBOX(IntEnum):
    """Bits of the per-agent ``inbox`` byte: changes made by the act phase or the sparse pass, applied by the
    agent's own end of day (like ``pending`` for points), so level metrics are counted in one place."""

    FALSE = 1        # a false attribution was recorded
    DEBT = 2         # a court debt arose
    CONFISCATE = 4   # the domain account reached zero
    CHILD_ON = 8     # a household adult is listed on a list passed to children
    CHILD_OFF = 16   # no household adult is listed any more
    CLEAR_FALSE = 32  # a false record was removed on redress
    FIRST_OWN = 64   # the first deduction on the main score for an act of the agent's own (last_off was unset)
    VIRTUAL = 128    # lazy engine only: the score column holds a deferred recovery (engine/lazy.py)


# Kinds of records in the append buffer (``emit``): (kind, agent, day, a, b, c).
EVENT = IntEnum("EVENT", "NETWORK STORY LIST_CHANGE REDRESS SHUN AWARE LINK", start=0)
REC = IntEnum("REC", "KIND AGENT DAY A B C", start=0)
REC.__doc__ = ("Fields of an event record, the int64 rows the passes append: its kind (``EVENT``), the agent, the "
               "day, and three arguments by kind. NETWORK: behaviour, 1 if household members lose points, 1 if "
               "matched ties (friends, colleagues) do; STORY: "
               "the story event (``SE``), its argument, its points; LIST_CHANGE: list, 1 entered or 0 left, 0; "
               "REDRESS (day: when it falls due): behaviour, points, 0; SHUN (a shunned person's end of day): the "
               "matchings whose ties the draws break, as a mask, 0, 0; AWARE (an end of day): how the agent's "
               "ties may become aware (``AWARE_BY.TOLD``: it has just become aware; ``AWARE_BY.SEEN``: it was "
               "came under a sanction), 0, 0; LINK (an entity type's end of day): list, 1 entered or 0 left, 0, "
               "for a list whose sanctions fall on linked persons (``populations.linked_stories``).")

# story event codes (column ``event`` of stories.parquet)
STORY_EVENTS = ["act_detected", "false_attribution", "network_penalty", "recovery", "expiry", "account_zero",
                "account_restored", "list_enter", "list_exit", "tier_change", "attempt_blocked",
                "reward_granted", "repaid", "redress", "act_undetected", "shunned", "tie_dropped", "work_lost",
                "work_regained", "linked_listed", "linked_released"]
SE = IntEnum("SE", STORY_EVENTS, start=0)
