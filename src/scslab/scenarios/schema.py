"""The scenario language: a strict pydantic schema for scenario TOML files.

Every table forbids unknown keys and every model is frozen. Field-level checks (types, ranges) are pydantic's;
checks that relate fields to each other (references, orderings, shares) live in :func:`cross_check`, which
returns every problem at once as ``(dotted.path, value, message)``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Scenario", "cross_check", "NAME_PATTERN", "INT16_LIMIT", "MAX_DAYS"]

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
INT16_LIMIT = 30000  # scores, points and bounds must stay inside int16 with room for one day of deductions
MAX_DAYS = 30000  # days are stored as int16

Prob = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
Points = Annotated[int, Field(ge=-INT16_LIMIT, le=INT16_LIMIT)]
Day = Annotated[int, Field(ge=0, le=MAX_DAYS)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True)


# ----------------------------------------------------------------------------------------------- population
class Meta(Strict):
    name: Name
    """Scenario name: letters, digits and underscores, starting with a letter."""
    description: str = ""
    """One line shown by `scslab presets` and in reports."""
    kind: Literal["benchmark", "documented scheme", "press composite", "hypothetical"] = "hypothetical"
    """What the scenario represents."""
    caveats: list[str] = []
    """What a reader must know before trusting the results."""


class Region(Strict):
    share: Prob
    """Share of the population living in the region (all regions sum to 1)."""
    camera_coverage: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Factor applied to the coverage of camera channels in the region."""
    data_completeness: Prob = 1.0
    """Factor applied to the coverage of every non-camera channel in the region."""


class Group(Strict):
    share: Prob
    """Share of the population in the group (all groups sum to 1)."""
    detect_factor: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)] = 1.0
    """Factor on the chance that the group's acts are detected."""
    false_match_factor: Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)] = 1.0
    """Factor on the chance that an act is wrongly pinned on a member (face-match bias)."""


class Households(Strict):
    sizes: dict[Annotated[str, Field(pattern=r"^([1-9]|1[0-6])$")], Prob] = Field(min_length=1)
    """Distribution of household sizes: size (\"1\" to \"16\") = share; shares sum to 1."""
    child_share: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = 0.0
    """Share of household members after the first who are children (they do not act)."""


class Friends(Strict):
    degree: Annotated[int, Field(ge=0, le=16)] = 0
    """Friend ties per person (random perfect matchings, so ties are symmetric)."""
    same_region: Prob = 1.0
    """Share of the ties drawn inside the person's region."""


class Population(Strict):
    size: Annotated[int, Field(ge=1, le=2_000_000_000)]
    """Number of persons."""
    regions: dict[Name, Region] = Field(default_factory=lambda: {"all": Region(share=1.0)}, min_length=1)
    """Regions by name; contiguous id blocks sized by their shares."""
    groups: dict[Name, Group] = Field(default_factory=lambda: {"all": Group(share=1.0)}, min_length=1)
    """Groups by name (for example hukou holders and migrants)."""
    classes: dict[Name, Prob] = Field(default_factory=lambda: {"all": 1.0}, min_length=1)
    """Latent classes by name = share; behaviour rates are given per class."""
    households: Households | None = None
    """Households with adults and children (omit for none)."""
    friends: Friends = Friends()
    """Friend ties."""


# -------------------------------------------------------------------------------------- channels, behaviours
class Channel(Strict):
    kind: Literal["camera", "financial", "government", "online", "informant", "court"]
    """What kind of observation: camera coverage is scaled by regions' camera_coverage, others by
    data_completeness."""
    coverage: Union[Prob, list[Annotated[list[float], Field(min_length=2, max_length=2)]]] = 1.0
    """Share of acts the channel can see: a number, or [[day, value], ...] over time."""
    interpolate: Literal["linear", "step"] = "linear"
    """How coverage changes between the listed days."""
    detect: Prob = 1.0
    """Chance that the channel records an act it can see."""
    false_match: Prob = 0.0
    """Chance that an observation is matched to the wrong, innocent person."""
    description: str = ""
    """Free text for reports."""


