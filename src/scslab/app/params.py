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
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import ScenarioError
from ..scenarios.load import assign, load_scenario, lookup
from ..scenarios.schema import Scenario

__all__ = ["Knob", "knobs", "apply_knobs", "scenario_toml", "estimate_seconds", "MAX_POPULATION",
           "AGENT_DAYS_PER_S"]

MAX_POPULATION = 25_000_000   # a page may not ask for more agents than a Beijing-sized city (21.7 M)
# agent-days per second of the lazy engine on the reference machine (2 cores; docs/performance.md):
# bench-v1 at 10 M agents 2.4e8, press-2018 at Beijing scale about 2.5e8; a conservative round figure
AGENT_DAYS_PER_S = 2.0e8


@dataclass(frozen=True)
class Knob:
    """One control on the page. ``kind`` is ``float``, ``int`` or ``choice``; ``edits`` are the
    (path, how) pairs it changes, where ``how`` is ``set`` or ``scale`` (multiply the scenario's value,
    a coverage time series included)."""

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
        out.append(Knob("false_match", "False-match rate", "float", round(first, 6), 0.0, 0.05, 0.0005,
                        help="Chance that an observation is pinned on the wrong, innocent person.",
                        edits=tuple((f"channels.{n}.false_match", "set") for n in matching)))
    critics = [n for n in s.behaviours if "critic" in n]
    if critics:
        out.append(Knob("criticism", "Points for criticising the government", "int",
                        s.behaviours[critics[0]].points, -300, 0, 5,
                        help="Points an act of criticism costs when it is caught.",
                        edits=tuple((f"behaviours.{n}.points", "set") for n in critics)))
    tied = [n for n, b in s.behaviours.items() if b.network.friends != 0 or b.network.household != 0]
    if tied:
        b = s.behaviours[tied[0]]
        out.append(Knob("network", "Network penalty (points to each friend and household member)", "int",
                        min(b.network.friends, b.network.household), -300, 0, 1,
                        help="What a person's ties lose when the person is caught.",
                        edits=tuple((f"behaviours.{n}.network.{k}", "set") for n in tied
                                    for k in ("friends", "household"))))
    black = [n for n, spec in s.lists.items() if spec.kind == "black" and spec.enter.tier_at_most]
    if black:
        spec = s.lists[black[0]]
        out.append(Knob("threshold", "Blacklist entry: at or below tier", "choice", spec.enter.tier_at_most,
                        choices=tuple(s.score.tiers), help="The tier at which people are put on the blacklist.",
                        edits=((f"lists.{black[0]}.enter.tier_at_most", "set"),)))
        out.append(Knob("min_days", "Blacklist minimum time (days)", "int", spec.min_days, 0, 3650, 30,
                        help="Days on the list before a person may leave it.",
                        edits=((f"lists.{black[0]}.min_days", "set"),)))
    chilled = [n for n, b in s.behaviours.items() if _negative(b) and b.deterrence.surveillance > 0]
    if chilled:
        out.append(Knob("deterrence", "Chilling effect (x the scenario's)", "float", 1.0, 0.0, 3.0, 0.05,
                        help="Multiplies how strongly being watched deters each behaviour.",
                        edits=tuple((f"behaviours.{n}.deterrence.surveillance", "scale") for n in chilled)))
    return out


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, list):  # a coverage time series [[day, value], ...]
        return [[day, v * factor] for day, v in value]
    return value * factor


def apply_knobs(scenario: Scenario, chosen: Mapping[str, Any], *, population: int | None = None,
                days: int | None = None) -> tuple[Scenario | None, dict[str, str]]:
    """``scenario`` with the knobs' values written in, validated; or None and the problems by knob key
    (``population`` and ``days`` included), each the schema's message with the bad value."""
    problems: dict[str, str] = {}
    if population is not None and not 1 <= int(population) <= MAX_POPULATION:
        problems["population"] = f"{population:,} agents: allowed 1 to {MAX_POPULATION:,} on this page"
    if days is not None and not 1 <= int(days) <= 3650:
        problems["days"] = f"{days} days: allowed 1 to 3650 on this page"
    data = scenario.model_dump(mode="python")
    by_key = {k.key: k for k in knobs(scenario)}
    for key, value in chosen.items():
        knob = by_key.get(key)
        if knob is None:
            problems[key] = f"no such setting for this scenario; allowed: {', '.join(by_key)}"
            continue
        if knob.kind == "choice" and value not in knob.choices:
            problems[key] = f"{value!r}: allowed {', '.join(knob.choices)}"
            continue
        for path, how in knob.edits:  # the knob holds for the whole run: later timeline changes of it too
            later = [f"timeline.{i}.set.{path}" for i, t in enumerate(data.get("timeline") or []) if path in t["set"]]
            for where in [path, *later]:
                assign(data, where, _scaled(lookup(data, where), float(value)) if how == "scale" else value)
    if population is not None:
        data["population"]["size"] = int(population)
    if days is not None:
        data["run"]["days"] = int(days)
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


def estimate_seconds(population: int, days: int) -> float:
    """Rough wall time of a run on the reference machine (compilation excluded)."""
    return population * days / AGENT_DAYS_PER_S
