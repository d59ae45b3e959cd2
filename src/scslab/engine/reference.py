"""The reference implementation: one plain Python object per agent, written to be obviously correct.

Used only in tests, to check the engine statistically. It shares the *population* with the engine (traits,
households and friend ties are part of a run's definition, computed by :mod:`scslab.population`) but nothing
of the day's logic: every probability is computed here from the scenario in floating point, every decision
is drawn from its own ``numpy`` generator, and the phases run in the documented order, one agent at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import population as popmod
from .reference_ties import NEVER, awareness, listed_by_region, ostracism, published_factor, tie
from ..compile import Plan
from ..watching import channel_coverage
from ..metric_names import costs_work, delivered_by, has_fines
from ..shaming import deters_others, shuns
from ..rng import Stream, draw_array, mix64, stream_key, threshold
from ..scenarios.schema import Exit, Scenario

__all__ = ["run_reference", "Citizen"]


@dataclass
class Citizen:
    id: int
    region: int
    klass: int
    group: int
    adult: bool
    holder: bool
    household: list[int]
    # (id, what it is to this person: a ``schema.Network`` field, its matching or -1 for household members) of
    # every other tie
    ties: list[tuple[int, str, int]]
    score: int
    pending: int = 0
    last_offence: int = NEVER
    listed: dict[str, int] = field(default_factory=dict)     # list name -> day listed
    false_record: bool = False
    debt: bool = False
    confiscated: bool = False
    child_sanction: bool = False
    child_sanction_next: bool = False
    sanctioned: bool = False
    account: int = 0
    account_since: int = NEVER
    strikes: int = 0
    outstanding: int = 0
    tier: int = 0
    lost: int = 0  # friend and colleague ties lost to ostracism
    aware: int = 1  # of the scheme: 0 no, 1 yes, 2 since the last end of day (tells its ties at the next)
    # the economy, drawn from the id like the traits: daily income (0: not in work), the sanctions that bar its
    # work, its court debt's amount; whether it is out of work through a sanction
    income: int = 0
    barred: frozenset = frozenset()
    barred_by: frozenset = frozenset()  # the published lists whose reading by its employer would bar its work
    debt_amount: int = 0
    out_of_work: bool = False
    # changes made during the day, applied at its end
    new_false: bool = False
    new_debt: bool = False
    new_zero: bool = False
    clear_false: bool = False


def _population(plan: Plan) -> list[Citizen]:
    s = plan.scenario
    n = plan.size
    ids = np.arange(n, dtype=np.int64)
    uc = draw_array(stream_key(plan.seed, Stream.CLASS, 0), ids).astype(np.uint64)
    ug = draw_array(stream_key(plan.seed, Stream.GROUP, 0), ids).astype(np.uint64)
    uh = draw_array(stream_key(plan.seed, Stream.HOLDER, 0), ids).astype(np.uint64)
    klass = np.searchsorted(plan.class_cum, uc, side="right")
    group = np.searchsorted(plan.group_cum, ug, side="right")
    region = np.searchsorted(plan.region_starts, ids, side="right") - 1
    region_of, partner, household_head = popmod.make(lambda f: f, mix64)
    B = len(plan.hh_head)
    pop = s.population
    k_local = round(pop.friends.degree * pop.friends.same_region)
    people = []
    with np.errstate(over="ignore"):
        for i in range(n):
            ties = []
            if pop.households is not None:
                head = i - int(plan.hh_head[i % B])
                members = list(range(head, min(head + int(plan.hh_size[i % B]), n)))
                adult = bool(plan.hh_adult[i % B])
                # the parents' generation: the first member, and the second when an adult; the others their children
                elders = {head} | ({head + 1} if len(members) > 1 and plan.hh_adult[(head + 1) % B] else set())
                for m in members:
                    if m != i:
                        kind = (("partner" if m in elders else "children") if i in elders else
                                ("parents" if m in elders else "household"))
                        ties.append((m, kind, -1))
            else:
                members, adult = [i], True
            r = int(region[i])
            for k in range(pop.friends.degree + pop.colleagues.degree):
                local = k < k_local or k >= pop.friends.degree  # colleagues work in the person's region
                lo, hi = (int(plan.region_starts[r]), int(plan.region_starts[r + 1])) if local else (0, n)
                p = int(partner(i, k, lo, hi, plan.friend_keys))
                if p >= 0:
                    kind = ("colleagues" if k >= pop.friends.degree else
                            "best_friend" if k == 0 and pop.friends.best else "friends")
                    ties.append((p, kind, k))
            holder = bool(plan.account_names) and int(uh[i]) < int(plan.holder_t)
            people.append(Citizen(i, r, int(klass[i]), int(group[i]), adult, holder, members, ties,
                                  score=s.score.base,
                                  account=s.accounts[plan.account_names[0]].points if plan.account_names else 0))
    _economy(plan, people, ids)
    return people


def _band(u: np.ndarray, bands: dict) -> np.ndarray:
    """The yuan of each draw's band: bands by cumulative share, in order."""
    cum = threshold(np.cumsum([b.share for b in bands.values()]))[:-1]
    return np.array([b.yuan for b in bands.values()], np.int64)[np.searchsorted(cum, u.astype(np.uint64), side="right")]


