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
from .paths import apply_overrides, assign, lookup, parse_override, set_path  # noqa: F401  (re-exported)
from .schema import Scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["load_scenario", "preset_names", "preset_path", "find_preset", "near_presets", "parse_override",
           "apply_overrides", "with_changes", "unmarked_numbers", "lookup", "assign"]

_PRESETS = "scslab.scenarios.presets"
MAX_FILE_BYTES = 4 * 1024 * 1024


def preset_names() -> list[str]:
    """Names of the bundled presets, sorted."""
    files = resources.files(_PRESETS).iterdir()
    return sorted(f.name[:-5] for f in files if f.name.endswith(".toml"))


def find_preset(name: str) -> str | None:
    """The preset ``name`` stands for: its file name (``press-2018``), or its scenario name as written in
    run directories and outputs (``press_2018``); None when it names no preset."""
    names = preset_names()
    if name in names:
        return name
    spelled = name.strip().lower().replace("_", "-")
    return spelled if spelled in names else None


def near_presets(name: str) -> list[str]:
    """The preset names closest to ``name`` (a misspelt one), best first; possibly none."""
    import difflib

    names = preset_names()
    spelled = name.strip().lower().replace("_", "-")
    return difflib.get_close_matches(spelled, names, n=3, cutoff=0.6)


def unknown_preset(name: str) -> str:
    """What to say about ``name``, which is neither a file nor a preset: the nearest preset and the list."""
    near = near_presets(name)
    return ((f"did you mean {near[0]!r}? " if near else "") + f"presets: {', '.join(preset_names())} "
            "(scslab presets lists them)")


def preset_path(name: str) -> Path:
    found = find_preset(name)
    if found is None:
        raise ScenarioError([("preset", name, f"unknown preset; {unknown_preset(name)}")])
    return Path(str(resources.files(_PRESETS).joinpath(f"{found}.toml")))


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


def validation_problems(exc: ValidationError, model: type[BaseModel] = Scenario) -> list[tuple[str, object, str]]:
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
    schema_problems: list[tuple[str, object, str]] = []
    dropped: list[str] = []
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        # every problem in one pass: the schema's, then those the cross-checks find in the rest of the file
        schema_problems = validation_problems(exc)
        scenario, dropped, items = _without_refused(data, exc)
        if scenario is None:
            raise ScenarioError(schema_problems, source=source) from None
    except RecursionError:
        raise ScenarioError([("", None, "scenario is nested too deeply")], source=source) from None
    from .entities import entity_scenario

    problems = cross_check(scenario)
    problems += _check_timeline(scenario)
    for name in scenario.entities:
        problems += [(f"entities.{name}.{p}", v, m) for p, v, m in _check_timeline(entity_scenario(scenario, name))]
    problems += _check_provenance(scenario, scenario.model_dump(mode="python"))
    if schema_problems:  # list items taken out: the paths of the others as the file numbers them
        problems = [(_numbered_as_written(p, items), v, m) for p, v, m in problems]
    problems = schema_problems + [p for p in problems if not _follows_from(p, dropped)]
    if problems:
        raise ScenarioError(_once(problems), source=source)
    return scenario


def _once(problems: list[tuple[str, object, str]]) -> list[tuple[str, object, str]]:
    """``problems`` without repeats, in order."""
    seen, out = set(), []
    for path, value, msg in problems:
        key = (path, repr(value), msg)
        if key not in seen:
            seen.add(key)
            out.append((path, value, msg))
    return out


