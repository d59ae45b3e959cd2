"""Ties with identities: partners, parents, children, other household members, best friends, friends and
colleagues, each losing its own points for the actor's acts; worked out from ids by every engine."""

from __future__ import annotations

import numpy as np
import pytest

import scslab
from agreement import Z_MAX, compare
from scslab.compile import compile_plan
from scslab.encodings import REL
from scslab.engine.features import uses
from scslab.engine.reference import _population
from scslab.engine.routes import choose_route, refusal
from scslab.errors import OptionError
from scslab.metrics import network_source
from scslab.population import make, make_ties
from scslab.rng import mix64
from scslab.scenarios import load_scenario

# bench-v1 with households, a best friend, a friend and two colleagues, and criticism that costs each kind of
# tie its own number of points (all different, so a penalty's points tell which kind the engine took it for)
POINTS = {"household": -3, "partner": -7, "parents": -11, "children": -13, "best_friend": -17, "friends": -19,
          "colleagues": -23}
KINDS = {"population.households": {"sizes": {"1": 0.1, "2": 0.3, "3": 0.3, "4": 0.2, "5": 0.1}, "child_share": 0.15},
         "population.friends.degree": 2, "population.friends.best": True, "population.colleagues.degree": 2,
         "population.regions": {"north": {"share": 0.5}, "south": {"share": 0.5}},
         **{f"behaviours.criticize_government.network.{k}": v for k, v in POINTS.items()},
         "behaviours.criticize_government.rate": {"compliant": 0.004, "average": 0.01, "risky": 0.03}}
# what the penalised person calls the actor, by the actor's kind of tie (``metrics.RELATIONS``)
CALLED = {"household": "household member", "partner": "partner", "parents": "child", "children": "parent",
          "best_friend": "best friend", "friends": "friend", "colleagues": "colleague"}


def _plan(n=1_000, days=60, seed=1, overrides=None):
    return compile_plan(load_scenario("bench-v1", {**KINDS, **(overrides or {})}), size=n, days=days, seed=seed)


def test_household_kinds_are_each_others_inverse():
    """In every household of the pattern: partners both ways, a parent's child has it as a parent, siblings
    both ways; at most two members of the parents' generation, the first always among them."""
    plan = _plan()
    region_of, _, household_head = make(lambda f: f, mix64)
    relation = make_ties(lambda f: f, region_of)[0]
    B = len(plan.hh_head)
    inverse = {REL.PARTNER: REL.PARTNER, REL.CHILDREN: REL.PARENTS, REL.PARENTS: REL.CHILDREN,
               REL.HOUSEHOLD: REL.HOUSEHOLD}
    seen = set()
    for head in range(B):
        if plan.hh_head[head] != 0:
            continue
        members = range(head, head + int(plan.hh_size[head]))
        for a in members:
            for m in members:
                if m != a:
                    r = relation(a, m, head, plan.hh_adult)
                    assert relation(m, a, head, plan.hh_adult) == inverse[r]
                    seen.add(r)
        elders = [a for a in members if all(relation(a, m, head, plan.hh_adult) in (REL.PARTNER, REL.CHILDREN)
                                            for m in members if m != a)]
        assert head in elders and len(elders) <= 2
    assert seen == set(inverse)


def test_every_penalty_is_of_the_kind_the_reference_finds(engine):
    """Every network-penalty story row carries the points of the kind of tie its actor is to the penalised
    person, and the reference's population (written apart, plainly) finds the same kind: every scheduler
    works the kinds out from ids as the model states. Every kind occurs."""
    plan = _plan(n=2_000, days=90)
    r = scslab.simulate(load_scenario("bench-v1", {**KINDS, "run.story_agents": 2_000}), population=2_000,
                        days=90, seed=1, engine=engine)
    net = r.stories[r.stories["event"] == "network_penalty"]
    people = _population(plan)
    by_name = {v: k for k, v in CALLED.items()}
    seen = set()
    for agent, day, points, reason in zip(net["agent"], net["day"], net["points"], net["reason"]):
        called = next(v for v in sorted(CALLED.values(), key=len, reverse=True) if reason.startswith(v + " "))
        tie = int(reason[len(called) + 1:].split(" ")[0])
        kinds = {k for m, k, _ in people[tie].ties if m == agent}
        assert by_name[called] in kinds, (agent, tie, called, kinds)
        assert points == POINTS[by_name[called]]
        seen.add(called)
    assert seen == set(CALLED.values()), seen


@pytest.fixture(params=["dense", "lazy", "windowed"])
def engine(request):
    return request.param


