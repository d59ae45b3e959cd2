"""Nothing lost: --force replaces only scslab's own run directories, one process at a time per directory,
no leftovers, and damaged or hostile inputs end in a named error (never a traceback)."""

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from scslab import RunDirError, ScenarioError, load_scenario, resume, run, simulate
from scslab.errors import ScenarioWarning
from scslab.api import Result
from scslab.cli import app
from scslab.output.checkpoint import list_checkpoints
from scslab.output.lock import RunLock
from scslab.output.rundir import read_run, verify_run

runner = CliRunner()
SMALL = dict(population=1_000, days=5, seed=1)


def small_run(out, **kw):
    return run("jinan-dog-points", out, **{**SMALL, **kw})


def cli(*args):
    return [sys.executable, "-m", "scslab", *map(str, args)]


def test_force_keeps_a_folder_that_is_not_a_scslab_run(tmp_path):
    """The issue's case: a web folder with its own manifest.json survives --force, exit 2, a message."""
    web = tmp_path / "web"
    web.mkdir()
    (web / "manifest.json").write_text('{"name":"pwa"}')
    (web / "index.html").write_text("precious")
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "1000", "-d", "5", "--out", str(web), "--force", "-q"])
    assert res.exit_code == 2, res.output
    assert "--force refused" in res.output and "not a scslab run directory" in res.output
    assert (web / "index.html").read_text() == "precious" and (web / "manifest.json").read_text() == '{"name":"pwa"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web"]  # no temporary folder left beside it


def test_force_replaces_only_an_intact_run_or_an_empty_folder(tmp_path):
    out = tmp_path / "r"
    small_run(out)
    small_run(out, force=True, seed=2)  # an intact run of scslab's: replaced
    assert read_run(out)[2]["seed"] == 2
    (out / "figures").mkdir()
    (out / "figures" / "tiers.png").write_bytes(b"png")  # what `scslab report` writes is scslab's own
    (out / "report.html").write_text("<html>")
    small_run(out, force=True, seed=3)
    assert read_run(out)[2]["seed"] == 3 and not (out / "report.html").exists()

    (out / "notes.txt").write_text("mine")  # a file of the user's: kept, with the whole run
    with pytest.raises(RunDirError, match=r"holds files scslab did not write \(notes.txt\)"):
        small_run(out, force=True)
    (out / "notes.txt").unlink()
    (out / "stories.parquet").write_bytes(b"changed")  # files that do not match the manifest: kept
    with pytest.raises(RunDirError, match="do not match its manifest"):
        small_run(out, force=True)

    empty = tmp_path / "empty"
    empty.mkdir()
    small_run(empty, force=True)
    assert verify_run(empty) == []


def test_force_follows_a_symlink_and_leaves_nothing_beside(tmp_path):
    target = tmp_path / "data" / "run"
    small_run(target)
    link = tmp_path / "latest"
    link.symlink_to(target)
    small_run(link, force=True, seed=4)
    assert link.is_symlink() and read_run(link)[2]["seed"] == 4 and read_run(target)[2]["seed"] == 4
    assert sorted(p.name for p in target.parent.iterdir()) == ["run"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "latest"]


def test_a_run_directory_in_use_is_neither_replaced_nor_resumed_twice(tmp_path):
    out = tmp_path / "r"
    small_run(out)
    with RunLock(out):  # another process's run or resume (flock conflicts between any two handles)
        with pytest.raises(RunDirError, match="in use by another scslab process"):
            small_run(out, force=True)
        assert read_run(out)[2]["seed"] == 1
    stopped = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        small_run(stopped, checkpoint_every=1, days=4, progress=lambda d: d == 2 and _raise(KeyboardInterrupt))
    assert list_checkpoints(stopped)
    with RunLock(stopped):
        with pytest.raises(RunDirError, match="in use"):
            resume(stopped)
    resume(stopped)
    assert verify_run(stopped) == []


def _raise(exc):
    raise exc


