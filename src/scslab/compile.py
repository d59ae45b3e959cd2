"""Scenario -> Plan: flat integer tables the kernels read.

A :class:`Plan` holds what never changes during a run (population layout, names, metric layout) and one
:class:`Epoch` per timeline segment (points, thresholds, list rules). Probabilities become uint64
thresholds out of 2**32 (see :func:`scslab.rng.threshold`) computed once here on the host, in float64, so
every backend makes identical integer decisions. Day-dependent tables (coverage ramps, the chilling effect)
come from :meth:`Plan.day_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np

from . import population as popmod
from . import shaming
from .encodings import (BANDS, BEH, CONS, ENTER, EVENT, EXIT, FLAG, INBOX, LEVEL_METRICS, LIST, N_BEH, REC, REL,  # noqa: F401
                        SE, STATE, STORY_EVENTS, P)
from .metric_names import agency_names, consequence_metrics, costs_work, delivered_by, metric_names  # noqa: F401 (consequence_metrics: the plan's)
from .rng import threshold
from .table_cache import cached
from .watching import Watching, channel_coverage, effective
from .scenarios.load import with_changes
from .scenarios.schema import Exit, Scenario

__all__ = ["Plan", "Epoch", "compile_plan", "consequence_metrics", "P", "BEH", "LIST", "CONS", "STATE", "ENTER", "EXIT", "FLAG", "INBOX", "EVENT", "REC", "LEVEL_METRICS",
           "cached"]

@dataclass(frozen=True, eq=False)  # epochs are told apart by identity (``plan.epochs.index``)
class Epoch:
    """Tables for the days from ``start`` until the next epoch."""

    start: int
    scenario: Scenario
    prm: np.ndarray          # int64[P.SIZE]
    tier_mins: np.ndarray    # int32[NT], descending
    beh: np.ndarray          # int32[NB, N_BEH]: columns named by BEH (and BEH.NET + REL)
    rep: np.ndarray          # int32[NB, 8]: escalation points for repeat 0, 1, ...
    lists: np.ndarray        # int32[NL, len(LIST)]: columns named by LIST
    cons: np.ndarray         # int64[NC, len(CONS)]: columns named by CONS
    regional: tuple = ()     # each region's rules (a Scenario per region; ``scenario`` itself where no
                             # timeline change is local): what the per-cell tables are made of


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    size: int
    days: int
    seed: int
    region_names: list[str]
    group_names: list[str]
    class_names: list[str]
    tier_names: list[str]
    behaviour_names: list[str]
    channel_names: list[str]
    list_names: list[str]
    consequence_names: list[str]
    account_names: list[str]
    region_starts: np.ndarray
    class_cum: np.ndarray        # uint64 cumulative thresholds for class assignment
    group_cum: np.ndarray
    holder_t: np.uint64
    hh_head: np.ndarray          # int32[HH_BLOCK] (or [1] without households)
    hh_size: np.ndarray
    hh_adult: np.ndarray
    friend_keys: np.ndarray      # uint64[K, 4]: the tie matchings' round keys (friends', then colleagues')
    metric_names: list[str]
    is_level: np.ndarray          # bool[n_metrics]: level (people in a state) or flow (events that day)
    epochs: list[Epoch] = field(default_factory=list)
    entities: dict[str, "Plan"] = field(default_factory=dict)  # entity types, run in lockstep (scenarios.entities)
    link_sizes: dict[str, int] = field(default_factory=dict)   # an entity type's links: persons per entity
    table_cache: dict = field(default_factory=dict, repr=False, compare=False)
    watch: list = field(default_factory=list, repr=False, compare=False)  # [the plan's Watching], once made

    @property
    def n_cells(self) -> int:
        return len(self.region_names) * len(self.group_names) * len(self.class_names)

    @property
    def n_dated_lists(self) -> int:
        """Lists that keep each member's entry day (those with a minimum or maximum term in some epoch)."""
        return int((self.epochs[0].lists[:, LIST.ROW] >= 0).sum()) if self.epochs else 0

    @property
    def n_states(self) -> int:
        return len(self.tier_names) * 8

    def epoch_at(self, day: int) -> Epoch:
        current = self.epochs[0]
        for e in self.epochs:
            if e.start <= day:
                current = e
        return current

    def day_tables(self, day: int, published: tuple | None = None):
        """(gate, cum, det, coverage) for ``day``; see :func:`_day_tables` (``coverage``: :meth:`national`;
        ``published``: each region's factor on penalised acts from published lists, ``scslab.shaming``)."""
        e = self.epoch_at(day)
        gate, cum, det = _day_tables(self, self.epochs.index(e), self.coverage(day), published)
        return gate, cum, det, np.array(self.national(day), np.float64)

    def day_detection(self, day: int):
        """(None, None, det, coverage) for ``day``: :func:`_day_tables`' detection thresholds without its gate
        and event tables, for a scheduler that makes its own (the lazy one, ``engine.detected.lazy_tables``)."""
        e = self.epoch_at(day)
        index, cov = self.epochs.index(e), self.coverage(day)
        det = cached(self, ("det", index, cov), lambda: threshold(_day_probabilities(self, index, cov)[1]))
        return None, None, det, np.array(self.national(day), dtype=np.float64)

    def day_probabilities(self, day: int):
        """(p, det) for ``day`` as float64: p[cell, state, event], det[region, group, behaviour, channel];
        see :func:`_day_probabilities`."""
        e = self.epoch_at(day)
        return _day_probabilities(self, self.epochs.index(e), self.coverage(day))

    def all_rules(self) -> list[Scenario]:
        """Every set of rules of the run, once each: each epoch's scenario and each region's (``Epoch.regional``)."""
        return list({id(r): r for e in self.epochs for r in (e.scenario, *e.regional)}.values())

    def _watchers(self) -> list[Watching]:
        """[each region's watching, the scenario's own], made on first use (``scslab.watching``)."""
        if not self.watch:
            def actual(d):
                local = self.epoch_at(d).regional
                return np.array([effective(local[r], self.channel_names, name, d)
                                 for r, name in enumerate(self.region_names)])

            self.watch.append(Watching(actual, lambda d: [r.perception for r in self.epoch_at(d).regional],
                                       [r.perception for r in self.all_rules()]))
            self.watch.append(Watching(lambda d: np.array([self.national(d)]),  # as the scenario sets it
                                       lambda d: [self.epoch_at(d).scenario.perception],
                                       [e.scenario.perception for e in self.epochs]))
        return self.watch

    @property
    def watching(self) -> Watching:
        """The plan's actual and perceived coverage in each region (``scslab.watching``), made on first use."""
        return self._watchers()[0]

    def national_perceived(self, day: int) -> np.ndarray:
        """float64[channel]: the perceived coverage of the scenario's own coverage (:meth:`national`, before
        the regions' factors, without changes for some regions only) on ``day``, as the scenario's
        ``perception`` has people perceive it: the ``perceived_ppm:CHANNEL`` rows of group ``all``."""
        return self._watchers()[1].perceived(day)[0]

    def coverage(self, day: int) -> tuple:
        """The watching on ``day`` that its tables are made from (and cached by): each channel's actual
        coverage in each region (region by region, channels in plan order), then its perceived coverage
        there (``scslab.watching``)."""
        by_day = self.table_cache.setdefault("coverage", {})
        if day not in by_day:
            w = self.watching
            by_day[day] = tuple(w.actual(day).ravel().tolist()) + tuple(w.perceived(day).ravel().tolist())
        return by_day[day]

    def national(self, day: int) -> tuple:
        """Each channel's coverage on ``day`` as the scenario sets it everywhere (timeline changes for some
        regions only left out, and before the regions' factors): the ``coverage_ppm:CHANNEL`` rows of group
        ``all``."""
        e = self.epoch_at(day)
        return tuple(channel_coverage(e.scenario.channels[c], day) for c in self.channel_names)

    def local_coverage(self, day: int) -> np.ndarray:
        """float64[2, region, channel]: each channel's actual and perceived coverage on ``day`` in each
        region: the ``coverage_ppm:CHANNEL`` and ``perceived_ppm:CHANNEL`` rows of the groups
        ``region:NAME``."""
        return np.array(self.coverage(day), np.float64).reshape(2, len(self.region_names), len(self.channel_names))


