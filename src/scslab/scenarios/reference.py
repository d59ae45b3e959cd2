"""The scenario reference, generated from the schema: every field with type, default, allowed values,
description and an example from the presets. The documentation site builds its page from this, so the
reference is never written twice and never disagrees with the code."""

from __future__ import annotations

import json
from typing import Any

from .load import preset_names, preset_path
from .schema import Scenario

__all__ = ["reference_markdown"]


def _presets() -> dict[str, dict]:
    import tomllib

    out = {}
    for name in preset_names():
        with open(preset_path(name), "rb") as fh:
            out[name] = tomllib.load(fh)
    return out


def _example(presets: dict[str, dict], parts: list[str]) -> tuple[str, Any] | None:
    """The first preset value at ``parts``, where NAME stands for any key."""
    for preset, data in presets.items():
        nodes = [data]
        for part in parts:
            nxt = []
            for node in nodes:
                if isinstance(node, dict):
                    nxt += list(node.values())[:1] if part == "NAME" else ([node[part]] if part in node else [])
            nodes = nxt
        if nodes and not isinstance(nodes[0], dict):
            return preset, nodes[0]
    return None


def _type(prop: dict, defs: dict) -> tuple[str, str]:
    """(type, allowed values) of a JSON-schema property, in words."""
    if not isinstance(prop, dict):  # additionalProperties: true
        return "any value", ""
    if "$ref" in prop:
        return "table", ""
    if "anyOf" in prop:
        parts = [_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return " or ".join(t for t, _ in parts), "; ".join(a for _, a in parts if a)
    if "enum" in prop or "const" in prop:
        values = prop.get("enum", [prop.get("const")])
        return "string", ", ".join(f'"{v}"' for v in values)
    t = prop.get("type", "any")
    allowed = []
    if "minimum" in prop or "exclusiveMinimum" in prop or "maximum" in prop or "exclusiveMaximum" in prop:
        lo = prop.get("minimum", prop.get("exclusiveMinimum"))
        hi = prop.get("maximum", prop.get("exclusiveMaximum"))
        lo_b = "[" if "minimum" in prop else "("
        hi_b = "]" if "maximum" in prop else ")"
        allowed.append(f"{lo_b}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{hi_b}")
    if "pattern" in prop:
        allowed.append(f"matches `{prop['pattern']}`")
    if t == "array":
        inner, a = _type(prop.get("items", {}), defs)
        if a:
            allowed.append(f"items {a}")
        return f"list of {inner}", "; ".join(allowed)
    if t == "object":
        inner, a = _type(prop.get("additionalProperties") or next(iter(prop.get("patternProperties", {}).values()),
                                                                    {}), defs)
        return f"table of {inner}", a
    return t, "; ".join(allowed)


def _default(model_name: str, field: str) -> str:
    from pydantic_core import to_jsonable_python

    from . import schema

    info = getattr(schema, model_name).model_fields[field]
    return json.dumps(to_jsonable_python(info.get_default(call_default_factory=True)))


def _model_of(prop: dict) -> str | None:
    for candidate in [prop, *prop.get("anyOf", []), *prop.get("patternProperties", {}).values(),
                      prop.get("items", {})]:
        if "$ref" in candidate:
            return candidate["$ref"].split("/")[-1]
    return None


def reference_markdown() -> str:
    """The whole reference as Markdown: one section per table, one row per field."""
    schema = Scenario.model_json_schema()
    defs = schema["$defs"]
    presets = _presets()
    lines = ["# Scenario reference", "",
             "Generated from the schema (`src/scslab/scenarios/schema.py`). `NAME` stands for a name you "
             "choose (letters, digits, underscores). Cross-checks that relate fields (references, tier order, "
             "shares summing to 1) are listed in [Scenario files](../scenario.md).", ""]
    todo: list[tuple[list[str], dict, str]] = [([], schema, "Scenario")]
    seen = set()
    while todo:
        parts, model, title = todo.pop(0)
        table = ".".join(parts) if parts else "(top level)"
        if table in seen:
            continue
        seen.add(table)
        array = parts and parts[-1] == "timeline"
        lines += [(f"## `[[{table}]]`" if array else f"## `[{table}]`") if parts else "## Top level", ""]
        if model.get("description"):
            lines += [model["description"].split("\n")[0], ""]
        lines += ["| field | type | default | allowed | description | example |", "|---|---|---|---|---|---|"]
        required = set(model.get("required", []))
        for field, prop in model.get("properties", {}).items():
            ftype, allowed = _type(prop, defs)
            default = "required" if field in required else _default(title, field)
            if default and len(default) > 40:
                default = "(see below)"
            desc = prop.get("description", "").replace("\n", " ").replace("|", "/")
            ex = _example(presets, parts + [field])
            example = f"`{json.dumps(ex[1])}` ({ex[0]})" if ex and len(json.dumps(ex[1])) < 40 else ""
            lines.append(f"| `{field}` | {ftype} | {default} | {allowed} | {desc} | {example} |")
            sub = _model_of(prop)
            if sub:
                keyed = "patternProperties" in prop or any("patternProperties" in p for p in prop.get("anyOf", []))
                todo.append((parts + [field] + (["NAME"] if keyed else []), defs[sub], sub))
        lines.append("")
    return "\n".join(lines)
