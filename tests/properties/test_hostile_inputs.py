"""Fuzzing the command line with what careless users and attackers send: scenario files with changed bytes,
``--set`` values of any text, and run directories damaged in every way. Every outcome is success or a named
error with exit status 1-3: never a traceback, a hang or a crash.

Commands run in this process through Typer's runner (a traceback shows as an exception other than
SystemExit); ``resume``, which runs compiled code on the loaded checkpoint, runs in a child process so that
a crash would show as a signal, with a time limit so that a hang would show as a timeout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from scslab import run
from scslab.cli import app
from scslab.scenarios.load import preset_path

runner = CliRunner()
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow], derandomize=True)
PRESET_TEXT = preset_path("jinan-dog-points").read_bytes()
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=60)  # surrogates and controls included


def _clean(res, allowed=(0, 1, 2, 3)) -> None:
    assert res.exit_code in allowed, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output


@settings(max_examples=60, **SETTINGS)
@given(edits=st.lists(st.tuples(st.integers(0, len(PRESET_TEXT) - 1), st.binary(min_size=0, max_size=8)),
                      min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.integers(0, len(PRESET_TEXT))))
def test_scenario_files_with_changed_bytes(edits, cut):
    data = bytearray(PRESET_TEXT)
    for at, new in edits:
        data[at:at + len(new)] = new
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scheme.toml"
        path.write_bytes(bytes(data[:cut]))
        for command in (["validate", str(path)], ["odd", str(path), "-o", str(Path(folder) / "odd.md")]):
            _clean(runner.invoke(app, command), allowed=(0, 2))


KEYS = st.sampled_from(["meta.name", "meta.description", "run.days", "score.base", "score.tiers.A",
                        "behaviours.dog_off_leash.points", "channels.police.coverage", "lists", "x.y.z"]) | ANY_TEXT


@settings(max_examples=80, **SETTINGS)
@given(key=KEYS, value=ANY_TEXT | st.sampled_from(["nan", "inf", "-inf", "[[nan, 0.1]]", "1e999", "{a = [[[]]]}",
                                                    "[" * 3000 + "]" * 3000, "'[/b]'", '"\\ud800"']))
def test_set_values_of_any_text(tmp_path, key, value):
    out = tmp_path / "odd.md"
    res = runner.invoke(app, ["odd", "jinan-dog-points", "--set", f"{key}={value}", "-o", str(out)])
    _clean(res, allowed=(0, 2))
    if res.exit_code == 0:
        out.read_text(encoding="utf-8")  # what was written is text


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz") / "done"
    run("jinan-dog-points", out, population=800, days=4, seed=3)
    return out


FILES = ["manifest.json", "metrics.parquet", "stories.parquet"]
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
                    max_leaves=8)
DAMAGE = st.one_of(
    st.tuples(st.just("flip"), st.sampled_from(FILES), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.sampled_from(FILES), st.floats(0, 1)),
    st.tuples(st.just("delete"), st.sampled_from(FILES)),
    st.tuples(st.just("folder"), st.sampled_from(FILES)),
    st.tuples(st.just("field"), st.sampled_from(["status", "seed", "population", "days", "files", "story_agents",
                                                 "story_roles", "scenario", "entities", "name", "route"]), JSON),
    st.tuples(st.just("manifest"), JSON),
)


def _damage(folder: Path, how: tuple) -> None:
    kind, *args = how
    if kind in ("flip", "truncate"):
        path = folder / args[0]
        data = bytearray(path.read_bytes())
        if not data:
            return
        at = min(int(args[1] * len(data)), len(data) - 1)
        if kind == "flip":
            data[at] ^= args[2]
        else:
            del data[at:]
        path.write_bytes(bytes(data))
    elif kind == "delete":
        (folder / args[0]).unlink()
    elif kind == "folder":
        (folder / args[0]).unlink()
        (folder / args[0]).mkdir()
    elif kind == "field":
        manifest = json.loads((folder / "manifest.json").read_text())
        if not isinstance(manifest, dict):
            return
        manifest.pop("manifest_sha256", None)  # as an older scslab wrote it: only the field's checks catch it
        manifest[args[0]] = args[1]
        (folder / "manifest.json").write_text(json.dumps(manifest))
    else:
        (folder / "manifest.json").write_text(json.dumps(args[0]))


@settings(max_examples=60, **SETTINGS)
@given(damage=st.lists(DAMAGE, min_size=1, max_size=3))
def test_damaged_run_directories(tmp_path, finished, damage):
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(finished, folder)
    for how in damage:
        try:
            _damage(folder, how)
        except (OSError, ValueError):
            pass  # an earlier damage took the file away: the folder is damaged all the same
    for command in (["verify", str(folder)], ["story", str(folder)],
                    ["compare", str(finished), str(folder), "-o", str(tmp_path / "cmp")]):
        _clean(runner.invoke(app, command, catch_exceptions=True))


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """An incomplete run with checkpoints, to resume after damaging them."""
    out = tmp_path_factory.mktemp("fuzz") / "stopped"

    def stop(day):
        if day == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run("jinan-dog-points", out, population=800, days=8, seed=3, checkpoint_every=2, progress=stop)
    return out


@settings(max_examples=12, **SETTINGS)
@given(column=st.sampled_from(["col_score", "col_traits", "col_state", "col_listed", "col_last_off", "story_ids",
                               "stories", "redress", "lazy_ring", "counts", "level0", "col_acct", "col_strikes"]),
       value=st.sampled_from([-(2**31), -32768, -1, 255, 32767, 2**40]), where=st.floats(0, 1),
       reshape=st.booleans())
def test_resume_from_checkpoints_with_values_out_of_range(tmp_path, stopped, column, value, where, reshape):
    folder = tmp_path / "run"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(stopped, folder)
    for path in sorted((folder / "checkpoints").glob("pass-*.npz")):
        with np.load(path) as z:
            arrays = dict(z)
        if column in arrays:
            a = arrays[column]
            if reshape or a.size == 0:
                a = np.zeros(a.size + 3, a.dtype)
            else:
                flat = a.reshape(-1)
                flat[min(int(where * flat.size), flat.size - 1)] = np.array(value).astype(a.dtype)
            arrays[column] = a
        with open(path, "wb") as fh:  # whole and with valid zip checksums
            np.savez(fh, **arrays)
    done = subprocess.run([sys.executable, "-m", "scslab", "resume", str(folder), "-q"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode in (0, 1, 2, 3), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
