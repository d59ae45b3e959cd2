"""Checkpoints and resume: a run stopped at any moment (crash, Ctrl-C, kill -9) finishes with the same bytes."""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scslab import RunDirError, RunInterrupted, resume, run
from scslab.output.checkpoint import latest_pass, list_checkpoints

pytestmark = pytest.mark.determinism

OUTPUTS = ("metrics.parquet", "stories.parquet")


def hashes(folder):
    return {name: hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest() for name in OUTPUTS}


def status(folder):
    return json.loads((Path(folder) / "manifest.json").read_text())["status"]


class Crash(Exception):
    pass


def crash_on(day):
    def progress(d):
        if d == day:
            raise Crash(day)
    return progress


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "run"
    run("press-2018", out, population=20_000, days=45, seed=11, engine="lazy")
    return hashes(out)


@pytest.mark.parametrize("crashes", [[9], [20], [8, 30, 44]])
def test_crash_and_resume_gives_the_same_bytes(tmp_path, uninterrupted, crashes):
    """Crash after one checkpoint, after some, and several times across resumed sessions."""
    out = tmp_path / "run"
    with pytest.raises(Crash):
        run("press-2018", out, population=20_000, days=45, seed=11, checkpoint_every=7, progress=crash_on(crashes[0]), engine="lazy")
    assert status(out) == "incomplete" and not (out / "metrics.parquet").exists()
    for day in crashes[1:]:
        with pytest.raises(Crash):
            resume(out, progress=crash_on(day))
        assert status(out) == "incomplete"
    result = resume(out, threads=1)
    assert status(out) == "complete" and hashes(out) == uninterrupted
    assert not (out / "checkpoints").exists()
    assert len(result.manifest["sessions"]) == len(crashes) + 1


def test_resume_without_any_checkpoint_starts_again(tmp_path, uninterrupted):
    out = tmp_path / "run"
    with pytest.raises(Crash):
        run("press-2018", out, population=20_000, days=45, seed=11, checkpoint_every=7, progress=crash_on(9), engine="lazy")
    for path in list_checkpoints(out):
        path.unlink()  # as after a kill -9 before the first checkpoint
    resume(out)
    assert hashes(out) == uninterrupted


def test_stop_request_writes_a_checkpoint_and_says_how_to_resume(tmp_path, uninterrupted, monkeypatch):
    import scslab.runs as runs

    out = tmp_path / "run"

    class Flag:
        requested = False

    def progress(d):
        if d == 17:
            Flag.requested = True  # what the SIGINT handler does

    from contextlib import contextmanager

    @contextmanager
    def fake(enabled):
        yield Flag

    monkeypatch.setattr(runs, "_stop_on_signal", fake)
    with pytest.raises(RunInterrupted) as info:
        run("press-2018", out, population=20_000, days=45, seed=11, progress=progress, engine="lazy")
    assert info.value.days_done == 17 and f"scslab resume {out}" in str(info.value)
    assert [p.name for p in list_checkpoints(out)] == ["pass-000018.npz"]
    monkeypatch.undo()
    resume(out)
    assert hashes(out) == uninterrupted


def _ctrl_c_on(day):
    def progress(d):
        if d == day:
            os.kill(os.getpid(), signal.SIGINT)
    return progress


def test_ctrl_c_after_the_last_stopping_point_finishes_the_run_and_says_so(tmp_path, monkeypatch):
    """A Ctrl-C in a windowed run's last window (no window end is left to stop at), or while a day-by-day run
    writes its files, is not lost and does not lose the run: it finishes, its files are complete and the
    result says the stop came late. Before it, in the first window, the run stops at the window end."""
    import scslab.api

    kw = dict(population=3_000, days=500, seed=3)
    late = run("bench-v1", tmp_path / "late", progress=_ctrl_c_on(450), **kw)
    assert late.manifest["route"] == "windowed" and late.stopped_late and status(tmp_path / "late") == "complete"
    with pytest.raises(RunInterrupted) as info:
        run("bench-v1", tmp_path / "early", progress=_ctrl_c_on(100), **kw)
    assert info.value.days_done == 364 and [p.name for p in list_checkpoints(tmp_path / "early")] == [
        "pass-000365.npz"]
    assert hashes(resume(tmp_path / "early").path) == hashes(tmp_path / "late")

    real = scslab.api.make_result

    def ctrl_c_while_writing(*args):
        os.kill(os.getpid(), signal.SIGINT)
        return real(*args)

    monkeypatch.setattr(scslab.api, "make_result", ctrl_c_while_writing)
    days = run("press-2018", tmp_path / "days", population=2_000, days=20, seed=3, engine="lazy")
    assert days.stopped_late and status(tmp_path / "days") == "complete"


