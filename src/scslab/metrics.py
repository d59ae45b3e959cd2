"""Raw engine counts -> tidy Arrow tables: ``metrics`` (day, metric, group, value) and ``stories``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .compile import SE, STORY_EVENTS, Plan
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
    return plan.days * (len(plan.metric_names) * len(group_labels(plan)) + len(plan.channel_names)) + snapshots


def metrics_table(plan: Plan, counts: np.ndarray, coverage: np.ndarray,
                  score_hist: np.ndarray | None = None) -> pa.Table:
    """One row per (day, metric, group); coverage of each channel as ``coverage_ppm:<channel>`` (group all);
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

    def append(days, metrics, vals, labels):
        arrays[0] = np.concatenate([arrays[0], days.astype(np.int32)])
        arrays[1] = np.concatenate([arrays[1], len(metric_names) + metrics])
        arrays[2] = np.concatenate([arrays[2], np.zeros(len(days), np.int64)])
        arrays[3] = np.concatenate([arrays[3], vals.astype(np.int64)])
        metric_names.extend(labels)

    if len(plan.channel_names):
        K = len(plan.channel_names)
        append(np.repeat(np.arange(D), K), np.tile(np.arange(K), D), np.rint(coverage * 1e6).reshape(-1),
               [f"coverage_ppm:{c}" for c in plan.channel_names])
    if score_hist is not None:
        S, B = score_hist.shape
        append(np.repeat(run_snapshot_days(plan), B), np.tile(np.arange(B), S), score_hist.reshape(-1), bin_labels(plan))
    order = np.lexsort((arrays[2], arrays[1], arrays[0]))
    metric_col = pa.DictionaryArray.from_arrays(pa.array(arrays[1][order], pa.int32()), pa.array(metric_names))
    group_col = pa.DictionaryArray.from_arrays(pa.array(arrays[2][order], pa.int32()), pa.array(names))
    return pa.table({"day": pa.array(arrays[0][order], pa.int32()),
                     "metric": metric_col.cast(pa.string()),
                     "group": group_col.cast(pa.string()),
                     "value": pa.array(arrays[3][order], pa.int64())}, schema=METRICS_SCHEMA)


REASONS = {
    "act_detected": "{what} detected by {channel}: {points:+d} points",
    "false_attribution": "wrongly matched to a {what} act (false attribution): {points:+d} points",
    "act_undetected": "{what}, not detected",
    "network_penalty": "a tie was caught for {what}: {points:+d} points (network penalty)",
    "recovery": "quiet-period recovery: {points:+d} points",
    "expiry": "old deductions expired: {points:+d} points",
    "tier_change": "now in tier {what}",
    "list_enter": "entered list {what}",
    "list_exit": "left list {what} after {points} days",
    "attempt_blocked": "attempt blocked: {what}",
    "reward_granted": "reward used: {what}",
    "account_zero": "{what} account reached zero: confiscation",
    "account_restored": "account restored to {points} points",
    "repaid": "court debt repaid",
    "redress": "false {what} record removed on appeal: {points:+d} points",
}


def _story_words(plan: Plan, code: int, arg: int, points: int) -> tuple[str, str, str, str]:
    """(event, behaviour or what, channel, reason) of one kind of story row."""
    event = STORY_EVENTS[code]
    what, channel = "", ""
    if code in (SE.act_detected, SE.false_attribution, SE.act_undetected, SE.network_penalty, SE.account_zero,
                SE.redress):
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
    return event, what, channel, REASONS.get(event, event).format(what=what, channel=channel, points=points)


def stories_table(plan: Plan, rows: np.ndarray, story_ids: np.ndarray, story_scores: np.ndarray, *,
                  population: str = "persons") -> pa.Table:
    """The event log of the sampled agents, ordered by (day, agent) and, within them, by occurrence;
    ``population`` names whose log it is (``persons``, or an entity type such as ``firms``). The words of
    each distinct (event, argument, points) are made once, so a long log costs its columns, not a Python
    object per row."""
    if len(rows) == 0:
        return STORIES_SCHEMA.empty_table()
    order = np.lexsort((rows[:, 1], rows[:, 2]))  # a stable sort: occurrence order within (day, agent)
    day, agent, pts = rows[order, 2], rows[order, 1], rows[order, 5]
    kinds, inverse = np.unique(rows[order, 3:6], axis=0, return_inverse=True)
    del order
    words = [_story_words(plan, int(c), int(g), int(p)) for c, g, p in kinds.tolist()]
    inverse = pa.array(inverse.ravel())
    events, whats, channels, reasons = (pa.array(column, pa.string()).take(inverse) for column in zip(*words))
    ids = np.asarray(story_ids, np.int64)
    sorter = np.argsort(ids, kind="stable")
    at = np.searchsorted(ids, agent, sorter=sorter) if len(ids) else np.zeros(len(agent), np.int64)
    k = sorter[np.minimum(at, len(ids) - 1)] if len(ids) else at
    known = (ids[k] == agent) if len(ids) else np.zeros(len(agent), bool)
    d_clip = np.clip(day, 0, story_scores.shape[0] - 1)
    after = np.where(known, story_scores[d_clip, k].astype(np.int32) if len(ids) else 0, 0)
    return pa.table({"day": pa.array(day, pa.int32()), "agent": pa.array(agent, pa.int64()),
                     "event": events, "behaviour": whats, "channel": channels,
                     "points": pa.array(pts, pa.int32()), "score_after": pa.array(after, pa.int32(), mask=~known),
                     "reason": reasons, "population": pa.array(np.broadcast_to(np.array(population, object),
                                                                               len(rows)), pa.string())},
                    schema=STORIES_SCHEMA)