def _economy(plan: Plan, people: list[Citizen], ids: np.ndarray) -> None:
    """Each person's income, the sanctions that would bar its work and its debt's amount (docs/model.md)."""
    s = plan.scenario

    def u(stream):
        return draw_array(stream_key(plan.seed, stream, 0), ids)

    if s.economy is not None:
        employed = u(Stream.EMPLOYED).astype(np.uint64) < threshold(s.economy.employed)
        income = np.where(employed, _band(u(Stream.INCOME), s.economy.income), 0)
        barred = {name: u(Stream.WORK + k).astype(np.uint64) < threshold(q.costs_work)
                  for k, (name, q) in enumerate(s.consequences.items()) if q.costs_work > 0}
        reads = {name: u(Stream.LIST_WORK + k).astype(np.uint64) < threshold(L.shaming.work)  # (scslab.shaming)
                 for k, (name, L) in enumerate(s.lists.items()) if L.shaming is not None and L.shaming.work > 0}
        for c in people:
            c.income = int(income[c.id]) if c.adult else 0
            c.barred = frozenset(name for name, b in barred.items() if b[c.id])
            c.barred_by = frozenset(name for name, b in reads.items() if b[c.id])
    if s.debt is not None and s.debt.amounts:
        amount = _band(u(Stream.DEBT_AMOUNT), s.debt.amounts)
        for c in people:
            c.debt_amount = int(amount[c.id])


def _tier(s: Scenario, score: int) -> int:
    for k, (_, minimum) in enumerate(s.score.tiers.items()):
        if score >= minimum:
            return k
    return len(s.score.tiers) - 1


def _effective(s: Scenario, day: int, channel: str, region: str) -> float:
    ch = s.channels[channel]
    reg = s.population.regions[region]
    factor = reg.camera_coverage if ch.kind == "camera" else reg.data_completeness
    return min(1.0, channel_coverage(ch, day) * factor)


