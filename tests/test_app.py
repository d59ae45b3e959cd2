"""The dashboard's logic without a browser: knobs, validation, live runs, cancel, concurrency."""

import re
import threading
import time

import numpy as np
import pytest

from scslab import load_scenario
from scslab.app.live import Cancelled, live_run
from scslab.app.params import MAX_POPULATION, apply_knobs, estimate_seconds, knobs


def test_press_2018_has_every_knob_with_its_current_value():
    s = load_scenario("press-2018")
    by = {k.key: k for k in knobs(s)}
    assert set(by) == {"coverage", "false_match", "criticism", "network-social_media_post-friends",
                       "network-social_media_post-household", "network-criticize_government-friends",
                       "network-criticize_government-household", "network-criticize_government-partner",
                       "network-criticize_government-parents", "network-criticize_government-children",
                       "network-criticize_government-best_friend", "threshold",
                       "deterrence", "overstatement", "lag"}  # no minimum time: press-2018's blacklist never lets anyone go
    assert by["network-criticize_government-children"].value == -50
    assert by["criticism"].value == s.behaviours["criticize_government"].points
    assert by["threshold"].value == s.lists["blacklist"].enter.tier_at_most
    assert by["threshold"].choices == tuple(s.score.tiers)


def test_each_network_knob_shows_and_edits_its_own_behaviours_penalty():
    s = load_scenario("press-2018", {"behaviours.criticize_government.network.household": -15})
    by = {k.key: k for k in knobs(s)}
    post, critic = s.behaviours["social_media_post"].network, s.behaviours["criticize_government"].network
    assert (post.friends, post.household, critic.friends, critic.household) == (-2, 0, -15, -15)
    # friends and household differ: one knob each; equal: one knob for both, labelled with the behaviour
    assert by["network-social_media_post-friends"].value == -2
    assert by["network-social_media_post-household"].value == 0
    assert by["network-criticize_government"].value == -15
    assert by["network-criticize_government"].label == "Network penalty, criticize_government: friends and household"
    assert by["network-social_media_post-household"].label == "Network penalty, social_media_post: household"
    assert "each friend and household member" in by["network-criticize_government"].help
    changed, problems = apply_knobs(s, {"network-criticize_government": -10}, population=5000, days=40)
    assert problems == {}
    assert (changed.behaviours["criticize_government"].network.friends,
            changed.behaviours["criticize_government"].network.household) == (-10, -10)
    assert changed.behaviours["social_media_post"].network == post  # the other behaviour untouched
    assert changed.timeline[0].set == {"behaviours.criticize_government.network.friends": -10}  # the whole run
    changed, problems = apply_knobs(s, {"network-social_media_post-household": -1}, population=5000, days=40)
    assert problems == {} and changed.behaviours["criticize_government"].network == critic
    assert (changed.behaviours["social_media_post"].network.friends,
            changed.behaviours["social_media_post"].network.household) == (-2, -1)


def test_the_minimum_time_is_offered_only_for_a_blacklist_that_lets_people_go():
    press, bench = load_scenario("press-2018"), load_scenario("bench-v1")
    assert press.lists["blacklist"].exit == "never" and "min_days" not in {k.key for k in knobs(press)}
    assert bench.lists["blacklist"].exit != "never"
    assert {k.key: k.value for k in knobs(bench)}["min_days"] == bench.lists["blacklist"].min_days
    _, problems = apply_knobs(press, {"min_days": 90})
    assert set(problems) == {"min_days"} and "no such setting" in problems["min_days"]


def test_knobs_write_numbers_into_the_scenario():
    s = load_scenario("press-2018")
    cams = [n for n, c in s.channels.items() if c.kind == "camera"]
    changed, problems = apply_knobs(s, {"coverage": 0.5, "criticism": -80, "threshold": "C"},
                                    population=5000, days=40)
    assert problems == {}
    for n in cams:
        before, after = s.channels[n].coverage, changed.channels[n].coverage
        if isinstance(before, list):
            assert [v for _, v in after] == pytest.approx([0.5 * v for _, v in before])
        else:
            assert after == pytest.approx(0.5 * before)
    assert changed.behaviours["criticize_government"].points == -80
    assert changed.lists["blacklist"].enter.tier_at_most == "C"
    assert (changed.population.size, changed.run.days) == (5000, 40)
    bench, problems = apply_knobs(load_scenario("bench-v1"), {"min_days": 90})
    assert problems == {} and bench.lists["blacklist"].min_days == 90


