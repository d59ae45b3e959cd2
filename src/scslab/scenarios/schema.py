"""The scenario language: a strict pydantic schema for scenario TOML files.

Every table forbids unknown keys and every model is frozen. Field-level checks (types, ranges) are pydantic's;
checks that relate fields to each other (references, orderings, shares) live in :func:`cross_check`, which
returns every problem at once as ``(dotted.path, value, message)``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Scenario", "Entity", "Link", "NAME_PATTERN", "INT16_LIMIT", "MAX_DAYS", "MAX_CELLS", "REGIONAL_PATHS",
           "is_regional_path"]

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
INT16_LIMIT = 30000  # scores, points and bounds must stay inside int16 with room for one day of deductions
MAX_DAYS = 30000  # days are stored as int16
MAX_CELLS = 1024  # regions x classes x groups: every day's tables and counts grow with them (docs/scenario.md)

# What a timeline change for some regions only may set (``*``: one name): the parts of the rules that
# differ by region in the engines' tables (acts, detection, deterrence and coverage are worked out per cell,
# and a cell is a region, a class and a group). Points, tiers, lists and consequences are the same everywhere.
REGIONAL_PATHS = ("behaviours.*.rate", "behaviours.*.rate.*", "behaviours.*.detect", "behaviours.*.deterrence",
                  "behaviours.*.deterrence.*", "channels.*.coverage", "channels.*.interpolate",
                  "channels.*.detect", "channels.*.false_match", "perception", "perception.*")


def is_regional_path(path: str) -> bool:
    """Whether a dotted path is one of ``REGIONAL_PATHS``."""
    parts = path.split(".")
    return any(len(parts) == len(pattern.split(".")) and all(q in ("*", p) for p, q in zip(parts, pattern.split(".")))
               for pattern in REGIONAL_PATHS)


Prob = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
Points = Annotated[int, Field(ge=-INT16_LIMIT, le=INT16_LIMIT)]
Yuan = Annotated[int, Field(ge=0, le=1_000_000_000)]
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
    perceives: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Factor on how much of the watching the group's members perceive, and so on the chilling effect:
    0 for people unaware of the scheme, 1 for people who perceive it as everyone does ([perception])."""


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
    best: bool = False
    """Whether a person's first friend tie is their best friend (each person has at most one, and is that
    friend's best friend too)."""


class Colleagues(Strict):
    degree: Annotated[int, Field(ge=0, le=16)] = 0
    """Colleague ties per person, drawn inside the person's region (random perfect matchings, so ties are
    symmetric; a friend and a colleague are different ties)."""


class Population(Strict):
    size: Annotated[int, Field(ge=1, le=2_000_000_000)]
    """Number of persons."""
    regions: dict[Name, Region] = Field(default_factory=lambda: {"all": Region(share=1.0)}, min_length=1,
                                        max_length=MAX_CELLS)
    """Regions by name; contiguous id blocks sized by their shares."""
    groups: dict[Name, Group] = Field(default_factory=lambda: {"all": Group(share=1.0)}, min_length=1)
    """Groups by name (for example hukou holders and migrants)."""
    classes: dict[Name, Prob] = Field(default_factory=lambda: {"all": 1.0}, min_length=1)
    """Latent classes by name = share; behaviour rates are given per class."""
    households: Households | None = None
    """Households with adults and children (omit for none)."""
    friends: Friends = Friends()
    """Friend ties."""
    colleagues: Colleagues = Colleagues()
    """Colleague ties (friends and colleagues together: at most 16 per person)."""

    @model_validator(mode="after")
    def _ties(self):
        if self.friends.degree + self.colleagues.degree > 16:
            raise ValueError(f"friends.degree {self.friends.degree} and colleagues.degree "
                             f"{self.colleagues.degree}: at most 16 ties per person in all")
        if self.friends.best and self.friends.degree == 0:
            raise ValueError("friends.best = true needs friends.degree of at least 1")
        return self