class Network(Strict):
    household: Points = 0
    """Points given to each other member of the caught person's household."""
    friends: Points = 0
    """Points given to each friend of the caught person."""


class Deterrence(Strict):
    below_tier: Name | None = None
    """Tier below which the rate is multiplied by `factor` (none: no tier effect)."""
    factor: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Rate multiplier for persons below `below_tier`."""
    when_sanctioned: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Rate multiplier while a person is under a sanction."""
    surveillance: Prob = 0.0
    """Strength of the chilling effect: the rate is multiplied by 1 - surveillance x perceived coverage."""


class Behaviour(Strict):
    rate: dict[Name, Prob] = Field(min_length=1)
    """Daily probability of the act, per class."""
    channels: list[Name] = Field(min_length=1)
    """Channels that can observe the act, in order (the first that sees it is credited)."""
    detect: Prob = 1.0
    """Chance that an observed act is recorded at all."""
    points: Points
    """Points when recorded (negative: a penalty; positive: a reward)."""
    repeat_points: list[Points] = []
    """Escalating points for the 2nd, 3rd, ... offence within score.strike_window_days (the last repeats)."""
    account: Name = "score"
    """\"score\", or the name of a domain account that the points go to."""
    network: Network = Network()
    """Points to the caught person's household and friends."""
    deterrence: Deterrence = Deterrence()
    """How tiers, sanctions and surveillance lower the rate."""
    creates_debt: bool = False
    """A recorded act creates a court debt (see [debt])."""
    description: str = ""
    """Free text for reports."""


# --------------------------------------------------------------------------------------- score and accounts
class Recovery(Strict):
    points_per_day: Annotated[int, Field(ge=0, le=1000)] = 0
    """Points regained per day after a quiet period."""
    after_quiet_days: Day = 0
    """Days without a recorded offence before recovery starts."""
    up_to: Points = 0
    """Recovery stops at this score."""


class Score(Strict):
    base: Points
    """Starting score."""
    bounds: list[Points] = Field(min_length=2, max_length=2)
    """[lowest, highest] score; the score is clamped to them."""
    tiers: dict[Name, Points] = Field(min_length=1, max_length=8)
    """Tiers by name = minimum score, highest first."""
    recovery: Recovery = Recovery()
    """Quiet-period recovery."""
    retention_days: Day | None = None
    """Deductions are refunded after this many days without an offence (none: they stay)."""
    strike_window_days: Day | None = None
    """Repeat counts reset after this many days without an offence (none: never)."""


class Account(Strict):
    points: Annotated[int, Field(ge=1, le=255)]
    """Points a holder starts with (for example a 12-point dog licence)."""
    holders_share: Prob
    """Share of adults who hold the account."""
    restore_days: Day = 0
    """Days after confiscation (account at zero) until it is restored."""
    description: str = ""
    """Free text for reports."""


# ------------------------------------------------------------------------------------------ lists and more
class Enter(Strict):
    tier_at_most: Name | None = None
    """Listed when the tier is this one or lower."""
    tier_at_least: Name | None = None
    """Listed when the tier is this one or higher (red lists)."""
    account_zero: Name | None = None
    """Listed when this account reaches zero."""
    debt: bool | None = None
    """Listed while holding a court debt."""


class Exit(Strict):
    tier_at_least: Name | None = None
    """Leave when the tier is this one or higher."""
    tier_at_most: Name | None = None
    """Leave when the tier is this one or lower."""
    account_restored: Name | None = None
    """Leave when this account is restored."""
    repaid: bool | None = None
    """Leave on repaying the court debt (immediately, ignoring min_days)."""


class ListRule(Strict):
    kind: Literal["black", "red"] = "black"
    """\"black\" (punitive) or \"red\" (honour) list."""
    enter: Enter
    """The condition for entering the list (exactly one)."""
    exit: Union[Exit, Literal["never"]]
    """The condition for leaving, or \"never\"."""
    min_days: Day = 0
    """Days on the list before an exit is possible (except on repayment)."""
    max_days: Day | None = None
    """The listing ends after this many days (plus the extra), whatever the state (none: no limit)."""
    extra_days_max: Day = 0
    """Per-person uniform extra 0..extra_days_max added to max_days."""
    publish_every_days: Annotated[int, Field(ge=1, le=366)] = 1
    """Entries and exits happen only on publication days, every so many days."""
    description: str = ""
    """Free text for reports."""


