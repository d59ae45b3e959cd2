"""Throughput and peak memory of scslab runs, each in a fresh process.

    python -m benchmarks throughput                    # bench-v1 at 1 M and 10 M agents x 365 days
    python -m benchmarks throughput --preset press-2018 --sizes 21700000 --days 365
    python -m benchmarks throughput --sizes 1000000 --threads 1,2 --repeats 3
    python -m benchmarks throughput --engines auto,lazy,dense --sizes 10000000

Each measurement runs in its own Python process: a tiny warm-up run loads the compiled engine from numba's
cache, then the timed run. Reported: wall time of the simulation (compilation excluded), agent-days per
second, and the process's peak resident memory (ru_maxrss). Medians with min-max over the repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import scslab
preset, n, days, threads, engine = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
threads = None if threads == "all" else int(threads)
scslab.simulate(preset, population=1000, days=2, seed=1, threads=threads, engine=engine)  # compiled engine
t = time.perf_counter()
r = scslab.simulate(preset, population=n, days=days, seed=1, threads=threads, engine=engine)
wall = time.perf_counter() - t
print(json.dumps({"engine_s": r.manifest["elapsed_s"], "wall_s": wall,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "memory_estimate_bytes": r.manifest["memory_estimate_bytes"]}))
"""


def measure(preset: str, n: int, days: int, threads: str, engine: str = "auto") -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, preset, str(n), str(days), threads, engine],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks throughput", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="bench-v1")
    ap.add_argument("--sizes", default="1000000,10000000", help="comma-separated agent counts")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--threads", default="all", help="comma-separated thread counts, or 'all'")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--engines", default="auto", help="comma-separated engines: auto, windowed, lazy, dense")
    ap.add_argument("--json", help="also write the raw measurements here")
    args = ap.parse_args(argv)
    sizes = [int(float(x)) for x in args.sizes.split(",")]
    rows = []
    print(f"{'preset':<12} {'engine':>6} {'agents':>13} {'days':>5} {'threads':>7} {'engine s':>16} "
          f"{'agent-days/s':>22} {'peak RSS GiB':>12}")
    for n in sizes:
        for threads, engine in [(t, e) for t in args.threads.split(",") for e in args.engines.split(",")]:
            runs = [measure(args.preset, n, args.days, threads, engine) for _ in range(args.repeats)]
            secs = [r["engine_s"] for r in runs]
            rates = [n * args.days / s for s in secs]
            rss = max(r["peak_rss_bytes"] for r in runs)
            med = statistics.median(secs)
            print(f"{args.preset:<12} {engine:>6} {n:>13,} {args.days:>5} {threads:>7} "
                  f"{med:>7.2f} ({min(secs):.2f}-{max(secs):.2f}) "
                  f"{n * args.days / med:>10.3g} ({min(rates):.2g}-{max(rates):.2g}) {rss / 2**30:>12.2f}")
            rows.append({"preset": args.preset, "engine": engine, "agents": n, "days": args.days,
                         "threads": threads, "runs": runs})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
