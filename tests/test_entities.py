"""Firms and local authorities beside the persons: scenario language, lockstep runs, links, joint punishment."""

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scslab
from scslab import ScenarioError, resume, run
from scslab.cli import app
from scslab.compile import compile_plan
from scslab.engine.features import uses
from scslab.scenarios import load_scenario
from scslab.scenarios.entities import employer, entity_scenario, entity_seed, linked_persons
from scslab.scenarios.load import preset_path

from agreement import Z_MAX, compare

# 30,000 persons beside 20,000 firms (more firms than the preset's ratio, so that some are listed in a year)
SMALL = dict(overrides={"population.size": 30_000, "entities.firms.population.size": 20_000}, days=365, seed=3)


def _persons_only(m):
    """Rows of the persons' own metrics (no entity prefix, no agency rows)."""
    keep = ~m["metric"].str.contains(r"^\w+\.", regex=True) & ~m["metric"].str.startswith("agency")
    return m[keep].reset_index(drop=True)


def _without_entities(name):
    data = load_scenario(name).model_dump(mode="python")
    data["entities"] = {}
    data["provenance"] = {k: v for k, v in data["provenance"].items() if not k.startswith("entities")}
    return data


@pytest.fixture(scope="module")
def beijing():
    return scslab.simulate("beijing-2020", **SMALL)


@pytest.fixture(scope="module")
def national():
    e = "entities."
    return scslab.simulate("court-defaulters-national", days=200, seed=5, overrides={
        "population.size": 60_000, e + "firms.population.size": 2400, e + "authorities.population.size": 300,
        e + "authorities.behaviours.unpaid_debt_to_firms.rate.all": 0.002,
        e + "firms.consequences.rep_flight_ban.attempts_per_day": 0.02})


# ---------------------------------------------------------------------------------------------- the language
def _problems(data):
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    return {p: (v, m) for p, v, m in info.value.problems}


def test_entity_problems_name_their_path_value_and_what_is_allowed():
    data = load_scenario("beijing-2020").model_dump(mode="python")
    firms = data["entities"]["firms"]
    firms["consequences"]["rep_flight_ban"]["applies_to"] = "links.ceo"
    firms["behaviours"]["tax_arrears"]["channels"] = ["nowhere"]
    firms["population"]["households"] = {"sizes": {"1": 1.0}}
    data["consequences"]["flight_ban"]["applies_to"] = "links.legal_representative"
    data["timeline"] = [{"day": 10, "set": {"entities.firms.score.base": 600}}]
    problems = _problems(data)
    assert problems["entities.firms.consequences.rep_flight_ban.applies_to"] == (
        "links.ceo", "unknown link; allowed: links.legal_representative")
    assert "unknown channel" in problems["entities.firms.behaviours.tax_arrears.channels.0"][1]
    assert problems["entities.firms.population.households"][1] == "entity types have no households"
    assert "persons have no links" in problems["consequences.flight_ban.applies_to"][1]
    assert "entities.NAME.timeline" in problems["timeline.0.set.entities.firms.score.base"][1]


def test_an_entity_type_may_not_be_called_persons_and_its_timeline_is_checked():
    data = load_scenario("beijing-2020").model_dump(mode="python")
    data["entities"]["firms"]["timeline"] = [{"day": 5, "set": {"lists.nolist.min_days": 3}}]
    assert any(p.startswith("entities.firms.timeline.0.set") for p in _problems(data))
    data = load_scenario("beijing-2020").model_dump(mode="python")
    data["entities"]["persons"] = data["entities"].pop("firms")
    data["provenance"] = {}
    assert "choose another name" in _problems(data)["entities.persons"][1]


def test_presets_with_entities_mark_every_number():
    for name in ("beijing-2020", "court-defaulters-national"):
        raw = tomllib.loads(preset_path(name).read_text())
        assert raw["entities"], name
        from scslab.scenarios.load import unmarked_numbers

        assert unmarked_numbers(raw) == [], name


