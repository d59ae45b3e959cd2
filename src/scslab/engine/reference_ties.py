"""The reference's steps that follow ties and publication (``engine/reference.py``): awareness that spreads,
ostracism and a published list's shaming, and the deterrence of others by published names. Plain Python,
one person at a time, written to be obviously correct; used only in tests."""

from __future__ import annotations

from ..scenarios.schema import Scenario

__all__ = ["NEVER", "tie", "awareness", "ostracism", "published_factor", "listed_by_region"]

NEVER = -(10**9)  # "never" for a day: no offence or account deduction on record


def tie(a: int, m: int, k: int) -> tuple[int, int, int]:
    """The tie between a and m in matching k (k = -1: a household tie, never dropped) as the set of dropped ties
    holds it: (matching, lower id, higher id)."""
    return k, min(a, m), max(a, m)


def awareness(s: Scenario, c, lost: bool, sanctioned: bool, count, rng) -> list[tuple[int, str]]:
    """The end of the day's awareness for c, who lost points today (``lost``) and came under a sanction today
    (``sanctioned``): a new sanction shows the person's ties; one newly aware tells its ties tomorrow; a day
    of lost points may make one aware. Returns what its ties may learn from tomorrow; counts who is aware."""
    news = [(c.id, "seen")] if sanctioned and s.awareness.seen > 0 else []
    if c.adult:
        if c.aware == 2:
            news.append((c.id, "told"))
            c.aware = 1
        elif c.aware == 0 and lost and rng.random() < s.awareness.penalised:
            c.aware = 2
            count("aware_by:penalty")
        if c.aware:
            count("aware")
    return news


def _shun_rate(s: Scenario, c) -> float | None:
    """The daily chance that each of c's ties breaks, None when c is not shunned: ``[ostracism]``'s when c is
    in one of its tiers or on one of its lists, a list's ``shaming.ties`` when c is on it; the highest."""
    rates = []
    o = s.ostracism
    if o is not None:
        tiers = list(s.score.tiers)
        if any((ref.startswith("tiers.") and tiers.index(ref[6:]) == c.tier)
               or (ref.startswith("lists.") and ref[6:] in c.listed) for ref in o.on):
            rates.append(o.rate)
    rates += [s.lists[name].shaming.ties for name in c.listed
              if s.lists[name].shaming is not None and s.lists[name].shaming.ties > 0]
    return max(rates) if rates else None


def ostracism(s: Scenario, people: list, broken: set, count, rng) -> None:
    """The end of the day's ostracism: each friend and colleague tie still standing of a shunned person (on a
    shunning list or in a shunning tier, or on a list whose shaming costs ties) breaks with its day's chance;
    then the people shunned, the ties left to them and to everyone else, and who has lost a tie (with or
    without an act of their own)."""
    rate = {c.id: _shun_rate(s, c) for c in people}
    drops = [(c.id, m, k) for c in people if rate[c.id] is not None for m, _, k in c.ties
             if k >= 0 and tie(c.id, m, k) not in broken and rng.random() < rate[c.id]]
    for a, m, k in drops:
        if tie(a, m, k) not in broken:  # both ends may have been shunned and drawn it
            broken.add(tie(a, m, k))
            count("ties_dropped")
            people[a].lost += 1
            people[m].lost += 1
    for c in people:
        left = sum(k >= 0 for _, _, k in c.ties) - c.lost
        if rate[c.id] is not None:
            count("shunned")
            count("ties:shunned", left)
        else:
            count("ties:others", left)
        if c.lost:
            count("lost_ties")
            if c.last_offence == NEVER:
                count("lost_ties_no_act")


def listed_by_region(s: Scenario, people: list, n_regions: int) -> dict[str, list[int]]:
    """The people on each list that deters others (``shaming.deters`` above 0), region by region, now."""
    out = {name: [0] * n_regions for name, L in s.lists.items() if L.shaming is not None and L.shaming.deters > 0}
    for c in people:
        for name in c.listed:
            if name in out:
                out[name][c.region] += 1
    return out


def published_factor(s: Scenario, listed: dict[str, list[int]], people_in: list[int], region: int) -> float:
    """The factor on a penalised act's chance in ``region``: 1 - the sum over the deterring lists of ``deters``
    x the share of the region's people on the list (``listed``: :func:`listed_by_region` of the start of the
    day before), at least 0."""
    share = sum(s.lists[name].shaming.deters * n[region] / max(people_in[region], 1) for name, n in listed.items())
    return max(0.0, 1.0 - share)
