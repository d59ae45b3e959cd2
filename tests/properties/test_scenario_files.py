"""Generated and mutated scenario *files*: every outcome is a valid run or a ScenarioError naming the field.

Files start from every preset and are changed the ways users break them (and nudged to nearby values of
the same type, so that many of them are still valid, different scenarios): wrong types, missing and extra
keys, extreme numbers, NaN and infinity, huge populations, references to other (or the same) names, bytes
that are not UTF-8, truncation, and deep nesting. A file that loads is run (on at most 2,000 agents and 10
days, the rest of it unchanged); a huge population must be refused with a CapacityError, before allocation.
The default run checks a few hundred files; ``pytest -m slow`` checks 10,000.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
import tomli_w
import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scslab import CapacityError, ScenarioError, load_scenario, simulate
from scslab.compile import compile_plan
from scslab.engine.budget import check_capacity
from scslab.scenarios.load import preset_names, preset_path

BASES = {}
for _name in preset_names():
    with open(preset_path(_name), "rb") as _fh:
        BASES[_name] = tomllib.load(_fh)


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def _names(base):
    """Every name a scenario defines: what references may point at."""
    out = set()
    for table in ("behaviours", "channels", "lists", "consequences", "accounts", "regions"):
        node = base.get(table) or base.get("population", {}).get(table)
        if isinstance(node, dict):
            out.update(node)
    out.update(base.get("score", {}).get("tiers", {}))
    return sorted(out)


NAMES = sorted({n for b in BASES.values() for n in _names(b)})
REFS = [f"{kind}.{n}" for kind in ("lists", "tiers", "accounts") for n in NAMES] + [f"accounts.{n}.zero" for n in NAMES]

EXTREME = st.sampled_from([0, -1, 1, 2, 2**15, -(2**15) - 1, 2**31, 2**63 - 1, -(2**63), 10**30, 0.5, -0.0, 1e308,
                           -1e-308, 1e-12, math.nan, math.inf, -math.inf, 2_000_000_000, 1_999_999_999])
VALUE = st.one_of(EXTREME, st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
                  st.sampled_from(NAMES + REFS + ["never", "self", "household.children", ""]),
                  st.lists(st.one_of(st.integers(-3, 400), st.floats(-1, 2), st.text(max_size=3)), max_size=4),
                  st.lists(st.lists(st.one_of(st.integers(-2, 40), st.floats(-1, 2)), max_size=3), max_size=3),
                  st.dictionaries(st.text(max_size=5), st.integers(-5, 5), max_size=2),
                  st.builds(lambda d: _nest(d), st.integers(1, 60)))


def _nest(depth):
    node = 1
    for _ in range(depth):
        node = {"a": node}
    return node


def _get(node, path):
    for k in path:
        node = node[k]
    return node


@st.composite
def scenario_files(draw) -> bytes:
    name = draw(st.sampled_from(sorted(BASES)))
    import copy

    data = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(data))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get(data, path[:-1])
        action = draw(st.sampled_from(["set", "set", "delete", "extra", "nudge", "nudge", "nudge"]))
        current = parent[path[-1]]
        if action == "nudge":  # a plausible value of the same type: mostly valid, different scenarios
            if isinstance(current, bool):
                parent[path[-1]] = draw(st.booleans())
            elif isinstance(current, int):
                parent[path[-1]] = draw(st.integers(min(0, 3 * current) - 5, max(0, 3 * current) + 5))
            elif isinstance(current, float) and math.isfinite(current) and abs(current) < 1e300:
                low, high = (0.0, 1.0) if 0 <= current <= 1 else sorted((0.0, 4 * current))
                parent[path[-1]] = draw(st.floats(low, high))
        elif action == "delete":
            if isinstance(parent, dict):
                del parent[path[-1]]
            else:
                parent.pop(path[-1])
        elif action == "extra" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(VALUE)
        else:
            parent[path[-1]] = draw(VALUE)
    try:
        text = tomli_w.dumps(data).encode()
    except (TypeError, ValueError):  # a value TOML cannot hold: write the untouched preset
        text = tomli_w.dumps(BASES[name]).encode()
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "bytes", "latin1", "deep"]))
    if damage == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "bytes":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at:]
    elif damage == "latin1":
        text = text + "\n# caf\u00e9\n".encode("latin-1")
    elif damage == "deep":
        depth = draw(st.sampled_from([50, 1000, 100_000]))
        text = text + b"\n[zz]\nx = " + b"[" * depth + b"]" * depth + b"\n"
    return text


_DIR = Path(tempfile.mkdtemp(prefix="scslab-fuzz-"))


def check_file(raw: bytes) -> str:
    path = _DIR / "scenario.toml"
    path.write_bytes(raw)
    try:
        s = load_scenario(path)
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError must list its problems"
        for where, _value, message in exc.problems:
            assert isinstance(where, str) and where and message
        return "refused"
    if s.population.size > 50_000_000:
        plan = compile_plan(s, size=s.population.size, days=min(s.run.days, 10))
        try:
            check_capacity(plan, available=8 * 2**30)
        except CapacityError as exc:
            assert exc.needed_bytes > 8 * 2**30
            return "too big"
    try:
        result = simulate(s, population=min(s.population.size, 2_000), days=min(s.run.days, 10))
    except ScenarioError as exc:  # valid at its own size, not at 2,000 agents (e.g. more regions than agents)
        assert exc.problems
        return "refused when shrunk"
    assert len(result.metrics) > 0
    return "ran"


COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
              database=None)


@settings(max_examples=300, **COMMON)
@given(scenario_files())
def test_scenario_files_run_or_name_the_field(raw):
    check_file(raw)


@pytest.mark.slow
@settings(max_examples=10_000, **COMMON)
@given(scenario_files())
def test_ten_thousand_scenario_files(raw):
    check_file(raw)


def test_the_generator_reaches_every_outcome():
    """The strategies are not vacuous: across a fixed sample, files are refused, run and too big."""
    from hypothesis import find

    for wanted in ("refused", "ran"):
        find(scenario_files(), lambda raw, w=wanted: check_file(raw) == w, settings=settings(max_examples=500,
                                                                                            **COMMON))
    base = tomllib.loads(tomli_w.dumps(BASES["bench-v1"]))
    base["population"]["size"] = 2_000_000_000
    assert check_file(tomli_w.dumps(base).encode()) == "too big"
