"""Load scenarios: from a preset name, a TOML file, a dict or a Scenario, with ``--set`` overrides.

Every failure is a :class:`~scslab.errors.ScenarioError` listing each problem with its dotted path.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import sys
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError
from .checks import cross_check
from .schema import Scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_scenario", "preset_names", "preset_path", "parse_override", "apply_overrides", "with_changes",
           "unmarked_numbers", "lookup", "assign"]

_PRESETS = "scslab.scenarios.presets"
MAX_FILE_BYTES = 4 * 1024 * 1024


def preset_names() -> list[str]:
    """Names of the bundled presets, sorted."""
    files = resources.files(_PRESETS).iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    if name not in preset_names():
        raise ScenarioError([("preset", name, f"unknown preset; allowed: {', '.join(preset_names())}")])
    return Path(str(resources.files(_PRESETS).joinpath(f"{name}.toml")))


def _read_toml(path: Path) -> dict[str, Any]:
    """A scenario file's table: a regular file (never a pipe or a device, which could block or never end)
    of at most MAX_FILE_BYTES bytes, read no further than that."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError([("file", str(path), "is not a regular file (a pipe, device or folder); give a "
                                                     "scenario TOML file")])
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError([("file", str(path), f"cannot be read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError([("file", str(path), f"is larger than {MAX_FILE_BYTES:,} bytes, the most allowed")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([("file", str(path), f"is not UTF-8 (byte {exc.start})")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([("file", str(path), f"is not valid TOML: {exc}")]) from None
    except RecursionError:
        raise ScenarioError([("file", str(path), "is nested too deeply")]) from None


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``path.to.key=value``; the value is read as a TOML value, else kept as a string."""
    if "=" not in text:
        raise ScenarioError([("--set", text, "expected path.to.key=value")])
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that are not UTF-8 on the command line arrive as surrogates
        raise ScenarioError([("--set", text.encode("utf-8", "backslashreplace").decode(),
                              f"is not valid UTF-8 (position {exc.start})")]) from None
    key, _, value = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ScenarioError([("--set", text, "the path must be dotted names like behaviours.jaywalking.points")])
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    except RecursionError:
        raise ScenarioError([("--set", key, "the value is nested too deeply")]) from None
    return key, parsed


def _set_path(data: dict[str, Any], key: str, value: Any, *, must_exist: bool, where: str) -> None:
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict) or part not in node:
            if must_exist or not isinstance(node, dict):
                raise ScenarioError([(where, key, f"no such table {'.'.join(parts[: i + 1])!r} in the scenario")])
            node[part] = {}
        node = node[part]
    leaf = parts[-1]
    if isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node):
        node[int(leaf)] = value
    elif isinstance(node, dict):
        if must_exist and leaf not in node:
            raise ScenarioError([(where, key, f"no such key {leaf!r}; present: {', '.join(map(str, node)) or '-'}")])
        node[leaf] = value
    else:
        raise ScenarioError([(where, key, "path goes through a value that is not a table")])


def _locate(data: dict, path: str) -> tuple[dict, str]:
    """The table holding ``path``'s value and its key there. Inside a table whose keys are dotted paths (a
    timeline entry's ``set``) the rest of the path is one key. A KeyError if the path names nothing."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        rest = ".".join(parts[i:])
        if isinstance(node, dict) and rest in node:
            return node, rest
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    raise KeyError(path)


def assign(data: dict, path: str, value: Any) -> None:
    """Set the value at dotted ``path`` in nested ``data`` (see :func:`_locate`)."""
    node, key = _locate(data, path)
    node[key] = value


def lookup(data: dict, path: str) -> Any:
    """The value at dotted ``path`` in nested ``data`` (see :func:`_locate`)."""
    node, key = _locate(data, path)
    return node[key]


def apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any], *, must_exist: bool = False,
                    where: str = "--set") -> dict[str, Any]:
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        _set_path(out, key, value, must_exist=must_exist, where=where)
    return out


_TAG = re.compile(r"[a-z][a-z0-9_-]*\[.*\]|constrained-[a-z]+|float|int|str|bool")  # pydantic's union branches


def _loc_path(loc: tuple, *, key_last: bool = False) -> str:
    """Dotted path from a pydantic location, without the union-branch tags pydantic inserts.

    With ``key_last`` the last element is a key the user wrote (an unknown key) and is always kept."""
    from . import schema

    def is_tag(x: object) -> bool:
        return isinstance(x, str) and (_TAG.fullmatch(x) is not None or isinstance(getattr(schema, x, None), type))

    head, tail = (loc[:-1], loc[-1:]) if key_last and loc else (loc, ())
    return ".".join([str(x) for x in head if not is_tag(x)] + [str(x) for x in tail])


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """Walk the schema along ``loc`` to list the keys allowed where an unknown key was found."""
    node: Any = model
    for part in loc[:-1]:
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return None
            node = field.annotation
        elif typing.get_origin(node) is dict:
            node = typing.get_args(node)[1]
        elif typing.get_origin(node) is list:
            node = typing.get_args(node)[0]
        # unwrap Optional / Union / Annotated
        for _ in range(4):
            origin = typing.get_origin(node)
            if origin is typing.Annotated:
                node = typing.get_args(node)[0]
            elif origin in (typing.Union, types.UnionType):
                models = [a for a in typing.get_args(node) if isinstance(a, type) and issubclass(a, BaseModel)]
                node = models[0] if models else node
                if not models:
                    break
            else:
                break
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return None


def _validation_problems(exc: ValidationError, model: type[BaseModel] = Scenario) -> list[tuple[str, object, str]]:
    """``(path, value, message)`` for each pydantic error; unknown keys list the keys allowed there."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _loc_path(loc, key_last=err["type"] == "extra_forbidden")
        msg = err["msg"]
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            msg = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
            value = loc[-1]
        elif err["type"] == "missing":
            msg = "required key is missing"
            value = None
        elif isinstance(value, (dict, list)) and len(repr(value)) > 80:
            value = type(value).__name__
        problems.append((path, value, msg))
    return problems


def _validate(data: Any, source: str | None) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError([("", type(data).__name__, "a scenario must be a table")], source=source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_validation_problems(exc), source=source) from None
    except RecursionError:
        raise ScenarioError([("", None, "scenario is nested too deeply")], source=source) from None
    problems = cross_check(scenario)
    problems += _check_timeline(scenario)
    if not problems:
        from .entities import entity_scenario

        for name in scenario.entities:
            problems += [(f"entities.{name}.{p}", v, m) for p, v, m in _check_timeline(entity_scenario(scenario, name))]
    problems += _check_provenance(scenario, scenario.model_dump(mode="python"))
    if problems:
        raise ScenarioError(problems, source=source)
    return scenario


def _structure(s: Scenario) -> tuple:
    return (tuple(s.behaviours), tuple(s.channels), tuple(s.score.tiers), tuple(s.lists), tuple(s.accounts),
            tuple(s.consequences), s.debt is None, s.redress is None,
            tuple((b.account, bool(b.repeat_points), b.creates_debt) for b in s.behaviours.values()))


def with_changes(s: Scenario, changes: Mapping[str, Any], where: str) -> Scenario:
    """The scenario with a timeline entry's changes applied; structure must not change."""
    data = apply_overrides(s.model_dump(mode="python"), changes, must_exist=True, where=where)
    data["timeline"] = []
    data["provenance"] = {}
    try:
        changed = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError([(f"{where}.{p}" if p else where, v, m) for p, v, m in _validation_problems(exc)]) \
            from None
    problems = cross_check(changed)
    if problems:
        raise ScenarioError([(f"{where}: {p}", v, m) for p, v, m in problems])
    changed = changed.model_copy(update={"provenance": s.provenance})
    if _structure(changed) != _structure(s):
        raise ScenarioError([(where, dict(changes), "a timeline change may alter values only, not add or "
                                                    "remove behaviours, channels, tiers, lists or accounts")])
    return changed


def _check_timeline(s: Scenario) -> list[tuple[str, object, str]]:
    problems = []
    base = s.model_copy(update={"timeline": []})
    for i, entry in enumerate(s.timeline):
        try:
            base = with_changes(base, entry.set, where=f"timeline.{i}.set")
        except ScenarioError as exc:
            problems += exc.problems
    return problems


def _check_provenance(s: Scenario, data: dict[str, Any]) -> list[tuple[str, object, str]]:
    problems = []
    for key in s.provenance:
        node: Any = data
        for part in key.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                problems.append((f"provenance.{key}", key, "names no value in this scenario"))
                break
    from ..sources import mark_problems  # cited source ids exist; documented marks cite one and say no 'assumed'

    return problems + mark_problems(s.provenance)


def unmarked_numbers(data: Mapping[str, Any]) -> list[str]:
    """Dotted paths of the numbers in a raw scenario dict (as read from TOML) that no ``[provenance]`` key
    covers. A preset must return none: every number it sets is documented, calibrated or assumed."""
    marks = list((data.get("provenance") or {}).keys())

    def leaves(node: Any, prefix: str):
        if isinstance(node, Mapping):
            for k, v in node.items():
                yield from leaves(v, f"{prefix}{k}.")
        elif isinstance(node, list) and node and all(isinstance(x, Mapping) for x in node):
            for i, v in enumerate(node):
                yield from leaves(v, f"{prefix}{i}.")
        else:
            yield prefix[:-1], node

    def numeric(v: Any) -> bool:
        if isinstance(v, list):
            return any(numeric(x) or isinstance(x, list) for x in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    body = {k: v for k, v in data.items() if k != "provenance"}
    return [path for path, value in leaves(body, "") if numeric(value)
            and not any(path == m or path.startswith(m + ".") for m in marks)]


def load_scenario(source: str | Path | Mapping[str, Any] | Scenario,
                  overrides: Mapping[str, Any] | list[str] | None = None) -> Scenario:
    """Load and validate a scenario.

    ``source`` is a preset name (``"bench-v1"``), a path to a TOML file, a dict, or a Scenario.
    ``overrides`` maps dotted paths to values, or is a list of ``"path=value"`` strings.
    """
    try:
        return _load(source, overrides)
    except RecursionError:  # a dict or an override nested thousands deep
        raise ScenarioError([("", None, "the scenario is nested too deeply")]) from None


def _load(source, overrides) -> Scenario:
    label: str | None
    if isinstance(source, Scenario):
        data, label = source.model_dump(mode="python"), source.meta.name
    elif isinstance(source, Mapping):
        data, label = copy.deepcopy(dict(source)), None
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if isinstance(source, str) and source in preset_names():
            path = preset_path(source)
        elif not path.exists():
            raise ScenarioError([("scenario", str(source),
                                  f"no such file and no such preset; presets: {', '.join(preset_names())}")])
        data, label = _read_toml(path), str(source)
    else:
        raise ScenarioError([("scenario", type(source).__name__, "expected a preset name, path, dict or Scenario")])
    if overrides:
        if not isinstance(overrides, Mapping):
            overrides = dict(parse_override(o) for o in overrides)
        data = apply_overrides(data, overrides)
    return _validate(data, label)
