"""``python -m scslab`` and the ``scslab`` command.

The command line is imported and built inside :func:`main`, so a Ctrl-C while it loads ends quietly (exit 130)
instead of with a traceback.
"""

import sys


def _stopped_while_starting() -> None:
    sys.stderr.write("stopped: interrupted while starting; nothing was done\n")
    sys.exit(130)


def main() -> None:
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