def run_reference(plan: Plan, seed: int) -> np.ndarray:
    """Run ``plan`` with the slow reference; returns counts[day, metric] for the group "all"."""
    rng = np.random.default_rng(seed)
    people = _population(plan)
    D, M = plan.days, len(plan.metric_names)
    out = np.zeros((D, M), np.int64)
    idx = {name: k for k, name in enumerate(plan.metric_names)}
    regions, groups, classes = plan.region_names, plan.group_names, plan.class_names
    redress: list[tuple[int, int, str, int]] = []  # (due day, agent, behaviour, points)
    lagged: dict[tuple[int, str], float] = {}  # perceived coverage by region and channel, before overstatement
    broken: set[tuple[int, int, int]] = set()  # ties dropped for ostracism: (matching, lower id, higher id)
    news: list[tuple[int, str]] = []  # (person, "told" or "seen"): ties who may learn of the scheme the next day
    work = costs_work(plan.scenario)
    fines = has_fines(plan.scenario)
    if work:  # out of work on day 0: a sanction of the starting tier bars the work
        s0, r0 = plan.scenario, _Rules.of(plan.scenario)
        base = _tier(s0, s0.score.base)
        for c in people:
            c.out_of_work = c.income > 0 and any(base in r0.on_tiers[n] for n in c.barred)
    deterring = deters_others(plan.scenario)
    published: list[dict[str, list[int]]] = []  # the deterring lists at each end of day, by region
    people_in = [sum(c.region == r for c in people) for r in range(len(plan.region_names))]
    if plan.scenario.awareness is not None:  # adults aware on day 0
        for c in people:
            c.aware = int(c.adult and rng.random() < plan.scenario.awareness.start)

    for day in range(D):
        s = plan.epoch_at(day).scenario
        pop = s.population
        rules = _Rules.of(s)
        tiers = rules.tiers
        ff = {g: pop.groups[g].false_match_factor for g in groups}
        mean_ff = sum(pop.groups[g].share * ff[g] for g in groups) or 1.0
        network: list[tuple[int, dict[str, int]]] = []

        def count(name: str, k: int = 1) -> None:
            out[day, idx[name]] += k

        # effective channel coverage of each behaviour in each region today, and what follows from it alone
        # (worked out once a day: they do not depend on the person)
        # each region by its own rules (a timeline change may be for some regions only)
        local = plan.epoch_at(day).regional
        eff_of = {(bname, r): [_effective(local[r], day, ch, regions[r]) for ch in b.channels]
                  for bname, b in s.behaviours.items() for r in range(len(regions))}
        # the coverage people perceive: it closes 1 / (lag + 1) of its gap to the actual one each day
        seen = {}
        for r, rules_r in enumerate(local):
            per = rules_r.perception
            for ch in plan.channel_names:
                now = _effective(rules_r, day, ch, regions[r])
                if day == 0:
                    lagged[r, ch] = now if per.start is None else per.start
                else:
                    lagged[r, ch] += (now - lagged[r, ch]) / (per.lag_days + 1)
                seen[r, ch] = min(1.0, lagged[r, ch] * per.overstatement)
        max_seen = {(bname, r): max(seen[r, ch] for ch in b.channels)
                    for bname, b in s.behaviours.items() for r in range(len(regions))}
        false_rate = {}
        for r, rules_r in enumerate(local):
            for bname, b in rules_r.behaviours.items():
                mean_rate = sum(pop.classes[k] * b.rate[k] for k in classes)
                false_rate[bname, r] = (sum(rules_r.channels[ch].false_match * e
                                            for ch, e in zip(b.channels, eff_of[bname, r])) * b.detect * mean_rate)
        # names published: each region's deterring lists at the start of the day before (none before day 2)
        shamed = [published_factor(s, published[day - 2], people_in, r) if deterring and day >= 2 else 1.0
                  for r in range(len(regions))]
        # 1. acts, detection, false attributions, own points (deterrence from start-of-day state)
        for c in people:
            if not c.adult:
                continue
            mine = local[c.region]
            for bname, b in mine.behaviours.items():
                if b.account != "score" and not (c.holder and not c.confiscated):
                    continue
                negative = b.points < 0
                eff = eff_of[bname, c.region]
                p = b.rate[classes[c.klass]]
                if negative:  # (only people aware of the scheme are chilled by the watching)
                    p *= 1.0 - (b.deterrence.surveillance * max_seen[bname, c.region]
                                * pop.groups[groups[c.group]].perceives * (c.aware != 0))
                    if b.deterrence.below_tier is not None and c.tier > tiers.index(b.deterrence.below_tier):
                        p *= b.deterrence.factor
                    if c.sanctioned:
                        p *= b.deterrence.when_sanctioned
                if negative or b.creates_debt:  # deterred by the names published in the region
                    p *= shamed[c.region]
                if rng.random() < min(p, 1.0):
                    count(f"acts:{bname}")
                    if rng.random() < b.detect:
                        for ch, e in zip(b.channels, eff):
                            q = min(1.0, e * mine.channels[ch].detect * pop.groups[groups[c.group]].detect_factor)
                            if rng.random() < q:
                                count(f"detected:{bname}")
                                if b.creates_debt and not (c.debt or c.new_debt):
                                    count("new_debts")
                                if fines and b.fine:
                                    count("fines_yuan", b.fine)
                                if _points(s, c, day, bname, False, network, redress, rng):
                                    count("newly_penalised")
                                break
                if rng.random() < min(1.0, false_rate[bname, c.region] * ff[groups[c.group]] / mean_ff):
                    count(f"false:{bname}")
                    if fines and b.fine:
                        count("fines_yuan", b.fine)
                        count("fines_wrongful_yuan", b.fine)
                    if _points(s, c, day, bname, True, network, redress, rng):
                        count("newly_penalised")
        # 2. network penalties
        for agent, points in network:  # children are not scored: a tie who is a child loses nothing
            for m, kind, k in people[agent].ties:
                if points[kind] != 0 and people[m].adult and tie(agent, m, k) not in broken:
                    people[m].pending += points[kind]
                    count("network_penalties")
        # awareness: the ties of one who became aware, or was sanctioned, at yesterday's end of day may learn of it
        for agent, how in news:
            chance = s.awareness.told if how == "told" else s.awareness.seen
            for m, _, k in people[agent].ties:
                friend = people[m]
                if tie(agent, m, k) not in broken and friend.adult and friend.aware == 0 and rng.random() < chance:
                    friend.aware = 2
                    count(f"aware_by:{how}")
        news = []
        # redress falling due today
        for due, agent, bname, pts in [r for r in redress if r[0] == day]:
            c = people[agent]
            if s.behaviours[bname].account == "score":
                c.pending -= pts
            else:
                c.account = min(c.account - pts, s.accounts[plan.account_names[0]].points)
            c.clear_false = True
            count("redressed")
        redress = [r for r in redress if r[0] > day]
        # 3. end of day, agent by agent
        for c in people:
            lost, was = c.pending < 0, c.sanctioned
            _end_of_day(plan, s, rules, c, day, count, rng)
            if s.awareness is not None:
                news += awareness(s, c, lost, c.sanctioned and not was, count, rng)
        if shuns(s):
            ostracism(s, people, broken, count, rng)
        if deterring:  # the deterring lists as they stand at this end of day, read on the day after next
            published.append(listed_by_region(s, people, len(regions)))
        child_lists = {ref.split(".")[1] for q in s.consequences.values() if q.applies_to == "household.children" for ref in q.on}
        for c in people:  # children's inherited sanctions take effect at the next end of day
            if child_lists and not c.adult:
                c.child_sanction_next = any(people[m].adult and any(l in people[m].listed for l in child_lists)
                                            for m in c.household)
    return out


