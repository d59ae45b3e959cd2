"""The dashboard's knobs: a few key parameters found in any scenario, applied as plain data.

A knob names what a reader cares about ("camera coverage", "points for criticising the government"), not a
dotted path: :func:`knobs` finds, in the scenario at hand, the values each knob stands for, and
:func:`apply_knobs` writes numbers (never code) into a copy of the scenario's dict and validates it with the
scenario schema. A bad value comes back as the schema's own message, keyed by the knob. A knob holds for the
whole run: where the scenario's timeline changes the same value later, the change is scaled or set too.

No web framework is imported here: the page (``app/dashboard.py``) and the tests use the same functions.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import ScenarioError
from ..scenarios.entities import scaled_sizes
from ..scenarios.load import assign, load_scenario, lookup
from ..scenarios.schema import Scenario

__all__ = ["Knob", "knobs", "apply_knobs", "scenario_toml", "estimate_seconds", "whole_number", "agents",
           "agent_days", "MAX_POPULATION", "MAX_AGENTS", "MAX_DAYS", "MAX_AGENT_DAYS", "AGENT_DAYS_PER_S",
           "SPEEDS", "START_S", "COMPILE_S"]

MAX_POPULATION = 25_000_000   # a page may not ask for more agents than a Beijing-sized city (21.7 M)
MAX_AGENTS = 30_000_000       # persons and entities together (beijing-2020 at 25 M persons: 26.2 M)
MAX_DAYS = 3650
# nor for more work than a Beijing-sized city for a year (beijing-2020: 22.7 M persons and firms x 365 days,
# 8.3e9): press-2018 at 21.7 M agents for a year takes about 50 s through the page on the reference machine,
# beijing-2020 at that size several minutes (its firms make each agent-day dearer: SPEEDS below)
MAX_AGENT_DAYS = 10_000_000_000
# How long a page's run takes. The page runs day by day (``app.live.live_run``, which reports each day), and
# a run's time is a start, a cost per day that depends on the scheme and not on its size (most of the time
# at the sizes a page mostly asks for), and a cost per agent-day that depends on the scheme too. Measured
# through live_run on the reference machine (2 cores) at 20,000-2,000,000 agents x 365 days and rounded up
# (docs/dashboard.md): by scheme (``meta.name``), seconds per day and agent-days per second. Any other
# scheme (an uploaded file) is estimated at the slowest of each.
START_S = 1.0
SPEEDS = {"press_2018": (0.030, 2.0e8), "beijing_2020": (0.022, 1.5e7), "bench_v1": (0.006, 6.0e7),
          "court_defaulters_national": (0.008, 1.0e8), "court_defaulters_national_calibrated": (0.002, 9.0e7),
          "jinan_dog_points": (0.005, 2.0e8), "rongcheng_2018": (0.006, 9.0e7), "xiamen_fuzhou_2018": (0.006, 9.0e7),
          "sesame_credit_2018": (0.002, 4.5e7)}
SLOWEST = (max(d for d, _ in SPEEDS.values()), min(r for _, r in SPEEDS.values()))
AGENT_DAYS_PER_S = SPEEDS["press_2018"][1]  # press-2018 at 21.7 M agents x 365 days: 41.9 s in all
# The first run in a server process loads the compiled engine from numba's disk cache (a few seconds); where
# the engine was never compiled (a new installation, or scslab's engine changed), it compiles it first:
# about 70 s on a quiet reference machine, 293 s measured while other work kept both cores busy.
COMPILE_S = (70, 300)


@dataclass(frozen=True)
class Knob:
    """One control on the page. ``kind`` is ``float``, ``int`` or ``choice``; ``edits`` are the
    (path, how) pairs it changes, where ``how`` is ``set``, ``scale`` (multiply the scenario's value,
    a coverage time series included) or ``percent`` (set a probability the knob shows in per cent)."""

    key: str
    label: str
    kind: str
    value: Any
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[str, ...] = ()
    help: str = ""
    edits: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def _negative(b) -> bool:
    return b.points < 0 or any(p < 0 for p in b.repeat_points)


def knobs(scenario: Scenario) -> list[Knob]:
    """The knobs that make sense for ``scenario``, with its current values."""
    s = scenario
    out: list[Knob] = []
    cameras = [n for n, c in s.channels.items() if c.kind == "camera"]
    if cameras:
        out.append(Knob("coverage", "Camera coverage (x the scenario's)", "float", 1.0, 0.0, 3.0, 0.05,
                        help="Multiplies every camera channel's coverage, over the whole timeline.",
                        edits=tuple((f"channels.{n}.coverage", "scale") for n in cameras)))
    matching = [n for n, c in s.channels.items() if c.false_match > 0] or cameras
    if matching:
        first = s.channels[matching[0]].false_match
        out.append(Knob("false_match", "False-match rate", "float", round(first, 6), 0.0, max(0.05, first), 0.0005,
                        help="Chance that an observation is pinned on the wrong, innocent person.",
                        edits=tuple((f"channels.{n}.false_match", "set") for n in matching)))
    critics = [n for n in s.behaviours if "critic" in n]
    if critics:
        points = s.behaviours[critics[0]].points
        out.append(Knob("criticism", "Points for criticising the government", "int",
                        points, min(-300, points), max(0, points), 5,
                        help="Points an act of criticism costs when it is caught.",
                        edits=tuple((f"behaviours.{n}.points", "set") for n in critics)))
    out += _network_knobs(s)
    black = [n for n, spec in s.lists.items() if spec.kind == "black" and spec.enter.tier_at_most]
    if black:
        spec = s.lists[black[0]]
        out.append(Knob("threshold", "Blacklist entry: at or below tier", "choice", spec.enter.tier_at_most,
                        choices=tuple(s.score.tiers), help="The tier at which people are put on the blacklist.",
                        edits=((f"lists.{black[0]}.enter.tier_at_most", "set"),)))
        if spec.exit != "never":  # a list nobody leaves has no minimum time to speak of
            out.append(Knob("min_days", "Blacklist minimum time (days)", "int", spec.min_days, 0,
                            max(MAX_DAYS, spec.min_days), 30,
                            help="Days on the list before a person may leave it.",
                            edits=((f"lists.{black[0]}.min_days", "set"),)))
    chilled = [n for n, b in s.behaviours.items() if _negative(b) and b.deterrence.surveillance > 0]
    if chilled:
        out.append(Knob("deterrence", "Chilling effect (x the scenario's)", "float", 1.0, 0.0, 3.0, 0.05,
                        help="Multiplies how strongly being watched deters each behaviour.",
                        edits=tuple((f"behaviours.{n}.deterrence.surveillance", "scale") for n in chilled)))
        per = s.perception
        out.append(Knob("overstatement", "Perceived watching (x the actual)", "float", per.overstatement, 0.0,
                        max(3.0, per.overstatement), 0.05,
                        help="How much of the watching people believe there is, against what there is: above 1 "
                             "they think they are watched more than they are.",
                        edits=(("perception.overstatement", "set"),)))
        out.append(Knob("lag", "Perception lag (days)", "int", per.lag_days, 0, max(365, per.lag_days), 5,
                        help="Days people take, on average, to notice a change in the watching.",
                        edits=(("perception.lag_days", "set"),)))
    if s.awareness is not None:
        out.append(Knob("aware", "Aware of the scheme at the start (%)", "float", 100 * s.awareness.start, 0.0, 100.0,
                        1.0, help="The share of adults who know of the scheme on the first day: only they are "
                                  "chilled by the watching.", edits=(("awareness.start", "percent"),)))
        out.append(Knob("told", "Awareness told to each tie (%)", "float", 100 * s.awareness.told, 0.0, 100.0, 1.0,
                        help="The chance that one who has just learnt of the scheme tells each of its ties.",
                        edits=(("awareness.told", "percent"),)))
    if s.ostracism is not None:
        out.append(Knob("ostracism", "Ostracism: ties dropped a day (%)", "float", 100 * s.ostracism.rate, 0.0,
                        max(10.0, 100 * s.ostracism.rate), 0.1,
                        help="The daily chance that each friend or colleague of a shunned person drops the tie.",
                        edits=(("ostracism.rate", "percent"),)))
    for name, L in s.lists.items():  # what publishing a list does (scslab.shaming)
        x = L.shaming
        if x is not None and x.ties > 0:
            out.append(Knob(f"shaming-{name}-ties", f"Published {name}: ties dropped a day (%)", "float",
                            100 * x.ties, 0.0, max(10.0, 100 * x.ties), 0.1,
                            help=f"The daily chance that each friend or colleague of a person on {name} drops the tie.",
                            edits=((f"lists.{name}.shaming.ties", "percent"),)))
        if x is not None and x.deters > 0:
            out.append(Knob(f"shaming-{name}-deters", f"Published {name}: others deterred (x share listed)", "float",
                            x.deters, 0.0, max(100.0, x.deters), 1.0,
                            help=f"Everyone's acts that cost points are less likely by this times the share of the "
                                 f"region's people on {name}.", edits=((f"lists.{name}.shaming.deters", "set"),)))
    return out


def _network_knobs(s: Scenario) -> list[Knob]:
    """One network-penalty knob for each behaviour whose detection costs the actor's ties points, showing
    and editing that behaviour's own value: ``network-NAME`` for friends and household together when they
    are equal, else ``network-NAME-friends`` and ``network-NAME-household``; and ``network-NAME-KIND`` for
    each kind of tie the scheme gives points of its own (partner, parents, children, best friend,
    colleagues)."""
    out = []
    for name, b in s.behaviours.items():
        friends, household = b.network.friends, b.network.household
        if not any(b.network.by_relation().values()):
            continue
        ties = ((f"network-{name}", "friends and household", "each friend and household member", friends,
                 ("friends", "household")),)
        if friends != household:
            ties = ((f"network-{name}-friends", "friends", "each friend", friends, ("friends",)),
                    (f"network-{name}-household", "household", "each household member", household, ("household",)))
        apart = [(k, v) for k, v in b.network.model_dump().items()
                 if k in _KINDS_APART and v is not None and (k != "colleagues" or v != 0)]
        ties += tuple((f"network-{name}-{k}", _KINDS_APART[k][0], _KINDS_APART[k][1], v, (k,)) for k, v in apart)
        for key, short, whom, value, kinds in ties:
            out.append(Knob(key, f"Network penalty, {name}: {short}", "int", value, min(-300, value), max(0, value),
                            1, help=f"Points {whom} of a person caught at {name} loses"
                            + (" (unless set apart below)." if apart and "household" in kinds else "."),
                            edits=tuple((f"behaviours.{name}.network.{k}", "set") for k in kinds)))
    return out


# kinds of tie a scheme may give points of their own, beside the household's and the friends' (``schema.Network``)
_KINDS_APART = {"partner": ("partner", "the partner"), "parents": ("parents", "each parent"),
                "children": ("children", "each child"), "best_friend": ("best friend", "the best friend"),
                "colleagues": ("colleagues", "each colleague")}


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, list):  # a coverage time series [[day, value], ...]
        return [[day, v * factor] for day, v in value]
    return value * factor


def whole_number(text: Any, low: int | None = None, high: int | None = None) -> int:
    """What a number field holds (``"20000"``, ``"20,000"``, ``" -80 "``, or an int) as an int in [low, high].

    Raises ValueError with a message that names the text: the page shows it beside the field."""
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise ValueError(f"{_shown(text)}: not a whole number")
    if isinstance(text, str):
        digits = text.strip().replace(",", "").replace("_", "")
        if not digits.lstrip("+-").isdigit() or len(digits) > 24:
            raise ValueError(f"{_shown(text)}: not a whole number")
        value = int(digits)
    else:
        value = text
    if low is not None and high is not None and not low <= value <= high:
        raise ValueError(f"{value:,}: allowed {low:,} to {high:,}")
    return value


def _shown(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _knob_problem(knob: Knob, value: Any) -> str | None:
    """Why ``value`` cannot be ``knob``'s, or None: a choice must be one of its choices; a number must be
    finite and within the knob's range (an int knob's a whole number, or the text of one)."""
    if knob.kind == "choice":
        return None if value in knob.choices else f"{_shown(value)}: allowed {', '.join(knob.choices)}"
    if knob.kind == "int":
        try:
            whole_number(value, int(knob.low), int(knob.high))
        except ValueError as exc:
            return str(exc)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"{_shown(value)}: not a number"
    if not knob.low <= value <= knob.high:
        return f"{value}: allowed {knob.low} to {knob.high}"
    return None


def _size_problem(value: Any, high: int, unit: str) -> str | None:
    """Why ``value`` cannot be a population or a number of days (1 to ``high``), or None."""
    try:
        n = whole_number(value)
    except ValueError as exc:
        return str(exc)
    return None if 1 <= n <= high else f"{n:,} {unit}: allowed 1 to {high:,} on this page"


def agents(data: Mapping[str, Any]) -> int:
    """A scenario dict's persons and entities (firms, authorities) together."""
    return data["population"]["size"] + sum(e["population"]["size"] for e in (data.get("entities") or {}).values())