def test_entity_seeds_differ_by_name_and_seed():
    seeds = {entity_seed(s, n) for s in (0, 1) for n in ("firms", "authorities")}
    assert len(seeds) == 4 and all(0 <= x < 2**63 for x in seeds)


# ---------------------------------------------------------------------------------------------------- a run
def test_persons_are_untouched_by_entity_types(beijing):
    """The persons' rows and stories are identical with and without firms beside them."""
    alone = scslab.simulate(_without_entities("beijing-2020"), **{**SMALL, "overrides": {"population.size": 30_000}})
    assert _persons_only(beijing.metrics).equals(_persons_only(alone.metrics))
    st = beijing.stories
    own = st[(st["population"] == "persons") & ~st["event"].str.startswith("linked_")]
    # only the rows of those sanctioned through a firm are added (their unknown scores make the column nullable)
    pd.testing.assert_frame_equal(own.reset_index(drop=True), alone.stories, check_dtype=False)


def test_every_listed_firms_representative_is_a_sanctioned_person_in_the_stories():
    """beijing-2020 with every firm sampled: for each listing in the firms' own stories, its legal
    representative (the manifest's story links) has a ``linked_listed`` row among the persons' that day, naming
    the firm and the measures; and no other such row exists."""
    over = {"population.size": 20_000, "entities.firms.population.size": 400, "entities.firms.story_agents": 400,
            "entities.firms.behaviours.tax_arrears.points": -400}
    r = scslab.simulate("beijing-2020", days=120, seed=2, overrides=over)
    st = r.stories
    entries = st[(st.population == "firms") & (st.event == "list_enter")]
    links = r.manifest["entities"]["firms"]["story_links"]["legal_representative"]
    assert len(entries) > 5 and len(links) == 400
    linked = st[(st.population == "persons") & (st.event == "linked_listed")]
    expected = {(int(links[str(f)][0]), int(d)) for f, d in zip(entries.agent, entries.day)}
    assert set(zip(linked.agent.astype(int), linked.day.astype(int))) == expected
    assert linked.reason.str.contains("legal representative of firm").all()
    assert linked.reason.str.contains("rep flight ban, rep train ban").all()


def test_population_override_scales_entity_types():
    r = scslab.simulate("court-defaulters-national", population=60_000, days=5, seed=5)
    sizes = {k: v["population"] for k, v in r.manifest["entities"].items()}
    assert sizes == {"firms": 2400, "authorities": 2}
    assert r.final("firms.tier:unscored") == 2400


def test_beijing_reports_firm_blacklist_linked_representatives_and_agencies(beijing):
    s = beijing.summary()
    assert s["firms.listed:blacklist"] > 0
    # one legal representative per firm: persons sanctioned through their firm = firms under the measure
    assert beijing.series("firms.linked:rep_flight_ban").equals(beijing.series("firms.sanctioned:rep_flight_ban"))
    # joint punishment: an agency's measures are the sum of the measures it delivers, across populations
    aviation = beijing.series("sanctioned:flight_ban") + beijing.series("firms.linked:rep_flight_ban")
    assert beijing.series("agency:aviation").equals(aviation)
    market = beijing.series("sanctioned:business_licence_denied") + beijing.series("firms.sanctioned:enhanced_inspection")
    assert beijing.series("agency:market_regulation").equals(market)
    tries = beijing.series("blocked:flight_ban") + beijing.series("firms.linked_blocked:rep_flight_ban")
    assert beijing.series("agency_attempts:aviation").equals(tries)
    # the engine draws no attempts for a linked consequence: its row is the linked persons' draw
    assert "firms.blocked:rep_flight_ban" not in set(beijing.metrics["metric"])
    # one listing multiplies: every listed firm is under 7 measures of 7 agencies
    listed = beijing.final("firms.listed:blacklist")
    agencies = sum(beijing.final(f"agency:{a}") for a in ("banking_regulator", "certification", "development_reform",
                                                             "finance"))
    assert agencies == 4 * listed


