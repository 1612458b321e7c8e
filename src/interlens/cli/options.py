"""Options shared by several commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from ..cache import PredictionCache
from ..execution.base import ExecutorKind
from ..tracking import Tracker

DataRoot = Annotated[Path | None, typer.Option(help="Folder holding the datasets (default: $INTERLENS_DATA "
                                                    "or ../shared/data).")]
CachePath = Annotated[Path | None, typer.Option(help="SQLite prediction cache (default: $INTERLENS_CACHE or "
                                                     "~/.cache/interlens/predictions.sqlite).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Recompute everything; do not read or write the cache.")]
ExecutorOption = Annotated[ExecutorKind, typer.Option("--executor", help="Where independent work runs: local (this "
                                                                         "process) or ray (Ray tasks / actors).")]
TrackerOption = Annotated[Tracker | None, typer.Option("--tracker", help="Also log to wandb (offline, OUT/wandb) or "
                                                                        "mlflow (local store, OUT/mlruns): each epoch "
                                                                        "and finished unit while the run goes, then "
                                                                        "settings and final metrics; needs the package "
                                                                        "(docs/tracking.md).")]
RayAddress = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster HOST:PORT for --executor ray "
                                                                      "(default: $RAY_ADDRESS, else a local Ray "
                                                                      "runtime sized to this machine).")]


def parse_options(items: list[str] | None) -> dict[str, Any]:
    """``["epochs=10", "fusion=late"]`` -> ``{"epochs": 10, "fusion": "late"}`` (JSON values when they parse):
    :func:`interlens.methods.config.parse_overrides`, the one KEY=VALUE parser (issue 29)."""
    from ..methods.config import parse_overrides

    return parse_overrides(items)


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


# -- the options every method command shares (same meaning everywhere) ------------------------------
DatasetSpec = Annotated[str, typer.Option("--dataset", help="A registered dataset name (`interlens data list`), "
                                                           "'synthetic', or a path to a dataset file (YAML).")]
DatasetOptions = Annotated[list[str] | None, typer.Option("--dataset-option", "-d",
                                                         help="KEY=VALUE option of the dataset loader (repeatable).")]
ScorerName = Annotated[str, typer.Option("--scorer", help="Registered scorer name (`interlens scorers`).")]
ScorerOptions = Annotated[list[str] | None, typer.Option("--scorer-option", "-s",
                                                        help="KEY=VALUE scorer parameter (repeatable); unknown "
                                                             "keys are refused.")]


def build_scorer(name: str, options: list[str] | None, **defaults: Any) -> Any:
    """A registered scorer from ``--scorer`` and ``-s KEY=VALUE`` (``defaults`` fill keys not given)."""
    from ..scoring.registry import make_scorer, scorer_class

    params = parse_options(options)
    known = scorer_class(name).param_names()
    for key, value in defaults.items():
        if key in known:
            params.setdefault(key, value)
    scorer = make_scorer(name, **params)
    from .common import note_scorer

    note_scorer(scorer)  # recorded in results.json's provenance
    return scorer


def load_data(spec: str, data_root: Path | None, options: list[str] | dict[str, Any] | None) -> Any:
    """The dataset behind ``--dataset`` (a registered name or a dataset file) with ``-d`` options."""
    from ..data import resolve_dataset
    from .common import note_dataset

    opts = options if isinstance(options, dict) else parse_options(options)
    data = resolve_dataset(spec, data_root, **opts)
    note_dataset(data)  # name + fingerprint recorded in results.json's provenance
    return data
