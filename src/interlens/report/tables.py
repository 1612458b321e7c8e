"""Readable terminal tables (rich) and Markdown tables from plain rows."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if value is None:
        return "-"
    return str(value)


def rich_table(rows: Sequence[Mapping[str, Any]], title: str | None = None, columns: Sequence[str] | None = None,
               digits: int = 3) -> Table:
    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(str(col), justify="left" if col == columns[0] else "right")
    for row in rows:
        table.add_row(*[_fmt(row.get(c), digits) for c in columns])
    return table


#: characters that Markdown (CommonMark / GFM tables) or embedded HTML would interpret
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md_escape(text: Any) -> str:
    """``text`` as literal Markdown text (issue 30): HTML metacharacters become entities, Markdown
    punctuation is backslash-escaped, and newlines become spaces, so a user-controlled string (a dataset
    name, a label, a modality name) can neither format, link, inject HTML nor break a table row."""
    value = " ".join(str(text).splitlines())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, digits: int = 3) -> str:
    """A GFM table; every header and text cell is escaped with :func:`md_escape` (numbers are not)."""
    columns = list(columns or (rows[0].keys() if rows else []))

    def text(value: Any) -> str:
        shown = _fmt(value, digits)
        return shown if isinstance(value, int | float) and not isinstance(value, bool) else md_escape(shown)

    lines = ["| " + " | ".join(md_escape(c) for c in columns) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    lines += ["| " + " | ".join(text(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