def test_bad_values_come_back_as_the_schemas_message_by_knob():
    s = load_scenario("press-2018")
    _, problems = apply_knobs(s, {"coverage": 3.0})  # camera coverage above 1
    assert set(problems) == {"coverage"} and "channels." in problems["coverage"]
    _, problems = apply_knobs(s, {"threshold": "Z", "nonsense": 1}, population=MAX_POPULATION + 1, days=0)
    assert set(problems) == {"threshold", "nonsense", "population", "days"}
    assert "allowed" in problems["threshold"] and "criticism" in problems["nonsense"]
    assert estimate_seconds(21_700_000, 365, "press_2018") < 60  # a Beijing-sized year within a minute


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
    changed, _ = apply_knobs(base, {"network-criticize_government-friends": -200}, population=10_000, days=40)
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


# ---------------------------------------------------------------- what a client may send (no browser)

def _within(seconds, f, *args):
    """``f(*args)`` in a thread, its result or its exception; fails if it has not returned in ``seconds``."""
    out = {}

    def call():
        try:
            out["value"] = f(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{f.__name__}{args} still running after {seconds} s"
    return out


def test_a_path_for_the_preset_is_refused_before_any_file_is_read(tmp_path):
    import os

    from scslab.app.inputs import checked_preset, describe, preset_scenario
    from scslab.errors import ScenarioError
    from scslab.scenarios.load import preset_names

    fifo = tmp_path / "blocks-a-reader-for-good"
    os.mkfifo(fifo)
    toml = tmp_path / "mine.toml"
    toml.write_text('[meta]\nname = "x"\n')
    for value in (str(fifo), "/dev/zero", str(toml), "../../etc/passwd", "press-2018.toml", "", None, 3, ["bench-v1"]):
        out = _within(5, preset_scenario, value)  # a FIFO would block a reader, /dev/zero never end
        assert isinstance(out.get("error"), ScenarioError), value
        text = describe(out["error"])
        assert all(name in text for name in preset_names()), text
        assert str(tmp_path) not in text and "/dev" not in text and "etc" not in text
    assert checked_preset("bench-v1") == "bench-v1"
    assert preset_scenario("bench-v1").meta.name == load_scenario("bench-v1").meta.name


def test_an_uploaded_scenario_is_parsed_from_its_bytes_and_bounded_in_size():
    import io
    import tomllib

    from scslab.app.inputs import MAX_UPLOAD_BYTES, describe, read_upload, uploaded_scenario
    from scslab.app.params import scenario_toml
    from scslab.errors import ScenarioError

    good = scenario_toml(load_scenario("bench-v1"))
    assert uploaded_scenario(read_upload(io.BytesIO(good), len(good))) == load_scenario(tomllib.loads(good.decode()))

    class Unreadable(io.RawIOBase):
        def read(self, n=-1):
            raise AssertionError("an oversized upload must be refused unread")

    with pytest.raises(ScenarioError, match="too large") as too_big:
        read_upload(Unreadable(), MAX_UPLOAD_BYTES + 1)
    assert "1,048,576" in describe(too_big.value)
    endless = io.BytesIO(b"#" * (MAX_UPLOAD_BYTES + 10))  # a client that sends more than it announced
    with pytest.raises(ScenarioError, match="too large"):
        read_upload(endless, 10)
    assert endless.tell() == MAX_UPLOAD_BYTES + 1  # read no further than the bound
    with pytest.raises(ScenarioError, match="not valid TOML"):
        uploaded_scenario(b"[meta\nname =")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        uploaded_scenario(b"\xff\xfe[meta]")
    with pytest.raises(ScenarioError) as bad:
        uploaded_scenario(good.replace(b"size = 1000000", b"size = -5"))
    assert "population.size" in describe(bad.value) and "-5" in describe(bad.value)


def test_population_scales_entities_as_the_cli_does_and_agents_and_agent_days_are_capped():
    from scslab.api import resolve_scenario
    from scslab.app.params import MAX_AGENT_DAYS, MAX_AGENTS

    base = load_scenario("beijing-2020")
    page, problems = apply_knobs(base, {}, population=1_000, days=30)
    cli = resolve_scenario("beijing-2020", 1_000, 30, None, None)  # what scslab run -n 1000 --days 30 runs
    assert problems == {} and page.entities["firms"].population.size == cli.entities["firms"].population.size == 46
    _, problems = apply_knobs(base, {}, population=21_700_000, days=3650)
    assert set(problems) == {"agent_days"} and f"{MAX_AGENT_DAYS:,}" in problems["agent_days"]
    ok, problems = apply_knobs(load_scenario("press-2018"), {}, population=21_700_000, days=365)
    assert problems == {} and ok is not None  # a Beijing-sized year stays allowed
    data = base.model_dump(mode="python")
    data["entities"]["firms"]["population"]["size"] = 100_000_000  # an upload with about five firms a person
    _, problems = apply_knobs(load_scenario(data), {}, population=20_000_000, days=1)
    assert set(problems) == {"population"} and f"{MAX_AGENTS:,}" in problems["population"]


def test_number_fields_and_knobs_take_only_numbers_within_their_range():
    from scslab.app.params import whole_number

    assert whole_number(" 20,000 ") == 20_000 and whole_number("-80") == -80 and whole_number(7) == 7
    for text in ("12x", "1.5", "", "1e6", None, True, [1], "9" * 40):
        with pytest.raises(ValueError, match="not a whole number"):
            whole_number(text)
    with pytest.raises(ValueError, match="allowed 0 to 10"):
        whole_number("11", 0, 10)
    s = load_scenario("press-2018")
    _, problems = apply_knobs(s, {"coverage": float("nan"), "false_match": "0.1", "criticism": "ten",
                                  "network-criticize_government-friends": 99_999, "deterrence": {"x": 1}},
                              population="2,000x", days=30)
    assert set(problems) == {"coverage", "false_match", "criticism", "network-criticize_government-friends",
                             "deterrence",
                             "population"}
    changed, problems = apply_knobs(s, {"criticism": "-80"}, population="5,000", days="40")
    assert problems == {} and changed.behaviours["criticize_government"].points == -80
    assert (changed.population.size, changed.run.days) == (5000, 40)
    _, problems = apply_knobs(load_scenario("bench-v1"), {"min_days": 99_999})
    assert set(problems) == {"min_days"}
    bench, problems = apply_knobs(load_scenario("bench-v1"), {"min_days": "90"})
    assert problems == {} and bench.lists["blacklist"].min_days == 90


# ---------------------------------------------------------------- the page, rendered without a browser

@pytest.fixture()
def page():
    """The dashboard rendered in this process (Solara's test renderer), fresh state; yields its widgets."""
    solara = pytest.importorskip("solara")
    from scslab.app import dashboard

    d = dashboard
    d.preset.value, d.uploaded.value, d.upload_name.value, d.notice.value = "press-2018", None, "", ""
    d.values.value = {}
    d.fields.value = {"population": "200000", "days": "365", "seed": "0"}
    d.message.value, d.partial.value, d.result.value, d.running.value = "", None, None, False
    d.baseline.value, d.compare.value = None, False

    @solara.component
    def Root():
        with solara.AppLayout():
            dashboard.Page()

    _, rc = solara.render(Root(), handle_error=False)
    yield rc
    rc.close()


def _texts(rc, kind) -> list[str]:
    return [" ".join(map(str, w.children)) for w in rc.find(kind).widgets]


def _markup(rc) -> str:
    """The page's static markup (headings, the final-day table)."""
    from solara.widgets import HTML

    return " ".join(w.unsafe_innerHTML for w in rc.find(HTML).widgets)


def _type(rc, label, text):
    import ipyvuetify as v

    box = rc.find(v.TextField, label=label).widget
    box.v_model = text
    box.fire_event("keyup.enter", None)


def test_the_page_refuses_a_path_sent_for_the_preset(page):
    import ipyvuetify as v

    from scslab.app import dashboard

    select = page.find(v.Select, label="Preset").widget
    select.v_model = "/etc/passwd"  # what a rewritten websocket frame delivers
    assert dashboard.preset.value == "press-2018"
    shown = " ".join(_texts(page, v.Alert))
    assert "not a preset" in shown and "bench-v1" in shown and "/etc" not in shown
    select.v_model = "bench-v1"
    assert dashboard.preset.value == "bench-v1" and not any("not a preset" in t for t in _texts(page, v.Alert))


def test_run_is_disabled_while_a_field_holds_no_whole_number(page):
    import ipyvuetify as v

    def run_disabled():
        return page.find(v.Btn, children=["Run"]).widget.disabled

    assert not run_disabled()
    _type(page, "Days", "12x")
    assert run_disabled() and "'12x': not a whole number" in _texts(page, v.Alert)
    _type(page, "Days", "30")
    assert not run_disabled()
    _type(page, "Points for criticising the government", "-8.5")
    assert run_disabled() and any("-8.5" in t for t in _texts(page, v.Alert))
    _type(page, "Points for criticising the government", "-80")
    _type(page, "Population (agents, at most 25,000,000)", "25,000,000")
    assert not run_disabled()  # 25 M agents for 30 days are allowed...
    _type(page, "Days", "3650")  # ... but not for ten years
    assert run_disabled() and any("agent-days" in t and "at most" in t for t in _texts(page, v.Alert))


def test_an_unexpected_error_shows_a_generic_message_and_no_details(page, monkeypatch):
    import ipyvuetify as v

    from scslab.app import dashboard

    def broken(name):
        raise RuntimeError("/srv/secret/path.toml: key 'token' = 'hunter2'")

    monkeypatch.setattr(dashboard, "preset_scenario", broken)
    dashboard.preset.value = "bench-v1"  # redraws the page through the broken loader
    shown = " ".join(_texts(page, v.Alert)) + _markup(page)
    assert dashboard.GENERIC in shown and "secret" not in shown and "hunter2" not in shown
    monkeypatch.undo()
    page.find(v.Btn, children=["Start again"]).widget.click()
    assert page.find(v.Select, label="Preset").widget.v_model == "press-2018"


def test_closing_a_session_cancels_its_run():
    pytest.importorskip("solara")
    from scslab.app.dashboard import Session

    s, _ = apply_knobs(load_scenario("bench-v1"), {}, population=20_000, days=3000)
    session = Session()
    session.cancel = threading.Event()
    seen = []
    out = {}

    def run():
        try:
            live_run(s, cancel=session.cancel, on_update=seen.append, every=1)
        except Cancelled as exc:
            out["stopped"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.time() + 120
    while not any(p.day > 0 for p in seen) and time.time() < deadline:
        time.sleep(0.05)
    session.close()  # what Solara calls when the session's page is gone
    t.join(30)
    assert not t.is_alive() and "cancelled on day" in str(out.get("stopped"))
    assert session.closed.is_set() and seen[-1].day < 3000


def test_the_page_takes_an_uploaded_scenario_and_lists_a_bad_ones_problems(page):
    import io

    import ipyvuetify as v

    from scslab.app import dashboard
    from scslab.app.inputs import MAX_UPLOAD_BYTES
    from scslab.app.params import scenario_toml

    def upload(name, data, size=None):
        dashboard.take_upload({"name": name, "size": len(data) if size is None else size,
                               "file_obj": io.BytesIO(data)})

    good = scenario_toml(load_scenario("jinan-dog-points"))
    upload("mine.toml", good.replace(b'name = "jinan_dog_points"', b'name = "my_dogs"'))
    assert dashboard.uploaded.value.meta.name == "my_dogs" and "<h2>my_dogs</h2>" in _markup(page)
    assert "Using the uploaded file mine.toml" in " ".join(map(str, page.find(v.Html, tag="span").widgets))
    upload("bad.toml", good.replace(b"size = 100000", b"size = 0"))
    shown = " ".join(_texts(page, v.Alert))
    assert "population.size" in shown and "0" in shown and dashboard.uploaded.value.meta.name == "my_dogs"
    upload("huge.toml", b"", size=MAX_UPLOAD_BYTES + 1)
    assert "too large" in " ".join(_texts(page, v.Alert))
    page.find(v.Btn, children=["Back to the preset"]).widget.click()
    assert dashboard.uploaded.value is None and "<h2>press_2018</h2>" in _markup(page)


def test_behaviour_under_watch_is_drawn_against_adults_only():
    """The page's chilling panel: volunteering and blood donation, never deterred, are drawn at about 1.0
    of the baseline, within 4 standard errors of a Poisson count (children, who never act, are not counted
    in it: counting them would put the line at about 0.85)."""
    from scslab.app import charts
    from scslab.expected import undeterred_baseline

    s = load_scenario("press-2018", {"population.size": 100_000, "run.days": 60})
    final = {}
    live_run(s, seed=1, on_update=lambda p: final.update(p=p))
    fig = charts.overview(final["p"], s.model_dump(mode="json"))
    panel = fig.axes[3]
    drawn = {line.get_label(): np.asarray(line.get_ydata(), float) for line in panel.lines}
    base = undeterred_baseline(s)
    for behaviour in ("volunteering", "blood_donation"):
        tol = 4 / np.sqrt(base[behaviour] * 60)  # the mean over 60 days of each day's ratio
        assert abs(drawn[behaviour].mean() - 1) < min(tol, 0.1), (behaviour, drawn[behaviour].mean(), tol)
    assert drawn["criticize_government"].mean() < 0.9
    charts.close(fig)


# ---------------------------------------------------------------- what the page shows, and when

def test_the_estimate_rests_on_the_measured_cost_per_day_and_doubles_with_compare():
    pytest.importorskip("solara")
    from scslab.app.dashboard import estimate_text
    from scslab import preset_names
    from scslab.app.params import COMPILE_S, SPEEDS

    # press-2018 at the page's default size: most of the time is the cost per day (measured 11-13 s)
    assert 10 < estimate_seconds(200_000, 365, "press_2018") < 20
    assert estimate_seconds(100_000, 365, "bench_v1") < estimate_seconds(100_000, 365, "press_2018") / 2
    assert set(SPEEDS) == {load_scenario(n).meta.name for n in preset_names()}  # measured for every preset
    for n in (1_000, 200_000, 5_000_000):  # any other scheme (an upload): the slowest of each
        assert estimate_seconds(n, 365, "my_scheme") >= max(estimate_seconds(n, 365, s) for s in SPEEDS)
    s, _ = apply_knobs(load_scenario("press-2018"), {}, population=200_000, days=365)
    one, both = estimate_text(s, False, True), estimate_text(s, True, True)
    secs = estimate_seconds(200_000, 365, "press_2018")
    assert f"about {secs:.0f} s on a 2-core laptop." in one and f"about {2 * secs:.0f} s" in both
    assert "both runs" in both
    assert "compil" not in one and "loads" not in one  # the engine is loaded: nothing more to wait for
    unknown, compiles, cached = (estimate_text(s, False, False, c) for c in (None, True, False))
    assert "first run" in unknown and "a few seconds" in unknown and f"{COMPILE_S[1] // 60} minutes" in unknown
    assert "not compiled on this machine yet" in compiles and f"{COMPILE_S[1] // 60} minutes more" in compiles
    assert "a few seconds more" in cached and "minutes" not in cached


def test_the_page_shows_the_estimate_and_compare_doubles_it(page):
    import ipyvuetify as v

    from scslab.app import dashboard

    def estimate():
        return next(t for t in _texts(page, v.Alert) if "agent-days" in t)

    _type(page, "Days", "100")
    one = estimate()
    dashboard.compare.value = True
    both = estimate()
    secs = estimate_seconds(200_000, 100, "press_2018")
    assert f"about {secs:.0f} s" in one and f"about {2 * secs:.0f} s" in both and "both runs" in both


def test_the_unchanged_presets_dashed_lines_have_a_legend_entry():
    from scslab.app import charts

    s, _ = apply_knobs(load_scenario("press-2018"), {"criticism": -150}, population=5_000, days=20)
    final = {}
    live_run(s, seed=1, on_update=lambda p: final.update(p=p))
    fig = charts.overview(final["p"], s.model_dump(mode="json"), baseline=final["p"])
    lists, sanctions = fig.axes[1], fig.axes[2]
    for ax in (lists, sanctions):
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels.count(charts.BASELINE_LABEL) == 1, labels
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(dashed) > 1  # one entry for all of them
    charts.close(fig)
    fig = charts.overview(final["p"], s.model_dump(mode="json"))
    assert all(charts.BASELINE_LABEL not in [t.get_text() for t in ax.get_legend().get_texts()]
               for ax in fig.axes if ax.get_legend() is not None)
    charts.close(fig)


@pytest.fixture(scope="module")
def finished():
    """A small finished run of press-2018 and its last partial, as the page holds them after Run."""
    s, _ = apply_knobs(load_scenario("press-2018"), {}, population=5_000, days=30)
    final = {}
    res = live_run(s, seed=4, on_update=lambda p: final.update(p=p))
    return res, final["p"]


def _show(finished):
    from scslab.app import dashboard

    res, last = finished
    dashboard.partial.value, dashboard.baseline.value = last, last
    dashboard.result.value, dashboard.message.value = res, "Done in 1.0 s."


def test_choosing_another_preset_clears_the_previous_schemes_results(page, finished):
    import io

    import ipyvuetify as v
    from solara.components.datatable import DataTableWidget

    from scslab.app import dashboard
    from scslab.app.params import scenario_toml

    _show(finished)
    assert "Final day" in _markup(page) and page.find(DataTableWidget).widgets
    assert any("Done in" in t for t in _texts(page, v.Alert))
    page.find(v.Select, label="Preset").widget.v_model = "bench-v1"
    assert "<h2>bench_v1</h2>" in _markup(page) and "Final day" not in _markup(page)
    assert not page.find(DataTableWidget).widgets and not any("Done in" in t for t in _texts(page, v.Alert))
    assert (dashboard.result.value, dashboard.partial.value, dashboard.baseline.value) == (None, None, None)
    assert "day 30 of 30" not in " ".join(map(str, page.find(v.Html).widgets))
    _show(finished)  # an uploaded scheme clears them too
    toml = scenario_toml(load_scenario("jinan-dog-points"))
    dashboard.take_upload({"name": "dogs.toml", "size": len(toml), "file_obj": io.BytesIO(toml)})
    assert "Final day" not in _markup(page) and dashboard.result.value is None


def test_a_run_in_progress_is_stopped_and_hidden_when_the_preset_changes(page):
    from scslab.app import dashboard

    _type(page, "Population (agents, at most 25,000,000)", "20,000")
    _type(page, "Days", "3000")
    this = dashboard._session()
    done = threading.Thread(target=dashboard._run, args=(this,), daemon=True)
    done.start()
    deadline = time.time() + 120
    while dashboard.partial.value is None or dashboard.partial.value.day == 0:
        assert time.time() < deadline and done.is_alive(), "the run did not start"
        time.sleep(0.1)
    dashboard.choose_preset("bench-v1")
    done.join(60)
    assert not done.is_alive() and not dashboard.running.value
    assert (dashboard.result.value, dashboard.partial.value, dashboard.message.value) == (None, None, "")


def test_the_story_table_shows_as_many_rows_as_its_rows_per_page_says(page, finished):
    from pathlib import Path

    import solara
    from solara.components.datatable import DataTableWidget

    from scslab.app.dashboard import STORY_ROWS_PER_PAGE

    vue = (Path(solara.__file__).parent / "components" / "datatable.vue").read_text()
    offered = [int(n) for n in re.search(r"'items-per-page-options': \[([\d, ]+)\]", vue).group(1).split(",")]
    assert STORY_ROWS_PER_PAGE in offered  # the footer's "Rows per page" can say it
    _show(finished)
    table = page.find(DataTableWidget).widget
    assert table.items_per_page == STORY_ROWS_PER_PAGE == table.options["itemsPerPage"]
    assert len(table.items) == min(STORY_ROWS_PER_PAGE, table.total_length)
