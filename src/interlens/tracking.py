"""Optional experiment tracking (``--tracker wandb|mlflow`` on ``bench run``, ``experts train``, ``train``).

After a run has written ``results.json``, :func:`log_run` logs its settings (the provenance block:
command, settings, seeds, scorer, datasets, limits, interlens version) and its final metrics to
Weights & Biases (offline mode, files under ``OUT/wandb``) or MLflow (a local file store,
``OUT/mlruns``). Neither package is a dependency: :func:`check_tracker` refuses a tracker whose
package is not installed with one line naming what to install, before any work.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import InterlensError


class Tracker(StrEnum):
    """``--tracker`` choices."""

    WANDB = "wandb"    # Weights & Biases, offline
    MLFLOW = "mlflow"  # MLflow, local file store


#: the package each tracker needs
PACKAGES = {Tracker.WANDB: "wandb", Tracker.MLFLOW: "mlflow"}


class TrackerUnavailable(InterlensError, RuntimeError):
    """The tracker's package is not installed (one line in the CLI, exit 2)."""


def check_tracker(tracker: Tracker | str | None) -> Tracker | None:
    """``tracker`` as a :class:`Tracker` (None: no tracking); refuses one whose package is missing."""
    if tracker is None:
        return None
    kind = Tracker(tracker)
    package = PACKAGES[kind]
    if importlib.util.find_spec(package) is None:
        raise TrackerUnavailable(f"--tracker {kind.value} needs the package {package!r}, which is not installed: "
                                 f"pip install {package}")
    return kind


def flatten(data: Any, prefix: str = "", *, numeric: bool = False) -> dict[str, Any]:
    """Nested mappings as ``{"a/b/c": leaf}``; ``numeric``: finite numbers only (lists are skipped)."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}/{key}" if prefix else str(key), numeric=numeric))
    elif numeric:
        if isinstance(data, int | float) and not isinstance(data, bool) and math.isfinite(data):
            out[prefix] = float(data)
    elif prefix:
        out[prefix] = data
    return out


def run_settings(results: Mapping[str, Any]) -> dict[str, Any]:
    """What is logged as the run's parameters: its provenance (or its ``settings`` when it has none)."""
    prov = results.get("provenance")
    if not isinstance(prov, Mapping):
        return dict(results.get("settings") or {})
    scorer = prov.get("scorer") or {}
    return {"command": prov.get("command"), "interlens_version": prov.get("interlens_version"),
            "interlens_revision": prov.get("interlens_revision"), "settings": prov.get("settings") or {},
            "seeds": prov.get("seeds"), "limits": prov.get("limits") or {},
            "scorer": {"name": scorer.get("name"), "params": scorer.get("params") or {}} if scorer else None,
            "datasets": {d.get("name"): d.get("fingerprint") for d in prov.get("datasets") or []}}


def final_metrics(results: Mapping[str, Any]) -> dict[str, float]:
    """The run's final metrics, flat: bench ``<task>/<metric>/<mean|std>``, experts
    ``<strategy>/<metric>_<mean|std>``, train ``train/...`` and ``test/<task>/<metric>``."""
    out: dict[str, float] = {}
    for task in results.get("tasks") or []:  # bench run
        if isinstance(task, Mapping):
            out.update(flatten(task.get("summary") or {}, str(task.get("task")), numeric=True))
    summary = results.get("summary")
    if isinstance(summary, Mapping):  # experts train: mean / std over seeds per fusion strategy
        for row in summary.get("rows") or []:
            out.update(flatten({k: v for k, v in row.items() if k != "strategy"}, str(row.get("strategy")),
                               numeric=True))
    train = results.get("train")
    if isinstance(train, Mapping):  # interlens train (LoRA)
        losses = train.get("losses") or []
        out.update(flatten({"best_score": train.get("best_score"), "steps": len(losses),
                            "final_loss": losses[-1] if losses else None, "seconds": train.get("seconds")},
                           "train", numeric=True))
        out.update(flatten(results.get("test") or {}, "test", numeric=True))
    return out


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:500]  # MLflow's parameter length limit


def log_run(tracker: Tracker | str, out: str | Path, results: Mapping[str, Any], *, name: str | None = None
            ) -> Path:
    """Log ``results``' settings and final metrics to ``tracker`` (offline / local, under ``out``);
    returns the tracker's folder."""
    kind = check_tracker(tracker)
    out = Path(out).resolve()
    settings, metrics = run_settings(results), final_metrics(results)
    name = name or out.name
    if kind is Tracker.WANDB:
        import wandb

        folder = out / "wandb"
        folder.mkdir(parents=True, exist_ok=True)
        run = wandb.init(mode="offline", dir=str(out), project="interlens", name=name, config=settings,
                         reinit=True)
        run.summary.update(metrics)
        run.finish()
        return folder
    import mlflow

    folder = out / "mlruns"
    mlflow.set_tracking_uri(folder.as_uri())
    mlflow.set_experiment("interlens")
    with mlflow.start_run(run_name=name):
        params = {k.replace(" ", "_"): _param(v) for k, v in flatten(settings).items()}
        mlflow.log_params(params)
        mlflow.log_metrics({k.replace(" ", "_").replace(":", "_"): v for k, v in metrics.items()})
    return folder
