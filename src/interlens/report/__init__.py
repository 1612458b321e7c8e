"""Reports: terminal tables, Markdown, PNG plots."""

from .tables import markdown_table, rich_table

__all__ = ["markdown_table", "rich_table"]
