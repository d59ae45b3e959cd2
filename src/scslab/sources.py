"""scslab's table of sources (``scenarios/sources.toml``) and the citations in scenario marks.

A ``[provenance]`` mark cites a source by its id in square brackets, at the end of the mark:
``"documented: 2 years (= 2 * 365) [spc-provisions-2017-art2]"``; several ids are separated by commas,
``[a], [b]``. A ``documented:`` mark must cite at least one id, every cited id must be in the table, a
documented mark cannot rest on an unsourced claim, and it must not say that its value is assumed (split the key
instead, so that each number's mark is true). A mark may state a conversion from the source's value to the
scenario's number as ``(= EXPR)``, where EXPR uses numbers, ``+ - * /`` and parentheses only.

:func:`mark_problems` checks the citations (the scenario loader runs it); :func:`value_problems` checks that
each number a documented mark covers equals a cited value or a stated conversion (the tests run it on every
preset).
"""

from __future__ import annotations

import ast
import difflib
import functools
import math
import operator
import re
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any, Iterable, Mapping

from .errors import ScslabError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Source", "sources", "source", "near", "cited_ids", "conversions", "evaluate", "mark_problems",
           "value_problems", "cited_sources", "sources_markdown", "link_definitions", "html_mark", "html_sources",
           "BOUNDARY", "STATUSES", "DOCUMENTS"]

BOUNDARY = ("Synthetic population: these are estimates from a model, not a measurement of any real "
            "population.")
"""The boundary statement every ODD description and report carries."""

STATUSES = ("verified", "secondary", "derived", "definition", "unsourced")
"""What a source's status may be (see the header of ``sources.toml``)."""

DOCUMENTS = ("verified", "secondary", "derived", "definition")
"""The statuses a ``documented:`` mark may cite."""

ID = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
CITE = re.compile(r"\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\]")
DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?|n\.d\.")
ASSUMED = re.compile(r"\bassum", re.IGNORECASE)
TOLERANCE = 5e-3
"""Relative difference allowed between a scenario's number and the cited value (rounding)."""

_FIELDS = ("status", "value", "unit", "date", "publication", "address", "note")


@dataclass(frozen=True)
class Source:
    """One entry of the table: a published figure or rule."""

    id: str
    status: str
    value: Any
    unit: str
    date: str
    publication: str
    address: str
    note: str

    def numbers(self) -> list[float]:
        """Every number in the value (a number, a list, or a table of numbers and lists)."""
        return list(_numbers(self.value))

    def value_text(self) -> str:
        """The value as one line of text."""
        return _fmt(self.value)

    @property
    def is_url(self) -> bool:
        return self.address.startswith(("http://", "https://"))


def _numbers(value: Any) -> Iterable[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield float(value)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1e4 and value == int(value) else f"{value:g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {_fmt(v)}" for k, v in value.items())
    return str(value)


def _check_entry(key: str, entry: Any) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{key}: not a table"]
    problems = [f"{key}: missing field {f!r}" for f in _FIELDS if f not in entry]
    problems += [f"{key}: unknown field {f!r}" for f in entry if f not in _FIELDS]
    if not ID.fullmatch(key):
        problems.append(f"{key}: an id is lower-case words and digits joined by hyphens")
    if problems:
        return problems
    if entry["status"] not in STATUSES:
        problems.append(f"{key}: status {entry['status']!r}; allowed: {', '.join(STATUSES)}")
    if not isinstance(entry["date"], str) or not DATE.fullmatch(entry["date"]):
        problems.append(f"{key}: date {entry['date']!r}; allowed: YYYY, YYYY-MM, YYYY-MM-DD or n.d.")
    for f in ("unit", "publication", "address", "note"):
        if not isinstance(entry[f], str):
            problems.append(f"{key}: {f} must be text")
    if entry["status"] != "unsourced" and not entry["address"]:
        problems.append(f"{key}: address is empty (only an unsourced claim may have none)")
    value = entry["value"]
    if not (isinstance(value, str) and value or list(_numbers(value))):
        problems.append(f"{key}: value must be a text or hold numbers")
    return problems