def agent_days(data: Mapping[str, Any]) -> int:
    """The work a scenario dict asks for: its agents (:func:`agents`) times its days."""
    return agents(data) * data["run"]["days"]


def _work_problems(data: Mapping[str, Any]) -> dict[str, str]:
    """What makes a scaled scenario dict too big for the page: its agents, or its agent-days."""
    if agents(data) > MAX_AGENTS:  # an uploaded scheme may have many firms for each person
        return {"population": f"{agents(data):,} agents with the scheme's firms and other entities: allowed at "
                              f"most {MAX_AGENTS:,} on this page"}
    if agent_days(data) > MAX_AGENT_DAYS:
        return {"agent_days": f"{agent_days(data):,} agent-days (agents x days): allowed at most "
                              f"{MAX_AGENT_DAYS:,} on this page"}
    return {}


def apply_knobs(scenario: Scenario, chosen: Mapping[str, Any], *, population: int | None = None,
                days: int | None = None) -> tuple[Scenario | None, dict[str, str]]:
    """``scenario`` with the knobs' values written in, validated; or None and the problems by knob key
    (``population``, ``days`` and ``agent_days`` included), each naming the bad value.

    ``population`` sets the persons' size and scales every entity type's by the same factor, as
    ``scslab run --population`` does; together they may not pass ``MAX_AGENTS``, nor, times ``days``,
    ``MAX_AGENT_DAYS``."""
    problems: dict[str, str] = {}
    for name, value, high, unit in (("population", population, MAX_POPULATION, "agents"),
                                    ("days", days, MAX_DAYS, "days")):
        problem = None if value is None else _size_problem(value, high, unit)
        if problem is not None:
            problems[name] = problem
    data = scenario.model_dump(mode="python")
    by_key = {k.key: k for k in knobs(scenario)}
    for key, value in chosen.items():
        knob = by_key.get(key)
        if knob is None:
            problems[str(key)[:40]] = f"no such setting for this scenario; allowed: {', '.join(by_key)}"
            continue
        problem = _knob_problem(knob, value)
        if problem is not None:
            problems[key] = problem
            continue
        if knob.kind == "int":
            value = whole_number(value)
        for path, how in knob.edits:  # the knob holds for the whole run: later timeline changes of it too
            later = [f"timeline.{i}.set.{path}" for i, t in enumerate(data.get("timeline") or []) if path in t["set"]]
            for where in [path, *later]:
                assign(data, where, _scaled(lookup(data, where), float(value)) if how == "scale"
                       else float(value) / 100 if how == "percent" else value)
    if problems:
        return None, problems
    if population is not None:
        scaled_sizes(data, whole_number(population))
    if days is not None:
        data["run"]["days"] = whole_number(days)
    problems = _work_problems(data)
    if problems:
        return None, problems
    try:
        return load_scenario(copy.deepcopy(data)), {}
    except ScenarioError as exc:
        for path, value, message in exc.problems:
            key = next((k.key for k in by_key.values() if any(p in path for p, _ in k.edits)), "scenario")
            problems.setdefault(key, f"{path} = {value!r}: {message}")
        return None, problems


def scenario_toml(scenario: Scenario) -> bytes:
    """The scenario as a TOML file (every value, defaults included) that ``scslab run`` loads as it is."""
    import tomli_w

    def plain(value):  # TOML has no null
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [plain(v) for v in value if v is not None]
        return value

    return tomli_w.dumps(plain(scenario.model_dump(mode="json"))).encode()


def estimate_seconds(population: int, days: int, scheme: str | None = None) -> float:
    """Rough wall time of a page's run of ``population`` agents (persons and entities together) for ``days``
    days of the scheme named ``scheme`` (its ``meta.name``) on the reference machine, once the engine is
    loaded (see ``COMPILE_S`` for the first run)."""
    per_day, rate = SPEEDS.get(scheme, SLOWEST)
    return START_S + per_day * days + population * days / rate
