"""Run directories: written under a temporary name and renamed when complete, never overwritten silently.

Layout::

    RUN_DIR/
      manifest.json     scenario (resolved), seed, size, days, engine, versions, times, status, checksums
      metrics.parquet   day, metric, group, value
      stories.parquet   day, agent, event, behaviour, channel, points, score_after, reason
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RunDirError

__all__ = ["write_run", "read_run", "sha256", "check_target"]

FILES = ("metrics.parquet", "stories.parquet")


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


def check_target(out: str | Path, force: bool) -> Path:
    """Refuse a run directory that exists (unless ``force``) or is not a directory; before any work is done."""
    out = Path(out)
    if out.exists() and not force:
        raise RunDirError(f"run directory {str(out)!r} already exists; choose another --out or pass --force")
    if out.exists() and not out.is_dir():
        raise RunDirError(f"{str(out)!r} exists and is not a directory")
    return out


def write_run(out: str | Path, metrics: pa.Table, stories: pa.Table, manifest: dict[str, Any], *,
              force: bool = False) -> Path:
    """Write a run directory atomically; refuse to replace an existing one unless ``force``."""
    out = check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        _write_parquet(metrics, tmp / "metrics.parquet")
        _write_parquet(stories, tmp / "stories.parquet")
        manifest = dict(manifest)
        manifest["files"] = {name: {"sha256": sha256(tmp / name), "bytes": (tmp / name).stat().st_size}
                             for name in FILES}
        manifest["status"] = "complete"
        with open(tmp / "manifest.json", "w") as fh:
            json.dump(manifest, fh, indent=2, sort_keys=True, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        if out.exists():
            trash = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out, trash)
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_run(path: str | Path) -> tuple[pa.Table, pa.Table, dict[str, Any]]:
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise RunDirError(f"{str(path)!r} is not a run directory (no manifest.json)")
    with open(manifest_path) as fh:
        manifest = json.load(fh)
    return pq.read_table(path / "metrics.parquet"), pq.read_table(path / "stories.parquet"), manifest