def test_force_over_a_run_in_progress_is_refused_and_the_first_run_finishes(tmp_path):
    out = tmp_path / "c"
    first = subprocess.Popen(cli("run", "press-2018", "-n", 200_000, "-d", 365, "-q", "--engine", "lazy", "-o", out),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while not (out / "manifest.json").exists():
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() - t0 < 300
        time.sleep(0.05)
    second = subprocess.run(cli("run", "jinan-dog-points", "-n", 1000, "-d", 3, "-q", "-o", out, "--force"),
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 2 and "in use by another scslab process" in second.stderr, second.stderr
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert verify_run(out) == [] and read_run(out)[2]["name"] == "press_2018"


def test_no_leftovers_after_a_resume_or_a_failed_open(tmp_path, monkeypatch):
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        small_run(out, checkpoint_every=1, progress=lambda d: d == 3 and _raise(KeyboardInterrupt))
    for junk in (".manifest.json.tmp-0badf00d", ".metrics.parquet.tmp-0badf00d"):  # a write killed midway
        (out / junk).write_bytes(b"half")
    resume(out)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "metrics.parquet", "stories.parquet"]

    import scslab.output.rundir as rundir

    def full(folder, manifest):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rundir, "write_manifest", full)
    with pytest.raises(RunDirError, match="No space left on device"):
        small_run(tmp_path / "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_default_names_never_collide(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import scslab.output.rundir as rundir

    monkeypatch.setattr(rundir, "default_name", lambda name, stamp: Path("runs") / f"{name}-same-second")
    paths = [small_run(None).path for _ in range(3)]
    assert [p.name for p in paths] == ["jinan_dog_points-same-second", "jinan_dog_points-same-second-2",
                                       "jinan_dog_points-same-second-3"]
    assert all(verify_run(p) == [] for p in paths)


def test_disk_full_while_checkpointing_is_the_run_directorys_error(tmp_path, monkeypatch):
    import scslab.output.checkpoint as checkpoint

    def full(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_checkpoint", full)
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "1000", "-d", "6", "--checkpoint-every", "2", "-q",
                              "-o", str(tmp_path / "r")])
    assert res.exit_code == 2 and "cannot write run directory" in res.output and "No space left" in res.output


def test_brackets_in_paths_and_names_are_printed_as_text(tmp_path, monkeypatch):
    out = tmp_path / "mk[/b]"
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "1000", "-d", "3", "-q", "-o", str(out)])
    assert res.exit_code == 0 and f"written to {out}" in res.output.replace("\n", "")
    res = runner.invoke(app, ["verify", str(out)])
    assert res.exit_code == 0 and "mk[/b]" in res.output
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["validate", "[bold]missing[/].toml"])
    assert res.exit_code == 2 and "'[bold]missing[/].toml'" in res.output


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("done") / "r"
    small_run(out)
    return out


DAMAGE = {
    "truncated metrics": lambda d: (d / "metrics.parquet").write_bytes((d / "metrics.parquet").read_bytes()[:100]),
    "stories replaced": lambda d: (d / "stories.parquet").write_bytes(b"PAR1" * 50),
    "metrics missing": lambda d: (d / "metrics.parquet").unlink(),
    "metrics a folder": lambda d: ((d / "metrics.parquet").unlink(), (d / "metrics.parquet").mkdir()),
    "manifest deep": lambda d: (d / "manifest.json").write_text("[" * 100_000 + "]" * 100_000),
    "manifest huge int": lambda d: (d / "manifest.json").write_text('{"status": "complete", "seed": ' + "9" * 10_000 + "}"),
    "manifest edited": lambda d: _edit_manifest(d, population=5),
    "manifest fields": lambda d: _edit_manifest(d, story_agents="all", drop_seal=True),
    "manifest not utf-8": lambda d: (d / "manifest.json").write_bytes(b"\xff\xfe{}"),
}


def _edit_manifest(d, drop_seal=False, **changes):
    m = json.loads((d / "manifest.json").read_text())
    if drop_seal:
        m.pop("manifest_sha256")
    (d / "manifest.json").write_text(json.dumps({**m, **changes}))


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_run_directories_give_a_named_error(tmp_path, done_run, damage):
    import shutil

    d = tmp_path / "r"
    shutil.copytree(done_run, d)
    DAMAGE[damage](d)
    with pytest.raises(RunDirError, match=str(d)):
        Result.load(d)
    for command in (["story", str(d)], ["verify", str(d)], ["compare", str(done_run), str(d), "-o", str(tmp_path / "c")],
                    ["report", str(d)], ["resume", str(d)]):
        res = runner.invoke(app, command)
        assert res.exit_code in (1, 2), (command, res.output)
        assert res.exception is None or isinstance(res.exception, SystemExit), (command, res.exception)
        assert "Traceback" not in res.output


