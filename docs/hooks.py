"""MkDocs hooks. scslab's docstrings name other objects with Sphinx roles (:class:`Result`,
:func:`~scslab.run`), which Markdown would show raw; on the rendered page each becomes a code span of the
name (the last part of a dotted name written with ``~``, as Sphinx shows it)."""

import re

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):<code>([~!]?)([^<]*)</code>")


def _code(match: re.Match) -> str:
    mark, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if mark == '~' else name}</code>"


def on_page_content(html, page, config, files):  # noqa: ARG001 - MkDocs' hook signature
    return ROLE.sub(_code, html)