class Consequence(Strict):
    kind: Literal["sanction", "reward"] = "sanction"
    """\"sanction\" (attempts are blocked) or \"reward\" (attempts are granted)."""
    on: list[str] = Field(min_length=1)
    """What triggers it: \"lists.NAME\", \"tiers.NAME\" or \"accounts.NAME.zero\" (any of them)."""
    attempts_per_day: Prob = 0.0
    """Daily chance that a person under it tries the activity (a blocked or granted person-time)."""
    applies_to: Literal["self", "household.children"] = "self"
    """\"self\", or \"household.children\" for children of a listed adult."""
    description: str = ""
    """Free text for reports."""


class Debt(Strict):
    repay_per_day: Prob
    """Daily chance that a debtor repays."""
    sanction_multiplier: Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)] = 1.0
    """Factor on repay_per_day while the debtor is sanctioned."""


class Redress(Strict):
    contest_probability: Prob
    """Chance that a false record is contested (and then removed)."""
    delay_days: Day = 30
    """Days until a contested false record is removed and its points refunded."""


class TimelineEntry(Strict):
    day: Day
    """Day the change takes effect (it applies to that day's acts)."""
    set: dict[str, Any] = Field(min_length=1)
    """Changes: dotted path = new value (the structure of the scenario cannot change)."""
    note: str = ""
    """Why, for reports."""


class Run(Strict):
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 365
    """Days to simulate."""
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    """Random seed: same seed, same bytes."""
    story_agents: Annotated[int, Field(ge=0, le=10_000)] = 24
    """How many sampled persons' complete event logs to keep."""
    score_every_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None
    """Days between snapshots of the score distribution (``score:LOW..HIGH`` metrics); by default about 12
    snapshots a run (every ``ceil(days / 12)`` days), plus the last day."""


class Scenario(Strict):
    """A whole scenario file. See ``docs/scenario.md`` for every field."""

    meta: Meta
    """Name and description."""
    run: Run = Run()
    """Days, seed and story agents."""
    population: Population
    """The synthetic population."""
    channels: dict[Name, Channel] = Field(min_length=1)
    """Observation channels by name."""
    behaviours: dict[Name, Behaviour] = Field(min_length=1, max_length=24)
    """Behaviours by name (at most 24)."""
    score: Score
    """The main score and its tiers."""
    accounts: dict[Name, Account] = Field(default_factory=dict, max_length=1)
    """Domain accounts by name (at most 1)."""
    lists: dict[Name, ListRule] = Field(default_factory=dict, max_length=4)
    """Black and red lists by name (at most 4)."""
    consequences: dict[Name, Consequence] = Field(default_factory=dict, max_length=16)
    """Sanctions and rewards by name (at most 16)."""
    debt: Debt | None = None
    """Court debt and repayment (omit for none)."""
    redress: Redress | None = None
    """Contesting false records (omit for none)."""
    timeline: list[TimelineEntry] = []
    """Policy changes by day."""
    provenance: dict[str, str] = {}
    """Marks for the numbers: dotted path = \"documented: SOURCE\", \"calibrated: TARGETS\" or \"assumed[: why]\"."""


