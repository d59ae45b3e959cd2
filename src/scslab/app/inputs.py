"""What a page may send for a scenario: the name of a bundled preset, or the text of a file it uploads.

A page is a client like any other: what it sends for the preset selector may have been rewritten on the
way, so :func:`preset_scenario` accepts nothing but a name in :func:`~scslab.scenarios.load.preset_names`
(a path is refused before any file is touched). An uploaded scenario is parsed from its bytes, never from a
path, and refused above ``MAX_UPLOAD_BYTES`` before it is read further. Every refusal is a
:class:`~scslab.errors.ScenarioError`; :func:`describe` turns one into the plain text a page shows.

No web framework is imported here.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, BinaryIO

from ..errors import ScenarioError, ScslabError
from ..scenarios.load import load_scenario, preset_names
from ..scenarios.schema import Scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["MAX_UPLOAD_BYTES", "checked_preset", "preset_scenario", "read_upload", "uploaded_scenario",
           "describe"]

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 1024 * 1024  # an uploaded scenario file: the largest preset is about 20 KiB


def checked_preset(name: Any) -> str:
    """``name`` when it is a bundled preset's; otherwise a ScenarioError naming the allowed presets.

    The refusal does not repeat what was sent (it may be a path); the log does."""
    allowed = preset_names()
    if isinstance(name, str) and name in allowed:
        return name
    log.warning("refused a preset value that is no preset: %.200r", name)
    raise ScenarioError([("preset", None, f"not a preset; choose one of {', '.join(allowed)}")])


def preset_scenario(name: Any) -> Scenario:
    """The bundled preset ``name``, loaded by name only (see :func:`checked_preset`)."""
    return load_scenario(checked_preset(name))


def read_upload(file: BinaryIO, size: Any) -> bytes:
    """The bytes of an uploaded file whose client says it has ``size`` bytes, refused unread when that is
    more than ``MAX_UPLOAD_BYTES``, and never read past that bound whatever the client sends."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ScenarioError([("upload", repr(size)[:40], "the file's size is not a number of bytes")])
    if size > MAX_UPLOAD_BYTES:
        raise ScenarioError([("upload", f"{size:,} bytes", f"too large: at most {MAX_UPLOAD_BYTES:,} bytes")])
    data = file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError([("upload", f"more than {MAX_UPLOAD_BYTES:,} bytes",
                              f"too large: at most {MAX_UPLOAD_BYTES:,} bytes")])
    return data


def uploaded_scenario(data: bytes) -> Scenario:
    """A scenario from an uploaded TOML file's bytes (UTF-8, at most ``MAX_UPLOAD_BYTES``), validated with
    the scenario schema; every problem comes back in one ScenarioError, with its dotted path."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError([("upload", f"{len(data):,} bytes", f"too large: at most {MAX_UPLOAD_BYTES:,} bytes")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([("upload", f"byte {exc.start}", "the file is not UTF-8 text")]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([("upload", None, f"not valid TOML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError([("upload", None, "nested too deeply")]) from None
    return load_scenario(raw)


def describe(exc: ScslabError) -> str:
    """The text a page shows for ``exc``: a scenario error's problems one a line (dotted path, message,
    the value), any other scslab error's message."""
    if not isinstance(exc, ScenarioError):
        return str(exc)
    lines = []
    for path, value, message in exc.problems:
        got = "" if value is None else f" (got {repr(value)[:80]})"
        lines.append(f"{path or '(top level)'}: {message}{got}")
    return "\n".join(lines)
