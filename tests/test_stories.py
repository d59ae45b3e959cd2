"""Story citizens are chosen by the role a story needs, from the scenario, reproducibly."""

import itertools
import re

import numpy as np
import pytest

import scslab
from scslab.compile import compile_plan
from scslab.scenarios import load_scenario

EXPECTED = {
    "press-2018": {"model citizen", "frequent offender", "critic", "child", "group minority", "region west"},
    "court-defaulters-national": {"debtor", "child"},
    "jinan-dog-points": {"dog account holder"},
    "beijing-2020": {"group migrant", "region outer"},
}


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_roles_are_filled(preset):
    r = scslab.simulate(preset, population=30_000, days=5, seed=2)
    roles = r.manifest["story_roles"]
    assert EXPECTED[preset] <= set(roles.values())
    assert sorted(map(int, roles)) == r.manifest["story_agents"]
    plan = compile_plan(load_scenario(preset), size=30_000, days=5, seed=2)
    for agent, role in roles.items():
        if role.startswith("region "):
            k = plan.region_names.index(role.split(" ", 1)[1])
            assert plan.region_starts[k] <= int(agent) < plan.region_starts[k + 1]


def test_roles_do_not_depend_on_threads_and_change_with_the_seed():
    a = scslab.simulate("press-2018", population=30_000, days=3, seed=2, threads=1).manifest
    b = scslab.simulate("press-2018", population=30_000, days=3, seed=2, threads=2).manifest
    c = scslab.simulate("press-2018", population=30_000, days=3, seed=3).manifest
    assert a["story_roles"] == b["story_roles"]
    assert a["story_agents"] != c["story_agents"]
    assert len(np.unique(a["story_agents"])) == len(a["story_agents"]) == 24


@pytest.mark.parametrize("size", [1_000_000, 50_000_000])
def test_sampled_citizens_come_from_every_region_in_proportion(size):
    """Story agents are drawn over the whole population, not from its first ids (the first region)."""
    from scslab.engine.stories import pick_story_agents
    from scslab.engine.loop import start

    data = load_scenario("press-2018").model_dump(mode="python")
    data["run"]["story_agents"] = 400
    plan = compile_plan(load_scenario(data), size=size)
    n = plan.size
    traits = np.zeros(n, np.uint8) if size > 1_000_000 else start(plan).cols.traits
    flags = np.full(n, 1, np.uint8)  # adults
    picks = pick_story_agents(plan, traits, flags, 400)
    region = np.searchsorted(plan.region_starts, [a for a, _ in picks], side="right") - 1
    shares = np.bincount(region, minlength=len(plan.region_names)) / len(picks)
    for k, name in enumerate(plan.region_names):
        assert abs(shares[k] - plan.scenario.population.regions[name].share) < 0.08, (name, shares)


def test_press_2018_story_agents_come_from_every_region():
    r = scslab.simulate("press-2018", population=1_000_000, days=2, seed=0)
    plan = compile_plan(load_scenario(r.manifest["scenario"]))
    region = np.searchsorted(plan.region_starts, r.manifest["story_agents"], side="right") - 1
    assert set(region) == set(range(len(plan.region_names)))
    assert np.bincount(region).max() <= 12  # of 24 (east holds 45 % of the people)


# --- the told story: scores after each event, tier changes, network sources, collapsed recoveries -------------

SCORE_ROWS = ("act_detected", "false_attribution", "network_penalty", "redress")  # points owed until the day ends
ACT_ROWS = (*SCORE_ROWS, "act_undetected", "account_zero")
HARSH = {f"behaviours.criticize_government.network.{k}": -150  # every kind of tie press-2018 sets
         for k in ("household", "partner", "parents", "children", "best_friend", "friends")}


@pytest.fixture(scope="module")
def everyone():
    """press-2018 with harsh penalties for ties, every person a story agent: ties' acts are in the log too."""
    return scslab.simulate("press-2018", population=3_000, days=150, seed=4,
                           overrides={**HARSH, "run.story_agents": 3_000})