def test_linked_persons_count_per_entity_and_their_attempts_follow_the_rate(national):
    """Authorities have 20 officials each; linked attempts are Binomial(persons under it, rate) per day."""
    off = national.series("authorities.linked:promotion_barred")
    assert off.iloc[-1] > 0 and off.equals(20 * national.series("authorities.sanctioned:promotion_barred"))
    p = 0.02
    person_days = national.series("firms.linked:rep_flight_ban").sum()
    tries = national.series("firms.linked_blocked:rep_flight_ban").sum()
    assert person_days > 500
    assert abs(tries - p * person_days) < 5 * np.sqrt(p * person_days) + 1


def test_linked_persons_are_procedural_adults_in_the_entity_region():
    s = load_scenario("beijing-2020")
    plan = compile_plan(s, size=200_000, days=2, seed=0)
    firms = plan.entities["firms"]
    ids = np.arange(firms.size)
    adult = (lambda x: plan.hh_adult[x % len(plan.hh_adult)] == 1)
    a = linked_persons(plan.scenario, "firms", "legal_representative", ids, adult=adult)
    b = linked_persons(plan.scenario, "firms", "legal_representative", ids, adult=adult)
    assert a.shape == (firms.size, 1) and np.array_equal(a, b)
    firm_region = np.searchsorted(firms.region_starts, ids, side="right") - 1
    person_region = np.searchsorted(plan.region_starts, a[:, 0], side="right") - 1
    assert np.array_equal(firm_region, person_region)  # both have regions core and outer
    assert adult(a[:, 0]).mean() > 0.999
    assert len(np.unique(a)) > 0.95 * firms.size  # spread over the persons, not piled on a few


def test_every_person_has_an_employer_in_their_region():
    s = load_scenario("beijing-2020")
    plan = compile_plan(s, size=100_000, days=2, seed=0)
    persons = np.arange(plan.size)
    firms = employer(plan.scenario, "firms", persons)
    assert np.array_equal(firms, employer(plan.scenario, "firms", persons))
    f = plan.entities["firms"]
    assert firms.min() >= 0 and firms.max() < f.size
    same = (np.searchsorted(f.region_starts, firms, side="right") - 1
            == np.searchsorted(plan.region_starts, persons, side="right") - 1)
    assert same.all()
    sizes = np.bincount(firms, minlength=f.size)  # about 21.7 employees per firm, Poisson-like
    assert abs(sizes.mean() - plan.size / f.size) < 0.01 and sizes.var() < 2 * sizes.mean()


def test_story_entities_carry_their_linked_persons(national):
    firms = national.manifest["entities"]["firms"]
    assert len(firms["story_agents"]) == 6
    links = firms["story_links"]["legal_representative"]
    assert set(links) == {str(a) for a in firms["story_agents"]}
    assert all(0 <= p[0] < 60_000 for p in links.values())


def test_same_bytes_for_threads_and_chunks_with_entities(tmp_path):
    a = scslab.simulate("court-defaulters-national", population=20_000, days=60, seed=2, threads=1)
    b = scslab.simulate("court-defaulters-national", population=20_000, days=60, seed=2, threads=2, chunk=1000)
    assert a.metrics_table.equals(b.metrics_table) and a.stories_table.equals(b.stories_table)


def test_lazy_and_dense_agree_on_firms():
    """Statistical agreement of the two engines on an entity type's own metrics (20 seeds each)."""
    s = load_scenario("beijing-2020", {"entities.firms.population.size": 40_000, "population.size": 1000})
    sums = {}
    for engine in ("dense", "lazy"):
        sums[engine] = np.array([[r.series("firms.listed:blacklist").sum(), r.series("firms.detected:tax_arrears").sum()]
                                 for r in (scslab.simulate(s, days=150, seed=k, engine=engine) for k in range(1, 9))])
    d, z = sums["dense"], sums["lazy"]
    err = np.sqrt(d.var(0, ddof=1) / len(d) + z.var(0, ddof=1) / len(z) + 1)
    assert np.all(np.abs(d.mean(0) - z.mean(0)) / err < Z_MAX), (d.mean(0), z.mean(0))