def test_unreadable_newest_checkpoint_falls_back_to_the_one_before(tmp_path, uninterrupted):
    out = tmp_path / "run"
    with pytest.raises(Crash):
        run("press-2018", out, population=20_000, days=45, seed=11, checkpoint_every=5, progress=crash_on(33), engine="lazy")
    older, newest = list_checkpoints(out)
    assert (older.name, newest.name) == ("pass-000025.npz", "pass-000030.npz")
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # flip one byte inside an array: the zip CRC catches it
    newest.write_bytes(bytes(data))
    (out / "checkpoints" / ".pass-000035.npz.tmp-deadbeef").write_bytes(b"half a file")
    with pytest.warns(RuntimeWarning, match="skipping unreadable checkpoint"):
        resume(out)
    assert hashes(out) == uninterrupted


# bench-v1 as the day routes run it: a maximum term no 20-day run reaches takes it off the windowed route
# (engine/windowed), which writes checkpoints only at its window ends
DAY_ROUTE = {"lists.blacklist.max_days": 3650}


def test_resume_refuses_what_it_cannot_resume(tmp_path):
    done = tmp_path / "done"
    run("bench-v1", done, population=2_000, days=5)
    with pytest.raises(RunDirError, match="already complete"):
        resume(done)
    with pytest.raises(RunDirError, match="not a run directory"):
        resume(tmp_path)
    out = tmp_path / "changed"
    with pytest.raises(Crash):
        run("bench-v1", out, population=2_000, days=20, checkpoint_every=4, progress=crash_on(10),
            overrides=DAY_ROUTE)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["scenario"]["run"]["seed"] = 99  # a manifest that contradicts itself
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunDirError, match="contradicts itself"):
        resume(out)
    manifest["seed"] = 99  # a different run than the checkpoint was written for
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunDirError, match="another scenario or engine version"):
        resume(out)


def test_no_directory_is_left_when_a_run_fails_before_its_first_checkpoint(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(Crash):
        run("bench-v1", out, population=2_000, days=20, progress=crash_on(2))
    assert not out.exists()


def test_disk_space_is_checked_before_anything_is_written(tmp_path, monkeypatch):
    import shutil

    from scslab import CapacityError

    class Usage:
        total, used, free = 10**9, 10**9 - 10**5, 10**5

    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage)
    with pytest.raises(CapacityError, match="of disk"):
        run("bench-v1", tmp_path / "run", population=1_000_000, days=30, checkpoint_every=5, overrides=DAY_ROUTE)
    assert not (tmp_path / "run").exists()


def cli(*args):
    return [sys.executable, "-m", "scslab", *map(str, args)]


def wait_for(predicate, proc, limit=300.0):
    t0 = time.monotonic()
    while not predicate():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else proc.returncode
        assert time.monotonic() - t0 < limit, "timed out"
        time.sleep(0.01)


RUN = ("press-2018", "-n", 400_000, "-d", 150, "-s", 5, "--checkpoint-every", 3, "-q", "--engine", "lazy")  # day by day


@pytest.fixture(scope="module")
def cli_uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "whole"
    subprocess.run(cli("run", *RUN, "-o", out), check=True, capture_output=True, timeout=600)
    return hashes(out)


def test_sigkill_at_random_moments_then_resume(tmp_path, cli_uninterrupted):
    """kill -9 three times (the run, then two resumed sessions) at random moments; the end is identical.

    The first kill lands anywhere from start-up to the first passes; the others a random number of
    checkpoints into a resumed session, plus a random delay (often in the middle of writing one)."""
    rng = random.Random(2026)
    out = tmp_path / "killed"
    command = cli("run", *RUN, "-o", out)
    for attempt in range(3):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: (out / "manifest.json").exists(), proc)
        target = latest_pass(out) + 3 * rng.randrange(0, 10) if attempt else 0
        wait_for(lambda: latest_pass(out) >= target, proc)
        time.sleep(rng.uniform(0.0, 0.5 if attempt == 0 else 0.05))
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert status(out) == "incomplete"
        command = cli("resume", out, "-q")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert hashes(out) == cli_uninterrupted


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_writes_a_checkpoint_and_exits_cleanly(tmp_path, cli_uninterrupted, signum):
    """Ctrl-C, and SIGTERM (what batch schedulers send before they kill a job), stop at the end of the day."""
    out = tmp_path / "stopped"
    proc = subprocess.Popen(cli("run", *RUN, "-o", out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: latest_pass(out) >= 3, proc)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    assert "interrupted after" in stderr and f"scslab resume {out}" in stderr
    days_done = int(stderr.split("interrupted after")[1].split()[0])
    assert status(out) == "incomplete" and latest_pass(out) == days_done + 1
    done = subprocess.run(cli("resume", out, "-q"), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert hashes(out) == cli_uninterrupted


@pytest.mark.slow
def test_press_2018_10m_killed_three_times(tmp_path):
    """The issue's bar: 10 M agents, SIGKILL at three random moments, resumed each time, same hashes."""
    from benchmarks.crash import kill_and_resume

    report = kill_and_resume("press-2018", 10_000_000, every=30, kills=3, seed=10, work=tmp_path)
    assert report["identical"], report
    assert report["final_resumed_from_pass"] > 0  # the last session really resumed from a checkpoint
