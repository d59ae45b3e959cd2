"""``python -m scslab`` and the ``scslab`` command.

The command line is imported and built inside :func:`main`, so a Ctrl-C while it loads ends quietly (exit 130)
instead of with a traceback.
"""

import os
import sys


def one_blas_thread() -> None:
    """Ask OpenBLAS for one thread, unless the user has said otherwise. A run calls no BLAS routine that
    needs more, but NumPy's and SciPy's OpenBLAS each start a pool of threads whose idle spinning takes the
    cores the engine's threads run on: bench-v1 at 21.7 M spent 6 % more CPU with them. Set before NumPy is
    imported (OpenBLAS reads it when it loads); the command's child processes inherit it."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _stopped_while_starting() -> None:
    sys.stderr.write("stopped: interrupted while starting; nothing was done\n")
    sys.exit(130)


def main() -> None:
    one_blas_thread()
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


if __name__ == "__main__":
    main()
