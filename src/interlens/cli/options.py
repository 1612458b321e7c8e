"""Options shared by several commands."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cache import PredictionCache
from ..errors import DataError

DataRoot = Annotated[Path | None, typer.Option(help="Folder holding the datasets (default: $INTERLENS_DATA "
                                                    "or ../shared/data).")]
CachePath = Annotated[Path | None, typer.Option(help="SQLite prediction cache (default: $INTERLENS_CACHE or "
                                                     "~/.cache/interlens/predictions.sqlite).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Recompute everything; do not read or write the cache.")]


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """``["epochs=10", "fusion=late"]`` -> ``{"epochs": 10, "fusion": "late"}`` (JSON values when they parse)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise DataError(f"expected KEY=VALUE, got {item!r}", field="option")
        try:
            out[key.strip().replace("-", "_")] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip().replace("-", "_")] = raw
    return out


@contextlib.contextmanager
def open_cache(path: Path | None, disabled: bool) -> Iterator[PredictionCache | None]:
    if disabled:
        yield None
        return
    store = PredictionCache(path)
    try:
        yield store
    finally:
        store.close()
