"""Top-level commands: demo, predict."""

import typer


def register(app: typer.Typer) -> None:
    """Attach top-level commands to ``app``."""
