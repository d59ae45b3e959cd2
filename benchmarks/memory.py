"""Memory estimate against reality: ``estimate_bytes`` next to the measured peak RSS of whole runs.

    python -m benchmarks.memory                  # the default grid of presets and sizes
    python -m benchmarks.memory --configs bench-v1:10000000 press-2018:3000000 --days 365
    python -m benchmarks.memory --stress         # the inputs that scale memory besides agents (see STRESS)

Each configuration runs in a fresh process: a tiny warm-up run loads the compiled engine from numba's cache
(compiling takes far more memory than running), then ``scslab.run`` writes a run directory to a temporary
folder. Reported: the estimate, the peak resident set (ru_maxrss) and their ratio. The check
(``tests/test_memory.py``, marked slow) requires every ratio to lie within 0.8-1.2.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

DEFAULT = ("bench-v1:1000", "bench-v1:1000000", "bench-v1:10000000", "press-2018:1000", "press-2018:3000000",
           "press-2018:10000000", "court-defaulters-national:3000000", "beijing-2020:3000000",
           "jinan-dog-points:1000000", "rongcheng-2018:740000", "xiamen-fuzhou-2018:2000000", "sesame-credit-2018:1000000")

def _regions(k: int) -> dict:
    return {"population.regions": {f"r{i}": {"share": 1 / k} for i in range(k)}}


def _busy(factor: float, story_agents: int) -> dict:
    """press-2018's behaviours at ``factor`` times their rates (at most 1), with many story agents."""
    from scslab import load_scenario

    s = load_scenario("press-2018")
    out = {f"behaviours.{name}.rate": {c: min(1.0, r * factor) for c, r in b.rate.items()}
           for name, b in s.behaviours.items()}
    return {**out, "run.story_agents": story_agents}


# name -> (preset, agents, days, overrides, engine): the cells (regions x classes x groups) at the schema's
# bound of 1,024, where every day's tables are large; and story logs of 10,000 citizens of a busy scheme
STRESS = {
    "cells-1020-lazy": ("press-2018", 2_000, 30, lambda: _regions(170), "lazy"),
    "cells-1020-dense": ("press-2018", 2_000, 30, lambda: _regions(170), "dense"),
    "stories-busy": ("press-2018", 100_000, 60, lambda: _busy(300, 10_000), "lazy"),
    "stories-usual": ("press-2018", 100_000, 60, lambda: _busy(1, 10_000), "lazy"),
}

CHILD = r"""
import json, resource, sys, tempfile
import scslab
preset, n, days, overrides, engine = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4]),
                                      sys.argv[5])
with tempfile.TemporaryDirectory() as tmp:
    scslab.run(preset, tmp + "/warm", population=1000, days=2, interruptible=False, overrides=overrides,
               engine=engine)
    r = scslab.run(preset, tmp + "/run", population=n, days=days, interruptible=False, overrides=overrides,
                   engine=engine)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"preset": preset, "agents": n, "days": days, "peak_rss_bytes": peak,
                  "estimate_bytes": r.manifest["memory_estimate_bytes"]}))
"""


def measure(preset: str, n: int, days: int, overrides: dict | None = None, engine: str = "auto") -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, preset, str(n), str(days), json.dumps(overrides or {}),
                          engine], capture_output=True, text=True, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["ratio"] = row["estimate_bytes"] / row["peak_rss_bytes"]
    return row


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=list(DEFAULT), help="PRESET:AGENTS pairs")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--stress", action="store_true", help="measure the STRESS cases instead")
    ap.add_argument("--json", help="also write the measurements here")
    args = ap.parse_args(argv)
    rows = []
    print(f"{'case':<27} {'agents':>12} {'days':>5} {'estimate MiB':>12} {'peak RSS MiB':>12} {'ratio':>6}")
    cases = ({name: (p, n, d, make(), e) for name, (p, n, d, make, e) in STRESS.items()} if args.stress else
             {c: (c.partition(":")[0], int(float(c.partition(":")[2])), args.days, None, "auto") for c in args.configs})
    for name, (preset, n, days, overrides, engine) in cases.items():
        row = measure(preset, n, days, overrides, engine)
        rows.append({"case": name, **row})
        print(f"{name.partition(':')[0]:<27} {row['agents']:>12,} {days:>5} {row['estimate_bytes'] / 2**20:>12.0f} "
              f"{row['peak_rss_bytes'] / 2**20:>12.0f} {row['ratio']:>6.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