@pytest.mark.parametrize("name", ["firms", "authorities"])
def test_entity_engine_agrees_with_reference(name):
    """An entity type runs as its own scenario: the same agreement test as every preset's."""
    s = entity_scenario(load_scenario("court-defaulters-national"), name)
    if name == "authorities":
        debt = s.behaviours["unpaid_debt_to_firms"].model_copy(update={"rate": {"all": 0.003}})
        s = s.model_copy(update={"behaviours": {**s.behaviours, "unpaid_debt_to_firms": debt}})
    names, z, e, r = compare(s, size=(1500, 120) if name == "firms" else (1000, 120))
    worst = int(np.argmax(z))
    assert z[worst] < Z_MAX, f"{name}: {names[worst]} engine {e[worst]:.1f} vs reference {r[worst]:.1f}"


def bench_with_firms(links: bool = True):
    """bench-v1 with beijing-2020's firms beside its persons: a scheme the windowed scheduler runs (the firms
    on it only without ``links``: their representatives' stories need a day scheduler)."""
    bench = load_scenario("bench-v1").model_dump(mode="json", exclude_none=True)
    beijing = load_scenario("beijing-2020").model_dump(mode="json", exclude_none=True)
    bench["entities"] = beijing["entities"]
    if not links:
        firms = bench["entities"]["firms"]
        firms["consequences"] = {k: c for k, c in firms["consequences"].items() if c.get("applies_to") is None
                                 or not c["applies_to"].startswith("links.")}
    bench["provenance"].update({k: v for k, v in beijing["provenance"].items() if k.startswith("entities")})
    return load_scenario(bench, {"entities.firms.population.size": 4_000})


def test_the_windowed_route_runs_entity_types_after_the_persons_on_their_own_routes():
    """Persons by windows, then each entity type on the fastest scheduler that runs it: the persons' rows are
    those of the scheme without firms, the firms' raw counts those of their own plan run alone."""
    from scslab.engine.cpu import run_cpu
    from scslab.engine.routes import choose_route, entity_route, refusal

    linked = compile_plan(bench_with_firms(), size=3_000, days=120, seed=2).entities["firms"]
    assert entity_route(linked, "windowed") == "lazy"  # its representatives' stories: the linked-stories feature
    assert "linked-stories" in refusal(linked, "windowed")
    s = bench_with_firms(links=False)
    plan = compile_plan(s, size=3_000, days=120, seed=2)
    firms = plan.entities["firms"]
    assert "entity-types" in uses(plan) and choose_route(plan) == "windowed"
    assert entity_route(firms, "windowed") == "windowed" and entity_route(firms, "lazy") == "lazy"
    raw = run_cpu(plan, engine="auto")
    alone = run_cpu(firms, engine="windowed")
    assert np.array_equal(raw.entities["firms"].counts, alone.counts)
    assert np.array_equal(raw.entities["firms"].stories, alone.stories)
    with_firms = scslab.simulate(s, population=3_000, days=120, seed=2)
    persons = scslab.simulate(_without_entities_of(s), population=3_000, days=120, seed=2)
    assert with_firms.manifest["route"] == "windowed" and with_firms.manifest["entities"]["firms"]["route"] == "windowed"
    assert _persons_only(with_firms.metrics).equals(persons.metrics)
    assert with_firms.series("firms.detected:tax_arrears").sum() > 0


def _without_entities_of(s):
    data = s.model_dump(mode="python")
    data["entities"] = {}
    data["provenance"] = {k: v for k, v in data["provenance"].items() if not k.startswith("entities")}
    return data