def test_the_story_argument_round_trips():
    from scslab.encodings import network_arg

    for rel in REL:
        for tie in (0, 7, 2**31 - 2):
            assert network_source(network_arg(5, int(rel), tie))[0] == tie
    assert network_source(network_arg(5, int(REL.CHILDREN), 9)) == (9, "parent")
    assert network_source(network_arg(5, int(REL.PARENTS), 9)) == (9, "child")
    assert network_source(3 + 256 * 4) is None  # no tie recorded


ONE_KIND = {kind: {f"behaviours.criticize_government.network.{k}": (-300 if k == kind else 0) for k in POINTS}
            for kind in ("children", "best_friend", "colleagues")}


@pytest.mark.parametrize("engine, points", [("dense", {}), ("lazy", {}), ("dense", ONE_KIND["children"])],
                         ids=["dense", "lazy", "dense-children-only"])
def test_tie_kinds_agree_with_the_reference(engine, points):
    """Both day schedulers against the slow reference (which applies each kind's points to the ties it
    derives itself): every metric's summary within the agreement bound, network penalties among them; with
    only a critic's children losing points (300, enough to be listed), the listings that follow too. (Totals
    tell kinds of tie apart only where they differ in number; the story rows, in the test above, tell each
    penalty's kind.)"""
    s = load_scenario("bench-v1", {**KINDS, **points})
    names, z, eng, ref = compare(s, engine=engine, size=(1000, 90))
    assert float(z.max()) < Z_MAX, [(n, round(float(v), 1)) for n, v in zip(names, z) if v >= Z_MAX]
    assert eng[names.index("network_penalties")] > (20 if points else 300)


# the kinds' points changed by the timeline: a change of ties' points, which the windowed scheduler runs
LATER = {**ONE_KIND["children"], "timeline": [{"day": 45, "set": {
    "behaviours.criticize_government.network.children": -100,
    "behaviours.criticize_government.network.partner": -300}}]}


@pytest.mark.parametrize("points", [{}, *ONE_KIND.values(), LATER], ids=["all-kinds", *ONE_KIND, "changed-later"])
def test_the_windowed_scheduler_runs_tie_kinds_in_law(points):
    """The windowed scheduler against the lazy one over 10 seeds: every metric's total within the bound. With
    one kind of tie alone losing 300 points, enough to be listed, a scheduler that took another kind for it
    would list other people: the listed and those sanctioned by ties alone tell."""
    s = load_scenario("bench-v1", {**KINDS, **points})
    plan = compile_plan(s, size=2_000, days=90)
    assert refusal(plan, "windowed") is None and ("colleagues" in uses(plan))
    assert ("network-timeline" in uses(plan)) == ("timeline" in points) and "timeline" not in uses(plan)
    runs = {e: [] for e in ("windowed", "lazy")}
    for seed in range(1, 11):
        for e in runs:
            m = scslab.simulate(s, population=2_000, days=90, seed=seed, engine=e).metrics
            m = m[(m["group"] == "all") & ~m["metric"].str.startswith("score:")]
            runs[e].append(m.groupby("metric")["value"].sum())
    names = list(runs["lazy"][0].index)
    a, b = (np.array([x.values for x in runs[e]], float) for e in ("windowed", "lazy"))
    z = np.abs(a.mean(0) - b.mean(0)) / np.sqrt((a.var(0, ddof=1) + b.var(0, ddof=1)) / len(a) + 1.0)
    assert float(z.max()) < Z_MAX, dict(zip(names, np.round(z, 1)))
    assert b[:, names.index("network_penalties")].mean() > 100
    if points:
        assert b[:, names.index("sanctioned_by_ties")].mean() > 20


def test_unset_kinds_follow_the_household_and_the_friends():
    """A scheme that sets only ``household`` and ``friends`` gives every household kind and the best friend
    those points, and uses no tie-kinds feature (without colleagues, who would lose none)."""
    s = load_scenario("bench-v1", {**{k: v for k, v in KINDS.items() if ".network." not in k},
                                   "population.colleagues.degree": 0,
                                   "behaviours.criticize_government.network.household": -5,
                                   "behaviours.criticize_government.network.friends": -2})
    plan = compile_plan(s, size=500, days=10)
    assert "tie-kinds" not in uses(plan)
    b = plan.behaviour_names.index("criticize_government")
    from scslab.compile import BEH
    assert list(plan.epochs[0].beh[b, BEH.NET:]) == [-5, -5, -5, -5, -2, -2, 0]


