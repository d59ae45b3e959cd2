"""``python -m scslab`` and the ``scslab`` command.

The command line is imported inside :func:`main`, so a Ctrl-C while it loads ends quietly (exit 130) instead
of with a traceback.
"""

import sys


def main() -> None:
    try:
        from .cli import app
    except KeyboardInterrupt:
        sys.stderr.write("stopped: interrupted while starting; nothing was done\n")
        sys.exit(130)
    app(prog_name="scslab")


if __name__ == "__main__":
    main()