# -------------------------------------------------------------------------------------- channels, behaviours
class Channel(Strict):
    kind: Literal["camera", "financial", "government", "online", "informant", "court"]
    """What kind of observation: camera coverage is scaled by regions' camera_coverage, others by
    data_completeness."""
    coverage: Union[Prob, Annotated[list[Annotated[list[Annotated[float, Field(allow_inf_nan=False)]],
                                                   Field(min_length=2, max_length=2)]],
                                    Field(max_length=MAX_DAYS + 1)]] = 1.0
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
    """Points given to the caught person's ties, by who they are to the caught person. The household's
    relations follow its members' places: its first member and, when an adult, its second are the parents'
    generation (partners of each other); its other members are their children (an adult child is scored,
    a minor is not), siblings of each other."""

    household: Points = 0
    """Points given to each other member of the caught person's household (unless set below)."""
    partner: Points | None = None
    """Points given to the caught person's partner (unset: ``household``'s)."""
    parents: Points | None = None
    """Points given to each of the caught person's parents in the household (unset: ``household``'s)."""
    children: Points | None = None
    """Points given to each of the caught person's children in the household (unset: ``household``'s;
    "if your father says something negative, you lose points")."""
    friends: Points = 0
    """Points given to each friend of the caught person."""
    best_friend: Points | None = None
    """Points given to the caught person's best friend (``friends.best``; unset: ``friends``')."""
    colleagues: Points = 0
    """Points given to each colleague of the caught person."""

    def by_relation(self) -> dict[str, int]:
        """The points of each kind of tie (``encodings.REL``'s names, lower case), unset ones filled in."""
        h, f = self.household, self.friends
        return {"household": h, "partner": h if self.partner is None else self.partner,
                "parents": h if self.parents is None else self.parents,
                "children": h if self.children is None else self.children,
                "best_friend": f if self.best_friend is None else self.best_friend, "friends": f,
                "colleagues": self.colleagues}


class Perception(Strict):
    """How people perceive the watching: the coverage that deterrence's chilling effect responds to."""

    lag_days: Annotated[int, Field(ge=0, le=MAX_DAYS)] = 0
    """Days perceived coverage takes, on average, to follow the actual one: each day it closes 1 / (lag_days
    + 1) of the gap (0: at once)."""
    overstatement: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Factor on the perceived coverage: above 1 people believe they are watched more than they are (capped
    at 100 %), below 1 less."""
    start: Prob | None = None
    """Perceived coverage on day 0, for every channel (none: the actual coverage of day 0); with a lag, a
    start above the actual coverage makes people expect more watching than there is at first."""


class Ostracism(Strict):
    """People who drop their ties to shunned people: the listed, or those in a low tier."""

    on: list[str] = Field(min_length=1)
    """Who is shunned: ``lists.NAME`` (people on that list) and ``tiers.NAME`` (people in that tier)."""
    rate: Prob = 0.0
    """Daily chance that each friend and colleague of a shunned person drops the tie (0: nobody does).
    Household ties are never dropped; a dropped tie stays dropped, and no penalty travels along it."""


class Awareness(Strict):
    """Who knows of the scheme: only aware people are chilled by the watching they perceive; awareness spreads
    from person to person through ties and through seeing the scheme at work."""

    start: Prob = 1.0
    """Share of adults aware of the scheme on day 0 (drawn person by person)."""
    penalised: Prob = 0.0
    """Chance that a day on which an unaware person loses points makes it aware."""
    told: Prob = 0.0
    """Chance that a person who has just become aware tells each of its ties (household, friends, colleagues)
    the next day, making an unaware one aware."""
    seen: Prob = 0.0
    """Chance that each tie of a person who comes under a sanction (a listing's, a tier's...) sees it and
    becomes aware, the next day."""


class Deterrence(Strict):
    below_tier: Name | None = None
    """Tier below which the rate is multiplied by `factor` (none: no tier effect)."""
    factor: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Rate multiplier for persons below `below_tier`."""
    when_sanctioned: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = 1.0
    """Rate multiplier while a person is under a sanction."""
    surveillance: Prob = 0.0
    """Strength of the chilling effect: the rate is multiplied by 1 - surveillance x perceived coverage (the
    highest over the behaviour's channels, [perception], times the group's ``perceives``)."""


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
    fine: Yuan = 0
    """Yuan fined for each recorded act (a false attribution is fined too: the system cannot tell it apart)."""
    context: Name | None = None
    """The social context the act's data comes from (``debt_enforcement``, ``traffic``...), for the legal reading
    (``scslab legal``); unset: named after the first channel's kind (``scslab.legal.CHANNEL_CONTEXTS``)."""
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


