"""The first run's compile: CPU seconds of the README's main command and then a first press-2018 run, with an
empty numba cache, in a fresh copy of the sources.

    python -m benchmarks.coldstart                        # the sources of this checkout
    python -m benchmarks.coldstart --against REV --tries 2  # and those of git revision REV, alternating

Each try copies ``src/`` (or ``git archive REV src``) into a new temporary folder, without any cached machine
code, and runs ``scslab run bench-v1`` (1 M agents x 365 days) and then ``scslab run press-2018 -n 1000`` there,
each in a new process with ``NUMBA_CACHE_DIR`` pointing at a new empty folder. The CPU time is the children's
user plus system time (compiling uses one core, so on an idle machine the wall time is about the same).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (("bench-v1",), ("press-2018", "-n", "1000"))


def copy_sources(rev: str | None, into: Path) -> Path:
    """A fresh copy of the sources (this checkout's, or git revision ``rev``'s) under ``into``."""
    if rev is None:
        shutil.copytree(ROOT / "src", into / "src", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one_try(rev: str | None) -> list[float]:
    """CPU seconds of each command of :data:`COMMANDS` on an empty cache."""
    with tempfile.TemporaryDirectory(prefix="scslab-cold-") as tmp:
        tmp = Path(tmp)
        src = copy_sources(rev, tmp)
        env = {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(tmp / "numba")}
        out = []
        for args in COMMANDS:
            before = _cpu()
            subprocess.run([sys.executable, "-m", "scslab", "run", *args, "-o", str(tmp / "run"), "--force", "-q"],
                           cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL)
            out.append(_cpu() - before)
        return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default=None, help="a git revision to measure alternately with this checkout")
    ap.add_argument("--tries", type=int, default=1, help="tries of each (default 1)")
    a = ap.parse_args(argv)
    sides = [("this checkout", None)] + ([(a.against, a.against)] if a.against else [])
    totals: dict[str, list[float]] = {name: [] for name, _ in sides}
    for _ in range(a.tries):
        for name, rev in sides:
            secs = one_try(rev)
            totals[name].append(sum(secs))
            print(f"{name}: bench-v1 {secs[0]:.1f} s, then press-2018 -n 1000 {secs[1]:.1f} s, "
                  f"{sum(secs):.1f} s of CPU in all", flush=True)
    if a.against:
        mine, theirs = totals["this checkout"], totals[a.against]
        print(f"ratio (this checkout / {a.against}): {min(mine) / max(theirs):.2f}-{max(mine) / min(theirs):.2f}")


if __name__ == "__main__":
    main()
