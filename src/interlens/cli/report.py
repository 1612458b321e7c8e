"""``interlens report RUN_DIR``: (re)build ``report.html`` from a run's ``results.json`` alone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import console, friendly_errors


def report(run_dir: Annotated[Path, typer.Argument(help="A run folder holding results.json (or the file).")]
           ) -> None:
    """Build the run's static HTML report (tables, figures, provenance) beside its results.json."""
    from ..errors import DataError
    from ..report.html import build_html_report

    folder = run_dir.parent if run_dir.is_file() else run_dir
    if not (folder / "results.json").is_file():
        raise DataError("no results.json here (run a command with --out DIR first)", file=str(folder))
    console.print(f"report: [bold]{build_html_report(folder)}[/]")


def register(app: typer.Typer) -> None:
    app.command("report")(friendly_errors(report))
