"""One process at a time per run directory: an advisory lock on the directory itself.

The lock is ``flock`` on an open handle of the folder, so it follows the folder through renames (a run is
built under a temporary name and renamed into place), leaves no file behind, and is released by the kernel
when the process ends, however it ends. A run, a resume, and a ``--force`` that would replace the folder all
take it; a second one is refused by name instead of writing over the first. Where ``fcntl`` does not exist
(Windows) there is no lock and runs must not share a directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import RunDirError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["RunLock"]


class RunLock:
    """An exclusive lock on the folder ``path``, taken at once or refused with a RunDirError.

    Use as a context manager, or call :meth:`release`. ``path`` may be renamed while the lock is held.
    """

    def __init__(self, path: str | Path, *, doing: str = "use it"):
        self.path = Path(path)
        self._fd: int | None = None
        if fcntl is None:  # pragma: no cover
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError as exc:
            raise RunDirError(f"cannot open run directory {str(self.path)!r}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunDirError(f"run directory {str(self.path)!r} is in use by another scslab process (a run or "
                              f"resume in progress); cannot {doing} until it ends") from None
        except OSError:  # a file system without locks: go on unlocked rather than refuse every run
            pass
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only handle releases the flock
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