def test_too_many_kinds_of_penalty_go_day_by_day_named():
    """Three behaviours costing each of the seven kinds of tie their own points: 21 kinds of penalty, more
    than a windowed penalty record holds; the route goes day by day, and asking for windowed names why."""
    extra = {f"behaviours.{b}.network.{k}": v for b in ("jaywalking", "late_payment") for k, v in POINTS.items()}
    plan = compile_plan(load_scenario("bench-v1", {**KINDS, **extra}), size=500, days=10)
    assert "many-penalty-kinds" in uses(plan)
    assert choose_route(plan) == "lazy"
    with pytest.raises(OptionError, match="many-penalty-kinds"):
        choose_route(plan, "windowed")


@pytest.mark.parametrize("overrides, path, words", [
    ({"population.households": None, "behaviours.criticize_government.network.partner": -5},
     "network.partner", "needs population.households"),
    ({"population.friends.best": False, "behaviours.criticize_government.network.best_friend": -5},
     "network.best_friend", "needs population.friends.best"),
    ({"population.colleagues.degree": 0, "behaviours.criticize_government.network.colleagues": -5},
     "network.colleagues", "needs population.colleagues.degree"),
])
def test_a_kind_the_population_lacks_is_refused_by_name(overrides, path, words):
    with pytest.raises(Exception) as err:
        load_scenario("bench-v1", {**{k: v for k, v in KINDS.items() if ".network." not in k}, **overrides})
    assert path in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("overrides, words", [
    ({"population.friends.degree": 10, "population.colleagues.degree": 7}, "at most 16 ties per person"),
    ({"population.friends.degree": 0, "population.friends.best": True}, "friends.best = true needs"),
])
def test_impossible_ties_are_refused(overrides, words):
    with pytest.raises(Exception, match=words):
        load_scenario("bench-v1", overrides)


def test_the_odd_describes_the_kinds():
    from scslab.odd import odd_markdown

    text = odd_markdown(load_scenario("bench-v1", KINDS))
    assert "the first of them a best friend" in text and "Colleagues: 2 ties per person" in text
    assert "| network.partner | -7 |" in text.replace("`", "")


def test_household_penalties_without_friends_go_by_windows():
    """A scheme whose only ties are households (no friends, no colleagues): the windowed scheduler gives its
    story agents their household's penalties (everyone is one here: every penalty counted is told)."""
    s = load_scenario("bench-v1", {"population.friends.degree": 0, "population.households": KINDS["population.households"],
                                   "behaviours.criticize_government.network.friends": 0,
                                   "behaviours.criticize_government.network.household": -50,
                                   "behaviours.criticize_government.rate": KINDS["behaviours.criticize_government.rate"],
                                   "run.story_agents": 2_000})
    r = scslab.simulate(s, population=2_000, days=60, seed=1, engine="windowed")
    told = int((r.stories["event"] == "network_penalty").sum())
    counted = int(r.metrics.query("metric == 'network_penalties' and group == 'all'")["value"].sum())
    assert r.manifest["route"] == "windowed" and told == counted > 300


def test_the_report_shows_who_pays_for_an_act():
    """The report's figure draws, for each network behaviour, the points each kind of tie loses (the
    scheme's numbers, bar for bar); a scheme whose ties are all of one kind has no such figure."""
    from scslab.report.figures import FIGURES, caption_of, close

    r = scslab.simulate(load_scenario("bench-v1", KINDS), population=500, days=10, seed=1)
    fig = FIGURES["who pays"](r.metrics, r.manifest)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    order = ["household", "partner", "parents", "children", "best_friend", "friends", "colleagues"]
    assert widths == [-POINTS[k] for k in order]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["other household member", "partner", "parent", "child",
                                                            "best friend", "friend", "colleague"]
    assert "criticize government" in caption_of(fig)
    close(fig)
    plain = scslab.simulate("bench-v1", population=500, days=10, seed=1)
    assert FIGURES["who pays"](plain.metrics, plain.manifest) is None


def test_the_dashboard_moves_each_kind_set_apart():
    """Each kind of tie the scheme gives points of its own has its knob, which sets that kind alone."""
    from scslab.app.params import knobs

    by = {k.key: k for k in knobs(load_scenario("bench-v1", KINDS))}
    for kind in ("partner", "parents", "children", "best_friend", "colleagues"):
        knob = by[f"network-criticize_government-{kind}"]
        assert knob.value == POINTS[kind] and knob.edits == ((f"behaviours.criticize_government.network.{kind}", "set"),)
    assert "unless set apart below" in by["network-criticize_government-household"].help
    assert not any(k.startswith("network-criticize_government-partner") for k in
                   {k.key for k in knobs(load_scenario("bench-v1"))})
