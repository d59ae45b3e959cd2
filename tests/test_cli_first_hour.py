"""A newcomer's first hour: what the command line says before, during and instead of a run.

The compile notice, --version and `presets show`, preset names as outputs spell them, missing extras,
every problem of a scenario file in one pass, --set naming nothing, options checked (and named) before
anything is drawn, a busy port, and the calibration's estimate.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import textwrap
import warnings

import numba
import pytest
from typer.testing import CliRunner

from scslab.cli import app
from scslab.errors import BackendError, OptionError, ScenarioError
from scslab.scenarios.load import load_scenario, preset_path

runner = CliRunner()


def _bar_drawn(output: str) -> bool:
    return " agents" in output and "days" in output and "/" in output


# ------------------------------------------------------------------------------------ 1. compiling, said
def test_a_cached_dispatcher_is_ready_only_once_compiled_and_then_from_disk(tmp_path, monkeypatch):
    """`ready` reads numba's own cache index: no entry before the first call, compiled in process after it,
    and a fresh process finds the machine code on disk."""
    from scslab.engine.jitstatus import ready

    (tmp_path / "probe_jit.py").write_text(textwrap.dedent("""
        from numba import njit

        @njit(cache=True)
        def plus_one(x):
            return x + 1
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import probe_jit

    assert ready(probe_jit.plus_one) is False
    assert probe_jit.plus_one(1) == 2
    assert ready(probe_jit.plus_one) is True
    code = ("import probe_jit; from scslab.engine.jitstatus import ready; "
            "print(ready(probe_jit.plus_one), probe_jit.plus_one.stats.cache_hits)")
    fresh = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.split() == ["True", "Counter()"]  # ready before the call, from the index on disk


def test_a_route_run_in_this_process_does_not_compile_again():
    import scslab
    from scslab.compile import compile_plan
    from scslab.engine.jitstatus import ROUTE_DRIVERS, will_compile
    from scslab.engine.routes import choose_route

    s = load_scenario("jinan-dog-points", {"run.days": 3, "population.size": 500})
    route = choose_route(compile_plan(s))
    assert route in ROUTE_DRIVERS
    scslab.simulate(s)
    assert will_compile(route) is False
    assert will_compile("no-such-route") is None


@pytest.mark.parametrize("compiling", [True, False])
def test_the_progress_display_says_compiling_only_when_it_compiles(monkeypatch, compiling):
    import scslab.engine.jitstatus as jitstatus
    from rich.console import Console
    from rich.progress import Progress, TextColumn

    from scslab.cli import _Started

    monkeypatch.setattr(jitstatus, "will_compile", lambda route: compiling)
    bar = Progress(TextColumn("{task.fields[rate]}"), console=Console(file=io.StringIO()))
    started = _Started(bar, "bench_v1 x 1,000 agents", 30, 1000)
    started.start(None, "windowed")
    try:
        note = bar.tasks[0].fields["rate"]
    finally:
        started.stop()
    if compiling:
        assert re.fullmatch(r"compiling the engine \(first run only, about (half a minute|\d+(\.5)? minutes?)\)\.\.\.", note), note
    else:
        assert note == "starting..."


def test_compile_note_rounds_the_measured_seconds():
    from scslab.engine.jitstatus import COMPILE_SECONDS, compile_note

    assert COMPILE_SECONDS["windowed"] == 25 and "about half a minute)..." in compile_note("windowed")
    assert "about half a minute)..." in compile_note("dense")  # 35 s, to the nearest half minute
    assert "about 1 minute)..." in compile_note("lazy")  # 55 s
    COMPILE_SECONDS["quick"] = 10  # at least half a minute is said
    try:
        assert "about half a minute)..." in compile_note("quick")
    finally:
        del COMPILE_SECONDS["quick"]
    COMPILE_SECONDS["slow"] = 110
    try:
        assert "about 2 minutes)..." in compile_note("slow")
    finally:
        del COMPILE_SECONDS["slow"]
    assert compile_note("no-such-route") == compile_note("lazy")  # the slowest


# ---------------------------------------------------------------------------- 2. --version, presets show
def test_version():
    import scslab

    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"scslab {scslab.__version__}"


