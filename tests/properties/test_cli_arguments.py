"""Generated command lines: every outcome is a clean exit with a message, never a traceback.

Exit statuses: 0 done, 1 verification failed, 2 bad input (usage, scenario, run directory), 3 not enough
memory or disk. Runs are kept small (at most 1,000 agents and 30 days) so that a few hundred fit the default
test run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import scslab
from scslab.cli import app

runner = CliRunner()
_DIR = Path(tempfile.mkdtemp(prefix="scslab-cli-fuzz-"))
(_DIR / "bad.toml").write_bytes(b"[meta\nname = \xff")
(_DIR / "empty").mkdir()

NUMBERS = st.sampled_from(["0", "-1", "1", "7", "30", "1000", "1e3", "nan", "inf", "", "x", "99999999999999999999",
                           "2000000000", "0x10", "--"])
SMALL = st.sampled_from(["-1", "0", "1", "17", "1000", "x", "nan", "99999999999999999999"])
SETS = st.sampled_from(["behaviours.jaywalking.points=-5", "run.days=3", "population.size=-1", "a.b=c", "=",
                        "score.tiers.A=nan", "x", "behaviours.jaywalking.rate.risky=1e400", "run.seed=-1",
                        "population.regions.0.share=2", "channels.=1", "timeline.0.day=abc"])
TARGETS = st.sampled_from(["bench-v1", "press-2018", "jinan-dog-points", "nope", str(_DIR / "bad.toml"),
                           str(_DIR), str(_DIR / "missing.toml"), "", "../../etc/passwd", "\u00e9\u00e9"])
DIRS = st.one_of(st.sampled_from([str(_DIR / name) for name in ("done", "stopped", "empty", "bad.toml", ".")] + ["", "/"]),
                 st.integers(0, 10**9).map(lambda k: str(_DIR / f"new-{k}")))


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(["run", "validate", "presets", "resume", "verify", "nonsense", "--help"]))
    args = [command]
    if command == "run":
        args += [draw(TARGETS), "-n", draw(SMALL), "-d", draw(SMALL), "-q", "-o", draw(DIRS)]
        for _ in range(draw(st.integers(0, 4))):
            option = draw(st.sampled_from(["-s", "-t", "--set", "--checkpoint-every", "--force", "--bogus", "-n"]))
            args.append(option)
            if option in ("-s", "-t", "--checkpoint-every"):
                args.append(draw(NUMBERS))
            elif option == "-n":
                args.append(draw(SMALL))
            elif option == "--set":
                args.append(draw(SETS))
    elif command in ("validate",):
        args.append(draw(TARGETS))
    elif command in ("resume", "verify"):
        args.append(draw(DIRS))
        if draw(st.booleans()):
            args += ["-t", draw(NUMBERS)]
    return args


@pytest.fixture(scope="module", autouse=True)
def run_dirs():
    """A complete run ("done") and one stopped after a checkpoint ("stopped"), for verify and resume."""
    scslab.run("bench-v1", _DIR / "done", population=500, days=5, force=True)

    def stop(day):
        if day == 6:
            raise KeyboardInterrupt

    with contextlib.suppress(KeyboardInterrupt):
        # a maximum term no 9-day run reaches keeps bench-v1 on the day route, which writes checkpoints
        scslab.run("bench-v1", _DIR / "stopped", population=500, days=9, checkpoint_every=3, progress=stop,
                   force=True, overrides={"lists.blacklist.max_days": 3650})


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(command_lines())
def test_command_lines_exit_cleanly(args):
    cwd = os.getcwd()
    os.chdir(_DIR)
    try:
        res = runner.invoke(app, args, catch_exceptions=True)
    finally:
        os.chdir(cwd)
    assert res.exit_code in (0, 1, 2, 3), (args, res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), (args, repr(res.exception))
    assert "Traceback" not in res.output, (args, res.output)
    if res.exit_code != 0:
        assert res.output.strip(), f"{args} failed without a message"
