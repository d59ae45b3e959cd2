"""Property tests: any mutation of a scenario is either valid or a ScenarioError, never another exception."""

import copy
import math

import tomllib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scslab import ScenarioError, load_scenario
from scslab.scenarios.load import preset_path

with open(preset_path("press-2018"), "rb") as fh:
    BASE = tomllib.load(fh)


def paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from paths(v, prefix + (k,))


PATHS = list(paths(BASE))
values = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                   st.text(max_size=8), st.lists(st.integers(-5, 5), max_size=3),
                   st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
                   st.just(math.inf), st.just(-1), st.just(2.0))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), values, st.booleans()), min_size=1, max_size=3))
def test_mutations_are_valid_or_scenario_errors(mutations):
    data = copy.deepcopy(BASE)
    for path, value, delete in mutations:
        node = data
        for k in path[:-1]:
            if not isinstance(node, dict) or k not in node:
                break
            node = node[k]
        else:
            if isinstance(node, dict):
                if delete:
                    node.pop(path[-1], None)
                else:
                    node[path[-1]] = value
    try:
        load_scenario(data)
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p[0], str) for p in exc.problems)


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.integers() | st.text(max_size=4), lambda c: st.dictionaries(st.text(max_size=4), c),
                    max_leaves=20))
def test_arbitrary_tables_never_crash(data):
    try:
        load_scenario(data if isinstance(data, dict) else {"x": data})
    except ScenarioError:
        pass
