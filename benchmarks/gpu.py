"""The GPU backend on a GPU machine: the same results as the CPU, then timings (about ten minutes in all).

    python -m benchmarks gpu                        # identity on every preset, then the timings below
    python -m benchmarks gpu --identity-only        # only the identity check
    python -m benchmarks gpu --budget 300 --json out.json

1. **Identity.** Every preset at 20,000 people x 60 days on the CPU (dense scheduler) and on the GPU: the
   metrics and stories tables must be equal, value for value (the test suite checks this on numba's CUDA
   simulator; here numba's GPU compiler and the device are checked too).
2. **Timings.** bench-v1 and press-2018 over 365 days at 10 million people; 100 replicates of bench-v1 at
   1 million x 365 (``scslab.ensemble``: every day of all 100 in one launch). Each in its own process: a
   small run compiles the kernels first, then the timed run (the engine's time: the manifest's
   ``elapsed_s``, or the ensemble's). A run that would not fit in device memory is refused by the backend
   with its estimate, and reported as such. Last, each preset at 1.4 billion people if its 10-million run
   says that fits in what is left of ``--budget`` seconds (it scales with the people).

Needs ``pip install 'scslab[gpu]'`` and a CUDA GPU; prints each figure as it comes, and ``--json`` writes
them all.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

IDENTITY = r"""
import sys, warnings
warnings.simplefilter("ignore")
from scslab import simulate
from scslab.scenarios import preset_names
for preset in preset_names():
    cpu = simulate(preset, population=20000, days=60, engine="dense", seed=3)
    gpu = simulate(preset, population=20000, days=60, backend="gpu", seed=3)
    same = cpu.metrics_table.equals(gpu.metrics_table) and cpu.stories_table.equals(gpu.stories_table)
    print(preset, "same" if same else "DIFFERENT", gpu.manifest["device"], flush=True)
"""

TIMED = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import scslab
from scslab.errors import CapacityError
preset, n, days, replicates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
scslab.ensemble(preset, min(replicates, 2), population=20000, days=3, seed=1, backend="gpu")  # the kernels compiled
t = time.perf_counter()
try:
    if replicates == 1:
        r = scslab.simulate(preset, population=n, days=days, seed=1, backend="gpu")
        engine_s = r.manifest["elapsed_s"]
    else:
        r = scslab.ensemble(preset, replicates, population=n, days=days, seed=1, backend="gpu")[0]
        engine_s = r.manifest["ensemble"]["elapsed_s"]
except CapacityError as e:
    print(json.dumps({"refused": str(e)}))
    raise SystemExit(0)
print(json.dumps({"engine_s": engine_s, "wall_s": time.perf_counter() - t, "device": r.manifest["device"],
                  "device_bytes_each": r.manifest["device_memory_estimate_bytes"]}))
"""


def timed(preset: str, n: int, days: int, *, timeout: float, replicates: int = 1) -> dict:
    try:
        out = subprocess.run([sys.executable, "-c", TIMED, preset, str(n), str(days), str(replicates)],
                             capture_output=True,
                             text=True, timeout=max(timeout, 1))
    except subprocess.TimeoutExpired:
        return {"timed_out_after_s": round(timeout)}
    if out.returncode != 0:
        return {"failed": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks gpu", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=540, help="seconds for the whole script (default 540)")
    ap.add_argument("--identity-only", action="store_true")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    figures = {"identity": [], "timings": []}
    done = subprocess.run([sys.executable, "-c", IDENTITY], capture_output=True, text=True)
    for line in done.stdout.splitlines():
        preset, verdict, *device = line.split(" ", 2)
        figures["identity"].append({"preset": preset, "same": verdict == "same", "device": " ".join(device)})
        print(f"identity {preset:30s} {verdict}", flush=True)
    if done.returncode != 0:
        print(done.stderr[-3000:])
        raise SystemExit(1)
    if not args.identity_only:
        def left():
            return args.budget - (time.perf_counter() - t0)

        def record(what, preset, people, replicates=1, **kw):
            row = timed(preset, people, 365, replicates=replicates, **kw)
            figures["timings"].append({"preset": preset, "people": people, "days": 365, "replicates": replicates,
                                       **row})
            print(f"{preset} {what}:", row, flush=True)
            return row

        tens = {p: record("10 M x 365", p, 10_000_000, timeout=left() / 3) for p in ("bench-v1", "press-2018")}
        record("100 x 1 M x 365", "bench-v1", 1_000_000, replicates=100, timeout=max(left() / 3, 60))
        for preset, small in tens.items():  # the 1.4 billion runs last, when what is left allows
            if "engine_s" not in small:
                continue
            guess = small["engine_s"] * 140 + 60  # people x 140, and a compile
            if guess < left() * 0.9:
                record("1.4 billion x 365", preset, 1_400_000_000, timeout=left() - 10)
            else:
                row = {"skipped": f"10 M took {small['engine_s']:.1f} s: 1.4 billion would take about {guess:.0f} s, "
                                  f"more than the {left():.0f} s left"}
                figures["timings"].append({"preset": preset, "people": 1_400_000_000, "days": 365, **row})
                print(preset, "1.4 billion x 365:", row, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if not all(x["same"] for x in figures["identity"]):
        raise SystemExit("the GPU's results differ from the CPU's")


if __name__ == "__main__":
    main()
