"""CLI sub-commands (filled in by the module owner)."""

import typer

app = typer.Typer(no_args_is_help=True)