def test_checkpoints_out_of_range_are_skipped_never_run(tmp_path):
    out = tmp_path / "r"
    with pytest.raises(KeyboardInterrupt):
        run("press-2018", out, population=2_000, days=12, checkpoint_every=4, engine="lazy", progress=lambda d: d == 9 and
            _raise(KeyboardInterrupt))
    older, newest = list_checkpoints(out)
    with np.load(newest) as z:
        arrays = dict(z)
    arrays["col_traits"][:10] = 250  # no such class and group: would index past the engine's tables
    arrays["col_state"][:10] = 63
    arrays["story_ids"][0] = 10**12
    with open(newest, "wb") as fh:  # written whole, with valid zip checksums
        np.savez(fh, **arrays)
    (out / "checkpoints" / "pass-000010.npz").mkdir()  # a folder where a checkpoint should be
    with pytest.warns(RuntimeWarning, match="column traits holds 250"):
        resume(out)
    assert verify_run(out) == []
    whole = tmp_path / "whole"
    run("press-2018", whole, population=2_000, days=12, engine="lazy")
    assert (out / "metrics.parquet").read_bytes() == (whole / "metrics.parquet").read_bytes()


@pytest.mark.parametrize("value", ["channels.cameras.coverage=[[nan, 0.1]]", "channels.cameras.coverage=[[inf, 0.1]]",
                                   "x=" + "[" * 50_000 + "]" * 50_000])
def test_bad_set_values_are_named(value):
    with pytest.raises(ScenarioError):
        load_scenario("press-2018", [value])


def test_non_utf8_set_values_are_refused(tmp_path):
    done = subprocess.run([sys.executable, "-m", "scslab", "odd", "press-2018", "--set",
                           os.fsdecode(b"meta.description=caf\xe9"), "-o", str(tmp_path / "odd.md")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not valid UTF-8" in done.stderr and not (tmp_path / "odd.md").exists()


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/urandom", "folder"])
def test_scenario_files_that_are_not_regular_files_are_refused_at_once(tmp_path, special):
    if special == "fifo":
        path = tmp_path / "scheme.toml"
        os.mkfifo(path)
    elif special == "folder":
        path = tmp_path
    else:
        path = Path(special)
    t0 = time.monotonic()
    for command in ("validate", "odd"):
        res = runner.invoke(app, [command, str(path)])
        assert res.exit_code == 2 and "not a regular file" in res.output
    assert time.monotonic() - t0 < 10


def test_too_large_scenario_files_are_read_no_further_than_the_limit(tmp_path, monkeypatch):
    import scslab.scenarios.load as load

    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * 2_000_000 + "\n")
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 1_000_000)
    with pytest.raises(ScenarioError, match="larger than 1,000,000 bytes"):
        load_scenario(big)


def test_accepted_nonsense_is_refused_or_warned():
    with pytest.raises(ScenarioError, match="no score can reach this tier"):
        load_scenario("press-2018", {"score.tiers.AAA": 5000})
    from scslab.scenarios.checks import scenario_warnings

    s = load_scenario("press-2018", {"run.days": 100})
    assert scenario_warnings(s) == ["timeline.0 (day 182) never happens: the run covers days 0 to 99; run at "
                                    "least 183 days (--days) to include it"]
    with pytest.warns(ScenarioWarning, match="never happens"):
        simulate("press-2018", population=100, days=100)