def _day_tables(plan: Plan, epoch_index: int, cov: tuple, published: tuple | None = None):
    """Threshold tables for one day, given its :meth:`Plan.coverage` ``cov`` (and ``published``, each
    region's factor on penalised acts from published lists: :func:`probabilities`).

    gate[cell, state]        threshold: P(at least one event fires today)
    cum[cell, state, e]      threshold: P(first event that fires is <= e)  (inverse-CDF for the first event)
    det[region, group, b, j] threshold: P(act of b detected by one of its first j+1 channels)
    Events are 2*NB: act of behaviour b (2b) and false attribution of b (2b+1).
    A state is tier * 8 + sanctioned * 4 + holder * 2 + adult. With [awareness], gate and cum have the cells
    twice: row ``c + cells`` for the people of cell ``c`` unaware of the scheme (``probabilities``' ``unaware``).
    """
    def make():
        p, det = _day_probabilities(plan, epoch_index, cov, published=published)
        if plan.scenario.awareness is not None:
            p = np.concatenate([p, _day_probabilities(plan, epoch_index, cov, True, published)[0]])
        cum = threshold(1.0 - np.cumprod(1.0 - p, axis=2))
        gate = cum[:, :, -1].copy() if p.shape[2] else np.zeros(p.shape[:2], np.uint64)
        return gate, cum, threshold(det)

    return cached(plan, (epoch_index, cov) if published is None else (epoch_index, cov, published), make)


