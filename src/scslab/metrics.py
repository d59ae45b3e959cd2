"""Raw engine counts -> tidy Arrow tables: ``metrics`` (day, metric, group, value) and ``stories``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .arrow import array, strings
from .compile import BEH, REC, REL, SE, STORY_EVENTS, P, Plan
from .encodings import REL_BITS
from .engine.histogram import bin_labels, run_snapshot_days, score_bins

SCORE_PREFIX = "score:"  # the score distribution's rows (engine.histogram): snapshot days only

__all__ = ["SCORE_PREFIX", "metrics_table", "metric_rows", "stories_table", "group_labels", "group_sums", "METRICS_SCHEMA", "STORIES_SCHEMA"]

METRICS_SCHEMA = pa.schema([("day", pa.int32()), ("metric", pa.string()), ("group", pa.string()),
                            ("value", pa.int64())])
STORIES_SCHEMA = pa.schema([("day", pa.int32()), ("agent", pa.int64()), ("event", pa.string()),
                            ("behaviour", pa.string()), ("channel", pa.string()), ("points", pa.int32()),
                            ("score_after", pa.int32()), ("reason", pa.string()), ("population", pa.string())])


def group_labels(plan: Plan) -> list[str]:
    """The groups metrics are reported for, in the table's order: always ``all``; ``region:*``, ``group:*``
    and ``class:*`` when the scenario has more than one of each."""
    names = ["all"]
    for prefix, labels in (("region", plan.region_names), ("group", plan.group_names), ("class", plan.class_names)):
        if len(labels) > 1:
            names += [f"{prefix}:{label}" for label in labels]
    return names


def group_sums(plan: Plan, counts: np.ndarray) -> np.ndarray:
    """``counts[..., cells]`` summed into the groups of :func:`group_labels`: ``[..., groups]``. A cell is
    region * (classes * groups) + class * groups + group; the sums take time and memory linear in the cells."""
    R, C, G = len(plan.region_names), len(plan.class_names), len(plan.group_names)
    by = counts.reshape(*counts.shape[:-1], R, C, G)
    parts = [by.sum(axis=(-3, -2, -1))[..., None]]
    for axes, size in (((-2, -1), R), ((-3, -2), G), ((-3, -1), C)):  # region, group, class
        if size > 1:
            parts.append(by.sum(axis=axes))
    return np.concatenate(parts, axis=-1)


def metric_rows(plan: Plan) -> int:
    """Rows of the metrics table: every (day, metric, group), one coverage row per channel and day, and the
    score distribution's bins on its snapshot days."""
    snapshots = len(run_snapshot_days(plan)) * score_bins(plan)[2]
    coverage = len(plan.channel_names) * (1 + (len(plan.region_names) if len(plan.region_names) > 1 else 0))
    if not plan.watching.as_it_is:  # and the perceived coverage
        coverage *= 2
    return plan.days * (len(plan.metric_names) * len(group_labels(plan)) + coverage) + snapshots