def test_every_preset_default_run_includes_its_timeline_but_the_court_lists_reform():
    from scslab import preset_names
    from scslab.scenarios.checks import scenario_warnings

    warned = {name for name in preset_names() if scenario_warnings(load_scenario(name))}
    assert warned == {"court-defaulters-national"}  # the 2024 reform, six years on: a longer --days shows it


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3, 0.45, 0.6])  # the command line built, numba imported, ...
def test_ctrl_c_while_starting_prints_no_traceback(tmp_path, delay):
    out = tmp_path / "r"
    # a run of seconds, so that the Ctrl-C always lands while it goes on, even on a loaded machine where this
    # process wakes from its sleep late (Popen.send_signal does nothing once the process has ended)
    proc = subprocess.Popen(cli("run", "press-2018", "-n", 2_000_000, "-d", 365, "-q", "--engine", "lazy", "-o", out),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode in (130, -signal.SIGINT), stderr  # a shell shows both as 130
    assert "stopped" in stderr or delay < 0.5, stderr  # once scslab's own code runs, it says what is left
    assert "Traceback" not in stderr, stderr
    if out.exists():  # the run had started (a warm, fast machine gets there within half a second): resumable
        assert (out / "checkpoints").is_dir() and f"scslab resume {out}" in stderr, stderr
    elif delay >= 0.5:  # stopped before its first checkpoint: nothing left behind, and it says so
        assert "nothing to resume" in stderr, stderr


def test_a_ctrl_c_after_the_folder_is_made_but_before_the_engine_listens_leaves_nothing(tmp_path, monkeypatch):
    """The run directory exists (its manifest written) a moment before the engine starts turning a Ctrl-C
    into a stop at the end of the day: a Ctrl-C in that moment removes the folder, as the CLI then says."""
    import contextlib

    import scslab.runs

    @contextlib.contextmanager
    def pressed_now(enabled):
        assert (tmp_path / "r" / "manifest.json").is_file()  # the moment under test: the folder is there
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(scslab.runs, "_stop_on_signal", pressed_now)
    with pytest.raises(KeyboardInterrupt):
        run("press-2018", tmp_path / "r", population=200, days=5)
    assert not (tmp_path / "r").exists()


def test_a_ctrl_c_that_pydantic_reports_as_its_own_error_is_a_ctrl_c(tmp_path, monkeypatch):
    """A Ctrl-C that lands while pydantic-core builds the scenario schema (on its first import) comes out as a
    SchemaError that names the KeyboardInterrupt: ``scslab run`` ends as for any Ctrl-C while starting (exit
    130, "stopped", no traceback, nothing written). Any other SchemaError is still raised."""
    import pydantic_core
    from typer.testing import CliRunner

    import scslab.scenarios
    from scslab.cli import app

    def raises(message):
        def load(*args, **kwargs):
            raise pydantic_core.SchemaError(message)
        return load

    out = tmp_path / "r"
    monkeypatch.setattr(scslab.scenarios, "load_scenario", raises('Error building "literal" validator:\n  KeyboardInterrupt: '))
    res = CliRunner().invoke(app, ["run", "bench-v1", "-o", str(out)])
    assert res.exit_code == 130 and "stopped" in res.output and not out.exists(), res.output
    monkeypatch.setattr(scslab.scenarios, "load_scenario", raises("Error building a validator"))
    res = CliRunner().invoke(app, ["run", "bench-v1", "-o", str(out)])
    assert res.exit_code == 1 and isinstance(res.exception, pydantic_core.SchemaError)


def test_resume_takes_a_ctrl_c_that_pydantic_reports_as_its_own_error_as_a_ctrl_c(tmp_path, monkeypatch):
    """``scslab resume`` ends as ``scslab run`` does when a Ctrl-C comes out as pydantic-core's SchemaError
    (exit 130, "stopped", the run folder left as it was); any other SchemaError is still raised."""
    import pydantic_core
    from typer.testing import CliRunner

    import scslab.output.rundir
    from scslab.cli import app

    def raises(message):
        def read(*args, **kwargs):
            raise pydantic_core.SchemaError(message)
        return read

    out = tmp_path / "r"
    out.mkdir()
    (out / "kept.txt").write_text("mine")
    monkeypatch.setattr(scslab.output.rundir, "read_manifest",
                        raises('Error building "literal" validator:\n  KeyboardInterrupt: '))
    res = CliRunner().invoke(app, ["resume", str(out)])
    assert res.exit_code == 130 and "stopped" in res.output, res.output
    assert sorted(p.name for p in out.iterdir()) == ["kept.txt"]
    monkeypatch.setattr(scslab.output.rundir, "read_manifest", raises("Error building a validator"))
    res = CliRunner().invoke(app, ["resume", str(out)])
    assert res.exit_code == 1 and isinstance(res.exception, pydantic_core.SchemaError)


@pytest.mark.parametrize("command, module, name", [
    (["sweep", "SWEEP", "-o", "OUT"], "scslab.sweep", "load_sweep"),
    (["calibrate", "court-defaulters-national", "--trials", "2"], "scslab.calibrate", "load_calibration"),
    (["validate-targets", "court-defaulters-calibrated"], "scslab.calibrate.validate", "validate_targets"),
])
def test_other_commands_take_a_ctrl_c_that_pydantic_reports_as_its_own_error_as_a_ctrl_c(
        tmp_path, monkeypatch, command, module, name):
    """sweep, calibrate and validate-targets end with exit 130 and "stopped" when a Ctrl-C comes out as
    pydantic-core's SchemaError, as on a plain Ctrl-C; any other SchemaError is still raised."""
    import importlib

    import pydantic_core
    from typer.testing import CliRunner

    from scslab.cli import app

    def raises(message):
        def call(*args, **kwargs):
            raise pydantic_core.SchemaError(message)
        return call

    args = [str(tmp_path / "s.toml") if a == "SWEEP" else str(tmp_path / "out") if a == "OUT" else a for a in command]
    (tmp_path / "s.toml").write_text("")
    target = importlib.import_module(module)
    monkeypatch.setattr(target, name, raises('Error building "literal" validator:\n  KeyboardInterrupt: '))
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 130 and "stopped" in res.output, res.output
    monkeypatch.setattr(target, name, raises("Error building a validator"))
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and isinstance(res.exception, pydantic_core.SchemaError), res.output
