"""Kill a run with SIGKILL at random moments, resume it each time, and compare with an uninterrupted run.

    python -m benchmarks.crash                                   # press-2018, 10 M agents, 3 kills
    python -m benchmarks.crash --preset bench-v1 --agents 1000000 --kills 5 --every 10

Everything goes through the command line, as a user would: ``scslab run ... --checkpoint-every D``, then
``scslab resume RUN_DIR`` after each kill. The moments are drawn (from ``--seed``) as a fraction 0.1-0.45 of
the uninterrupted run's time after the session's manifest appears, so that each session gets past a
checkpoint or two before it dies. Reported: the moments, the day each session resumed from, the times, and
whether ``metrics.parquet`` and ``stories.parquet`` hash the same as the uninterrupted run's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scslab.output.checkpoint import latest_pass

OUTPUTS = ("metrics.parquet", "stories.parquet")


def _hashes(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in OUTPUTS}


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "scslab", *map(str, args)]


def kill_and_resume(preset: str, agents: int, days: int | None = None, every: int = 30, kills: int = 3,
                    seed: int = 10, work: Path | None = None, engine: str = "lazy") -> dict:
    """Run once whole and once killed ``kills`` times; return what happened and whether the bytes agree. The
    day route by default: it checkpoints every ``every`` days (the windowed route only between windows)."""
    work = Path(work or tempfile.mkdtemp(prefix="scslab-crash-"))
    args = [preset, "-n", agents, "-s", 1, "--checkpoint-every", every, "-q", "--engine", engine] + (
        ["-d", days] if days else [])
    whole = work / "whole"
    t0 = time.perf_counter()
    subprocess.run(_cli("run", *args, "-o", whole), check=True, capture_output=True)
    whole_s = time.perf_counter() - t0
    engine_s = json.loads((whole / "manifest.json").read_text())["elapsed_s"]
    rng = random.Random(seed)
    out = work / "killed"
    command = _cli("run", *args, "-o", out)
    sessions = []
    t_all = time.perf_counter()
    for _ in range(kills):
        start_pass = latest_pass(out)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while not (out / "manifest.json").exists():
            if proc.poll() is not None:
                raise RuntimeError(f"the run ended before it could be killed: {proc.stderr.read()!r}")
            time.sleep(0.01)
        moment = rng.uniform(0.1, 0.45) * engine_s
        time.sleep(moment)
        if proc.poll() is not None:
            raise RuntimeError("the run finished before the kill; use more agents or fewer kills")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        sessions.append({"resumed_from_pass": start_pass, "killed_after_s": round(moment, 2),
                         "checkpoint_at_kill": latest_pass(out)})
        command = _cli("resume", out, "-q")
    subprocess.run(command, check=True, capture_output=True)
    total_s = time.perf_counter() - t_all
    same = _hashes(out) == _hashes(whole)
    return {"preset": preset, "agents": agents, "checkpoint_every": every, "kills": sessions,
            "final_resumed_from_pass": sessions[-1]["checkpoint_at_kill"] if sessions else 0,
            "uninterrupted_wall_s": round(whole_s, 1), "uninterrupted_engine_s": engine_s,
            "killed_total_wall_s": round(total_s, 1), "identical": same,
            "metrics_sha256": _hashes(out)["metrics.parquet"]}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.crash", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="press-2018")
    ap.add_argument("--agents", type=lambda x: int(float(x)), default=10_000_000)
    ap.add_argument("--days", type=int)
    ap.add_argument("--every", type=int, default=30)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--seed", type=int, default=10)
    args = ap.parse_args(argv)
    report = kill_and_resume(args.preset, args.agents, args.days, args.every, args.kills, args.seed)
    print(json.dumps(report, indent=2))
    if not report["identical"]:
        raise SystemExit("the resumed run differs from the uninterrupted one")
    return report


if __name__ == "__main__":
    main()
