"""Raw engine counts -> tidy Arrow tables: ``metrics`` (day, metric, group, value) and ``stories``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .compile import SE, STORY_EVENTS, Plan
from .engine.histogram import bin_labels, run_snapshot_days, score_bins

SCORE_PREFIX = "score:"  # the score distribution's rows (engine.histogram): snapshot days only

__all__ = ["SCORE_PREFIX", "metrics_table", "metric_rows", "stories_table", "group_labels", "METRICS_SCHEMA", "STORIES_SCHEMA"]

METRICS_SCHEMA = pa.schema([("day", pa.int32()), ("metric", pa.string()), ("group", pa.string()),
                            ("value", pa.int64())])
STORIES_SCHEMA = pa.schema([("day", pa.int32()), ("agent", pa.int64()), ("event", pa.string()),
                            ("behaviour", pa.string()), ("channel", pa.string()), ("points", pa.int32()),
                            ("score_after", pa.int32()), ("reason", pa.string()), ("population", pa.string())])


def group_labels(plan: Plan) -> tuple[list[str], np.ndarray]:
    """Group names and the 0/1 matrix [cells, groups] that sums cells into them.

    Always ``all``; ``region:*``, ``group:*`` and ``class:*`` when the scenario has more than one of each.
    A cell is region * (classes * groups) + class * groups + group.
    """
    R, C, G = len(plan.region_names), len(plan.class_names), len(plan.group_names)
    cells = np.arange(R * C * G)
    region, klass, group = cells // (C * G), (cells // G) % C, cells % G
    names = ["all"]
    cols = [np.ones(len(cells), bool)]
    for prefix, values, labels in (("region", region, plan.region_names), ("group", group, plan.group_names),
                                   ("class", klass, plan.class_names)):
        if len(labels) > 1:
            for k, label in enumerate(labels):
                names.append(f"{prefix}:{label}")
                cols.append(values == k)
    return names, np.stack(cols, axis=1).astype(np.int64)


def metric_rows(plan: Plan) -> int:
    """Rows of the metrics table: every (day, metric, group), one coverage row per channel and day, and the
    score distribution's bins on its snapshot days."""
    snapshots = len(run_snapshot_days(plan)) * score_bins(plan)[2]
    return plan.days * (len(plan.metric_names) * len(group_labels(plan)[0]) + len(plan.channel_names)) + snapshots


def metrics_table(plan: Plan, counts: np.ndarray, coverage: np.ndarray,
                  score_hist: np.ndarray | None = None) -> pa.Table:
    """One row per (day, metric, group); coverage of each channel as ``coverage_ppm:<channel>`` (group all);
    the score distribution as ``score:LOW..HIGH`` (people, group all) on its snapshot days only
    (``engine.histogram``)."""
    names, A = group_labels(plan)
    D, M, _ = counts.shape
    values = counts @ A  # [D, M, groups]
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


def stories_table(plan: Plan, rows: np.ndarray, story_ids: np.ndarray, story_scores: np.ndarray, *,
                  population: str = "persons") -> pa.Table:
    """The event log of the sampled agents, ordered by (day, agent) and, within them, by occurrence;
    ``population`` names whose log it is (``persons``, or an entity type such as ``firms``)."""
    if len(rows) == 0:
        return STORIES_SCHEMA.empty_table()
    order = np.lexsort((np.arange(len(rows)), rows[:, 1], rows[:, 2]))
    rows = rows[order]
    pos = {int(a): k for k, a in enumerate(story_ids)}
    day, agent, code, arg, pts = rows[:, 2], rows[:, 1], rows[:, 3], rows[:, 4], rows[:, 5]
    events, whats, channels, after, reasons = [], [], [], [], []
    for d, a, c, g, p in zip(day.tolist(), agent.tolist(), code.tolist(), arg.tolist(), pts.tolist()):
        event = STORY_EVENTS[c]
        what, channel = "", ""
        if c in (SE.act_detected, SE.false_attribution, SE.act_undetected, SE.network_penalty, SE.account_zero,
                 SE.redress):
            b, ch = g % 256, g // 256 - 1
            beh = plan.behaviour_names[b]
            what = beh
            if ch >= 0:
                channel = plan.scenario.behaviours[beh].channels[ch]
        elif c == SE.tier_change:
            what = plan.tier_names[g]
        elif c in (SE.list_enter, SE.list_exit):
            what = plan.list_names[g]
        elif c in (SE.attempt_blocked, SE.reward_granted):
            what = plan.consequence_names[g]
        elif c in (SE.account_restored,) and plan.account_names:
            what = plan.account_names[0]
        events.append(event)
        whats.append(what)
        channels.append(channel)
        d_clip = min(max(d, 0), story_scores.shape[0] - 1)
        after.append(int(story_scores[d_clip, pos[a]]) if a in pos else None)
        reasons.append(REASONS.get(event, event).format(what=what, channel=channel, points=p))
    return pa.table({"day": pa.array(day, pa.int32()), "agent": pa.array(agent, pa.int64()),
                     "event": events, "behaviour": whats, "channel": channels,
                     "points": pa.array(pts, pa.int32()), "score_after": pa.array(after, pa.int32()),
                     "reason": reasons, "population": [population] * len(reasons)}, schema=STORIES_SCHEMA)