class Shaming(Strict):
    """What publishing a list's names (on screens, in cinemas, online) does, beyond the list's own sanctions:
    to the listed person's ties, to its work, and to everyone else's acts."""

    ties: Prob = 0.0
    """Daily chance that each friend and colleague of a person on the list drops the tie (as ``[ostracism]``
    does; with both, the higher chance). Household ties are never dropped."""
    work: Prob = 0.0
    """Share of the employed whose employer reads the list: one of them on the list is out of work, and loses
    its income, while listed. Needs [economy]."""
    deters: Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)] = 0.0
    """Deterrence of others: the daily chance of every act that costs points or creates a court debt is
    multiplied by 1 - deters x the share of the region's people on the list (as it stood at the start of the day
    before; summed over published lists, at least 0)."""
    description: str = ""
    """Free text for reports (how the list is published)."""


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
    shaming: Shaming | None = None
    """What publishing the names does to the listed and to others (omit: nothing beyond the sanctions)."""
    description: str = ""
    """Free text for reports."""


class Consequence(Strict):
    kind: Literal["sanction", "reward"] = "sanction"
    """\"sanction\" (attempts are blocked) or \"reward\" (attempts are granted)."""
    on: list[str] = Field(min_length=1)
    """What triggers it: \"lists.NAME\", \"tiers.NAME\" or \"accounts.NAME.zero\" (any of them)."""
    attempts_per_day: Prob = 0.0
    """Daily chance that a person under it tries the activity (a blocked or granted person-time)."""
    applies_to: Annotated[str, Field(pattern=r"^(self|household\.children|links\.[A-Za-z][A-Za-z0-9_]*"
                                             r"(\.[A-Za-z][A-Za-z0-9_]*)?)$")] = "self"
    """\"self\"; \"household.children\" for children of a listed adult; for an entity type, \"links.NAME\" for
    the persons linked to it (a firm's legal representative: a listed firm's representative is barred); for the
    persons, \"links.ENTITY.LINK\" for the entities a listed person is linked to (the firms it represents: a
    listed representative's firms are barred)."""
    agency: Name | None = None
    """The agency that delivers it. Consequences of one list delivered by many agencies are joint punishment
    (the memoranda): ``agency:NAME`` counts the measures each agency has in force."""
    costs_work: Prob = 0.0
    """Share of the employed whose work the sanction bars (an executive post, a public-sector job): one of them
    under it is out of work, and loses its income, while under it. Needs [economy]."""
    context: Name | None = None
    """The social context the measure acts in (``travel``, ``education``...), for the legal reading (``scslab
    legal``); unset: named after the agency (``scslab.legal.AGENCY_CONTEXTS``), else ``unspecified``."""
    description: str = ""
    """Free text for reports."""


class Band(Strict):
    share: Prob
    """Share of the people in the band (a scenario's bands sum to 1)."""
    yuan: Yuan
    """The band's amount in yuan."""


class Debt(Strict):
    repay_per_day: Prob
    """Daily chance that a debtor repays."""
    sanction_multiplier: Annotated[float, Field(ge=0.0, le=1000.0, allow_inf_nan=False)] = 1.0
    """Factor on repay_per_day while the debtor is sanctioned."""
    amounts: dict[Name, Band] = Field(default_factory=dict, max_length=4)
    """A court debt's amount by band (at most 4): share and yuan, drawn once per person from its id. Empty: debts
    have no amount (no ``debt_owed_yuan`` or ``repaid_yuan``)."""