def _points(s: Scenario, c: Citizen, day: int, bname: str, false: bool, network, redress, rng) -> bool:
    """Apply the points of a detected or falsely attributed act; True when it is the agent's first deduction
    ever, on the score or an account."""
    b = s.behaviours[bname]
    pts = b.points
    if b.repeat_points:
        pts = b.repeat_points[min(c.strikes, len(b.repeat_points) - 1)]
        c.strikes = min(c.strikes + 1, 255)
    first = pts < 0 and c.last_offence == NEVER and c.account_since == NEVER
    if b.account != "score":
        acct = s.accounts[b.account]
        a = c.account + pts
        if pts < 0:
            c.account_since = day
        if a <= 0 and not c.confiscated:
            c.new_zero = True
        c.account = max(0, min(a, acct.points))
    else:
        c.pending += pts
        if pts < 0:
            c.last_offence = day
    if false:
        c.new_false = True
        if s.redress is not None and rng.random() < s.redress.contest_probability:
            redress.append((day + s.redress.delay_days, c.id, bname, pts))
    elif b.creates_debt:
        c.new_debt = True
    points = b.network.by_relation()
    if any(points.values()):
        network.append((c.id, points))
    return first


@dataclass
class _Rules:
    """The day's tiers and what each consequence applies on, read from the scenario once a day."""

    tiers: list[str]
    on_lists: dict[str, set[str]]    # consequence -> the lists it applies on
    on_tiers: dict[str, set[int]]    # consequence -> the tiers (by index) it applies on
    on_account: dict[str, bool]      # consequence -> applies on a confiscated domain account

    @classmethod
    def of(cls, s: Scenario) -> "_Rules":
        tiers = list(s.score.tiers)
        return cls(tiers,
                   {k: {ref[6:] for ref in q.on if ref.startswith("lists.")} for k, q in s.consequences.items()},
                   {k: {tiers.index(ref[6:]) for ref in q.on if ref.startswith("tiers.")}
                    for k, q in s.consequences.items()},
                   {k: any(ref.startswith("accounts.") for ref in q.on) for k, q in s.consequences.items()})


