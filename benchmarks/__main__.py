"""``python -m benchmarks COMMAND``: the benchmark harness.

    run          scslab against its peers (Mesa, plain NumPy) on bench-v1, several sizes, ratios, plot
    throughput   scslab alone: agent-days/s and peak memory by preset, size and threads
    memory       the memory estimate against measured peak RSS
    crash        kill a run at random moments, resume it, compare the bytes
    agree        statistical agreement of a peer with scslab
    sweep        sweep scaling on a local Dask cluster against the same runs back to back
    against      the whole `scslab run` of this checkout against an older git revision's, alternating
    coldstart    the first run's compile on an empty cache (and against an older revision's)
    gpu          the GPU backend on a GPU machine: the CPU's results on every preset, then timings

``python -m benchmarks COMMAND --help`` explains each.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {"run": "benchmarks.compare", "throughput": "benchmarks.throughput", "memory": "benchmarks.memory",
            "crash": "benchmarks.crash", "agree": "benchmarks.peers.agree",
            "sweep": "benchmarks.sweep", "against": "benchmarks.against", "coldstart": "benchmarks.coldstart",
            "gpu": "benchmarks.gpu"}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        raise SystemExit(0 if not argv or argv[0] in ("-h", "--help") else
                         f"unknown command {argv[0]!r}; allowed: {', '.join(COMMANDS)}")
    importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