class Economy(Strict):
    """Work and income of the persons, drawn from their ids: who is in work, at what daily income, and what a
    sanction that costs work takes from them."""

    employed: Prob
    """Share of adults in work."""
    income: dict[Name, Band] = Field(min_length=1, max_length=4)
    """Daily income of the employed by band (at most 4): share and yuan a day."""
    description: str = ""
    """Free text for reports."""


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
    regions: list[Name] = []
    """The regions the change applies to (none listed: everywhere). A change for some regions only (a local
    scheme, a pilot, a regional ramp) may set what can differ by region: behaviours' ``rate``, ``detect`` and
    ``deterrence``, channels' ``coverage``, ``interpolate``, ``detect`` and ``false_match``, and
    ``perception``."""
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


class Link(Strict):
    per_entity: Annotated[int, Field(ge=1, le=1000)] = 1
    """Persons linked to each entity (1 for a firm's legal representative; officials of an authority: more)."""
    same_region: bool = True
    """Draw them among the persons of the region with the entity's region name (anywhere when persons have no
    region of that name)."""
    description: str = ""
    """Free text for reports."""


class Entity(Strict):
    """A scored entity type beside the persons: firms or local authorities, with their own population,
    behaviours, channels, score, lists and consequences (the tables of a scenario), plus links to persons."""

    kind: Literal["firm", "authority"]
    """What the entities are."""
    description: str = ""
    """One line for reports."""
    story_agents: Annotated[int, Field(ge=0, le=10_000)] = 0
    """How many sampled entities' complete event logs to keep."""
    population: Population
    """The entities: size, regions, groups (for example sectors), classes; friends are business partners."""
    channels: dict[Name, Channel] = Field(min_length=1)
    """Observation channels by name."""
    behaviours: dict[Name, Behaviour] = Field(min_length=1, max_length=24)
    """Behaviours by name (tax arrears, product quality, unpaid judgments, fraudulent statistics...)."""
    score: Score
    """The entity's rating and its tiers."""
    accounts: dict[Name, Account] = Field(default_factory=dict, max_length=1)
    """Domain accounts by name (at most 1)."""
    lists: dict[Name, ListRule] = Field(default_factory=dict, max_length=4)
    """Black and red lists of entities."""
    consequences: dict[Name, Consequence] = Field(default_factory=dict, max_length=16)
    """Sanctions and rewards; ``applies_to = "links.NAME"`` delivers one to the linked persons."""
    debt: Debt | None = None
    """Court debt and repayment (omit for none)."""
    redress: Redress | None = None
    """Contesting false records (omit for none)."""
    timeline: list[TimelineEntry] = []
    """Policy changes by day, paths relative to this entity type."""
    links: dict[Name, Link] = {}
    """Links to persons by name (legal_representative, managers, officials)."""


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
    perception: Perception = Perception()
    """How people perceive the watching (lag, overstatement); by default they perceive it as it is."""
    ostracism: Ostracism | None = None
    """People dropping their friend and colleague ties to the shunned (omit for none)."""
    awareness: Awareness | None = None
    """Who is aware of the scheme, and how awareness spreads (omit: everyone is)."""
    economy: Economy | None = None
    """Work and income, and the work that sanctions cost (omit for none)."""
    timeline: list[TimelineEntry] = []
    """Policy changes by day."""
    entities: dict[Name, Entity] = Field(default_factory=dict, max_length=4)
    """Scored entity types beside the persons, by name (firms, authorities; at most 4)."""
    provenance: dict[str, str] = {}
    """Marks for the numbers: dotted path = \"documented: SOURCE\", \"calibrated: TARGETS\" or \"assumed[: why]\"."""
