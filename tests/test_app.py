"""The dashboard's logic without a browser: knobs, validation, live runs, cancel, concurrency."""

import threading

import numpy as np
import pytest

from scslab import load_scenario
from scslab.app.live import Cancelled, live_run
from scslab.app.params import MAX_POPULATION, apply_knobs, estimate_seconds, knobs


def test_press_2018_has_every_knob_with_its_current_value():
    s = load_scenario("press-2018")
    by = {k.key: k for k in knobs(s)}
    assert set(by) == {"coverage", "false_match", "criticism", "network", "threshold", "min_days", "deterrence"}
    assert by["criticism"].value == s.behaviours["criticize_government"].points
    assert by["threshold"].value == s.lists["blacklist"].enter.tier_at_most
    assert by["threshold"].choices == tuple(s.score.tiers)


def test_knobs_write_numbers_into_the_scenario():
    s = load_scenario("press-2018")
    cams = [n for n, c in s.channels.items() if c.kind == "camera"]
    changed, problems = apply_knobs(s, {"coverage": 0.5, "criticism": -80, "threshold": "C", "min_days": 90},
                                    population=5000, days=40)
    assert problems == {}
    for n in cams:
        before, after = s.channels[n].coverage, changed.channels[n].coverage
        if isinstance(before, list):
            assert [v for _, v in after] == pytest.approx([0.5 * v for _, v in before])
        else:
            assert after == pytest.approx(0.5 * before)
    assert changed.behaviours["criticize_government"].points == -80
    assert changed.lists["blacklist"].enter.tier_at_most == "C" and changed.lists["blacklist"].min_days == 90
    assert (changed.population.size, changed.run.days) == (5000, 40)


def test_bad_values_come_back_as_the_schemas_message_by_knob():
    s = load_scenario("press-2018")
    _, problems = apply_knobs(s, {"coverage": 3.0})  # camera coverage above 1
    assert set(problems) == {"coverage"} and "channels." in problems["coverage"]
    _, problems = apply_knobs(s, {"threshold": "Z", "nonsense": 1}, population=MAX_POPULATION + 1, days=0)
    assert set(problems) == {"threshold", "nonsense", "population", "days"}
    assert "allowed" in problems["threshold"] and "criticism" in problems["nonsense"]
    assert estimate_seconds(21_700_000, 365) < 60  # a Beijing-sized year within a minute on this machine


def test_live_run_reports_partials_that_end_in_the_result():
    s, _ = apply_knobs(load_scenario("press-2018"), {}, population=20_000, days=60)
    seen = []
    res = live_run(s, seed=3, on_update=seen.append, every=10)
    days = [p.day for p in seen if not p.queued]
    assert seen[0].queued and days == sorted(days) and days[-1] == 60 and len(days) >= 6
    last = seen[-1]
    for name in ("tier:A", "listed:blacklist", "sanctioned:loan_denial", "acts:criticize_government"):
        assert np.array_equal(last.series[name], res.series(name).to_numpy()), name


def test_cancel_stops_a_run_and_runs_share_the_cores():
    s, _ = apply_knobs(load_scenario("bench-v1"), {}, population=20_000, days=200)
    cancel = threading.Event()

    def stop_at_day_20(p):
        if p.day >= 20:
            cancel.set()

    with pytest.raises(Cancelled, match="cancelled on day"):
        live_run(s, cancel=cancel, on_update=stop_at_day_20, every=5)
    results, errors = [], []

    def one(k):
        try:
            results.append(live_run(s, seed=k).final("tier:A"))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and len(results) == 4


def test_downloaded_scenario_loads_back_unchanged():
    import tomllib

    from scslab.app.params import scenario_toml

    s, _ = apply_knobs(load_scenario("press-2018"), {"criticism": -120, "coverage": 0.7}, population=5000, days=30)
    assert load_scenario(tomllib.loads(scenario_toml(s).decode())) == s


def test_page_engine_thread_runs_the_baseline_first_and_publishes_only_data():
    pytest.importorskip("solara")
    from scslab.app.dashboard import _engine

    base = load_scenario("press-2018")
    changed, _ = apply_knobs(base, {"network": -200}, population=10_000, days=40)
    latest = {}
    _engine(changed, base, 2, True, threading.Event(), latest)
    assert set(latest) == {"baseline", "partial", "result"} and latest["baseline"].day == 40
    harsh = latest["result"].final("sanctioned_by_ties") + latest["result"].summary()["network_penalties (total)"]
    assert harsh > latest["baseline"].series["network_penalties"].sum()  # the changed policy bites harder
    stopped = threading.Event()
    stopped.set()
    latest = {}
    _engine(changed, base, 2, False, stopped, latest)
    assert isinstance(latest["error"], Cancelled) and "result" not in latest