def metrics_table(plan: Plan, counts: np.ndarray, coverage: np.ndarray,
                  score_hist: np.ndarray | None = None) -> pa.Table:
    """One row per (day, metric, group); coverage of each channel as ``coverage_ppm:<channel>``: in group
    ``all`` as the scenario sets it everywhere (``Plan.national``), in each group ``region:NAME`` (when there
    are several regions) the effective coverage there (``Plan.local_coverage``); where people do not perceive
    it as it is ([perception]), the perceived coverage as ``perceived_ppm:<channel>``, in group ``all`` of the
    scenario's own coverage (``Plan.national_perceived``) and per region of the effective coverage there;
    the score distribution as ``score:LOW..HIGH`` (people, group all) on its snapshot days only
    (``engine.histogram``)."""
    names = group_labels(plan)
    D, M, _ = counts.shape
    values = group_sums(plan, counts)  # [D, M, groups]
    day = np.repeat(np.arange(D, dtype=np.int32), M * len(names))
    metric = np.tile(np.repeat(np.arange(M), len(names)), D)
    group = np.tile(np.arange(len(names)), D * M)
    metric_names = list(plan.metric_names)
    arrays = [day, metric, group, values.reshape(-1)]

    def append(days, metrics, vals, labels, groups=None):
        """Rows of new metrics ``labels`` (``metrics`` indexes them), in group ``all`` or ``groups``."""
        arrays[0] = np.concatenate([arrays[0], days.astype(np.int32)])
        arrays[1] = np.concatenate([arrays[1], len(metric_names) + metrics])
        arrays[2] = np.concatenate([arrays[2], np.zeros(len(days), np.int64) if groups is None else groups])
        arrays[3] = np.concatenate([arrays[3], vals.astype(np.int64)])
        metric_names.extend(labels)

    if len(plan.channel_names):
        K, R = len(plan.channel_names), len(plan.region_names)
        rows = [("coverage_ppm", coverage)]  # group all: the scenario's own coverage
        if not plan.watching.as_it_is:  # group all: the scenario's own coverage as people perceive it
            rows.append(("perceived_ppm", np.array([plan.national_perceived(d) for d in range(D)])))
        for kind, everyone in rows:
            days, channel, values = np.repeat(np.arange(D), K), np.tile(np.arange(K), D), everyone.reshape(-1)
            groups = np.zeros(D * K, np.int64)
            if R > 1:  # and each region's, in the groups region:NAME (1 + region in group_labels)
                mine = np.array([plan.local_coverage(d)[0 if kind == "coverage_ppm" else 1] for d in range(D)])
                days = np.concatenate([days, np.repeat(np.arange(D), R * K)])
                channel = np.concatenate([channel, np.tile(np.arange(K), D * R)])
                values = np.concatenate([values, mine.reshape(-1)])
                groups = np.concatenate([groups, np.tile(np.repeat(1 + np.arange(R), K), D)])
            append(days, channel, np.rint(values * 1e6), [f"{kind}:{c}" for c in plan.channel_names], groups)
    if score_hist is not None:
        S, B = score_hist.shape
        append(np.repeat(run_snapshot_days(plan), B), np.tile(np.arange(B), S), score_hist.reshape(-1), bin_labels(plan))
    order = np.lexsort((arrays[2], arrays[1], arrays[0]))
    metric_col = pa.DictionaryArray.from_arrays(array(arrays[1][order], pa.int32()), strings(metric_names))
    group_col = pa.DictionaryArray.from_arrays(array(arrays[2][order], pa.int32()), strings(names))
    return pa.table({"day": array(arrays[0][order], pa.int32()),
                     "metric": metric_col.cast(pa.string()),
                     "group": group_col.cast(pa.string()),
                     "value": array(arrays[3][order], pa.int64())}, schema=METRICS_SCHEMA)


REASONS = {
    "act_detected": "{what} detected by {channel}: {points:+d} points",
    "false_attribution": "wrongly matched to a {what} act (false attribution): {points:+d} points",
    "act_undetected": "{what}, not detected",
    "network_penalty": "{tie} was caught for {what}: {points:+d} points (network penalty)",
    "recovery": "quiet-period recovery: {points:+d} points",
    "expiry": "old deductions expired: {points:+d} points",
    "tier_change": "moved to tier {what}",
    "list_enter": "entered list {what}",
    "list_exit": "left list {what} after {points} days",
    "attempt_blocked": "attempt blocked: {what}",
    "reward_granted": "reward used: {what}",
    "account_zero": "{what} account reached zero: confiscation",
    "account_restored": "account restored to {points} points",
    "repaid": "court debt repaid",
    "redress": "false {what} record removed on appeal: {points:+d} points",
    "shunned": "{tie} dropped their tie (ostracism)",
    "tie_dropped": "dropped the tie to {tie}, who is shunned (ostracism)",
    "work_lost": "out of work through a sanction: loses {points:,} yuan a day",
    "work_regained": "back in work ({points:,} yuan a day): the sanction that barred it ended",
    "linked_listed": "sanctioned through a link: {tie}",
    "linked_released": "no longer sanctioned through a link: {what} left the list",
}


# a network penalty's tie, by its kind (``REL``, as the actor's: ``engine.sparse.penalise``) named as it is to
# the person who loses the points: the actor is the partner of its partner, the child of its parents...
RELATIONS = {REL.HOUSEHOLD: "household member", REL.PARTNER: "partner", REL.PARENTS: "child",
             REL.CHILDREN: "parent", REL.BEST_FRIEND: "best friend", REL.FRIENDS: "friend",
             REL.COLLEAGUES: "colleague"}