def _end_of_day(plan: Plan, s: Scenario, rules: _Rules, c: Citizen, day: int, count, rng) -> None:
    if c.clear_false:
        c.false_record = False
    if c.new_false:
        c.false_record = True
    if c.new_debt:
        c.debt = True
    if c.new_zero:
        c.confiscated = True
    c.child_sanction = c.child_sanction_next
    c.clear_false = c.new_false = c.new_debt = c.new_zero = False
    lo, hi = s.score.bounds
    if s.score.retention_days is not None and c.pending < 0:
        c.outstanding = max(-30000, c.outstanding + c.pending)
    score = min(max(c.score + c.pending, lo), hi)
    c.pending = 0
    quiet = day - c.last_offence
    if s.score.retention_days is not None and c.outstanding < 0 and quiet >= s.score.retention_days:
        score = min(max(score - c.outstanding, lo), hi)
        c.outstanding = 0
    rec = s.score.recovery
    if rec.points_per_day > 0 and score < rec.up_to and quiet >= rec.after_quiet_days:
        new = min(score + rec.points_per_day, rec.up_to)
        if s.score.retention_days is not None:
            c.outstanding = min(0, c.outstanding + new - score)
        score = new
        count("recovering")
    c.score = score
    if c.strikes > 0 and s.score.strike_window_days is not None:
        if day - max(c.last_offence, c.account_since) >= s.score.strike_window_days:
            c.strikes = 0
    if c.confiscated and day - c.account_since >= s.accounts[plan.account_names[0]].restore_days:
        c.account = s.accounts[plan.account_names[0]].points
        c.confiscated = False
        c.strikes = 0
    tiers = rules.tiers
    c.tier = tier = _tier(s, score)
    for k, (lname, L) in enumerate(s.lists.items()):
        publish = day % L.publish_every_days == 0
        if lname not in c.listed:
            e = L.enter
            enter = ((e.tier_at_most is not None and tier >= tiers.index(e.tier_at_most))
                     or (e.tier_at_least is not None and tier <= tiers.index(e.tier_at_least))
                     or (e.account_zero is not None and c.confiscated) or (bool(e.debt) and c.debt))
            if publish and enter:
                c.listed[lname] = day
                count(f"entered:{lname}")
        else:
            dur = day - c.listed[lname]
            x = L.exit
            repaid = isinstance(x, Exit) and bool(x.repaid)
            cond = isinstance(x, Exit) and (
                (x.tier_at_least is not None and tier <= tiers.index(x.tier_at_least))
                or (x.tier_at_most is not None and tier >= tiers.index(x.tier_at_most))
                or (x.account_restored is not None and not c.confiscated) or (repaid and not c.debt))
            leave = publish and cond and (dur >= L.min_days or repaid)
            if L.max_days is not None:
                extra = 0
                if L.extra_days_max > 0:
                    key = stream_key(plan.seed, Stream.LIST_EXTRA + k, 0)
                    extra = int(draw_array(key, np.array([c.id]))[0]) % (L.extra_days_max + 1)
                leave = leave or dur >= L.max_days + extra
            if leave:
                del c.listed[lname]
                count(f"exited:{lname}")
    sanctioned = False
    by_ties = False  # under a sanction that ties' penalties can bring: by a tier, or a list not entered on a debt
    out_of_work = False
    agencies: set[str] = set()
    for cname, q in s.consequences.items():
        if q.applies_to == "household.children":
            applies = c.child_sanction and not c.adult
        else:
            applies = (not rules.on_lists[cname].isdisjoint(c.listed) or tier in rules.on_tiers[cname]
                       or (rules.on_account[cname] and c.confiscated))
        if applies:
            out_of_work = out_of_work or (cname in c.barred and c.income > 0)
            count(f"{'rewarded' if q.kind == 'reward' else 'sanctioned'}:{cname}")
            if (agency := delivered_by(q)) is not None:  # joint punishment, per person: whose measures it is under
                agencies.add(agency)
            if q.kind == "sanction" and q.applies_to != "household.children":
                sanctioned = True  # a consequence on an entity's linked persons weighs on the entity too
                by_ties = by_ties or tier in rules.on_tiers[cname] or any(
                    not s.lists[L].enter.debt for L in rules.on_lists[cname] & set(c.listed))
            linked = q.applies_to.startswith("links.")  # the linked persons' attempts are drawn apart
            if not linked and q.attempts_per_day > 0 and rng.random() < q.attempts_per_day:
                count(f"{'granted' if q.kind == 'reward' else 'blocked'}:{cname}")
    c.sanctioned = sanctioned
    if agencies:
        count(f"under_agencies:{len(agencies)}")
    out_of_work = out_of_work or (c.income > 0 and not c.barred_by.isdisjoint(c.listed))
    if c.debt:
        p = s.debt.repay_per_day * (s.debt.sanction_multiplier if sanctioned else 1.0)
        if rng.random() < min(1.0, p):
            c.debt = False
            count("repaid")
            if s.debt.amounts:
                count("repaid_yuan", c.debt_amount)
    if plan.scenario.economy is not None and costs_work(plan.scenario):
        if out_of_work:
            count("out_of_work")
            count("income_lost_yuan", c.income)
            if not c.out_of_work:
                count("jobs_lost")
        c.out_of_work = out_of_work
    count(f"tier:{tiers[tier]}")
    for lname in c.listed:
        count(f"listed:{lname}")
        if c.false_record:
            count(f"innocent_listed:{lname}")
    if by_ties and c.last_offence == NEVER and not c.debt and not c.confiscated:
        count("sanctioned_by_ties")
    if c.debt:
        count("debtors")
        if s.debt.amounts:
            count("debt_owed_yuan", c.debt_amount)
    if c.false_record:
        count("carrying_false_record")
    if c.confiscated:
        count(f"account_zero:{plan.account_names[0]}")
