"""The whole ``scslab run`` of this checkout against that of an older git revision, side by side.

    python -m benchmarks.against 6bf876d                              # press-2018 at 21.7 M, 5 pairs
    python -m benchmarks.against 6bf876d --preset bench-v1 --pairs 8
    python -m benchmarks.against 6bf876d --preset beijing-2020 --population 21700000

Both sides are fresh copies of ``src/`` (``git archive REV src`` for the revision), each with its own numba
cache, run as ``python -m scslab run PRESET -n POPULATION`` in new processes, as a user runs the command
(Python's bytecode cache on, whatever settings each side's command makes for itself). A run of 1,000 agents
and one of the full size first fill each side's cache (neither is counted); then the two alternate, pair by
pair (A B, B A, A B, ...), so that a drift of the machine falls on both. Printed: each side's wall time, CPU
time and peak memory (the process's maximum resident set) as median and range, and this checkout's wall and
CPU time over the revision's, pair by pair.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.coldstart import copy_sources


def one_run(src: Path, cache: Path, out: Path, preset: str, population: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak MiB) of one ``scslab run`` from the sources ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "scslab", "run", preset, "-n", str(population), "-o", str(out),
                             "--force", "-q"], cwd=src.parent, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # (reaped here, for this process's own resource use)
    if proc.returncode != 0:
        raise SystemExit(f"scslab run from {src} failed with exit code {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _span(xs: list[float], unit: str, digits: int = 2) -> str:
    unit = f" {unit}" if unit else ""
    return f"{statistics.median(xs):.{digits}f}{unit} ({min(xs):.{digits}f}-{max(xs):.{digits}f})"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev", help="the git revision to compare with (a commit, tag or branch)")
    ap.add_argument("--preset", default="press-2018", help="the scheme (default press-2018)")
    ap.add_argument("--population", type=int, default=21_700_000, help="agents (default 21,700,000)")
    ap.add_argument("--pairs", type=int, default=5, help="alternating pairs (default 5)")
    a = ap.parse_args(argv)
    if a.pairs < 1 or a.population < 1:
        raise SystemExit(f"--pairs and --population must be at least 1, not {a.pairs} and {a.population}")
    with tempfile.TemporaryDirectory(prefix="scslab-against-") as tmp:
        tmp = Path(tmp)
        sides = {}
        for name, rev in (("this checkout", None), (a.rev, a.rev)):
            home = tmp / ("this" if rev is None else "rev")
            home.mkdir()
            try:
                sides[name] = (copy_sources(rev, home), home / "numba", home / "run")
            except subprocess.CalledProcessError:
                raise SystemExit(f"cannot read the sources of git revision {rev!r} (git archive {rev} src)") from None
            one_run(*sides[name], a.preset, 1_000)  # fills the side's compiled cache, ...
            one_run(*sides[name], a.preset, a.population)  # ... with what a run of this size compiles
        got: dict[str, list[tuple[float, float, float]]] = {name: [] for name in sides}
        for k in range(a.pairs):
            for name in (list(sides) if k % 2 == 0 else list(sides)[::-1]):
                got[name].append(one_run(*sides[name], a.preset, a.population))
                print(f"pair {k + 1}, {name}: {got[name][-1][0]:.2f} s", flush=True)
    print(f"\nscslab run {a.preset} -n {a.population:,}, {a.pairs} alternating pairs")
    for name, runs in got.items():
        wall, cpu, peak = zip(*runs)
        print(f"{name:>14}: wall {_span(list(wall), 's')}, CPU {_span(list(cpu), 's')}, "
              f"peak {_span(list(peak), 'MiB', 0)}")
    mine, theirs = got["this checkout"], got[a.rev]
    ratios = [m[0] / t[0] for m, t in zip(mine, theirs)]
    cpu = [m[1] / t[1] for m, t in zip(mine, theirs)]
    print(f"this checkout / {a.rev}: wall {_span(ratios, '', 3)}, CPU {_span(cpu, '', 3)}")


if __name__ == "__main__":
    main()