def _day_probabilities(plan: Plan, epoch_index: int, cov: tuple, unaware: bool = False,
                       published: tuple | None = None):
    """p[cell, state, e]: probability that event e fires for one agent-day (of people unaware of the scheme
    with ``unaware``); det[region, group, b, j] as in :func:`_day_tables`, as probabilities."""
    def make():
        p, det = probabilities(plan, epoch_index, np.array([cov], np.float64), unaware, published)
        return p[0], det[0]

    key = ("p", epoch_index, cov, unaware) if published is None else ("p", epoch_index, cov, unaware, published)
    return cached(plan, key, make)


def probabilities(plan: Plan, epoch_index: int, covs: np.ndarray, unaware: bool = False,
                  published: tuple | None = None):
    """(p[day, cell, state, e], det[day, region, group, b, j]) of :func:`_day_probabilities` for the days whose
    :meth:`Plan.coverage` are the rows of ``covs`` [day, region x channel], all under epoch ``epoch_index``
    (each day's numbers are those of that day alone, bit for bit: every operation is element by element).
    Each region's acts, detection and deterrence follow its own rules (``Epoch.regional``); the chilling
    effect follows the perceived coverage, times each group's ``perceives``, for people aware of the scheme:
    ``unaware`` gives the numbers of those who are not ([awareness]), whom the watching does not chill.
    ``published`` (for one day) is each region's factor on penalised acts from the lists published there
    (``scslab.shaming.factor``), applied before the chance is capped at 1."""
    epoch = plan.epochs[epoch_index]
    s = epoch.scenario
    local = epoch.regional or (s,) * len(plan.region_names)
    pop = s.population
    D = len(covs)
    covs = np.asarray(covs, np.float64).reshape(D, 2, len(plan.region_names), len(plan.channel_names))
    R, G, C, NT, NB = (len(plan.region_names), len(plan.group_names), len(plan.class_names),
                       len(plan.tier_names), len(plan.behaviour_names))
    NE = 2 * NB
    p = np.zeros((D, R, C, G, NT, 2, 2, 2, NE))
    det = np.zeros((D, R, G, NB, 8))
    class_share = np.array([pop.classes[c] for c in plan.class_names])
    group_share = np.array([pop.groups[g].share for g in plan.group_names])
    ff = np.array([pop.groups[g].false_match_factor for g in plan.group_names])
    mean_ff = float((group_share * ff).sum()) or 1.0
    tier_index = {t: k for k, t in enumerate(plan.tier_names)}
    perceives = np.array([pop.groups[g].perceives for g in plan.group_names]) * (0.0 if unaware else 1.0)
    for bi, bname in enumerate(plan.behaviour_names):
        for ri, rname in enumerate(plan.region_names):
            s = local[ri]  # the region's rules
            b = s.behaviours[bname]
            rate = np.array([b.rate[c] for c in plan.class_names])
            mean_rate = float((class_share * rate).sum())
            negative = b.points < 0
            det_tier = b.deterrence.below_tier
            by_tier = np.ones(NT)
            if negative and det_tier is not None:
                by_tier[tier_index[det_tier] + 1:] = b.deterrence.factor
            by_sanction = np.array([1.0, b.deterrence.when_sanctioned if negative else 1.0])
            by_holder = np.array([0.0, 1.0]) if b.account != "score" else np.ones(2)
            cols = [plan.channel_names.index(c) for c in b.channels]
            eff = [covs[:, 0, ri, k] for k in cols]  # [day] each
            seen = np.max([covs[:, 1, ri, k] for k in cols], axis=0)  # the perceived coverage [day]
            # (x * 1.0 is x: a group that perceives fully gets the numbers of the rule without groups' factors)
            chill = 1.0 - b.deterrence.surveillance * seen[:, None] * perceives[None, :] if negative \
                else np.ones((D, G))
            if published is not None and (negative or b.creates_debt):  # deterred by the names published
                chill = chill * published[ri]
            # [day, class, group, tier, sanctioned, holder]
            acts = (rate[None, :, None, None, None, None] * chill[:, None, :, None, None, None]
                    * by_tier[None, None, None, :, None, None] * by_sanction[None, None, None, None, :, None]
                    * by_holder[None, None, None, None, None, :])
            p[:, ri, :, :, :, :, :, 1, 2 * bi] = np.clip(acts, 0.0, 1.0)
            false_rate = np.zeros(D)
            for c, e in zip(b.channels, eff):
                false_rate = false_rate + s.channels[c].false_match * e
            false_rate = false_rate * b.detect * mean_rate
            false_g = np.minimum(1.0, false_rate[:, None] * ff[None, :] / mean_ff)  # [day, group]
            p[:, ri, :, :, :, :, :, 1, 2 * bi + 1] = (false_g[:, None, :, None, None, None]
                                                      * by_holder[None, None, None, None, None, :])
            for gi, gname in enumerate(plan.group_names):
                grp = pop.groups[gname]
                miss = np.ones(D)
                for j, (c, e) in enumerate(zip(b.channels, eff)):
                    miss = miss * (1.0 - np.minimum(1.0, e * s.channels[c].detect * grp.detect_factor))
                    det[:, ri, gi, bi, j] = b.detect * (1.0 - miss)
    # cells are region * (C * G) + class * G + group; states tier * 8 + sanctioned * 4 + holder * 2 + adult
    return p.reshape(D, R * C * G, NT * 8, NE), det


