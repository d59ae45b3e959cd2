"""Memory estimate against reality: ``estimate_bytes`` next to the measured peak RSS of whole runs.

    python -m benchmarks.memory                  # the default grid of presets and sizes
    python -m benchmarks.memory --configs bench-v1:10000000 press-2018:3000000 --days 365

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
           "jinan-dog-points:1000000", "rongcheng-2018:740000", "xiamen-fuzhou-2018:2000000")

CHILD = r"""
import json, resource, sys, tempfile
import scslab
from scslab.compile import compile_plan
from scslab.engine.state import estimate_bytes
preset, n, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with tempfile.TemporaryDirectory() as tmp:
    scslab.run(preset, tmp + "/warm", population=1000, days=2, interruptible=False)
    r = scslab.run(preset, tmp + "/run", population=n, days=days, interruptible=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"preset": preset, "agents": n, "days": days, "peak_rss_bytes": peak,
                  "estimate_bytes": r.manifest["memory_estimate_bytes"]}))
"""


def measure(preset: str, n: int, days: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, preset, str(n), str(days)], capture_output=True, text=True,
                         check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["ratio"] = row["estimate_bytes"] / row["peak_rss_bytes"]
    return row


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=list(DEFAULT), help="PRESET:AGENTS pairs")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--json", help="also write the measurements here")
    args = ap.parse_args(argv)
    rows = []
    print(f"{'preset':<27} {'agents':>12} {'days':>5} {'estimate MiB':>12} {'peak RSS MiB':>12} {'ratio':>6}")
    for config in args.configs:
        preset, _, n = config.partition(":")
        row = measure(preset, int(float(n)), args.days)
        rows.append(row)
        print(f"{preset:<27} {row['agents']:>12,} {args.days:>5} {row['estimate_bytes'] / 2**20:>12.0f} "
              f"{row['peak_rss_bytes'] / 2**20:>12.0f} {row['ratio']:>6.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return rows


if __name__ == "__main__":
    main()
