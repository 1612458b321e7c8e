"""``interlens verify PATH``: re-derive every number of results files from their stored predictions
(issue 26, item 3; :mod:`interlens.evidence.verify`). Exit 0 all agree, 1 a mismatch, 2 a missing or
tampered stored-predictions / sidecar file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import console, err_console, friendly_errors


def verify(path: Annotated[Path, typer.Argument(help="A results.json, a run folder, or a folder tree such as "
                                                     "benchmarks/results.")]) -> None:
    """Recompute every metric, floor, CI and p-value a results file states from its stored predictions (and
    check sealed studies and bench unit files); name each mismatch."""
    from ..evidence.verify import verify_path

    report = verify_path(path)
    table = Table("file", "checked", "re-derived", "not re-derivable (why)", "result")
    for f in report.files:
        name = f.path.relative_to(path).as_posix() if path.is_dir() and f.path.is_relative_to(path) else str(f.path)
        why = "; ".join(f"{n} {reason}" for reason, n in sorted(f.not_derivable.items())) or "-"
        table.add_row(name, f.how, str(f.derived), why, f.status)
    console.print(table)
    for line in report.mismatches:
        console.print(f"mismatch: {line}", markup=False, highlight=False)
    for line in report.errors:
        err_console.print(f"error: {line}", markup=False, highlight=False)
    not_derivable = sum(n for f in report.files for n in f.not_derivable.values())
    console.print(f"verify: {len(report.files)} files, {report.derived} numbers re-derived, "
                  f"{not_derivable} not re-derivable, {len(report.mismatches)} mismatches, "
                  f"{len(report.errors)} missing/tampered files", markup=False, highlight=False)
    raise typer.Exit(report.exit_code)


def register(app: typer.Typer) -> None:
    app.command("verify")(friendly_errors(verify))