def _replay(result):
    """Day by day from the base score: a day's own and ties' points add up (clamped to the bounds once, at
    the day's end), then expiry and recovery. Returns (rows checked, (agent, day) with two events with points,
    mismatches)."""
    score = result.manifest["scenario"]["score"]
    low, high = score["bounds"]
    st = result.stories.sort_values(["agent", "day"], kind="stable")  # a day's rows stay in the log's order
    rows = zip(st["agent"].tolist(), st["day"].tolist(), st["event"].tolist(), st["points"].tolist(),
               st["score_after"].tolist())
    checked, busy, bad = 0, 0, []
    for agent, own in itertools.groupby(rows, key=lambda r: r[0]):
        s = score["base"]
        for day, day_rows in itertools.groupby(own, key=lambda r: r[1]):
            day_rows = list(day_rows)
            owed = 0
            for _, _, event, points, after in day_rows:
                if event in SCORE_ROWS:
                    owed += points
                if event in ACT_ROWS:
                    checked += 1
                    if after != min(max(s + owed, low), high):
                        bad.append((agent, day, event, after, s + owed))
            s = min(max(s + owed, low), high)
            for _, _, event, points, after in day_rows:
                if event == "expiry":
                    s = min(max(s + points, low), high)
                elif event == "recovery":
                    s += points
                if event not in ACT_ROWS and event != "expiry":
                    checked += 1
                    if after != s:
                        bad.append((agent, day, event, after, s))
            busy += int(sum(r[3] != 0 for r in day_rows) >= 2)
    return checked, busy, bad


def test_score_after_is_the_score_right_after_each_event(everyone):
    """Several events on one day show the score moving through the day, and a day-by-day replay of the points
    gives every row's score after, in the dense, lazy and windowed engines."""
    checked, busy, bad = _replay(everyone)
    assert checked > 1_000 and busy > 20 and bad == []
    for preset, engine, over in (("press-2018", "dense", HARSH),
                                 ("bench-v1", "lazy", {"behaviours.criticize_government.network.friends": -60})):
        r = scslab.simulate(preset, population=10_000, days=150, seed=2, engine=engine,
                            overrides={**over, "run.story_agents": 300})
        checked, busy, bad = _replay(r)
        assert busy > 0 and bad == [], (preset, bad[:5])


def test_tier_changes_tell_the_score_not_the_points_again(everyone):
    st = everyone.stories
    tiers = st[st["event"] == "tier_change"]
    assert len(tiers) > 20 and (tiers["points"] == 0).all()
    for row in tiers.itertuples():
        assert re.fullmatch(rf"moved (up|down) to tier {row.behaviour} \(score {row.score_after}\)", row.reason)


def test_network_penalties_name_the_tie_whose_act_it_was(everyone):
    """Every network-penalty row names the tie and what it is to the penalised person (a household member:
    partner, parent, child or other member; a friend); everyone is a story agent, so the tie's own detected
    (or falsely attributed) act of that behaviour is in the log on that day."""
    st = everyone.stories
    net = st[st["event"] == "network_penalty"]
    assert len(net) > 50
    parsed = net["reason"].str.extract(r"^(partner|parent|child|household member|best friend|friend) (\d+) was "
                                       r"caught for (\w+):")
    assert parsed.notna().all().all() and {"friend", "best friend", "partner", "household member"} <= set(parsed[0])
    assert (parsed[2] == net["behaviour"]).all()
    acts = st[st["event"].isin(["act_detected", "false_attribution"])]
    done = set(zip(acts["day"], acts["agent"], acts["behaviour"]))
    for day, tie, behaviour in zip(net["day"], parsed[1].astype(int), net["behaviour"]):
        assert (day, tie, behaviour) in done
    plan = compile_plan(load_scenario(everyone.manifest["scenario"]))
    at_home = ~parsed[0].isin(["friend", "best friend"])
    households = net[at_home]
    B = len(plan.hh_head)
    for agent, tie in zip(households["agent"], parsed[1][at_home].astype(int)):
        head = tie - plan.hh_head[tie % B]  # population.household_head
        assert head <= agent < head + plan.hh_size[tie % B]  # the same household


def test_daily_recoveries_are_told_as_one_line(everyone):
    from scslab.storylog import told_rows

    st = everyone.stories
    agent = int(st[st["event"] == "recovery"]["agent"].value_counts().index[0])
    own = st[st["agent"] == agent]
    rows = told_rows(own)
    assert len(rows) < len(own) / 2 and sum(r["events"] for r in rows) == len(own)
    stretches = [r for r in rows if r["events"] > 1]
    assert stretches and all(r["event"] == "recovery" for r in stretches)
    for r in stretches:
        first, last = map(int, r["day"].split("-"))
        part = own[(own["day"] >= first) & (own["day"] <= last) & (own["event"] == "recovery")]
        assert len(part) == r["events"] == last - first + 1 and r["points"] == part["points"].sum()
        start = int(part["score_after"].iloc[0] - part["points"].iloc[0])
        assert f"for {r['events']} days: {start} -> {r['score_after']}" in r["reason"]
        assert r["score_after"] == part["score_after"].iloc[-1]
    for a, b in zip(rows, rows[1:]):  # no two lines of recovery on days in a row are left apart
        if a["event"] == b["event"] == "recovery":
            assert int(b["day"].split("-")[0]) > int(a["day"].split("-")[-1]) + 1


