"""The lazy engine's split of acts into detected ones (visited) and undetected ones (counted in aggregate)."""

from __future__ import annotations

import numpy as np
import pytest

from scslab import simulate
from scslab.compile import BEH, FLAG, P, compile_plan
from scslab.engine.cpu import run_cpu
from scslab.engine.detected import KeyedGenerator, count_undetected, lazy_tables, rate_groups
from scslab.rng import stream_key, threshold
from scslab.scenarios import load_scenario


@pytest.mark.parametrize("preset", ["bench-v1", "press-2018", "beijing-2020"])
def test_split_has_the_dense_engines_law(preset):
    """Per cell, state code and behaviour: P(no detected act) * P(undetected | none detected) equals the dense
    law's P(undetected act) = p (1 - delta); the gate is that of detected acts and false attributions only."""
    plan = compile_plan(load_scenario(preset), size=2_000, days=30, seed=1)
    p, det = plan.day_probabilities(10)
    gate, cum, und, und_p, _ = lazy_tables(plan, 10)
    nch = plan.epoch_at(10).beh[:, BEH.N_CHANNELS]
    R, C, G = len(plan.region_names), len(plan.class_names), len(plan.group_names)
    delta = det[:, :, np.arange(len(nch)), nch - 1]                       # [region, group, b]
    delta = np.broadcast_to(delta[:, None], (R, C, G, len(nch))).reshape(R * C * G, 1, -1)
    act = p[:, :, 0::2]
    assert np.allclose((1.0 - act * delta) * und_p, act * (1.0 - delta), atol=1e-15)
    detected = np.concatenate([(act * delta)[..., None], p[:, :, 1::2, None]], axis=3).reshape(p.shape)
    assert np.array_equal(gate, threshold(1.0 - np.prod(1.0 - detected, axis=2)))
    assert np.array_equal(und[:, :, -1], threshold(1.0 - np.prod(1.0 - und_p, axis=2)))
    assert (gate <= plan.day_tables(10)[0]).all() and (und_p > 0).any()


def test_undetected_counts_are_binomial_and_keyed():
    """Binomial(people - visited, r) per cell, code and behaviour, summed over codes; same key, same counts."""
    rng = np.random.default_rng(0)
    NC, NS, NB = 3, 6, 4
    people = rng.integers(1_000, 5_000, (NS, NC))
    visited = rng.integers(0, 500, (NS, NC))
    visited[2] = people[2]                                              # a code whose people all drew their own
    und_p = rng.uniform(0.0, 0.02, (NC, NS, NB))
    und_p[:, 3] = und_p[:, 4]                                           # two codes with the same rates: one group
    und_p[1, 5] = 0.0                                                   # and a code where nothing goes undetected
    groups = rate_groups(und_p)
    assert len(groups[1]) == NC * NS - NC - 1 and groups[0][1, 5] == -1
    keyed = KeyedGenerator()
    key = stream_key(7, 345, 3)
    a = count_undetected(people, visited, groups, keyed(key))
    assert a.shape == (NB, NC) and np.array_equal(a, count_undetected(people, visited, groups, keyed(key)))
    runs = np.array([count_undetected(people, visited, groups, keyed(stream_key(7, 345, d))) for d in range(400)])
    mean = np.einsum("sc,csb->bc", people - visited, und_p)
    var = np.einsum("sc,csb->bc", people - visited, und_p * (1.0 - und_p))
    z = np.abs(runs.mean(0) - mean) / np.sqrt(var / len(runs))
    assert (z < 4.5).all(), z
    assert not count_undetected(people, people, groups, keyed(key)).any()  # everyone drew their own


def test_keyed_generator_draws_as_a_fresh_philox():
    keyed = KeyedGenerator()
    for k in (0, 1, 2**63 + 5, int(stream_key(3, 345, 9))):
        keyed(12345).random(7)                                          # whatever came before does not matter
        assert np.array_equal(keyed(k).binomial(1000, 0.3, 50),
                              np.random.Generator(np.random.Philox(key=k)).binomial(1000, 0.3, 50))


def test_people_per_state_code_are_exact():
    """After every pass the lazy engine's count of people per (state code, cell) equals a recount from the
    columns: lists, sanctions, confiscated accounts and a timeline all change codes."""
    over = {"timeline": [{"day": 40, "set": {"score.recovery.points_per_day": 3}}]}
    plan = compile_plan(load_scenario("press-2018", over), size=20_000, days=80, seed=3)
    checked = []

    def recount(loop):
        cols = loop.cols
        ids = np.arange(plan.size)
        region = np.searchsorted(plan.region_starts, ids, side="right") - 1
        cell = region * plan.epochs[0].prm[P.T] + cols.traits.astype(np.int64)
        own = (cols.flags & FLAG.STORY) == 0                                  # story agents aside
        expect = np.zeros((plan.n_states, plan.n_cells), np.int64)
        np.add.at(expect, ((cols.state[own] & 63).astype(np.int64), cell[own]), 1)
        assert np.array_equal(loop.lazy.people, expect), loop.day
        checked.append(loop.day)

    raw = run_cpu(plan, engine="lazy", after_pass=recount)
    assert len(checked) == plan.days + 1
    codes = raw.columns.state & 63
    assert len(np.unique(codes)) >= 4                                        # several codes were in use


def test_story_agents_log_undetected_acts_as_often_as_in_the_dense_engine():
    """Story agents draw their own undetected acts in the lazy engine: per behaviour, as many story events
    `act_undetected` as in the dense engine (two Poisson counts: |a - b| / sqrt(a + b) < 4.5)."""
    counts = {}
    for engine in ("dense", "lazy"):
        r = simulate("bench-v1", population=40_000, days=60, seed=5, engine=engine,
                     overrides={"run.story_agents": 4_000})
        s = r.stories
        counts[engine] = s[s["event"] == "act_undetected"].groupby("behaviour").size()
    a, b = counts["dense"].align(counts["lazy"], fill_value=0)
    assert a.sum() > 1_000 and b.sum() > 1_000
    z = (a - b).abs() / np.sqrt(a + b)
    assert (z < 4.5).all(), z