def test_a_windowed_run_with_entity_types_resumes_bit_for_bit(tmp_path):
    """Checkpoints come at the persons' window ends; a resumed run runs the entity types again from day 0."""
    s = bench_with_firms()
    kw = dict(population=3_000, days=400, seed=4)
    run(s, tmp_path / "whole", **kw)

    def crash(d):
        if d == 380:  # in the second window, after the first window's checkpoint
            raise Crash

    with pytest.raises(Crash):
        run(s, tmp_path / "cut", checkpoint_every=100, progress=crash, **kw)
    result = resume(tmp_path / "cut")
    assert result.manifest["route"] == "windowed" and result.manifest["sessions"][0]["from_day"] == 0
    assert result.manifest["sessions"][1]["from_day"] > 300
    assert _hashes(tmp_path / "cut") == _hashes(tmp_path / "whole")


# ---------------------------------------------------------------------------------------- on disk, CLI, report
def _hashes(folder):
    return {n: hashlib.sha256((Path(folder) / n).read_bytes()).hexdigest() for n in ("metrics.parquet", "stories.parquet")}


class Crash(Exception):
    pass


def test_checkpoints_hold_entity_types_and_resume_bit_for_bit(tmp_path):
    kw = dict(population=20_000, days=40, seed=4)
    run("court-defaulters-national", tmp_path / "whole", **kw)

    def crash(d):
        if d == 23:
            raise Crash

    with pytest.raises(Crash):
        run("court-defaulters-national", tmp_path / "cut", checkpoint_every=10, progress=crash, **kw)
    resume(tmp_path / "cut")
    assert _hashes(tmp_path / "cut") == _hashes(tmp_path / "whole")


def test_cli_run_story_and_report_cover_firms(tmp_path):
    out = tmp_path / "bj"
    cli = CliRunner()
    res = cli.invoke(app, ["run", "beijing-2020", "--population", "20000", "--days", "180", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "and 921 firms" in res.output and "agency:aviation" in res.output
    res = cli.invoke(app, ["story", str(out), "--population", "firms"])
    assert res.exit_code == 0 and "sampled firms" in res.output and "citizen" not in res.output
    res = cli.invoke(app, ["story", str(out), "--population", "banks"])
    assert res.exit_code != 0 and "allowed: persons, firms" in res.output
    res = cli.invoke(app, ["report", str(out)])
    assert res.exit_code == 0, res.output
    page = (out / "report.html").read_text()
    assert "Joint punishment" in page and "Entities" in page
    assert (out / "figures" / "joint_punishment.png").stat().st_size > 5000


def test_capacity_counts_the_entity_types():
    from scslab.engine.budget import estimate_bytes

    s = load_scenario("beijing-2020")
    with_firms = estimate_bytes(compile_plan(s, size=1_000_000, days=30))
    without = estimate_bytes(compile_plan(load_scenario(_without_entities("beijing-2020")), size=1_000_000, days=30))
    assert with_firms - without > 46_000 * 10


def test_sweeps_vary_entity_parameters_and_catalogue_entity_outcomes():
    from scslab.sweep.execute import execute_run
    from scslab.sweep.spec import metric_kinds

    base = load_scenario("court-defaulters-national").model_dump(mode="python")
    kinds, groups = metric_kinds(base)
    assert kinds["firms.linked:rep_flight_ban"] == "final" and kinds["agency_attempts:aviation"] == "total"
    assert "firms.blocked:rep_flight_ban" not in kinds and "firms.score:0..1" not in kinds
    task = {"run": 0, "base": base, "overrides": {"entities.firms.debt.repay_per_day": 0.0001}, "population": 30_000,
            "days": 60, "seed": 1, "threads": 1, "engine": "lazy", "outputs": [], "groups": ["all"]}
    res = execute_run(task)
    direct = scslab.simulate(base, population=30_000, days=60, seed=1,
                             overrides={"entities.firms.debt.repay_per_day": 0.0001})
    assert res["outcomes"]["firms_listed_court_list"] == direct.final("firms.listed:court_list")
    assert res["outcomes"]["agency_attempts_aviation"] == direct.series("agency_attempts:aviation").sum()
    assert {k for k in res["outcomes"] if k.startswith("firms_")} == {
        k.replace(".", "_").replace(":", "_") for k in kinds if k.startswith("firms.")}
    assert set(res["kinds"]) == {k.replace(".", "_").replace(":", "_") for k in kinds}
