"""``python -m scslab`` and the ``scslab`` command.

The command line is imported and built inside :func:`main`, so a Ctrl-C while it loads ends quietly (exit 130)
instead of with a traceback.
"""

import gc
import os
import sys


# what the command asks of the libraries it loads, unless the user has set it: read once, when each library
# loads, so set before NumPy is imported; the command's child processes inherit them
PROCESS_DEFAULTS = {
    # A run calls no BLAS routine that needs more than one thread, but NumPy's and SciPy's OpenBLAS each start
    # a pool of threads whose idle spinning takes the cores the engine's threads run on: bench-v1 at 21.7 M
    # spent 6 % more CPU with them.
    "OPENBLAS_NUM_THREADS": "1",
    # NumPy asks Linux for huge pages (2 MiB) for its large arrays. The engine reads its columns in order, and
    # gained nothing measurable from them, but a virtual machine that hands freed memory back to its host
    # makes each huge page's first use slow: here 4.4 ms per MiB against 0.37 ms with small pages, and the
    # whole press-2018 run at 21.7 M took 0.80 times as long, at 649 MiB instead of 849 MiB at its peak
    # (docs/performance.md).
    "NUMPY_MADVISE_HUGEPAGE": "0",
}


# Python's collector of reference cycles, as the command tunes it. Loading NumPy, numba, PyArrow and pydantic
# leaves some 160,000 long-lived objects for it to track, and with Python's thresholds (700, 10, 10) each full
# collection walks them all: a press-2018 run spent 0.22 s in 540 collections, and 0.07 s more in the one at
# exit, on its one Python thread, whatever its size (0.03 s in 30 collections with these); the run makes
# little cyclic garbage (docs/performance.md).
GC_THRESHOLDS = (10_000, 50, 100)


def process_defaults() -> None:
    """Set each of :data:`PROCESS_DEFAULTS` that the environment does not set already."""
    for name, value in PROCESS_DEFAULTS.items():
        os.environ.setdefault(name, value)


def _stopped_while_starting() -> None:
    sys.stderr.write("stopped: interrupted while starting; nothing was done\n")
    sys.exit(130)


def main() -> None:
    process_defaults()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        from .cli import app
    except KeyboardInterrupt:
        _stopped_while_starting()
    try:
        app(prog_name="scslab")
    except KeyboardInterrupt:
        # click turns a Ctrl-C inside a command into its own exit, so one that reaches here came while typer
        # was still building the command line from the functions' signatures: before any command ran
        _stopped_while_starting()
    finally:
        # the command's files are written and closed: the collection at exit would only walk every object
        # the process made, to free memory the process is about to give back
        gc.freeze()


if __name__ == "__main__":
    main()
