"""Shared CLI helpers: error handling, results.json output, console."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from ..errors import InterlensError
from ..io import write_json

console = Console(soft_wrap=True)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn interlens errors into a one-line red message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InterlensError as err:
            console.print(f"[bold red]error:[/] {escape(str(err))}")
            raise typer.Exit(2) from None

    return wrapper


def write_results(out: Path, results: dict[str, Any]) -> Path:
    """Write ``out/results.json`` atomically and say where."""
    path = write_json(Path(out) / "results.json", results)
    console.print(f"results: [bold]{path}[/]")
    return path
