"""Optional experiment tracking (``--tracker wandb|mlflow`` on ``bench run``, ``experts train``, ``train``).

Live, during the run (issue 28 item 5): :func:`start_run` checks the tracker's package and arms a tracker
run for the command's ``--out``; it opens with the first metric reported while the work goes
(:func:`interlens.progress.report_metrics`: each epoch's loss and dev macro-F1 / ACC of minilm-ft, each
LoRA step's loss and each validation of the Hugging Face LM trainer, each finished bench unit's metrics),
each sent as it happens with its step. Training code imports no tracker: it calls that one function, a
no-op while no run is armed. Metrics are reported by the process that holds the run (``--executor
local``); units run on Ray workers send their unit metrics (from the driver) but not their epochs.

At the end, after ``results.json`` is written, :func:`log_run` logs the run's settings (the provenance
block: command, settings, seeds, scorer, datasets, limits, interlens version) and its final metrics into the
same run and closes it. A command that fails leaves its run marked failed (at the next :func:`start_run` or
at exit), with the metrics it reached.

Stores: Weights & Biases offline (files under ``OUT/wandb``) or MLflow's local file store (``OUT/mlruns``;
``mlflow ui --backend-store-uri OUT/mlruns``; MLflow 3 keeps that store in maintenance mode behind
``MLFLOW_ALLOW_FILE_STORE``, which is set to ``true`` here unless already set). Neither package is a
dependency: :func:`check_tracker` refuses a tracker whose package is not installed with one line naming
what to install, before any work.
"""

from __future__ import annotations

import atexit
import importlib.util
import math
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .errors import InterlensError
from .progress import set_metrics_sink


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
    ``<strategy>/<metric>_<mean|std>``, train (LoRA) ``train/...`` and ``test/<task>/<metric>``, train (any
    other scorer) ``train/fit_seconds``."""
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
    elif "fit_seconds" in results:  # interlens train of any other trainable scorer (its epochs went live)
        out.update(flatten({"fit_seconds": results.get("fit_seconds")}, "train", numeric=True))
    return out


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text[:6000]  # MLflow's parameter length limit


_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-./ ]")


def metric_key(key: str) -> str:
    """``key`` as MLflow accepts it (letters, digits, ``_ - . / `` and space; others become ``_``)."""
    return _BAD_KEY.sub("_", key)


@dataclass
class _Run:
    """The armed tracker run of this process (opened at its first metric)."""

    kind: Tracker
    out: Path
    name: str
    handle: Any = None       # wandb: the Run; mlflow: (MlflowClient, run id)
    logged: int = 0          # metric values sent while the run went
    steps: dict[str, int] = field(default_factory=dict)  # wandb: per key, the last step sent

    @property
    def folder(self) -> Path:
        return self.out / ("wandb" if self.kind is Tracker.WANDB else "mlruns")

    def open(self) -> None:
        if self.handle is not None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.kind is Tracker.WANDB:
            import wandb

            self.handle = wandb.init(mode="offline", dir=str(self.out), project="interlens", name=self.name,
                                     reinit=True)
            return
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3: the file store is opt-in
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=self.folder.as_uri())
        experiment = client.get_experiment_by_name("interlens")
        experiment_id = experiment.experiment_id if experiment else client.create_experiment("interlens")
        self.handle = (client, client.create_run(experiment_id, run_name=self.name).info.run_id)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None) -> None:
        self.open()
        if self.kind is Tracker.WANDB:  # wandb's own step must only grow: the step goes in as a field
            self.handle.log({**metrics, **({"step": step} if step is not None else {})})
            return
        from mlflow.entities import Metric

        client, run_id = self.handle
        now = int(time.time() * 1000)
        rows = [Metric(metric_key(k), float(v), now, int(step or 0)) for k, v in metrics.items()]
        for start in range(0, len(rows), 1000):  # MLflow's batch limit
            client.log_batch(run_id, metrics=rows[start:start + 1000])

    def log_params(self, settings: Mapping[str, Any]) -> None:
        self.open()
        if self.kind is Tracker.WANDB:
            self.handle.config.update(dict(settings), allow_val_change=True)
            return
        from mlflow.entities import Param

        client, run_id = self.handle
        params = [Param(metric_key(k), _param(v)) for k, v in flatten(settings).items()]
        for start in range(0, len(params), 100):
            client.log_batch(run_id, params=params[start:start + 100])

    def log_summary(self, metrics: Mapping[str, float]) -> None:
        if self.kind is Tracker.WANDB:
            self.open()
            self.handle.summary.update(dict(metrics))
        else:
            self.log_metrics(metrics, None)

    def close(self, status: str = "FINISHED") -> None:
        if self.handle is None:
            return
        if self.kind is Tracker.WANDB:
            self.handle.finish(exit_code=0 if status == "FINISHED" else 1)
        else:
            client, run_id = self.handle
            client.set_terminated(run_id, status)
        self.handle = None


_current: list[_Run | None] = [None]


def _sink(metrics: dict[str, float], step: int | None) -> None:
    run = _current[0]
    if run is not None:
        run.log_metrics(metrics, step)
        run.logged += len(metrics)


def close_run(status: str = "FAILED") -> None:
    """Close this process's armed run (``FAILED`` unless told otherwise) and stop sending metrics."""
    run, _current[0] = _current[0], None
    set_metrics_sink(None)
    if run is not None:
        run.close(status)


def start_run(tracker: Tracker | str | None, out: str | Path, *, name: str | None = None) -> Tracker | None:
    """Check ``tracker``'s package (:func:`check_tracker`, before any work) and arm a run for ``out``:
    metrics reported from now on go to it as they come; :func:`log_run` finishes it. A run still open in
    this process (a command that failed) is closed as failed first. ``tracker=None``: nothing tracked."""
    kind = check_tracker(tracker)
    close_run("FAILED")
    if kind is None:
        return None
    out = Path(out).resolve()
    _current[0] = _Run(kind, out, name or out.name)
    set_metrics_sink(_sink)
    return kind


atexit.register(close_run, "FAILED")  # a run still open at exit did not reach log_run


def log_run(tracker: Tracker | str, out: str | Path, results: Mapping[str, Any], *, name: str | None = None
            ) -> Path:
    """Log ``results``' settings and final metrics to ``tracker`` (offline / local, under ``out``) and finish
    the run: the one :func:`start_run` armed for ``out`` (with the metrics sent during the run), else a new
    one. Returns the tracker's folder."""
    kind = check_tracker(tracker)
    out = Path(out).resolve()
    run = _current[0]
    if run is None or run.kind is not kind or run.out != out:
        close_run("FAILED")
        run = _Run(kind, out, name or out.name)
    _current[0] = None
    set_metrics_sink(None)
    try:
        run.log_params(run_settings(results))
        run.log_summary(final_metrics(results))
    except BaseException:
        run.close("FAILED")
        raise
    run.close("FINISHED")
    return run.folder
