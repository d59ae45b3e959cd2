"""A calibration trial of the court list with and without its firms and authorities, side by side.

    python -m benchmarks.calibrate_persons                       # 200,000 persons, 3 alternated rounds
    python -m benchmarks.calibrate_persons --population 1000000 --rounds 5

``scslab calibrate`` runs a trial's persons alone when every target counts persons
(``calibrate.fit.persons_only``): their figures are the same (``tests/test_calibrate.py``). This times one run
of the bundled court-list calibration's scenario over its whole window both ways, alternating them in one
process after a warm-up of each, and prints the seconds and the ratio (persons alone / with entities).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings


def main(argv: list[str] | None = None) -> None:
    from scslab import simulate
    from scslab.calibrate.fit import persons_only
    from scslab.calibrate.spec import bundled_targets, load_calibration, scenario_for

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=200_000, help="persons per run (default 200,000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternated rounds (default 3)")
    args = ap.parse_args(argv)

    spec, base = load_calibration(bundled_targets("court-defaulters-national"), "court-defaulters-national")
    both = scenario_for(spec, base, {name: p.start for name, p in spec.params.items() if p.start is not None})
    both["population"]["size"] = args.population
    alone = persons_only(spec, both)
    cases = {"with entities": both, "persons alone": alone}
    for scenario in cases.values():  # warm-up: loads (or compiles) the engine for each
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a short warm-up misses the timeline, and says so
            simulate({**scenario, "run": {**scenario["run"], "days": 30}}, seed=0)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for r in range(args.rounds):
        for name, scenario in cases.items():
            t0 = time.perf_counter()
            simulate(scenario, seed=r)
            times[name].append(time.perf_counter() - t0)
    for name, ts in times.items():
        print(f"{name:14s} median {statistics.median(ts):6.2f} s  ({', '.join(f'{t:.2f}' for t in ts)})")
    ratios = [a / b for a, b in zip(times["persons alone"], times["with entities"])]
    print(f"ratio (persons alone / with entities): median {statistics.median(ratios):.2f} "
          f"({min(ratios):.2f}-{max(ratios):.2f}); {args.population:,} persons x {spec.days:,} days")


if __name__ == "__main__":
    main()
