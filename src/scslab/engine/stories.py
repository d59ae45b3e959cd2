"""Which citizens get a complete event log ("story agents"), chosen by the role a story needs.

Roles come from the scenario, never from hand-picked ids:
- a **model citizen** (the class least likely to offend) and a **frequent offender** (the most likely);
- a **critic** (the class most likely to commit an act whose penalty also hits the actor's ties, such as
  criticising officials), when the scenario has one;
- a **debtor** (the class most likely to incur a court debt), when the scenario has debts;
- an **account holder** (a dog owner in jinan-dog-points), when it has an account;
- a **child**, when households have children;
- a member of every group but the largest (for example a **migrant**), and one person per region.

Within a role, the person is the first in a hash order of candidates (stream STORY), so the choice is
reproducible and independent of threads. Places left over are filled in the same hash order, as "sampled".
The candidates are spread over the whole population, one drawn in each of ``max(64 k, 4096)`` equal
stretches of ids, so every region (a block of ids) is represented in proportion to its size.
The roles depend only on traits and the fixed adult and holder flags, so they can be recomputed from a
finished run's columns.
"""

from __future__ import annotations

import numpy as np

from ..compile import FLAG, Plan
from ..rng import Stream, draw_array, stream_key

__all__ = ["pick_story_agents"]


def _roles(plan: Plan, n_groups: int, noun: str = "citizen") -> list[tuple[str, object]]:
    """(role, predicate(trait, flags)) in the order places are filled; ``noun``: what the agents are (a
    "model citizen", a "model firm")."""
    s = plan.scenario
    classes = plan.class_names
    neg = {c: sum(b.rate[c] for b in s.behaviours.values() if b.points < 0) for c in classes}
    cls = {c: k for k, c in enumerate(classes)}

    def of_class(name):
        k = cls[name]
        return lambda t, f: t // n_groups == k and f & FLAG.ADULT

    roles: list[tuple[str, object]] = []
    if len(classes) > 1:
        roles.append((f"model {noun}", of_class(min(classes, key=lambda c: (neg[c], c)))))
        roles.append(("frequent offender", of_class(max(classes, key=lambda c: (neg[c], c)))))
    critics = [b for b in s.behaviours.values() if b.network.friends or b.network.household]
    if critics:
        roles.append(("critic", of_class(max(classes, key=lambda c: (sum(b.rate[c] for b in critics), c)))))
    debts = [b for b in s.behaviours.values() if b.creates_debt]
    if debts:
        roles.append(("debtor", of_class(max(classes, key=lambda c: (sum(b.rate[c] for b in debts), c)))))
    for name in s.accounts:
        roles.append((f"{name} account holder", lambda t, f: f & FLAG.HOLDER))
    if s.population.households is not None and s.population.households.child_share > 0:
        roles.append(("child", lambda t, f: not f & FLAG.ADULT))
    groups = plan.group_names
    largest = max(groups, key=lambda g: s.population.groups[g].share)
    for k, g in enumerate(groups):
        if g != largest:
            roles.append((f"group {g}", lambda t, f, k=k: t % n_groups == k and f & FLAG.ADULT))
    return roles


def _candidates(n: int, w: int, key) -> np.ndarray:
    """``w`` ids spread over ``0 .. n - 1``: one drawn at random in each of ``w`` equal stretches (all ids
    when ``n <= w``), in increasing order."""
    if n <= w:
        return np.arange(n, dtype=np.int64)
    j = np.arange(w, dtype=np.int64)
    start = j * n // w
    width = (j + 1) * n // w - start  # at least 1
    return start + ((draw_array(key, j).astype(np.int64) * width) >> 32)


def pick_story_agents(plan: Plan, traits: np.ndarray, flags: np.ndarray, k: int,
                      noun: str = "citizen") -> list[tuple[int, str]]:
    """Up to ``k`` (agent, role) pairs, sorted by agent: the roles first, then hash order. ``noun`` names what
    the agents are in the roles' words (``firm`` for firms); it changes no pick."""
    if k == 0 or plan.size == 0:
        return []
    window = _candidates(plan.size, max(64 * k, 4096), stream_key(plan.seed, Stream.STORY, 0))
    order = window[np.argsort(draw_array(stream_key(plan.seed, Stream.STORY, 0), window), kind="stable")]
    G = len(plan.group_names)
    picked: dict[int, str] = {}
    for role, wanted in _roles(plan, G, noun):
        if len(picked) >= k:
            break
        for i in order:
            if int(i) not in picked and wanted(int(traits[i]), int(flags[i])):
                picked[int(i)] = role
                break
    starts = plan.region_starts
    for r, region in enumerate(plan.region_names if len(plan.region_names) > 1 else []):
        if len(picked) >= k:
            break
        lo, hi = int(starts[r]), int(starts[r + 1])
        if hi > lo:  # the region's own hash-first person (regions are id blocks beyond the window)
            ids = np.arange(lo, min(hi, lo + 4096), dtype=np.int64)
            first = int(ids[np.argmin(draw_array(stream_key(plan.seed, Stream.STORY, 1 + r), ids))])
            picked.setdefault(first, f"region {region}")
    for i in order:
        if len(picked) >= k:
            break
        picked.setdefault(int(i), "sampled")
    return sorted(picked.items())
