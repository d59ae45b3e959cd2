"""Run directories: written under a temporary name and renamed when complete, never overwritten silently.

Layout::

    RUN_DIR/
      manifest.json     scenario (resolved), seed, size, days, engine, versions, times, status, checksums
      metrics.parquet   day, metric, group, value
      stories.parquet   day, agent, event, behaviour, channel, points, score_after, reason
      checkpoints/      only while a run is incomplete (see ``checkpoint.py``)

A run directory is never ambiguous: ``manifest.json`` is always present and written by rename, and its
``status`` is ``"complete"`` (outputs present, checksums recorded) or ``"incomplete"`` (resume it). The
outputs of a run written in place are renamed into the directory before the manifest says complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RunDirError

__all__ = ["write_run", "read_run", "sha256", "check_target", "open_run", "complete_run", "verify_run",
           "read_manifest", "write_manifest", "check_disk"]

FILES = ("metrics.parquet", "stories.parquet")
CHECKPOINTS = "checkpoints"  # the folder of checkpoints while a run is incomplete (checkpoint.py)


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
def _writing(out: Path):
    """Turn a file-system failure (permissions, full disk, read-only) into a RunDirError naming the path."""
    try:
        yield
    except RunDirError:
        raise
    except OSError as exc:
        raise RunDirError(f"cannot write run directory {str(out)!r}: {exc.strerror or exc}") from None


def check_target(out: str | Path, force: bool) -> Path:
    """Refuse, before any work is done, a run directory that exists (unless ``force``), and never replace
    anything but a run directory or an empty folder."""
    out = Path(out)
    if out.exists() and not force:
        raise RunDirError(f"run directory {str(out)!r} already exists; choose another --out or pass --force")
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{str(out)!r} exists and is not a directory")
    if out.exists() and not (out / "manifest.json").is_file() and any(out.iterdir()):
        raise RunDirError(f"{str(out)!r} is a folder with files but not a run directory (no manifest.json); "
                          "--force only replaces run directories")
    return out


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


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` by rename, so a reader sees the old one or the new one, whole."""
    tmp = folder / f".manifest.json.tmp-{uuid.uuid4().hex[:8]}"
    with open(tmp, "w") as fh:
        json.dump(manifest, fh, indent=2, default=str)  # key order matters (tiers)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / "manifest.json")


def _finalise(folder: Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the outputs under temporary names, rename them in, then mark the manifest complete."""
    for name, table in zip(FILES, (metrics, stories)):
        tmp = folder / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
        _write_parquet(table, tmp)
        os.replace(tmp, folder / name)
    manifest = dict(manifest)
    manifest["files"] = {name: {"sha256": sha256(folder / name), "bytes": (folder / name).stat().st_size}
                         for name in FILES}
    manifest["status"] = "complete"
    write_manifest(folder, manifest)
    return manifest


def _swap_in(tmp: Path, out: Path) -> None:
    """Rename the finished folder ``tmp`` to ``out``, replacing (and then deleting) what was there."""
    if out.exists():
        trash = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(out, trash)
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)


def open_run(out: str | Path, manifest: dict[str, Any], *, force: bool = False) -> Path:
    """Create the run directory ``out`` marked incomplete (an existing one only with ``force``)."""
    out = check_target(out, force)
    with _writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        write_manifest(tmp, {**manifest, "status": "incomplete"})
        _swap_in(tmp, out)
    return out


def complete_run(out: Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any]) -> dict[str, Any]:
    """Finish a run directory opened with :func:`open_run`; its checkpoints are removed afterwards."""
    with _writing(out):
        manifest = _finalise(out, metrics, stories, manifest)
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    return manifest


def write_run(out: str | Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any], *,
              force: bool = False) -> Path:
    """Write a run directory atomically; refuse to replace an existing one unless ``force``."""
    out = check_target(out, force)
    check_disk(out, metrics.nbytes + stories.nbytes + (1 << 20), "writing the run directory")
    with _writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
    try:
        with _writing(out):
            _finalise(tmp, metrics, stories, manifest)
            _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of run directory ``path``; a RunDirError when there is none or it cannot be read."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise RunDirError(f"{str(path)!r} is not a run directory (no manifest.json)")
    try:
        with open(manifest_path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunDirError(f"{str(manifest_path)!r} cannot be read: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("status") not in ("complete", "incomplete"):
        raise RunDirError(f"{str(manifest_path)!r} is not a scslab manifest (status must be complete or incomplete)")
    return manifest


def verify_run(path: str | Path) -> list[str]:
    """Problems with run directory ``path`` (empty when it is complete and every file matches its checksum)."""
    path = Path(path)
    manifest = read_manifest(path)
    if manifest["status"] != "complete":
        return [f"incomplete run: resume it with `scslab resume {path}`"]
    problems = []
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(FILES):
        return [f"manifest.json does not list the output files {', '.join(FILES)}"]
    for name in FILES:
        f, want = path / name, files[name] if isinstance(files[name], dict) else {}
        size, digest = want.get("bytes"), want.get("sha256")
        if not isinstance(size, int) or not isinstance(digest, str):
            problems.append(f"{name}: the manifest's entry is malformed ({files[name]!r})")
        elif not f.is_file():
            problems.append(f"{name}: missing")
        elif f.stat().st_size != size:
            kind = "truncated" if f.stat().st_size < size else "grown"
            problems.append(f"{name}: {kind} ({f.stat().st_size:,} bytes, the manifest says {size:,})")
        elif sha256(f) != digest:
            problems.append(f"{name}: altered (its sha256 differs from the manifest)")
    return problems


def read_run(path: str | Path) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    path = Path(path)
    manifest = read_manifest(path)
    if manifest["status"] != "complete":
        raise RunDirError(f"{str(path)!r} is an incomplete run; resume it with `scslab resume {path}`")
    return pq.read_table(path / "metrics.parquet"), pq.read_table(path / "stories.parquet"), manifest
