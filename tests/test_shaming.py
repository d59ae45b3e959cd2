"""Public shaming (``lists.NAME.shaming``): what publishing a list does to the listed person's ties, to its work,
and to everyone else's acts.

Held to the rules it shares with ostracism and the economy (a list that shames at the rate ostracism would
gives the same bytes), to the people's own state (out of work recomputed per person), to the closed form of
others' deterrence (the tables a day runs with, from the run's own lists), to the reference (both day
schedulers where they run it), and refused by name where a scheduler cannot run it."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from agreement import Z_MAX, compare
from crashed import resumed_as_whole

import scslab
from scslab.compile import FLAG, P, compile_plan, probabilities
from scslab.engine import published
from scslab.engine.cpu import run_cpu
from scslab.engine.features import uses
from scslab.engine.routes import choose_route
from scslab.errors import OptionError, ScenarioError
from scslab.rng import Stream, draw_array, stream_key, threshold
from scslab.scenarios import load_scenario
from scslab.shaming import factor

# bench-v1 where criticism costs 200 points (a listing after a second act), with people in work
ECON = {"economy": {"employed": 0.6, "income": {"low": {"share": 0.5, "yuan": 80},
                                                "high": {"share": 0.5, "yuan": 300}}},
        "behaviours.criticize_government.points": -200}
SHAME = {"ties": 0.05, "work": 0.3, "deters": 20}


def scheme(shaming=None, more=None):
    over = {**ECON, **(more or {})}
    if shaming is not None:
        over["lists.blacklist.shaming"] = shaming
    return load_scenario("bench-v1", over)


def _metrics(result):
    m = result.metrics
    return m[m["group"] == "all"]


def test_a_list_that_shames_ties_is_ostracism_on_that_list():
    """The rule is ostracism's, once: shunning the blacklist through [ostracism] at 5 %, through the list's
    shaming at 5 %, or through both (a lower ostracism rate: the higher counts), gives the same bytes."""
    runs = [scheme(more={"ostracism": {"on": ["lists.blacklist"], "rate": 0.05}}),
            scheme({"ties": 0.05}),
            scheme({"ties": 0.05}, {"ostracism": {"on": ["lists.blacklist"], "rate": 0.01}})]
    tables = [scslab.simulate(s, population=5_000, days=200, seed=2, engine="lazy").metrics_table for s in runs]
    assert tables[0].equals(tables[1]) and tables[0].equals(tables[2])
    m = tables[0].to_pandas()
    assert m.query("metric == 'ties_dropped'")["value"].sum() > 50


@pytest.mark.parametrize("engine", ["dense", "lazy"])
def test_out_of_work_is_the_peoples_own_state(engine):
    """The employed on the blacklist whose employer reads it (stream LIST_WORK, drawn from the id) are out of
    work on the last day, to the person and to the yuan; nobody else is (no sanction costs work here)."""
    s = scheme({"work": 0.3})
    plan = compile_plan(s, size=20_000, days=365, seed=3)
    raw = run_cpu(plan, engine=engine)
    last = raw.counts[-1].sum(axis=1)
    cols = raw.columns
    ids = np.arange(plan.size, dtype=np.int64)
    adult = (cols.flags & FLAG.ADULT) != 0
    employed = draw_array(stream_key(plan.seed, Stream.EMPLOYED, 0), ids).astype(np.uint64) < threshold(0.6)
    u = draw_array(stream_key(plan.seed, Stream.INCOME, 0), ids).astype(np.uint64)
    income = np.where(employed & adult, np.where(u < threshold(0.5), 80, 300), 0)
    reads = draw_array(stream_key(plan.seed, Stream.LIST_WORK + 0, 0), ids).astype(np.uint64) < threshold(0.3)
    out = (cols.on_lists != 0) & reads & (income > 0)
    row = {m: j for j, m in enumerate(plan.metric_names)}
    assert out.sum() > 10
    assert last[row["out_of_work"]] == out.sum()
    assert last[row["income_lost_yuan"]] == income[out].sum()
    assert raw.counts[:, row["jobs_lost"]].sum() >= out.sum()


def test_the_factor_is_the_closed_form():
    """1 - deters x share, summed over the lists, at least 0; exactly 1 where nobody deterring is listed."""
    f = factor(np.array([20.0, 0.0, 5.0]), np.array([[10, 0], [500, 500], [100, 0]]), np.array([1_000, 2_000]))
    assert f.tolist() == pytest.approx([1 - 20 * 0.01 - 5 * 0.1, 1.0])
    assert factor(np.array([200.0]), np.array([[10]]), np.array([1_000])).tolist() == [0.0]
    assert factor(np.array([20.0]), np.array([[0]]), np.array([1_000])).tolist() == [1.0]


def test_a_day_runs_on_the_tables_its_published_lists_make():
    """The dense scheduler's tables for day d are the scenario's with every act that costs points scaled by the
    factor of the people listed in each region at the end of day d - 2 (read from the run's own counts), and
    the scenario's own tables, the same arrays, while nobody is listed."""
    s = scheme(SHAME, {"population.regions": {"north": {"share": 0.5}, "south": {"share": 0.5}}})
    plan = compile_plan(s, size=10_000, days=40, seed=1)

    class Loop:  # the run so far: 30 listed in the north by the end of day 3, 80 in the south by day 5
        counts = np.zeros((40, len(plan.metric_names), plan.n_cells), np.int64)
        level0 = np.zeros((len(plan.metric_names), plan.n_cells), np.int64)

    row, half = plan.epochs[0].prm[P.M_LISTED], plan.n_cells // 2
    Loop.counts[3, row, 0], Loop.counts[5, row, half] = 30, 80
    tables = published.day_tables(plan, Loop)
    for d in (0, 4):  # nobody listed by the end of day 2
        assert all(a is b for a, b in zip(tables(d)[:3], plan.day_tables(d)[:3]))
    f = [1 - 20 * 30 / 5_000, 1 - 20 * 80 / 5_000]
    gate, cum, det, _ = tables(7)
    want = plan.day_tables(7, (f[0], f[1]))
    assert all(np.array_equal(a, b) for a, b in zip((gate, cum, det), want[:3]))
    p0 = plan.day_probabilities(7)[0]
    pf = probabilities(plan, 0, np.array([plan.coverage(7)]), published=(f[0], f[1]))[0][0]
    acts = [2 * b for b, name in enumerate(plan.behaviour_names) if s.behaviours[name].points < 0]
    others = [e for e in range(pf.shape[2]) if e not in acts]
    assert np.allclose(pf[:half][:, :, acts], p0[:half][:, :, acts] * f[0])
    assert np.allclose(pf[half:][:, :, acts], p0[half:][:, :, acts] * f[1])
    assert np.array_equal(pf[:, :, others], p0[:, :, others])  # rewards and false attributions: as they were


def test_others_commit_fewer_acts_where_names_are_published():
    """A year at 20,000 people: with the blacklist deterring (20 x the share listed), the acts that cost
    points fall, and the rewarded act (volunteering) does not."""
    acts = {}
    for deters in (20.0, 0.0):
        m = _metrics(scslab.simulate(scheme({"deters": deters} if deters else None), population=20_000, days=365,
                                     seed=1, engine="dense"))
        acts[deters] = m[m["metric"].str.startswith("acts:")].groupby("metric")["value"].sum()
    penalised = [f"acts:{b}" for b, x in scheme().behaviours.items() if x.points < 0]
    assert acts[20.0][penalised].sum() < 0.95 * acts[0.0][penalised].sum(), acts
    assert abs(acts[20.0]["acts:volunteering"] - acts[0.0]["acts:volunteering"]) < 4 * np.sqrt(
        acts[0.0]["acts:volunteering"])


@pytest.mark.parametrize("engine,shaming", [("dense", SHAME), ("lazy", {"ties": 0.05, "work": 0.3})])
def test_shaming_agrees_with_the_reference(engine, shaming):
    """The day schedulers against the reference (which keeps its own ties, draws its own breaks and counts its
    own published lists, region by region): every metric within the agreement bound. Criticism lists at once
    here, so that about 3 % are listed by the end and deterrence halves the acts that cost points."""
    over = {**ECON, "lists.blacklist.shaming": shaming, "behaviours.criticize_government.points": -450,
            "behaviours.criticize_government.network.friends": -60}
    names, z, eng, ref = compare("bench-v1", overrides=over, engine=engine)
    assert float(z.max()) < Z_MAX, [(n, round(float(v), 1)) for n, v in zip(names, z) if v >= Z_MAX]
    assert eng[names.index("ties_dropped")] > 50 and eng[names.index("jobs_lost")] > 3


def test_the_schedulers_that_cannot_run_it_refuse_it_by_name():
    plan = compile_plan(scheme(SHAME), size=1_000, days=30)
    assert {"shaming", "published-deterrence", "work"} <= set(uses(plan))
    assert choose_route(plan) == "dense"
    with pytest.raises(OptionError, match="published-deterrence"):
        choose_route(plan, "lazy")
    with pytest.raises(OptionError, match="shaming"):
        choose_route(plan, "windowed")
    assert choose_route(compile_plan(scheme({"ties": 0.05}), size=1_000, days=30)) == "lazy"


@pytest.mark.parametrize("over,match", [
    ({"lists.blacklist.kind": "red"}, "only a black list shames"),
    ({"economy": None}, "shaming.work.*needs \\[economy\\]"),
    ({"population.friends.degree": 0}, "shaming.ties.*needs friends or colleagues"),
    ({"timeline": [{"day": 10, "set": {"lists.blacklist.shaming.deters": 5}}]}, "stays the same through a run"),
    ({"timeline": [{"day": 10, "set": {"lists": {"blacklist": {"shaming": {"ties": 0.5}}}}}]},
     "stays the same through a run"),
])
def test_scenarios_that_cannot_mean_what_they_say_are_refused(over, match):
    with warnings.catch_warnings(), pytest.raises(ScenarioError, match=match):
        warnings.simplefilter("ignore")
        scheme(SHAME, over)


def test_a_behaviour_named_shaming_may_change_with_the_timeline():
    """Only a list's ``shaming`` table is fixed through a run: a behaviour of that name is not."""
    d = load_scenario("bench-v1").model_dump(mode="json", exclude_none=True)
    d["behaviours"]["shaming"] = dict(d["behaviours"]["jaywalking"], description="")
    d["timeline"] = [{"day": 10, "set": {"behaviours.shaming.detect": 0.5}}]
    assert load_scenario(d).timeline[0].set == {"behaviours.shaming.detect": 0.5}


def test_deterring_with_no_act_that_costs_points_is_refused():
    quiet = {f"behaviours.{b}.points": 5 for b in load_scenario("bench-v1").behaviours}
    with pytest.raises(ScenarioError, match="deters.*changes nothing"):
        load_scenario("bench-v1", {**quiet, "lists.blacklist.shaming": {"deters": 5}})


def test_a_run_with_published_deterrence_resumes_to_the_same_bytes(tmp_path):
    """The tables come from the counts a checkpoint keeps: a run stopped and resumed makes the same ones."""
    assert resumed_as_whole(scheme(SHAME), tmp_path, crash_on=50, every=20, population=5_000, days=90, seed=4,
                            engine="dense")


def test_the_odd_and_the_report_describe_shaming(tmp_path):
    from scslab.odd import odd_markdown

    text = odd_markdown(scheme(SHAME))
    assert "Public shaming" in text and "blacklist" in text and "20" in text
    from scslab.report.tie_figures import ostracism

    r = scslab.simulate(scheme(SHAME), population=5_000, days=200, seed=1)
    assert r.summary()["shunned"] > 0
    fig = ostracism(r.metrics, r.manifest)  # the thinning, drawn for a list that shames without [ostracism]
    caption = fig.scslab_caption
    assert "5 % a day for the names published on" in caption, caption
    from scslab.report.shaming_figure import shaming

    fig = shaming(r.metrics, r.manifest)  # left the share listed; right the factor on acts, from day d - 2's list
    m = r.metrics
    listed = m[(m["metric"] == "listed:blacklist") & (m["group"] == "all")].set_index("day")["value"]
    right = fig.axes[1].get_lines()[0].get_ydata()
    assert right[:2].tolist() == [1.0, 1.0] and listed.iloc[-3] > 0
    assert right[-1] == pytest.approx(1 - 20 * listed.iloc[-3] / 5_000)
    assert "Others deterred" in fig.axes[1].get_title() and "Model figures" in fig.scslab_caption
    plain = scslab.simulate("bench-v1", population=1_000, days=10, seed=1)
    assert shaming(plain.metrics, plain.manifest) is None
    from scslab.legal import legal_reading  # named in public: the person-days on the published list

    q = {x.key: x.value for x in legal_reading(r.metrics, r.manifest["scenario"]).quantities}
    assert q["named_in_public"] == listed.sum() > 0
    assert {x.key: x.value for x in legal_reading(plain.metrics, plain.manifest["scenario"]).quantities}[
        "named_in_public"] is None


def test_the_dashboard_moves_what_publishing_does():
    from scslab.app.params import apply_knobs, knobs

    by = {k.key: k for k in knobs(scheme(SHAME))}
    assert by["shaming-blacklist-ties"].value == pytest.approx(5.0)
    assert by["shaming-blacklist-deters"].value == pytest.approx(20.0)
    changed, problems = apply_knobs(scheme(SHAME), {"shaming-blacklist-deters": 40.0,
                                                    "shaming-blacklist-ties": 1.5}, population=2_000, days=30)
    assert problems == {}
    assert changed.lists["blacklist"].shaming.deters == 40.0
    assert changed.lists["blacklist"].shaming.ties == pytest.approx(0.015)
    assert not any(k.key.startswith("shaming") for k in knobs(scheme()))


def test_an_entity_types_published_list_takes_the_whole_run_to_a_scheduler_that_runs_it():
    """Entity types run in lockstep with the persons on the day schedulers: firms whose court list deters other
    firms take the run to the dense scheduler, and the lazy one is refused by name, not run."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = load_scenario("court-defaulters-national", {"entities.firms.lists.court_list.shaming": {"deters": 50}})
        r = scslab.simulate(s, population=5_000, days=40, seed=1)
        assert r.manifest["route"] == "dense" and r.manifest["entities"]["firms"]["route"] == "dense"
        with pytest.raises(OptionError, match="lazy scheduler cannot run .*published-deterrence"):
            scslab.simulate(s, population=5_000, days=40, seed=1, engine="lazy")
