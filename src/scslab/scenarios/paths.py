"""Dotted paths into a scenario's nested tables: ``--set path.to.key=value``, timeline changes, knobs.

:func:`parse_override` reads one ``--set``; :func:`set_path` writes a value at a dotted path (refusing, for
``--set``, to make up a new named entry such as a misspelt behaviour); :func:`lookup` and :func:`assign`
read and write an existing value, also inside a timeline entry's table of dotted keys.
"""

from __future__ import annotations

import copy
import sys
import types
import typing
from typing import Any, Mapping

from pydantic import BaseModel

from ..errors import OptionError, ScenarioError
from .schema import Scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["parse_override", "set_path", "apply_overrides", "lookup", "assign"]


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``path.to.key=value``; the value is read as a TOML value, else kept as a string."""
    if "=" not in text:
        raise OptionError("--set", text, "expected path.to.key=value")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that are not UTF-8 on the command line arrive as surrogates
        raise OptionError("--set", text.encode("utf-8", "backslashreplace").decode(),
                          f"is not valid UTF-8 (position {exc.start})") from None
    key, _, value = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise OptionError("--set", text, "the path must be dotted names like behaviours.jaywalking.points")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    except RecursionError:
        raise OptionError("--set", key, "the value is nested too deeply") from None
    return key, parsed


def _unwrap(node: Any) -> Any:
    """A type without its ``Annotated`` and ``Optional`` wrappers."""
    for _ in range(4):
        origin = typing.get_origin(node)
        if origin is typing.Annotated:
            node = typing.get_args(node)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(node) if a is not type(None)]
            if len(args) != 1:
                return node
            node = args[0]
        else:
            return node
    return node


def _entry_table(parts: list[str]) -> Any:
    """The schema field of the table at ``parts`` when it holds named entries that are tables themselves
    (behaviours, channels, lists, consequences, accounts, regions, entities...); None otherwise."""
    node: Any = Scenario
    field = None
    for part in parts:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part)
            if field is None:
                return None
            node = field.annotation
        elif typing.get_origin(node) in (dict, list):
            field, node = None, typing.get_args(node)[-1]
        else:
            return None
    node = _unwrap(node)
    if field is None or typing.get_origin(node) is not dict:
        return None
    value = _unwrap(typing.get_args(node)[1])
    return field if isinstance(value, type) and issubclass(value, BaseModel) else None


def _no_entry(parts: list[str], i: int, present: Mapping[str, Any]) -> str:
    """The message for ``--set`` naming an entry ``parts[i]`` that the table ``parts[:i]`` does not hold."""
    import difflib

    table, name = parts[i - 1], parts[i]
    kind = {"entities": "entity", "consequences": "consequence"}.get(table, table[:-1] if table.endswith("s")
                                                                      else table)
    near = difflib.get_close_matches(name, list(map(str, present)), n=1, cutoff=0.6)
    return (f"no {kind} {name!r} in {'.'.join(parts[:i])}" + (f"; did you mean {near[0]!r}?" if near else "")
            + f" ({'.'.join(parts[:i])}: {', '.join(map(str, present)) or 'none'}; --set changes values, it does "
              "not add entries)")


def set_path(data: dict[str, Any], key: str, value: Any, *, must_exist: bool, where: str,
              create_entries: bool = True) -> None:
    """Set dotted ``key`` in ``data``; without ``must_exist`` missing tables are made, except (without
    ``create_entries``) a new named entry such as a behaviour: a misspelt name is refused, not added."""
    parts = key.split(".")
    node: Any = data
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            continue
        if not isinstance(node, dict) or part not in node:
            if must_exist or not isinstance(node, dict):
                raise _where_error(where, key, f"no such table {'.'.join(parts[: i + 1])!r} in the scenario")
            field = None if create_entries or i == 0 else _entry_table(parts[:i])
            if field is not None and (node or part not in (field.get_default(call_default_factory=True) or {})):
                raise _where_error(where, key, _no_entry(parts, i, node))
            node[part] = {}
        node = node[part]
    leaf = parts[-1]
    if isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node):
        node[int(leaf)] = value
    elif isinstance(node, dict):
        if must_exist and leaf not in node:
            raise _where_error(where, key, f"no such key {leaf!r}; present: {', '.join(map(str, node)) or '-'}")
        node[leaf] = value
    else:
        raise _where_error(where, key, "path goes through a value that is not a table")


def _where_error(where: str, key: str, message: str) -> ScenarioError:
    """A problem of a path given ``where``: an option's (``--set``) is an :class:`OptionError`."""
    if where.startswith("--"):
        return OptionError(where, key, message)
    return ScenarioError([(where, key, message)])


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
                    where: str = "--set", create_entries: bool = True) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for key, value in overrides.items():  # (a copy: a later key may change a table an earlier one set)
        set_path(out, key, copy.deepcopy(value), must_exist=must_exist, where=where, create_entries=create_entries)
    return out