def _condition(cond, kinds, tindex: dict[str, int]) -> tuple[int, int]:
    """(kind, tier index) of a list's enter or exit condition; the field set names the kind."""
    for name, value in cond.model_dump().items():
        if value is not None:
            return int(kinds[name.upper()]), tindex[value] if name.startswith("tier") else 0
    raise ValueError(f"empty condition {cond!r}")  # excluded by the schema's cross checks


def _masks(refs, lists: list[str], tindex: dict[str, int]) -> tuple[int, int, int]:
    """(lists, tiers, a zeroed account) that references such as ``lists.X``, ``tiers.X`` and ``accounts.X.zero``
    name, as bit masks of the lists and tiers (by index) and a flag."""
    lmask = tmask = az = 0
    for ref in refs:
        kind, _, rest = ref.partition(".")
        if kind == "lists":
            lmask |= 1 << lists.index(rest)
        elif kind == "tiers":
            tmask |= 1 << tindex[rest]
        else:
            az = 1
    return lmask, tmask, az


def _bands(prm: np.ndarray, first_t: int, first_y: int, bands: dict) -> None:
    """Write up to ``BANDS`` bands (share, yuan) to the slots from ``first_t`` (cumulative thresholds, the last
    band's and the unused ones 2**32: always) and ``first_y`` (yuan)."""
    cum = np.cumsum([b.share for b in bands.values()])
    for k in range(BANDS - 1):
        prm[first_t + k] = threshold(cum[k]) if k < len(bands) - 1 else threshold(1.0)
    for k, b in enumerate(bands.values()):
        prm[first_y + k] = b.yuan