def test_story_command_speaks_of_firms_and_starting_scores(tmp_path):
    from typer.testing import CliRunner

    from scslab.cli import app

    out = tmp_path / "bj"
    scslab.run("beijing-2020", out, population=20_000, days=60, seed=3)
    runner = CliRunner()
    firms = runner.invoke(app, ["story", str(out), "--population", "firms"], env={"COLUMNS": "200"})
    assert firms.exit_code == 0, firms.output
    assert "sampled firms of beijing-2020" in firms.output and "citizen" not in firms.output
    manifest = scslab.Result.load(out).manifest
    roles = manifest["entities"]["firms"]["story_roles"].values()
    assert "model firm" in roles and not any("citizen" in r for r in roles)
    persons = runner.invoke(app, ["story", str(out)], env={"COLUMNS": "200"})
    assert "sampled citizens of beijing-2020" in persons.output and "model citizen" in persons.output
    st = scslab.Result.load(out).stories
    quiet = [a for a in manifest["story_agents"] if not (st["agent"] == a).any()]
    base = manifest["scenario"]["score"]["base"]
    if quiet:  # an agent without events has kept its starting score
        assert f"{base} (no events)" in persons.output
    firm = manifest["entities"]["firms"]["story_agents"][0]
    one = runner.invoke(app, ["story", str(out), "-p", "firms", "-a", str(firm)], env={"COLUMNS": "200"})
    assert one.exit_code == 0 and f"firm {firm}" in one.output


def test_list_exit_days_are_read_from_the_log():
    """The engines keep an entry day only for lists with a term; a list exit's days on the list are the exit
    day less the same agent's last entry into the same list, whatever the lists and agents between them."""
    from scslab.compile import SE
    from scslab.metrics import _list_days

    E, X, R = SE.list_enter, SE.list_exit, SE.recovery
    #        (day, agent, code, list)
    rows = [(3, 5, E, 0), (4, 7, E, 1), (4, 5, R, -1), (9, 7, X, 1), (10, 5, X, 0), (20, 5, E, 0), (21, 7, E, 0),
            (25, 5, X, 0), (30, 7, X, 0)]
    day, agent, code, arg = (np.array(c, np.int64) for c in zip(*rows))
    days = _list_days(day, agent, code, arg, np.zeros(len(rows), np.int64))
    assert days[code == X].tolist() == [5, 7, 5, 9]
    assert not days[code != X].any()


@pytest.mark.parametrize("engine, min_days", [("lazy", None), ("dense", None), ("dense", 20)])
def test_stories_tell_each_list_exit_after_the_days_since_its_entry(engine, min_days):
    """A red list that people enter and leave (xiamen-fuzhou-2018 with harsher points and a lower recovery
    ceiling), without a term (no entry day kept) and with a 20-day minimum term: every exit in the stories
    is told with its days since the agent's entry, and a minimum term shows in them."""
    over = {"score.recovery.up_to": 800, "behaviours.late_bill.points": -60, "run.story_agents": 400}
    if min_days:
        over["lists.perks.min_days"] = min_days
    plan = compile_plan(load_scenario("xiamen-fuzhou-2018", over), size=2_000, days=300, seed=3)
    assert plan.n_dated_lists == (1 if min_days else 0)
    t = scslab.simulate("xiamen-fuzhou-2018", population=2_000, days=300, seed=3, overrides=over,
                        engine=engine).stories
    moves = t[t["event"].isin(["list_enter", "list_exit"])].sort_values(["agent", "day"], kind="stable")
    told = moves["reason"].str.extract(r"after (\d+) days")[0].astype(float)
    entered = moves["day"].where(moves["event"] == "list_enter").groupby(moves["agent"]).ffill()
    exits = moves["event"] == "list_exit"
    assert exits.sum() >= 20
    assert (told[exits] == moves["day"][exits] - entered[exits]).all()
    assert told[exits].min() >= (min_days or 1)
