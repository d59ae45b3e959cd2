"""Run directories: written under a temporary name and renamed when complete, never overwritten silently.

Layout::

    RUN_DIR/
      manifest.json     scenario (resolved), seed, size, days, engine, versions, times, status, checksums
      metrics.parquet   day, metric, group, value
      stories.parquet   day, agent, event, behaviour, channel, points, score_after, reason
      checkpoints/      only while a run is incomplete (see ``checkpoint.py``)
      report.html, figures/   written later by ``scslab report``

A run directory is never ambiguous: ``manifest.json`` is always present and written by rename, and its
``status`` is ``"complete"`` (outputs present, checksums recorded) or ``"incomplete"`` (resume it). The
outputs of a run written in place are renamed into the directory before the manifest says complete.

Nothing else is ever deleted: ``force`` replaces a folder only when it is provably a scslab run directory (a
valid manifest, its checksums matching, nothing in it that scslab did not write) or empty, and never while
another process holds it (``lock.py``).
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RunDirError
from .lock import RunLock
from .manifest import FILES, read_manifest, seal, write_manifest

__all__ = ["write_run", "read_run", "sha256", "check_target", "open_run", "complete_run", "verify_run",
           "read_manifest", "write_manifest", "check_disk", "foreign_entries", "writing", "default_name"]

CHECKPOINTS = "checkpoints"  # the folder of checkpoints while a run is incomplete (checkpoint.py)
REPORT_FILES = ("report.html",)
REPORT_FOLDER = "figures"  # PNG and SVG figures of ``scslab report``
_TEMPS = tuple(f".{name}.tmp-" for name in ("manifest.json", *FILES))  # what a killed write may leave


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_parquet(table: pa.Table, path: Path) -> None:
    # fixed writer settings so the same table always gives the same bytes
    pq.write_table(table, path, compression="zstd", use_dictionary=True, write_statistics=True,
                   store_schema=True, row_group_size=1 << 20)


@contextmanager
def writing(out: Path):
    """Turn a file-system failure (permissions, full disk, read-only) into a RunDirError naming the path."""
    try:
        yield
    except RunDirError:
        raise
    except OSError as exc:
        raise RunDirError(f"cannot write run directory {str(out)!r}: {exc.strerror or exc}") from None


def foreign_entries(folder: Path) -> list[str]:
    """What in ``folder`` scslab did not write (a run directory holds only its own files)."""
    foreign = []
    for entry in folder.iterdir():
        name = entry.name
        if entry.is_symlink():
            foreign.append(name)
        elif name in ("manifest.json", *FILES, *REPORT_FILES) or name.startswith(_TEMPS):
            if not entry.is_file():
                foreign.append(name)
        elif name == CHECKPOINTS and entry.is_dir():
            foreign += [f"{name}/{e.name}" for e in entry.iterdir() if e.is_symlink() or not e.is_file()
                        or not (e.name.startswith("pass-") and e.name.endswith(".npz") or e.name.startswith(".pass-"))]
        elif name == REPORT_FOLDER and entry.is_dir():
            foreign += [f"{name}/{e.name}" for e in entry.iterdir() if e.is_symlink() or not e.is_file()
                        or e.suffix not in (".png", ".svg")]
        else:
            foreign.append(name)
    return sorted(foreign)


def _check_creatable(out: Path) -> None:
    """Refuse a run directory that cannot be created: its nearest existing parent is a file, or a file
    system that stores nothing (``/proc``, ``/sys``), or a folder this user may not write in."""
    probe = out.absolute().parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise RunDirError(f"cannot create run directory {str(out)!r}: {str(probe)!r} is a file, not a folder; "
                          "choose another --out")
    try:
        total = shutil.disk_usage(probe).total
    except OSError as exc:
        raise RunDirError(f"cannot create run directory {str(out)!r}: {str(probe)!r} cannot be read "
                          f"({exc.strerror or exc}); choose another --out") from None
    if total == 0:
        raise RunDirError(f"cannot create run directory {str(out)!r}: {str(probe)!r} is on a file system that "
                          "stores no files (such as /proc or /sys); choose another --out")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise RunDirError(f"cannot create run directory {str(out)!r}: no permission to write in {str(probe)!r}; "
                          "choose another --out")


def _why_not_replaceable(out: Path, *, verify: bool = True) -> str | None:
    """None when ``out`` may be replaced (an empty folder, or provably a scslab run directory); else why not.
    Without ``verify`` a complete run's checksums are not read (a cheaper answer, for a refusal's wording)."""
    if not any(out.iterdir()):
        return None
    try:
        manifest = read_manifest(out)
    except RunDirError as exc:
        return f"it is not a scslab run directory ({exc})"
    foreign = foreign_entries(out)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        return f"it holds files scslab did not write ({shown})"
    if verify and manifest["status"] == "complete":
        problems = verify_run(out)
        if problems:
            return f"its files do not match its manifest ({'; '.join(problems)})"
    return None


def check_target(out: str | Path, force: bool) -> Path:
    """Refuse, before any work is done, a run directory that exists (unless ``force``), and never replace
    anything but a scslab run directory or an empty folder. A symbolic link is followed: the run is written
    where it points. Returns the path to write."""
    out = Path(out)
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    if not out.exists():
        _check_creatable(out)
        return out
    if not out.is_dir():
        raise RunDirError(f"{str(out)!r} is a file, not a folder; choose another --out (--force replaces only "
                          "run directories, never a file)")
    if not force:
        why = _why_not_replaceable(out, verify=False)  # the files' checksums are read only when --force asks
        if why:
            raise RunDirError(f"{str(out)!r} already exists and is kept: {why}; choose another --out")
        raise RunDirError(f"run directory {str(out)!r} already exists; choose another --out, or pass --force "
                          "to replace it")
    why = _why_not_replaceable(out)
    if why:
        raise RunDirError(f"--force refused: {str(out)!r} is kept because {why}. --force only replaces a scslab "
                          "run directory whose files match its manifest, or an empty folder; choose another "
                          "--out, or remove it yourself")
    return out


def default_name(name: str, stamp: str, parent: str | Path = "runs") -> Path:
    """``runs/NAME-STAMP``: the default run directory; :func:`open_run` with ``unique`` adds ``-2``, ``-3``...
    when another run took that name first."""
    return Path(parent) / f"{name}-{stamp}"


def check_disk(out: str | Path, need: int, what: str) -> None:
    """Refuse before writing when the file system holding ``out`` has less than ``need`` bytes free."""
    from ..errors import CapacityError

    probe = Path(out).resolve()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if need > free:
        raise CapacityError(f"{what} needs about {need / 2**30:.2f} GiB of disk but only {free / 2**30:.2f} GiB "
                            f"is free under {str(probe)!r}; choose another --out or free some space",
                            needed_bytes=need, available_bytes=free)


def _remove_temps(folder: Path) -> None:
    """Remove what killed writes left in ``folder`` (never anything else)."""
    for entry in folder.iterdir():
        if entry.name.startswith(_TEMPS) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)


def _finalise(folder: Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the outputs under temporary names, rename them in, then mark the manifest complete (sealed)."""
    for name, table in zip(FILES, (metrics, stories)):
        tmp = folder / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            _write_parquet(table, tmp)
            os.replace(tmp, folder / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    manifest = dict(manifest)
    manifest["files"] = {name: {"sha256": sha256(folder / name), "bytes": (folder / name).stat().st_size}
                         for name in FILES}
    manifest["status"] = "complete"
    manifest = seal(manifest)
    write_manifest(folder, manifest)
    _remove_temps(folder)
    return manifest


def _new_folder(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def _move_in(tmp: Path, out: Path, force: bool) -> None:
    """Rename the finished folder ``tmp`` to ``out``. Without ``force`` this fails when ``out`` was taken
    meanwhile (``tmp`` is never empty, and a rename does not replace a non-empty folder). With ``force``
    the old folder is locked, checked again, renamed aside and deleted."""
    if not out.exists():
        try:
            os.rename(tmp, out)
            return
        except OSError as exc:
            if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not force:
                raise
    if not force:
        raise RunDirError(f"run directory {str(out)!r} already exists; choose another --out or pass --force")
    with RunLock(out, doing="replace it"):
        check_target(out, force=True)  # nothing changed since the first check
        trash = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(out, trash)
    os.replace(tmp, out)
    shutil.rmtree(trash, ignore_errors=True)


def open_run(out: str | Path, manifest: dict[str, Any], *, force: bool = False, unique: bool = False) -> RunLock:
    """Create the run directory ``out`` marked incomplete (an existing one only with ``force``), and hold its
    lock: release the returned :class:`RunLock` when done. With ``unique`` a taken name gets ``-2``, ``-3``...
    (``lock.path`` is the folder made)."""
    out = Path(out) if unique else check_target(out, force)
    with writing(out):
        tmp = _new_folder(out)
    lock = None
    try:
        with writing(out):
            lock = RunLock(tmp)
            write_manifest(tmp, {**manifest, "status": "incomplete"})
            for k in range(1, 1000):
                target = out if k == 1 else out.with_name(f"{out.name}-{k}")
                try:
                    _move_in(tmp, target, force and not unique)
                except RunDirError:
                    if not unique:
                        raise
                    continue
                lock.path = target
                return lock
            raise RunDirError(f"no free name left beside {str(out)!r}")
    except BaseException:
        if lock is not None:
            lock.release()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def lock_run(path: str | Path, doing: str) -> RunLock:
    """The lock of the existing run directory ``path`` (refused while another process holds it)."""
    return RunLock(path, doing=doing)


def complete_run(out: Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any]) -> dict[str, Any]:
    """Finish a run directory opened with :func:`open_run`; its checkpoints are removed afterwards."""
    with writing(out):
        manifest = _finalise(out, metrics, stories, manifest)
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    return manifest


def write_run(out: str | Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any], *,
              force: bool = False) -> Path:
    """Write a run directory atomically; refuse to replace an existing one unless ``force``."""
    out = check_target(out, force)
    check_disk(out, metrics.nbytes + stories.nbytes + (1 << 20), "writing the run directory")
    with writing(out):
        tmp = _new_folder(out)
    try:
        with writing(out):
            _finalise(tmp, metrics, stories, manifest)
            _move_in(tmp, out, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def verify_run(path: str | Path) -> list[str]:
    """Problems with run directory ``path`` (empty when it is complete and every file matches its checksum)."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest["status"] != "complete":
        return [f"incomplete run: resume it with `scslab resume {path}`"]
    problems = []
    for name in FILES:
        f, want = path / name, manifest["files"][name]
        if not f.exists():
            problems.append(f"{name}: missing")
        elif not f.is_file():
            problems.append(f"{name}: not a regular file")
        elif f.stat().st_size != want["bytes"]:
            kind = "truncated" if f.stat().st_size < want["bytes"] else "grown"
            problems.append(f"{name}: {kind} ({f.stat().st_size:,} bytes, the manifest says {want['bytes']:,})")
        elif sha256(f) != want["sha256"]:
            problems.append(f"{name}: altered (its sha256 differs from the manifest)")
    return problems


def _read_table(file: Path, schema: pa.Schema) -> pa.Table:
    try:
        table = pq.read_table(file)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise RunDirError(f"{str(file)!r} cannot be read as Parquet: {exc}") from None
    missing = [f"{f.name} ({f.type})" for f in schema if table.schema.get_field_index(f.name) < 0
               or table.schema.field(f.name).type != f.type]
    if missing and set(missing) != {"population (string)"}:  # runs before entity types had no population column
        raise RunDirError(f"{str(file)!r} lacks the columns {', '.join(missing)}")
    return table


def read_run(path: str | Path) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    """The tables and manifest of the complete run ``path``, after checking every file against its manifest
    (a RunDirError names the damaged file)."""
    from ..metrics import METRICS_SCHEMA, STORIES_SCHEMA

    path = Path(path)
    manifest = read_manifest(path)
    if manifest["status"] != "complete":
        raise RunDirError(f"{str(path)!r} is an incomplete run; resume it with `scslab resume {path}`")
    problems = verify_run(path)
    if problems:
        raise RunDirError(f"{str(path)!r} is damaged: {'; '.join(problems)} (`scslab verify` checks a run)")
    return (_read_table(path / "metrics.parquet", METRICS_SCHEMA),
            _read_table(path / "stories.parquet", STORIES_SCHEMA), manifest)