# rows whose engine number is not points of their own (a tier change's net change of the day, the days on a
# list, an account's points): the reason tells it, and the table stores 0 points, so none is counted twice
_NO_POINTS = (SE.tier_change, SE.list_exit, SE.account_restored, SE.work_lost, SE.work_regained)
_PENDING = (SE.act_detected, SE.false_attribution, SE.network_penalty, SE.redress)  # points owed until the day ends
_ACT_PHASE = (*_PENDING, SE.act_undetected, SE.account_zero)  # rows of the day's acts (before its end)


def network_source(arg: int) -> tuple[int, str] | None:
    """(tie id, what the tie is to the penalised person) of a network penalty's story argument (``b + 256 *
    rel + 2048 * (tie + 1)``, ``encodings.network_arg``), or None for rows that do not carry it."""
    tie = arg // (256 << REL_BITS) - 1
    return None if tie < 0 else (tie, RELATIONS[REL((arg // 256) % (1 << REL_BITS))])


def _story_words(plan: Plan, code: int, arg: int, points: int) -> tuple[str, str, str, str]:
    """(event, behaviour or what, channel, reason) of one kind of story row."""
    event = STORY_EVENTS[code]
    what, channel, tie = "", "", ""
    if code in (SE.network_penalty, SE.shunned, SE.tie_dropped):
        what = plan.behaviour_names[arg % 256] if code == SE.network_penalty else ""
        source = network_source(arg)
        tie = "a tie" if source is None else f"{source[1]} {source[0]}"
    elif code in (SE.act_detected, SE.false_attribution, SE.act_undetected, SE.account_zero, SE.redress):
        b, ch = arg % 256, arg // 256 - 1
        what = plan.behaviour_names[b]
        if ch >= 0:
            channel = plan.scenario.behaviours[what].channels[ch]
    elif code == SE.tier_change:
        what = plan.tier_names[arg]
    elif code in (SE.list_enter, SE.list_exit):
        what = plan.list_names[arg]
    elif code in (SE.attempt_blocked, SE.reward_granted):
        what = plan.consequence_names[arg]
    elif code == SE.account_restored and plan.account_names:
        what = plan.account_names[0]
    elif code in (SE.linked_listed, SE.linked_released):  # a person sanctioned through its firm's listing
        from .populations import linked_words

        what, tie = linked_words(plan, arg)
    return event, what, channel, REASONS.get(event, event).format(what=what, channel=channel, points=points, tie=tie)


def _scores_after(plan: Plan, day, agent, code, arg, pts, k, known, story_scores) -> np.ndarray:
    """The score right after each row, rows sorted by (day, agent) in occurrence order.

    A day runs: its acts (own points, false attributions, network penalties, redress) add up as points owed,
    then the day's end applies them at once (clamped to the score's range), then expiry and recovery, then
    tiers, lists and attempts. So an act's row shows the start-of-day score plus the points owed so far
    (clamped); the rows of the day's end show the end-of-day score (an expiry: before that day's recovery)."""
    n = len(day)
    D = story_scores.shape[0]
    prm = plan.epochs[0].prm
    lo, hi = int(prm[P.LO]), int(prm[P.HI])
    end = story_scores[np.clip(day, 0, D - 1), k].astype(np.int64)
    start = np.where(day > 0, story_scores[np.clip(day - 1, 0, D - 1), k], int(prm[P.BASE])).astype(np.int64)
    owed = np.isin(code, _PENDING)
    on_account = np.isin(code, (SE.act_detected, SE.false_attribution, SE.redress))
    if on_account.any():  # a domain account's behaviour takes points off the account, not the score
        starts = np.array([e.start for e in plan.epochs])
        epoch = np.searchsorted(starts, day, side="right") - 1
        account = np.stack([e.beh[:, BEH.ACCOUNT] >= 0 for e in plan.epochs])
        on_account &= account[np.maximum(epoch, 0), np.where(on_account, arg % 256, 0)]
        owed &= ~on_account
    contrib = np.where(owed, pts, 0).astype(np.int64)
    first = np.r_[True, (day[1:] != day[:-1]) | (agent[1:] != agent[:-1])] if n else np.zeros(0, bool)
    group = np.cumsum(first) - 1
    cum = np.cumsum(contrib)
    before = (cum - contrib)[first]
    running = np.clip(start + cum - before[group], lo, hi)
    recovered = np.bincount(group, weights=np.where(code == SE.recovery, pts, 0), minlength=int(first.sum()))
    after = np.where(np.isin(code, _ACT_PHASE), running, end)
    after = np.where(code == SE.expiry, end - recovered[group].astype(np.int64), after)
    return np.where(known, after, 0).astype(np.int32)


def _list_days(day, agent, code, arg, pts) -> np.ndarray:
    """``pts`` with each list exit's days on the list: its day less the day of the same agent's entry into the
    same list before it (rows in occurrence order; an agent's log starts before any entry, so every exit has
    one). The engines keep an entry day only for lists with a term, so the log is where the days are read."""
    sel = np.flatnonzero((code == SE.list_enter) | (code == SE.list_exit))
    if len(sel) == 0:
        return pts
    by = sel[np.lexsort((sel, arg[sel], agent[sel]))]  # each (agent, list): its entries and exits in order
    out = np.array(pts, np.int64)
    exits = np.flatnonzero(code[by[1:]] == SE.list_exit) + 1
    entry = by[exits - 1]
    ok = (code[entry] == SE.list_enter) & (agent[entry] == agent[by[exits]]) & (arg[entry] == arg[by[exits]])
    out[by[exits[ok]]] = day[by[exits[ok]]] - day[entry[ok]]
    return out


def stories_table(plan: Plan, rows: np.ndarray, story_ids: np.ndarray, story_scores: np.ndarray, *,
                  population: str = "persons") -> pa.Table:
    """The event log of the sampled agents, ordered by (day, agent) and, within them, by occurrence;
    ``population`` names whose log it is (``persons``, or an entity type such as ``firms``). ``score_after`` is
    the score right after the event (:func:`_scores_after`: several events of one day show the score climbing
    or falling through the day); ``points`` are the event's own score points (0 for tier changes, list exits
    and restored accounts, whose numbers the reason tells). The words of each distinct (event, argument,
    points) are made once, so a long log costs its columns, not a Python object per row."""
    if len(rows) == 0:
        return pa.Table.from_batches([], STORIES_SCHEMA)
    order = np.lexsort((rows[:, REC.AGENT], rows[:, REC.DAY]))  # a stable sort: occurrence order within (day, agent)
    day, agent, pts = rows[order, REC.DAY], rows[order, REC.AGENT], rows[order, REC.C]
    code, arg = rows[order, REC.A], rows[order, REC.B]
    del order
    pts = _list_days(day, agent, code, arg, pts)
    kinds, inverse = np.unique(np.stack([code, arg, pts], axis=1), axis=0, return_inverse=True)
    words = [_story_words(plan, int(c), int(g), int(p)) for c, g, p in kinds.tolist()]
    inverse = array(inverse.ravel(), pa.int64())
    events, whats, channels, reasons = (strings(column).take(inverse) for column in zip(*words))
    ids = np.asarray(story_ids, np.int64)
    sorter = np.argsort(ids, kind="stable")
    at = np.searchsorted(ids, agent, sorter=sorter) if len(ids) else np.zeros(len(agent), np.int64)
    k = sorter[np.minimum(at, len(ids) - 1)] if len(ids) else at
    known = (ids[k] == agent) if len(ids) else np.zeros(len(agent), bool)
    after = (_scores_after(plan, day, agent, code, arg, pts, k, known, story_scores) if len(ids)
             else np.zeros(len(agent), np.int32))
    tiers = np.flatnonzero(code == SE.tier_change)
    if len(tiers):  # "moved down to tier C (score 590)": the score, not the day's points again
        import pyarrow.compute as pc

        told = [f"moved {'down' if p < 0 else 'up'} to tier {plan.tier_names[int(a)]}"
                + (f" (score {s})" if ok else "")
                for p, a, s, ok in zip(pts[tiers].tolist(), arg[tiers].tolist(), after[tiers].tolist(),
                                       known[tiers].tolist())]
        mask = np.zeros(len(day), bool)
        mask[tiers] = True
        reasons = pc.replace_with_mask(reasons, array(mask, pa.bool_()), strings(told))
    pts = np.where(np.isin(code, _NO_POINTS), 0, pts)
    return pa.table({"day": array(day, pa.int32()), "agent": array(agent, pa.int64()),
                     "event": events, "behaviour": whats, "channel": channels,
                     "points": array(pts, pa.int32()), "score_after": array(after, pa.int32(), valid=known),
                     "reason": reasons,
                     "population": strings([population]).take(array(np.zeros(len(rows), np.int64), pa.int64()))},
                    schema=STORIES_SCHEMA)