def test_presets_show_prints_the_file_which_validates_as_it_is(tmp_path):
    res = runner.invoke(app, ["presets", "show", "press-2018"])
    assert res.exit_code == 0
    assert res.output == preset_path("press-2018").read_text(encoding="utf-8")
    mine = tmp_path / "my-scheme.toml"
    mine.write_text(res.output, encoding="utf-8")
    checked = runner.invoke(app, ["validate", str(mine)])
    assert checked.exit_code == 0 and checked.output.startswith(f"ok {mine}: press_2018")
    assert load_scenario(mine) == load_scenario("press-2018")
    written = runner.invoke(app, ["presets", "show", "jinan_dog_points", "-o", str(tmp_path / "dog.toml")])
    assert written.exit_code == 0 and (tmp_path / "dog.toml").read_text() == \
        preset_path("jinan-dog-points").read_text()


def test_presets_alone_still_lists_every_preset():
    from scslab import preset_names

    res = runner.invoke(app, ["presets"])
    assert res.exit_code == 0 and all(name in res.output for name in preset_names())


# ------------------------------------------------------------------- 3. press_2018, and "did you mean"
def test_the_name_outputs_use_runs_the_preset(tmp_path):
    assert load_scenario("press_2018") == load_scenario("press-2018")
    res = runner.invoke(app, ["run", "press_2018", "-n", "2000", "-d", "3", "-q", "-o", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r" / "manifest.json").read_text())["name"] == "press_2018"


def test_a_sweep_base_may_use_the_run_name_too():
    from scslab.sweep.spec import load_sweep

    spec = {"sweep": {"name": "s", "base": "jinan_dog_points", "population": 1000, "days": 10},
            "design": {"kind": "grid"}, "params": {"d": {"path": "channels.inspections.detect", "values": [0.3]}}}
    _, base = load_sweep(spec)
    assert base["meta"]["name"] == "jinan_dog_points"
    with pytest.raises(ScenarioError, match="did you mean 'jinan-dog-points'"):
        load_sweep({**spec, "sweep": {**spec["sweep"], "base": "jinan-dog-point"}})


@pytest.mark.parametrize("command", [["run", "pres-2018", "-q"], ["validate", "pres-2018"],
                                     ["presets", "show", "press2018"], ["odd", "Press_2018x"]])
def test_a_misspelt_preset_gets_the_nearest_name(command):
    res = runner.invoke(app, command)
    assert res.exit_code == 2 and "did you mean 'press-2018'?" in res.output and "bench-v1" in res.output


# ------------------------------------------------------------------------------ 5. extras not installed
def _blocked(monkeypatch, *names):
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("command, blocked, extra", [
    (["sweep", "sweep.toml", "--out", "s1"], ("SALib",), "sweep"),
    (["sweep", "sweep.toml", "--out", "s1"], ("distributed",), "sweep"),
    (["sensitivity", "s1", "-y", "network_penalties"], ("SALib",), "sweep"),
    (["calibrate", "court-defaulters-national"], ("optuna",), "sweep"),
    (["report", "runs/x"], ("matplotlib",), "report"),
    (["compare", "runs/a", "runs/b"], ("matplotlib",), "report"),
    (["serve", "--port", "8766"], ("solara",), "app"),
])
def test_a_missing_extra_is_named_with_its_install_line(monkeypatch, tmp_path, command, blocked, extra):
    monkeypatch.chdir(tmp_path)
    _blocked(monkeypatch, *blocked)
    res = runner.invoke(app, command)
    assert res.exit_code == 2, res.output
    assert f"pip install 'scslab[{extra}]'" in res.output and blocked[0] in res.output
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
    assert not any(tmp_path.iterdir())  # nothing started


def test_a_sweep_design_without_salib_says_what_to_install(monkeypatch):
    from scslab.sweep.spec import SweepFile, design_points

    spec = SweepFile.model_validate({"sweep": {"name": "s", "base": "bench-v1", "population": 1000, "days": 10},
                                     "design": {"kind": "lhs", "samples": 4},
                                     "params": {"d": {"path": "channels.cameras.detect", "range": [0.5, 0.9]}}})
    _blocked(monkeypatch, "SALib", "SALib.sample")
    with pytest.raises(BackendError, match=r"needs SALib \(the sweep extra\): pip install 'scslab\[sweep\]'"):
        design_points(spec)


def test_the_bar_holds_in_a_fresh_process_without_the_extra(tmp_path):
    """A meta-path blocker, as an install without the extra behaves: the command line itself exits 2."""
    code = textwrap.dedent("""
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("SALib", "optuna", "dask", "distributed", "duckdb"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)

        sys.meta_path.insert(0, Block())
        from scslab.__main__ import main
        sys.argv = ["scslab", *sys.argv[1:]]
        main()
    """)
    for args in (["sweep", "x.toml", "--out", "s"], ["sensitivity", "s", "-y", "a"],
                 ["calibrate", "court-defaulters-national"]):
        res = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
        assert res.returncode == 2, (args, res.stderr)
        assert "pip install 'scslab[sweep]'" in res.stderr and "Traceback" not in res.stderr, res.stderr


# ---------------------------------------------------------------------- 6. every problem, once, at once
def _jinan(tmp_path, name: str, *changes: tuple[str, str]):
    text = preset_path("jinan-dog-points").read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_lists_schema_reference_timeline_and_provenance_problems_in_one_pass(tmp_path):
    path = _jinan(tmp_path, "three.toml",
                  ("detect = 0.135172", "detect = 1.4"),  # schema: out of range
                  ('deterrence = { surveillance = 0.6 }\n\n[behaviours.dog_fouling]',
                   'deterrence = { surveillance = 0.6 }\ncolour = "red"\n\n[behaviours.dog_fouling]'),  # unknown key
                  ('channels = ["inspections"]\npoints = -12', 'channels = ["inspection"]\npoints = -12'),  # ref
                  ('points = 3               # assumed: restoring points through good deeds is reported, no amount\n'
                   'account = "dog"', 'points = 3\naccount = "dogs"'),  # reference
                  ("[provenance]", '[[timeline]]\nday = 10\nset = { "behaviours.dog_fouling.points" = "x" }\n\n'
                                   '[provenance]\n"behaviours.nothing" = "assumed"'))  # timeline, provenance
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    lines = [line.strip() for line in res.output.splitlines() if line.strip().startswith("- ")]
    expected = ["channels.inspections.detect: Input should be less than or equal to 1",
                "behaviours.dog_off_leash.colour: unknown key",
                "behaviours.missed_renewal.channels.0: unknown channel; allowed: inspections",
                "behaviours.shelter_volunteering.account: unknown account",
                "timeline.0.set.behaviours.dog_fouling.points: Input should be a valid integer",
                "provenance.behaviours.nothing: names no value in this scenario"]
    assert len(lines) == len(expected), res.output
    for want in expected:
        assert sum(line.startswith(f"- {want}") for line in lines) == 1, (want, res.output)
    assert "6 problems" in res.output


def test_a_timeline_change_does_not_repeat_the_scenarios_own_problems(tmp_path):
    path = _jinan(tmp_path, "twice.toml",
                  ('channels = ["inspections"]\npoints = -12', 'channels = ["inspection"]\npoints = -12'),
                  ("[provenance]", '[[timeline]]\nday = 10\nset = { "behaviours.dog_fouling.points" = -4 }\n\n'
                                   "[provenance]"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems == [("behaviours.missed_renewal.channels.0", "inspection",
                                      "unknown channel; allowed: inspections")]


def test_items_taken_from_a_list_keep_the_files_numbering(tmp_path):
    path = _jinan(tmp_path, "list.toml", ('channels = ["inspections"]\npoints = 3',
                                          'channels = ["inspections", 7, "nope"]\npoints = 3'))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    paths = [p for p, _, _ in caught.value.problems]
    assert paths == ["behaviours.shelter_volunteering.channels.1", "behaviours.shelter_volunteering.channels.2"]
    assert caught.value.problems[1][1] == "nope"


# ----------------------------------------------------------------------- 7. --set naming nothing
def test_set_of_a_misspelt_behaviour_names_the_real_ones():
    res = runner.invoke(app, ["run", "bench-v1", "--set", "behaviours.criticise_government.points=-40", "-q"])
    assert res.exit_code == 2 and not _bar_drawn(res.output)
    assert "invalid option --set: no behaviour 'criticise_government'" in res.output
    assert "did you mean 'criticize_government'?" in res.output and "jaywalking" in res.output
    assert "required key" not in res.output
    with pytest.raises(OptionError, match="no list 'nope'"):
        load_scenario("bench-v1", {"lists.nope.max_days": 3})


def test_set_still_reaches_values_the_schema_defaults():
    s = load_scenario("jinan-dog-points", ["population.regions.all.share=1.0", "run.days=9"])  # no [regions]
    assert s.population.regions["all"].share == 1.0 and s.run.days == 9


# ---------------------------------------------------------------------- 8. options, before any drawing
@pytest.mark.parametrize("value", ["-5", "0", "1000000000000", "10^12", "1e6", "many"])
def test_population_out_of_range_has_one_wording_and_no_bar(value):
    res = runner.invoke(app, ["run", "press_2018", "-n", value, "-d", "-3"])
    assert res.exit_code == 2 and not _bar_drawn(res.output)
    got = value if value.lstrip("-").isdigit() else repr(value)  # a number as typed, text quoted
    assert res.output.strip() == (f"error: invalid option --population: must be an integer from 1 to "
                                  f"2,000,000,000 (got {got})")


def test_an_integer_option_takes_underscores():
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "1_000", "-d", "2", "-q", "-o", "/dev/null/x"])
    assert "invalid option --population" not in res.output and "invalid option --days" not in res.output


def test_days_threads_and_engine_are_named_as_options():
    cores = numba.config.NUMBA_NUM_THREADS
    for args, want in ((["-d", "0"], "invalid option --days: must be an integer from 1 to 30,000 (got 0)"),
                       (["-t", str(cores + 97)], f"invalid option --threads: must be an integer from 1 to {cores}"),
                       (["--engine", "fast"], "invalid option --engine: unknown engine; allowed: auto, windowed, lazy, dense"),
                       (["--checkpoint-every", "0"], "invalid option --checkpoint-every")):
        res = runner.invoke(app, ["run", "bench-v1", "-n", "1000", *args])
        assert res.exit_code == 2 and want in res.output and not _bar_drawn(res.output), res.output
        assert "invalid scenario" not in res.output


def test_the_manifest_records_the_threads_used():
    import scslab

    cores = numba.config.NUMBA_NUM_THREADS
    result = scslab.simulate("jinan-dog-points", population=500, days=2, threads=cores + 5)
    assert result.manifest["threads"] == cores


def test_out_on_a_file_or_a_kept_folder_never_suggests_force(tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("mine")
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", str(plain)])
    assert res.exit_code == 2 and "is a file, not a folder" in res.output and "pass --force" not in res.output
    held = tmp_path / "held"
    held.mkdir()
    (held / "thesis.tex").write_text("mine")
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", str(held)])
    assert res.exit_code == 2 and "already exists and is kept" in res.output and "pass --force" not in res.output
    forced = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", str(held), "--force"])
    assert forced.exit_code == 2 and (held / "thesis.tex").read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", str(empty)])
    assert res.exit_code == 2 and "pass --force to replace it" in res.output
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", str(empty), "--force"])
    assert res.exit_code == 0, res.output  # what was suggested works


def test_out_where_nothing_can_be_written_says_so(tmp_path):
    import shutil

    plain = tmp_path / "file"
    plain.write_text("x")
    res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", str(plain / "run")])
    assert res.exit_code == 2 and "is a file, not a folder" in res.output
    try:
        pseudo = shutil.disk_usage("/proc").total == 0
    except OSError:
        pseudo = False
    if pseudo:
        res = runner.invoke(app, ["run", "jinan-dog-points", "-n", "500", "-d", "2", "-q", "-o", "/proc/scslab-run"])
        assert res.exit_code == 2 and "stores no files" in res.output and "GiB" not in res.output


def test_serve_on_a_busy_port_says_so_before_printing_an_address():
    pytest.importorskip("uvicorn")
    pytest.importorskip("solara")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = runner.invoke(app, ["serve", "--port", str(port)])
    assert res.exit_code == 2 and f"port {port} on 127.0.0.1 is in use" in res.output
    assert "--port" in res.output and "scslab dashboard on" not in res.output


def test_serve_silences_solaras_cookie_warning(monkeypatch):
    pytest.importorskip("uvicorn")
    pytest.importorskip("solara")
    import scslab.app.server as server

    seen = []

    def fake_server(host, port, allowed):  # what Solara does on each page load over http
        warnings.warn("Cookies with samesite=none require https, but according to the asgi framework, the scheme "
                      "is 'http'", UserWarning)
        warnings.warn("something else", UserWarning)
        seen.append(port)

    monkeypatch.setattr(server, "serve", fake_server)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = runner.invoke(app, ["serve", "--port", str(port)])
    assert res.exit_code == 0 and seen == [port], res.output
    messages = [str(w.message) for w in caught]
    assert "something else" in messages and not any("samesite" in m for m in messages)


def test_validate_counts_in_words():
    res = runner.invoke(app, ["validate", "jinan-dog-points"])
    assert res.exit_code == 0
    assert "4 behaviours, 1 channel, 1 list, 1 consequence, 0 timeline changes;" in res.output
    s = load_scenario("press-2018")
    res = runner.invoke(app, ["validate", "press-2018"])
    n = len(s.timeline)
    assert f"{n} timeline change{'' if n == 1 else 's'};" in res.output


# ---------------------------------------------------------------------- 9. the calibration's estimate
def test_calibrate_says_how_long_before_it_starts(monkeypatch, tmp_path):
    pytest.importorskip("optuna")
    import scslab.calibrate as calibrate

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(calibrate, "calibrate", stop)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["calibrate", "court-defaulters-national"])
    assert res.exit_code == 130, res.output
    text = " ".join(res.output.split())
    assert "40 trials of 2 runs and 5 final runs" in text and "x 2,008 days" in text and "agent-days in all" in text
    assert "each of 1,000,000 agents" in text  # its targets count persons only: the trials run without firms
    assert re.search(r"about \d+ (min|h) with \d+ threads?", text) and "--trials N runs fewer" in text
    assert "nothing was written" in text and not any(tmp_path.iterdir())
    quick = runner.invoke(app, ["calibrate", "court_defaulters_national", "--trials", "2", "-t", "1"])
    text = " ".join(quick.output.split())
    assert quick.exit_code == 130 and "2 trials of 2 runs and 5 final runs" in text and "with 1 thread " in text
    bad = runner.invoke(app, ["calibrate", "court-defaulters-national", "-t", "0"])
    assert bad.exit_code == 2 and "invalid option --threads" in bad.output


def test_the_command_sets_its_library_defaults_unless_told(monkeypatch):
    """One OpenBLAS thread (idle threads would spin on the engine's cores) and no huge pages for NumPy's arrays
    (slow to fault in on virtual machines); a user's own setting is kept."""
    import os
    import subprocess
    import sys

    from scslab.__main__ import PROCESS_DEFAULTS, process_defaults

    assert PROCESS_DEFAULTS == {"OPENBLAS_NUM_THREADS": "1", "NUMPY_MADVISE_HUGEPAGE": "0"}
    for name in PROCESS_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    process_defaults()
    assert {name: os.environ[name] for name in PROCESS_DEFAULTS} == PROCESS_DEFAULTS
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")
    process_defaults()
    assert (os.environ["OPENBLAS_NUM_THREADS"], os.environ["NUMPY_MADVISE_HUGEPAGE"]) == ("4", "1")
    # the command itself sets them, before it loads anything that loads NumPy
    code = ("import os, sys; sys.argv = ['scslab', '--version']; from scslab.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), os.environ.get('NUMPY_MADVISE_HUGEPAGE'), "
            "'numpy' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in PROCESS_DEFAULTS}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip().splitlines()[-1] == "1 0 False"


def test_the_command_collects_cycles_rarely_and_not_at_exit():
    """The command raises the collector's thresholds (a full collection walks every object the libraries
    made) and freezes what is left when it is done, so the collection at exit has nothing to walk; a real
    command, run as users run it, collects garbage far fewer times than with Python's thresholds."""
    import subprocess
    import sys

    from scslab.__main__ import GC_THRESHOLDS

    count = ("import gc, sys, atexit\n"
             "runs = []\n"
             "gc.callbacks.append(lambda phase, info: phase == 'start' and runs.append(info['generation']))\n"
             "sys.argv = ['scslab', 'presets']\n"
             "from scslab.__main__ import main\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(gc.get_threshold(), gc.get_freeze_count() > 0, len(runs), runs.count(2))\n")
    out = subprocess.run([sys.executable, "-c", count], capture_output=True, text=True, check=True)
    threshold, frozen, runs, full = out.stdout.strip().splitlines()[-1].rsplit(" ", 3)
    assert threshold == str(GC_THRESHOLDS) and frozen == "True"
    default = subprocess.run([sys.executable, "-c", count.replace("main()", "gc.set_threshold(700, 10, 10); "
                              "main.__globals__['GC_THRESHOLDS'] = (700, 10, 10); main()")],
                             capture_output=True, text=True, check=True)
    runs_default = int(default.stdout.strip().splitlines()[-1].rsplit(" ", 3)[2])
    assert int(runs) * 5 < runs_default, (runs, runs_default)


@pytest.mark.parametrize("preset", ["press-2018", "beijing-2020"])
def test_a_run_does_not_load_pandas(tmp_path, preset):
    """The command builds, writes and summarises its tables without pandas (scslab.arrow): loading it cost a
    tenth of a second of every run. ``Result.metrics`` still gives pandas, for those who ask."""
    import subprocess
    import sys

    code = ("import sys\n"
            f"sys.argv = ['scslab', 'run', '{preset}', '-n', '3000', '-d', '40', '-o', r'{tmp_path / 'out'}', '-q']\n"
            "from scslab.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('pandas' in sys.modules, 'numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False True", out.stdout[-2000:]
    assert (tmp_path / "out" / "metrics.parquet").stat().st_size > 0
