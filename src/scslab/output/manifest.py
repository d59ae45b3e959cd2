"""``manifest.json``: what a run directory holds, checked field by field before anything trusts it.

A manifest is JSON written by rename (a reader sees the old one or the new one, whole). A complete run's
manifest also carries ``manifest_sha256``, the digest of its own canonical JSON without that key, so an
altered manifest is told apart from one scslab wrote. Reading is bounded: at most :data:`MAX_MANIFEST_BYTES`
bytes from a regular file; a file nested too deeply or holding an integer too long to convert is refused by
name like any other damage.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import RunDirError

__all__ = ["read_manifest", "write_manifest", "seal", "is_sealed", "MAX_MANIFEST_BYTES", "FILES"]

FILES = ("metrics.parquet", "stories.parquet")  # a complete run's outputs, each listed with its checksum
MAX_MANIFEST_BYTES = 64 * 2**20
SEAL = "manifest_sha256"


class _FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class _Manifest(BaseModel):
    """The fields scslab reads back from a manifest; others are kept as they are."""

    model_config = ConfigDict(extra="allow", strict=True)
    scslab_version: str
    status: Literal["complete", "incomplete"]
    name: str
    scenario: dict[str, Any]
    seed: int = Field(ge=0)
    population: int = Field(ge=1)
    days: int = Field(ge=1)
    engine: str
    # the scheduler that ran; "days" in runs written before the schedulers were named (engine says which)
    route: Literal["windowed", "lazy", "dense", "days"] = "days"
    chunk: Optional[int] = Field(default=None, ge=1)
    checkpoint_every: Optional[int] = Field(default=None, ge=1)
    sessions: list[dict[str, Any]] = []
    files: Optional[dict[str, _FileEntry]] = None
    story_agents: list[int] = []
    story_roles: dict[str, str] = {}
    entities: dict[str, dict[str, Any]] = {}
    level_metrics: list[str] = []

    @field_validator("files")
    @classmethod
    def _known_files(cls, files):
        if files is not None and set(files) != set(FILES):
            raise ValueError(f"must list exactly {', '.join(FILES)}")
        return files


def _canonical(manifest: dict[str, Any]) -> bytes:
    body = {k: v for k, v in manifest.items() if k != SEAL}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode()


def seal(manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` (made plain JSON) with its own digest under ``manifest_sha256``."""
    plain = json.loads(json.dumps({k: v for k, v in manifest.items() if k != SEAL}, default=str))
    return {**plain, SEAL: hashlib.sha256(_canonical(plain)).hexdigest()}


def is_sealed(manifest: dict[str, Any]) -> bool:
    """Whether ``manifest`` carries a digest and it matches its content."""
    return manifest.get(SEAL) == hashlib.sha256(_canonical(manifest)).hexdigest()


def _problem(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(x) for x in first["loc"]) or "(top level)"
    more = exc.error_count() - 1
    return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of run directory ``path``, checked; a RunDirError naming the problem otherwise."""
    path = Path(path)
    file = path / "manifest.json"
    try:
        info = os.stat(file)
    except OSError:
        raise RunDirError(f"{str(path)!r} is not a run directory (no manifest.json)") from None
    if not stat.S_ISREG(info.st_mode):
        raise RunDirError(f"{str(file)!r} is not a regular file")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise RunDirError(f"{str(file)!r} is {info.st_size:,} bytes; a manifest has at most {MAX_MANIFEST_BYTES:,}")
    try:
        with open(file, "rb") as fh:
            manifest = json.loads(fh.read(MAX_MANIFEST_BYTES + 1).decode("utf-8"))
    except OSError as exc:
        raise RunDirError(f"{str(file)!r} cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, an integer of too many digits
        raise RunDirError(f"{str(file)!r} is not valid JSON: {exc}") from None
    except RecursionError:
        raise RunDirError(f"{str(file)!r} is nested too deeply to be a scslab manifest") from None
    if not isinstance(manifest, dict):
        raise RunDirError(f"{str(file)!r} is not a scslab manifest (not a JSON object)")
    try:
        _Manifest.model_validate(manifest)
    except ValidationError as exc:
        raise RunDirError(f"{str(file)!r} is not a scslab manifest: {_problem(exc)}") from None
    except RecursionError:
        raise RunDirError(f"{str(file)!r} is nested too deeply to be a scslab manifest") from None
    if SEAL in manifest and not is_sealed(manifest):
        raise RunDirError(f"{str(file)!r} was altered after scslab wrote it (its manifest_sha256 does not match)")
    if manifest["status"] == "complete" and manifest.get("files") is None:
        raise RunDirError(f"{str(file)!r} says complete but lists no output files")
    return manifest


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` by rename, so a reader sees the old one or the new one, whole."""
    tmp = folder / f".manifest.json.tmp-{uuid.uuid4().hex[:8]}"
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2, default=str)  # key order matters (tiers)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / "manifest.json")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