def _without_refused(data: dict, exc: ValidationError,
                     rounds: int = 4) -> tuple[Scenario | None, list[str], dict[str, list[int]]]:
    """The scenario ``data`` makes once the values the schema refused are taken out (and a table that then
    lacks a required key, in turn), so that the cross-checks can look at the rest; None when nothing valid
    is left. Also the dotted paths of the values taken out (not of unknown keys, whose removal changes
    nothing else), and for each list an item was taken from, the file's index of each item left."""
    work = copy.deepcopy(data)
    dropped: list[str] = []
    items: dict[str, list[int]] = {}
    for _ in range(rounds):
        targets = []
        for err in exc.errors(include_url=False):
            found = _deepest(work, tuple(err["loc"]))
            if found is None:
                return None, dropped, items
            targets.append((found, err["type"] == "extra_forbidden"))
        # list items last index first, so that removing one leaves the others' indices as they were
        targets.sort(key=lambda t: [(0, x) if isinstance(x, int) else (1, str(x)) for x in t[0]], reverse=True)
        for loc, extra in targets:
            parent = work
            for x in loc[:-1]:
                parent = parent[x]
            try:
                del parent[loc[-1]]
            except (KeyError, IndexError):
                continue  # taken out already (two errors on one value)
            last = loc[-1]
            if isinstance(last, int):  # keep the file's numbering of the items left
                where = ".".join(map(str, loc[:-1]))
                numbers = items.setdefault(where, list(range(len(parent) + 1)))
                last = numbers.pop(last) if last < len(numbers) else last
            if not extra:
                dropped.append(".".join(map(str, (*loc[:-1], last))))
        try:
            return Scenario.model_validate(work), dropped, items
        except ValidationError as again:
            exc = again
        except RecursionError:
            return None, dropped, items
    return None, dropped, items


def _numbered_as_written(path: str, items: dict[str, list[int]]) -> str:
    """``path`` with the index into a list that lost items (see :func:`_without_refused`) as the file has it."""
    prefix, colon, body = path.rpartition(": ")  # "timeline.0.set: behaviours..." for a timeline change's
    for where, numbers in items.items():
        if body.startswith(where + "."):
            index, dot, tail = body[len(where) + 1:].partition(".")
            if index.isdigit() and int(index) < len(numbers):
                return f"{prefix}{colon}{where}.{numbers[int(index)]}{dot}{tail}"
    return path


def _deepest(data: Any, loc: tuple) -> tuple | None:
    """The longest start of pydantic's error location ``loc`` that names something in ``data`` (pydantic
    puts the branches of a union into the location, which name nothing); None when that is the whole file."""
    node, found = data, ()
    for x in loc:
        if isinstance(node, dict) and x in node:
            node, found = node[x], (*found, x)
        elif isinstance(node, list) and isinstance(x, int) and 0 <= x < len(node):
            node, found = node[x], (*found, x)
    return found or None


def _follows_from(problem: tuple[str, object, str], dropped: list[str]) -> bool:
    """Whether a cross-check ``problem`` may come only from a value taken out (see :func:`_without_refused`):
    it is about that value, a table holding it or inside it, a provenance mark of it, or names it."""
    path, value, _ = problem
    marked = path[len("provenance."):] if path.startswith("provenance.") else None
    for d in dropped:
        if path == d or path.startswith(d + ".") or d.startswith(path + ".") or (path.split(": ")[-1] == d):
            return True
        if marked is not None and (marked == d or marked.startswith(d + ".") or d.startswith(marked + ".")):
            return True
        if isinstance(value, str) and value == d.rsplit(".", 1)[-1] and d.count(".") == 1:
            return True  # a reference to a named entry (a behaviour, a channel...) taken out whole
    return False


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
        raise ScenarioError([(f"{where}.{p}" if p else where, v, m) for p, v, m in validation_problems(exc)]) \
            from None
    problems = cross_check(changed)
    if problems:  # only what the change brings: the scenario's own problems are reported once, for it
        before = {(p, repr(v), m) for p, v, m in cross_check(s)}
        problems = [(p, v, m) for p, v, m in problems if (p, repr(v), m) not in before]
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
            if isinstance(source, str) and find_preset(source) is not None:  # press_2018, as run names say it
                path = preset_path(source)
            else:
                raise ScenarioError([("scenario", str(source), f"no such file and no such preset; "
                                                               f"{unknown_preset(str(source))}")])
        data, label = _read_toml(path), str(source)
    else:
        raise ScenarioError([("scenario", type(source).__name__, "expected a preset name, path, dict or Scenario")])
    if overrides:
        if not isinstance(overrides, Mapping):
            overrides = dict(parse_override(o) for o in overrides)
        data = apply_overrides(data, overrides, create_entries=False)
    return _validate(data, label)