def _epoch(plan_parts: dict, s: Scenario, start: int, regional: tuple) -> Epoch:
    tiers = list(s.score.tiers)
    behaviours, lists, cons, accounts = (list(s.behaviours), list(s.lists), list(s.consequences),
                                         list(s.accounts))
    tindex = {t: k for k, t in enumerate(tiers)}
    prm = np.zeros(P.SIZE, np.int64)
    lo, hi = s.score.bounds
    rec = s.score.recovery
    prm[P.N] = s.population.size
    prm[P.LO], prm[P.HI], prm[P.BASE] = lo, hi, s.score.base
    prm[P.REC_PTS], prm[P.REC_QUIET], prm[P.REC_UPTO] = rec.points_per_day, rec.after_quiet_days, rec.up_to
    prm[P.RETENTION] = -1 if s.score.retention_days is None else s.score.retention_days
    prm[P.STRIKE_WIN] = -1 if s.score.strike_window_days is None else s.score.strike_window_days
    if accounts:
        acct = s.accounts[accounts[0]]
        prm[P.ACCT_PTS], prm[P.ACCT_RESTORE], prm[P.HAS_ACCT] = acct.points, acct.restore_days, 1
    if s.debt is not None:
        prm[P.REPAY_T] = threshold(s.debt.repay_per_day)
        prm[P.REPAY_TS] = threshold(min(1.0, s.debt.repay_per_day * s.debt.sanction_multiplier))
    if s.redress is not None:
        prm[P.CONTEST_T] = threshold(s.redress.contest_probability)
        prm[P.REDRESS_DELAY] = s.redress.delay_days
    prm[P.NT], prm[P.NB], prm[P.NL], prm[P.NC] = len(tiers), len(behaviours), len(lists), len(cons)
    prm[P.R], prm[P.T] = len(s.population.regions), len(s.population.groups) * len(s.population.classes)
    prm[P.NE] = 2 * len(behaviours)
    prm[P.K] = popmod.matchings(s.population)
    prm[P.K_FRIENDS] = s.population.friends.degree
    prm[P.K_LOCAL] = round(s.population.friends.degree * s.population.friends.same_region)
    prm[P.BEST] = int(s.population.friends.best)
    prm[P.HAS_HH] = int(s.population.households is not None)
    prm[P.HAS_STRIKES] = int(any(b.repeat_points for b in s.behaviours.values()))
    prm[P.HAS_OUTSTANDING] = int(s.score.retention_days is not None)
    for k, v in plan_parts["metric_offsets"].items():
        prm[k] = v
    prm[P.NM] = len(plan_parts["metric_names"])
    prm[P.M_CODE] = -1  # the lazy engine's rows of people per state code (engine/detected.py); none here

    beh = np.zeros((len(behaviours), N_BEH), np.int32)
    rep = np.zeros((len(behaviours), 8), np.int32)
    for i, name in enumerate(behaviours):
        b = s.behaviours[name]
        beh[i, :BEH.NET] = (b.points, -1 if b.account == "score" else 0, int(b.creates_debt), int(b.points < 0),
                            len(b.channels), len(b.repeat_points[:8]), b.fine)
        beh[i, BEH.NET:] = popmod.network_points(s.population, b.network)
        rep[i, : len(b.repeat_points[:8])] = b.repeat_points[:8]
    lst = np.zeros((len(lists), len(LIST)), np.int32)
    prm[P.DEBT_LISTS] = sum(1 << k for k, name in enumerate(lists) if s.lists[name].enter.debt)
    for i, name in enumerate(lists):
        L = s.lists[name]
        ek, ea = _condition(L.enter, ENTER, tindex)
        xk, xa = _condition(L.exit, EXIT, tindex) if isinstance(L.exit, Exit) else (EXIT.NEVER, 0)
        lst[i] = (ek, ea, xk, xa, L.min_days, -1 if L.max_days is None else L.max_days, L.extra_days_max,
                  L.publish_every_days, 0, -1)
    con = np.zeros((len(cons), len(CONS)), np.int64)
    for i, name in enumerate(cons):
        c = s.consequences[name]
        lmask, tmask, az = _masks(c.on, lists, tindex)
        # a consequence on an entity's linked persons: their attempts are drawn apart (engine.linked)
        attempts = 0.0 if c.applies_to.startswith("links.") else c.attempts_per_day
        agency = delivered_by(c)
        con[i] = (lmask, tmask, az, int(c.kind == "reward"), int(threshold(attempts)),
                  int(c.applies_to == "household.children"), int(threshold(c.costs_work)),
                  0 if agency is None else 1 << plan_parts["agencies"].index(agency))
    # the lists passed to children, and an entity type's lists whose sanctions fall on linked persons (their
    # stories tell them: populations.linked_stories)
    linked = np.array([c.applies_to.startswith("links.") for c in s.consequences.values()], bool)
    prm[P.CHILD_LISTS] = np.bitwise_or.reduce(con[con[:, CONS.CHILDREN] != 0, CONS.LISTS], initial=0)
    prm[P.LINK_LISTS] = np.bitwise_or.reduce(con[linked, CONS.LISTS], initial=0)
    listing = 0  # tiers from which a list takes an agent on a publication day
    for L in lst:
        if L[LIST.ENTER] == ENTER.TIER_AT_MOST:
            listing |= sum(1 << k for k in range(L[LIST.ENTER_ARG], len(tiers)))
        elif L[LIST.ENTER] == ENTER.TIER_AT_LEAST:
            listing |= sum(1 << k for k in range(0, L[LIST.ENTER_ARG] + 1))
    prm[P.LIST_TIERS] = listing
    # tiers at which an agent has end-of-day work even when nothing happened to it: listing, and attempts at
    # what a tier's consequences sanction or reward (a scheduler that counts those in aggregate sets
    # TIER_ATTEMPTS and BUSY_TIERS = LIST_TIERS in its copy: engine/attempts.py)
    prm[P.BUSY_TIERS] = listing | int(np.bitwise_or.reduce(con[:, CONS.TIERS])) if len(con) else listing
    if shaming.shuns(s):  # the shunned: the people on these lists and in these tiers (visited every day)
        prm[P.HAS_SHUN] = 1
        ost_lists, ost_tiers, _ = _masks(s.ostracism.on if s.ostracism is not None else [], lists, tindex)
        shaming.shun_slots(prm, s, ost_lists, ost_tiers)
        prm[P.BUSY_TIERS] |= prm[P.SHUN_TIERS]
    shaming.work_slots(prm, s)  # (the work a published list bars: engine/economy.py)
    if s.economy is not None:  # who is in work, at what income (engine/kernels.py: income_of)
        prm[P.EMPLOYED_T] = threshold(s.economy.employed)
        _bands(prm, P.INCOME_T0, P.INCOME_Y0, s.economy.income)
    prm[P.HAS_WORK] = int(costs_work(s))
    if s.debt is not None and s.debt.amounts:  # a court debt's amount (engine/kernels.py: debt_amount)
        prm[P.HAS_AMOUNTS] = 1
        _bands(prm, P.DEBT_T0, P.DEBT_Y0, s.debt.amounts)
    if s.awareness is not None:  # who is aware of the scheme, and how awareness spreads
        a = s.awareness
        prm[P.HAS_AWARE] = 1
        prm[P.AWARE_T], prm[P.AWARE_PEN_T] = threshold(a.start), threshold(a.penalised)
        prm[P.AWARE_TOLD_T], prm[P.AWARE_SEEN_T] = threshold(a.told), threshold(a.seen)
    prm[P.TIER_ATTEMPTS] = 0
    mins = np.array([s.score.tiers[t] for t in tiers], np.int32)
    return Epoch(start, s, prm, mins, beh, rep, lst, con, regional)


