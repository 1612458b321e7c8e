"""Readable terminal tables (rich) and Markdown tables from plain rows."""

from __future__ import annotations

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


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, digits: int = 3) -> str:
    columns = list(columns or (rows[0].keys() if rows else []))
    lines = ["| " + " | ".join(map(str, columns)) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|"]
    lines += ["| " + " | ".join(_fmt(row.get(c), digits) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
