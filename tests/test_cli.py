"""The command line, end to end."""

import json

from typer.testing import CliRunner

import scslab.runs as run_mod
from scslab.cli import app

runner = CliRunner()


def test_presets_lists_all():
    res = runner.invoke(app, ["presets"])
    assert res.exit_code == 0
    for name in ("bench-v1", "press-2018", "court-defaulters-national", "jinan-dog-points"):
        assert name in res.output


def test_validate_good_and_bad(tmp_path):
    assert runner.invoke(app, ["validate", "bench-v1"]).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[meta]\nname = "x"\n[population]\nsize = -1\n')
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2
    assert "population.size" in res.output and "channels" in res.output


def test_run_writes_and_summarises(tmp_path):
    out = tmp_path / "r"
    res = runner.invoke(app, ["run", "bench-v1", "-n", "3000", "-d", "30", "--seed", "4", "-o", str(out),
                              "--set", "behaviours.jaywalking.points=-50", "-q"])
    assert res.exit_code == 0, res.output
    assert "tier:A" in res.output and "agent-days/s" in res.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["behaviours"]["jaywalking"]["points"] == -50
    again = runner.invoke(app, ["run", "bench-v1", "-n", "3000", "-d", "30", "-o", str(out), "-q"])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = runner.invoke(app, ["run", "bench-v1", "--set", "behaviours.jaywalking.detect=2", "-q"])
    assert bad.exit_code == 2 and "behaviours.jaywalking.detect" in bad.output


def test_run_engine_choice(tmp_path):
    """``--engine`` picks the CPU engine, the manifest records it, and an unknown one lists the allowed."""
    for engine in ("dense", "lazy", "windowed"):
        res = runner.invoke(app, ["run", "bench-v1", "-n", "3000", "-d", "20", "-o", str(tmp_path / engine),
                                  "--engine", engine, "-q"])
        assert res.exit_code == 0, res.output
        assert json.loads((tmp_path / engine / "manifest.json").read_text())["engine"] == engine
    default = runner.invoke(app, ["run", "bench-v1", "-n", "3000", "-d", "20", "-o", str(tmp_path / "d"), "-q"])
    assert json.loads((tmp_path / "d" / "manifest.json").read_text())["engine"] == "auto"
    bad = runner.invoke(app, ["run", "bench-v1", "-n", "3000", "--engine", "fast", "-q"])
    assert default.exit_code == 0 and bad.exit_code == 2 and "auto, windowed, lazy, dense" in bad.output


def test_run_refused_when_memory_is_short(monkeypatch, tmp_path):
    import scslab.engine.budget as state

    monkeypatch.setattr(state, "available_memory", lambda: 1 << 30)
    res = runner.invoke(app, ["run", "bench-v1", "-n", "200000000", "-o", str(tmp_path / "big"), "-q"])
    assert res.exit_code == 3
    assert "needs about" in res.output and "GiB" in res.output and "bytes per agent" in res.output
    assert not (tmp_path / "big").exists()


def test_verify_finds_truncated_altered_and_missing_files(tmp_path):
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "bench-v1", "-n", "3000", "-d", "20", "-o", str(out), "-q"]).exit_code == 0
    ok = runner.invoke(app, ["verify", str(out)])
    assert ok.exit_code == 0 and "checksums match" in ok.output
    stories = (out / "stories.parquet").read_bytes()
    (out / "stories.parquet").write_bytes(stories[:-100])
    bad = runner.invoke(app, ["verify", str(out)])
    assert bad.exit_code == 1 and "stories.parquet: truncated" in bad.output
    data = bytearray(stories)
    data[200] ^= 1
    (out / "stories.parquet").write_bytes(bytes(data))
    bad = runner.invoke(app, ["verify", str(out)])
    assert bad.exit_code == 1 and "stories.parquet: altered" in bad.output and "metrics" not in bad.output
    (out / "metrics.parquet").unlink()
    bad = runner.invoke(app, ["verify", str(out)])
    assert bad.exit_code == 1 and "metrics.parquet: missing" in bad.output
    assert runner.invoke(app, ["verify", str(tmp_path)]).exit_code == 2  # not a run directory


def test_verify_reports_an_incomplete_run(tmp_path):
    out = tmp_path / "r"
    run_mod.run("jinan-dog-points", out, population=500, days=3)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["manifest_sha256"]
    (out / "manifest.json").write_text(json.dumps({**manifest, "status": "incomplete"}))
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 1 and "incomplete run" in res.output and "scslab resume" in res.output
    (out / "manifest.json").write_text(json.dumps({"status": "incomplete"}))
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 2 and "not a scslab manifest" in res.output and "scslab_version" in res.output
    (out / "manifest.json").write_text("{not json")
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 2 and "not valid JSON" in res.output


def test_schema_accepts_every_preset_and_rejects_bad_values(tmp_path):
    import tomllib

    import jsonschema

    from scslab.scenarios.load import preset_names, preset_path

    out = tmp_path / "scslab.schema.json"
    res = runner.invoke(app, ["schema", "-o", str(out)])
    assert res.exit_code == 0, res.output
    schema = json.loads(out.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for name in preset_names():
        with open(preset_path(name), "rb") as fh:
            data = tomllib.load(fh)
        errors = list(validator.iter_errors(data))
        assert not errors, (name, errors[0].message)
    data["behaviours"] = {"x": {"rate": 2}}
    data["population"]["size"] = -5
    data["surprise"] = 1
    messages = " ".join(e.message for e in validator.iter_errors(data))
    assert "-5" in messages and "surprise" in messages
    assert json.loads(runner.invoke(app, ["schema"]).output)["title"] == "Scenario"


def test_story_lists_the_sampled_and_tells_one(tmp_path):
    out = tmp_path / "r"
    assert runner.invoke(app, ["run", "press-2018", "-n", "20000", "-d", "120", "-s", "2", "-o", str(out),
                               "-q"]).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    listing = runner.invoke(app, ["story", str(out)])
    assert listing.exit_code == 0 and str(manifest["story_agents"][0]) in listing.output
    import pyarrow.parquet as pq

    stories = pq.read_table(out / "stories.parquet").to_pandas()
    busiest = int(stories["agent"].value_counts().index[0])
    told = runner.invoke(app, ["story", str(out), "--agent", str(busiest)])
    own = stories[stories["agent"] == busiest]
    assert told.exit_code == 0 and f"{len(own)} events" in told.output
    for event in set(own["event"]):  # every kind of event the agent had is told (names are not wrapped)
        assert event in told.output
    bad = runner.invoke(app, ["story", str(out), "--agent", "-7"])
    assert bad.exit_code == 2 and "not a sampled agent" in bad.output