MAX_AGENCIES = 62  # the agencies of a population's measures, as bits of ``CONS.AGENCY``


def compile_plan(s: Scenario, *, size: int | None = None, days: int | None = None, seed: int | None = None) -> Plan:
    """Compile a validated scenario for a run of ``size`` agents over ``days`` days with ``seed``."""
    pop = s.population
    if size is not None and size != pop.size:
        if s.entities:  # entity types keep their ratio to the persons
            from .scenarios.entities import scaled_sizes

            s = Scenario.model_validate(scaled_sizes(s.model_dump(mode="python"), int(size)))
        else:
            s = s.model_copy(update={"population": pop.model_copy(update={"size": int(size)})})
        pop = s.population
    run = s.run.model_copy(update={k: v for k, v in (("days", days), ("seed", seed)) if v is not None})
    s = s.model_copy(update={"run": run})
    tiers, behaviours = list(s.score.tiers), list(s.behaviours)
    lists, cons, accounts = list(s.lists), list(s.consequences), list(s.accounts)
    channels = sorted({c for b in s.behaviours.values() for c in b.channels}, key=list(s.channels).index)
    names, offsets, is_level = metric_names(s, tiers, behaviours, lists, cons, accounts)
    if pop.households is not None:
        head, hsize, adult = popmod.household_pattern({int(k): v for k, v in pop.households.sizes.items()},
                                                      pop.households.child_share, run.seed)
    else:
        head, hsize, adult = np.zeros(1, np.int32), np.ones(1, np.int32), np.ones(1, np.uint8)
    class_names, group_names = list(pop.classes), list(pop.groups)
    plan = Plan(
        scenario=s, size=pop.size, days=run.days, seed=run.seed,
        region_names=list(pop.regions), group_names=group_names, class_names=class_names,
        tier_names=tiers, behaviour_names=behaviours, channel_names=channels, list_names=lists,
        consequence_names=cons, account_names=accounts,
        region_starts=popmod.region_starts(pop.size, [r.share for r in pop.regions.values()]),
        class_cum=threshold(np.cumsum([pop.classes[c] for c in class_names])),
        group_cum=threshold(np.cumsum([pop.groups[g].share for g in group_names])),
        holder_t=np.uint64(threshold(s.accounts[accounts[0]].holders_share)) if accounts else np.uint64(0),
        hh_head=head, hh_size=hsize, hh_adult=adult,
        friend_keys=popmod.feistel_keys(run.seed, popmod.matchings(pop)),
        metric_names=names, is_level=is_level,
    )
    parts = {"metric_offsets": offsets, "metric_names": names, "agencies": agency_names(s)}
    if len(parts["agencies"]) > MAX_AGENCIES:
        raise ValueError(f"{len(parts['agencies'])} agencies deliver measures over the run, more than the "
                         f"{MAX_AGENCIES} a plan counts per person: {parts['agencies']}")
    base = s.model_copy(update={"timeline": []})
    local = (base,) * len(plan.region_names)  # each region's rules
    plan.epochs.append(_epoch(parts, base, 0, local))
    for i, entry in enumerate(s.timeline):
        where = f"timeline.{i}.set"
        done = {}  # id of a region's rules before the change -> after it (regions that share rules share them)
        if not entry.regions:
            before, base = base, with_changes(base, entry.set, where=where)
            done[id(before)] = base
        changed = []
        for rules, name in zip(local, plan.region_names):
            if entry.regions and name not in entry.regions:
                changed.append(rules)
                continue
            if id(rules) not in done:
                done[id(rules)] = with_changes(rules, entry.set, where=where)
            changed.append(done[id(rules)])
        local = tuple(changed)
        plan.epochs.append(_epoch(parts, base, entry.day, local))
    dated = [i for i in range(len(lists)) if any(e.lists[i, LIST.MIN_DAYS] > 0 or e.lists[i, LIST.MAX_DAYS] >= 0
                                                    for e in plan.epochs)]
    for e in plan.epochs:  # rows of entry days for the lists with a term (engine.state: ``listed``)
        e.lists[dated, LIST.ROW] = np.arange(len(dated))
    plan.class_cum[-1] = np.uint64(2**32)
    plan.group_cum[-1] = np.uint64(2**32)
    if s.entities:
        from .scenarios.entities import entity_scenario

        for name, e in s.entities.items():
            sub = compile_plan(entity_scenario(s, name))
            sub.link_sizes.update({k: link.per_entity for k, link in e.links.items()})
            plan.entities[name] = sub
    return plan
