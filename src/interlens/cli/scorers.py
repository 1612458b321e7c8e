"""``interlens scorers``: the registered scorers, their capabilities and the method x scorer matrix."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import console, friendly_errors


def register(app: typer.Typer) -> None:
    @app.command("scorers")
    @friendly_errors
    def scorers(markdown: Annotated[bool, typer.Option("--markdown", help="Print the matrix as Markdown.")] = False
                ) -> None:
        """List scorers (capabilities, modality kinds) and which methods run with each."""
        from rich.table import Table

        from ..methods.matrix import METHOD_NEEDS, matrix_markdown, supports
        from ..scoring.matrix import scorer_rows
        from ..scoring.registry import registered_scorers

        if markdown:
            typer.echo(matrix_markdown(), nl=False)
            return
        table = Table(title="scorers")
        for col in ("scorer", "reads kinds", "capabilities", "parameters"):
            table.add_column(col)
        classes = registered_scorers()
        for row in scorer_rows():
            params = ", ".join(classes[row["scorer"]].param_names())
            table.add_row(row["scorer"], ", ".join(row["modality_kinds"]), ", ".join(row["capabilities"]), params)
        console.print(table)
        matrix = Table(title="method x scorer")
        matrix.add_column("method")
        for name in classes:
            matrix.add_column(name, justify="center")
        for method in METHOD_NEEDS:
            matrix.add_row(method, *("yes" if supports(cls, method) else "[red]refused[/]" for cls in classes.values()))
        console.print(matrix)