# ------------------------------------------------------------------------------------------- cross checks
def _shares(problems, path, shares: dict[str, float]):
    total = sum(shares.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        problems.append((path, round(total, 9), "shares must sum to 1"))


def cross_check(s: Scenario) -> list[tuple[str, object, str]]:
    """Relations between fields that pydantic cannot see; returns every problem found."""
    p: list[tuple[str, object, str]] = []
    pop = s.population
    _shares(p, "population.regions", {k: r.share for k, r in pop.regions.items()})
    _shares(p, "population.groups", {k: g.share for k, g in pop.groups.items()})
    _shares(p, "population.classes", dict(pop.classes))
    if pop.households is not None:
        _shares(p, "population.households.sizes", dict(pop.households.sizes))
    if len(pop.classes) * len(pop.groups) > 255:
        p.append(("population", len(pop.classes) * len(pop.groups), "classes x groups must be at most 255"))

    tiers = list(s.score.tiers.items())
    tier_names = [t for t, _ in tiers]
    for (a, va), (b, vb) in zip(tiers, tiers[1:]):
        if vb >= va:
            p.append((f"score.tiers.{b}", vb, f"tiers must be listed from highest to lowest minimum; "
                                              f"{b} must be below {a} ({va})"))
    lo, hi = s.score.bounds
    if lo >= hi:
        p.append(("score.bounds", [lo, hi], "lower bound must be below upper bound"))
    if not lo <= s.score.base <= hi:
        p.append(("score.base", s.score.base, f"must lie within score.bounds [{lo}, {hi}]"))
    if tiers and tiers[-1][1] > lo:
        p.append((f"score.tiers.{tiers[-1][0]}", tiers[-1][1],
                  f"the lowest tier must start at or below the lower bound {lo} so every score has a tier"))

    def tier_ref(path, name):
        if name is not None and name not in s.score.tiers:
            p.append((path, name, f"unknown tier; allowed: {', '.join(tier_names)}"))

    channel_names = list(s.channels)
    for name, ch in s.channels.items():
        if isinstance(ch.coverage, list):
            days = [pt[0] for pt in ch.coverage]
            if not ch.coverage:
                p.append((f"channels.{name}.coverage", [], "needs at least one [day, value] point"))
            for i, (d, v) in enumerate(ch.coverage):
                if d != int(d) or not 0 <= d <= MAX_DAYS:
                    p.append((f"channels.{name}.coverage.{i}", d, f"day must be an integer in [0, {MAX_DAYS}]"))
                if not (0.0 <= v <= 1.0) or math.isnan(v):
                    p.append((f"channels.{name}.coverage.{i}", v, "coverage must be in [0, 1]"))
            if days != sorted(days) or len(set(days)) != len(days):
                p.append((f"channels.{name}.coverage", days, "days must be strictly increasing"))

    for name, b in s.behaviours.items():
        path = f"behaviours.{name}"
        missing = set(pop.classes) - set(b.rate)
        extra = set(b.rate) - set(pop.classes)
        for c in sorted(extra):
            p.append((f"{path}.rate.{c}", c, f"unknown class; allowed: {', '.join(pop.classes)}"))
        for c in sorted(missing):
            p.append((f"{path}.rate", c, f"missing a rate for class {c!r}; every class needs one"))
        for i, ch in enumerate(b.channels):
            if ch not in s.channels:
                p.append((f"{path}.channels.{i}", ch, f"unknown channel; allowed: {', '.join(channel_names)}"))
        if b.account != "score" and b.account not in s.accounts:
            p.append((f"{path}.account", b.account, f"unknown account; allowed: score, {', '.join(s.accounts)}"))
        tier_ref(f"{path}.deterrence.below_tier", b.deterrence.below_tier)
        if b.repeat_points and s.score.strike_window_days is None and b.account == "score":
            p.append((f"{path}.repeat_points", b.repeat_points,
                      "escalation on the main score needs score.strike_window_days"))
        if b.creates_debt and s.debt is None:
            p.append((f"{path}.creates_debt", True, "needs a [debt] table with the repayment hazard"))
        if (b.network.household or b.network.friends) and b.account != "score":
            p.append((f"{path}.network", b.network.model_dump(), "network penalties apply to the main score only"))
        if b.network.household and pop.households is None:
            p.append((f"{path}.network.household", b.network.household, "needs population.households"))
        if b.network.friends and pop.friends.degree == 0:
            p.append((f"{path}.network.friends", b.network.friends, "needs population.friends.degree > 0"))
    if len({c for b in s.behaviours.values() for c in b.channels}) > 8:
        p.append(("behaviours", None, "at most 8 distinct channels may be used by behaviours"))

    rec = s.score.recovery
    if rec.points_per_day and not lo <= rec.up_to <= hi:
        p.append(("score.recovery.up_to", rec.up_to, f"must lie within score.bounds [{lo}, {hi}]"))

    child_on: set[tuple[str, ...]] = set()
    for name, L in s.lists.items():
        path = f"lists.{name}"
        given = {k: v for k, v in L.enter.model_dump().items() if v is not None}
        if len(given) != 1:
            p.append((f"{path}.enter", given, "exactly one of tier_at_most, tier_at_least, account_zero, debt"))
        tier_ref(f"{path}.enter.tier_at_most", L.enter.tier_at_most)
        tier_ref(f"{path}.enter.tier_at_least", L.enter.tier_at_least)
        if L.enter.account_zero is not None and L.enter.account_zero not in s.accounts:
            p.append((f"{path}.enter.account_zero", L.enter.account_zero,
                      f"unknown account; allowed: {', '.join(s.accounts) or '(none defined)'}"))
        if L.enter.debt is False:
            p.append((f"{path}.enter.debt", False, "only debt = true is meaningful"))
        if L.enter.debt and s.debt is None:
            p.append((f"{path}.enter.debt", True, "needs a [debt] table"))
        if isinstance(L.exit, Exit):
            ex = {k: v for k, v in L.exit.model_dump().items() if v is not None}
            if len(ex) != 1:
                p.append((f"{path}.exit", ex,
                          'exactly one of tier_at_least, tier_at_most, account_restored, repaid; or "never"'))
            tier_ref(f"{path}.exit.tier_at_least", L.exit.tier_at_least)
            tier_ref(f"{path}.exit.tier_at_most", L.exit.tier_at_most)
            if L.exit.account_restored is not None and L.exit.account_restored not in s.accounts:
                p.append((f"{path}.exit.account_restored", L.exit.account_restored, "unknown account"))
            if L.exit.repaid is False:
                p.append((f"{path}.exit.repaid", False, "only repaid = true is meaningful"))
        if L.max_days is not None and L.max_days < L.min_days:
            p.append((f"{path}.max_days", L.max_days, f"must be at least min_days ({L.min_days})"))

    allowed_on = ([f"lists.{n}" for n in s.lists] + [f"tiers.{t}" for t in s.score.tiers]
                  + [f"accounts.{a}.zero" for a in s.accounts])
    for name, c in s.consequences.items():
        for i, ref in enumerate(c.on):
            if ref not in allowed_on:
                p.append((f"consequences.{name}.on.{i}", ref, f"unknown reference; allowed: {', '.join(allowed_on)}"))
        if c.applies_to == "household.children":
            if pop.households is None:
                p.append((f"consequences.{name}.applies_to", c.applies_to, "needs population.households"))
            if not all(r.startswith("lists.") for r in c.on):
                p.append((f"consequences.{name}.on", c.on, "consequences passed to children must be list-based"))
            child_on.add(tuple(sorted(c.on)))
    if len(child_on) > 1:
        p.append(("consequences", sorted(child_on),
                  "all consequences passed to household children must share the same 'on' lists"))

    days = [t.day for t in s.timeline]
    if days != sorted(days):
        p.append(("timeline", days, "entries must be in order of day"))
    for i, t in enumerate(s.timeline):  # a change after the run's end is allowed: it never happens
        for key in t.set:
            if key.startswith(("population.", "meta.", "run.", "timeline", "provenance")):
                p.append((f"timeline.{i}.set.{key}", t.set[key],
                          "the timeline may change behaviours, channels, score, accounts, lists, "
                          "consequences, debt and redress, not population, meta, run or provenance"))

    for key, text in s.provenance.items():
        if not (text.startswith(("documented:", "calibrated:", "assumed:")) or text == "assumed"):
            p.append((f"provenance.{key}", text, "must be 'documented: <source>', 'calibrated: <targets>' or "
                                                 "'assumed' (optionally 'assumed: <note>')"))
    return p