@functools.lru_cache(maxsize=1)
def sources() -> dict[str, Source]:
    """The table, by id (read once from the package's ``scenarios/sources.toml``)."""
    text = resources.files("scslab.scenarios").joinpath("sources.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    problems = [p for key, entry in raw.items() for p in _check_entry(key, entry)]
    if problems:
        raise ScslabError("invalid table of sources: " + "; ".join(problems))
    return {key: Source(id=key, **entry) for key, entry in raw.items()}


def source(source_id: str) -> Source:
    """The entry ``source_id``; a KeyError naming near ids if there is none."""
    table = sources()
    if source_id not in table:
        raise KeyError(f"no source {source_id!r}; near: {', '.join(near(source_id)) or '-'}")
    return table[source_id]


def near(source_id: str, n: int = 5) -> list[str]:
    """Ids close to ``source_id``: similar spellings first, then ids sharing its first word."""
    ids = list(sources())
    out = difflib.get_close_matches(source_id, ids, n=n, cutoff=0.6)
    head = source_id.split("-")[0]
    out += [i for i in ids if i.split("-")[0] == head and i not in out]
    return out[:n]


def cited_ids(mark: str) -> list[str]:
    """The source ids a mark cites (``[id]``), in order, each once."""
    return list(dict.fromkeys(CITE.findall(mark)))


def conversions(mark: str) -> list[str]:
    """The expressions of the conversions a mark states as ``(= EXPR)``."""
    out, i = [], 0
    while (start := mark.find("(=", i)) >= 0:
        depth, j = 0, start
        while j < len(mark):
            depth += {"(": 1, ")": -1}.get(mark[j], 0)
            if depth == 0:
                break
            j += 1
        out.append(mark[start + 2:j].strip())
        i = j + 1
    return out


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _operands(expr: str) -> list[float]:
    tree = ast.parse(expr, mode="eval")
    return [float(n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)]


def evaluate(expr: str) -> float:
    """The value of an arithmetic expression of numbers, ``+ - * /`` and parentheses. Anything else (names,
    calls, powers, attributes) is a ValueError: nothing is executed."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        raise ValueError(f"not allowed in a conversion: {ast.dump(node)[:60]}")

    if len(expr) > 200:
        raise ValueError("a conversion is at most 200 characters")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expr!r}") from exc
    try:
        return ev(tree)
    except ZeroDivisionError as exc:
        raise ValueError(f"division by zero in {expr!r}") from exc


def mark_problems(provenance: Mapping[str, str]) -> list[tuple[str, object, str]]:
    """``(path, value, message)`` for each citation problem in a scenario's provenance marks: an unknown id
    (any mark), and for a ``documented:`` mark no id, an unsourced id, or the word 'assumed'."""
    table = sources()
    problems: list[tuple[str, object, str]] = []
    for key, mark in provenance.items():
        path = f"provenance.{key}"
        ids = cited_ids(mark)
        for i in ids:
            if i not in table:
                close = near(i)
                problems.append((path, i, "unknown source id" + (f"; near: {', '.join(close)}" if close else "")
                                 + " (scslab sources lists them all)"))
        if not mark.startswith("documented:"):
            continue
        if not ids:
            problems.append((path, mark, "a documented mark cites its sources by id at its end, as "
                                         "'documented: WHAT [source-id]' (scslab sources lists the ids); "
                                         "mark a value without a listed source 'assumed: ...'"))
        for i in ids:
            if i in table and table[i].status not in DOCUMENTS:
                problems.append((path, i, f"source {i!r} is {table[i].status}: it cannot document a value"))
        if ASSUMED.search(mark):
            problems.append((path, mark, "a documented mark must not say 'assumed': give the assumed values "
                                         "their own 'assumed: ...' keys"))
    return problems


def _covered(data: Mapping[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """For each provenance key, the numbers (path, value) it is the most specific mark of."""
    marks = list((data.get("provenance") or {}).keys())
    out: dict[str, list[tuple[str, float]]] = {m: [] for m in marks}

    def leaves(node: Any, prefix: str):
        if isinstance(node, Mapping):
            for k, v in node.items():
                yield from leaves(v, f"{prefix}{k}.")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from leaves(v, f"{prefix}{i}.")
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            yield prefix[:-1], float(node)

    body = {k: v for k, v in data.items() if k != "provenance"}
    for path, value in leaves(body, ""):
        owners = [m for m in marks if path == m or path.startswith(m + ".")]
        if owners:
            out[max(owners, key=len)].append((path, value))
    return out


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-12)


def value_problems(data: Mapping[str, Any]) -> list[str]:
    """For a raw scenario (as read from TOML): each number covered by a ``documented:`` mark that is neither a
    number of the cited sources nor the result of a conversion the mark states; each conversion that is not
    arithmetic or uses no number of its cited sources."""
    table = sources()
    problems = []
    for key, numbers in _covered(data).items():
        mark = data["provenance"][key]
        if not mark.startswith("documented:"):
            continue
        cited = [table[i] for i in cited_ids(mark) if i in table]
        facts = [x for s in cited for x in s.numbers()]
        targets = list(facts)
        for expr in conversions(mark):
            try:
                targets.append(evaluate(expr))
            except ValueError as exc:
                problems.append(f"provenance.{key}: conversion {expr!r}: {exc}")
                continue
            if not any(_close(abs(x), abs(f)) for x in _operands(expr) for f in facts):
                problems.append(f"provenance.{key}: conversion {expr!r} uses no value of "
                                f"{', '.join(s.id for s in cited) or 'its sources'}")
        for path, value in numbers:
            if not any(_close(value, t) for t in targets):
                problems.append(f"{path} = {value:g}: not a value of {', '.join(s.id for s in cited) or '-'} "
                                f"({', '.join(f'{x:g}' for x in facts) or 'no numbers'}) nor a conversion "
                                "stated as (= EXPR) in its mark")
    return problems


def cited_sources(marks: Iterable[str]) -> list[Source]:
    """The known sources the marks cite, in order of first citation."""
    table = sources()
    ids = dict.fromkeys(i for m in marks for i in cited_ids(m))
    return [table[i] for i in ids if i in table]


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def sources_markdown(entries: Iterable[Source] | None = None, *, heading: str = "###") -> str:
    """The entries (default: the whole table) as Markdown: one subsection per source."""
    out = []
    for s in (sources().values() if entries is None else entries):
        address = f"<{s.address}>" if s.is_url else (f"`{s.address}` in the scslab repository" if s.address
                                                     else "none")
        out += [f"{heading} {s.id}", "",
                f"- **Value**: {_cell(s.value_text())} ({_cell(s.unit)})",
                f"- **Date**: {s.date}; **status**: {s.status}",
                f"- **Publication**: {_cell(s.publication)}",
                f"- **Address**: {address}",
                f"- **Note**: {_cell(s.note)}", ""]
    return "\n".join(out)


def link_definitions(entries: Iterable[Source]) -> str:
    """Markdown link reference definitions, so that each ``[id]`` in a document links to its address (a source
    whose address is in the repository links to its own section, ``#id``, of a document that lists it)."""
    return "\n".join(f"[{s.id}]: {s.address if s.is_url else '#' + s.id}" for s in entries)


def html_mark(mark: str) -> str:
    """A mark as HTML: escaped, each cited id linked to its row in :func:`html_sources`'s table (which shows the
    address; a report links nothing outside itself, so that it opens offline)."""
    import html

    table = sources()

    def link(m: re.Match) -> str:
        return f"<a href='#source-{m.group(1)}'>{m.group(0)}</a>" if m.group(1) in table else m.group(0)

    return CITE.sub(link, html.escape(mark, quote=False))


def html_sources(marks: Iterable[str]) -> str:
    """An HTML table of the sources the marks cite, each row anchored at ``source-ID`` (empty if none)."""
    import html

    entries = cited_sources(marks)
    if not entries:
        return ""
    rows = ["<table><tr><th>id</th><th>value</th><th>unit</th><th>date</th><th>publication</th><th>address</th>"
            "<th>note</th></tr>"]
    for s in entries:
        address = html.escape(s.address) + ("" if s.is_url or not s.address else " (in the scslab repository)")
        rows.append(f"<tr id='source-{s.id}'><td>{s.id}</td><td>{html.escape(s.value_text())}</td>"
                    f"<td>{html.escape(s.unit)}</td><td>{s.date}</td><td>{html.escape(s.publication)}</td>"
                    f"<td>{address}</td><td>{html.escape(s.note)} ({s.status})</td></tr>")
    return "\n".join(rows + ["</table>"])
