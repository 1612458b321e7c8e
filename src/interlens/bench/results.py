"""Task metrics and the typed results schema of a benchmark run (one ``results.json`` per run).

Metrics come from :mod:`interlens.metrics` (MMLA's six metrics via scikit-learn over the gold label
set); this module adds expected calibration error, percentile-bootstrap intervals (vectorised,
:func:`~interlens.metrics.bootstrap_metric_ci`: the same resamples and intervals as resampling
scikit-learn's metrics, in milliseconds) and a separate count of failed predictions (all-NaN
probability rows, e.g. an unparsable generation): a failure is scored as wrong, never as an extra class.
"""

from __future__ import annotations

import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..metrics import bootstrap_metric_ci, classification_metrics, expected_calibration_error

SCHEMA_VERSION = 1
MMLA_METRICS = ("acc", "weighted_f1", "weighted_p", "macro_f1", "macro_r", "macro_p")
CI_METRICS = ("acc", "macro_f1")


def task_report(y_true: np.ndarray, probs: np.ndarray, n_labels: int, *, n_boot: int = 1000,
                seed: int = 0) -> dict[str, Any]:
    """MMLA metrics, task F1, ECE, 95% bootstrap CIs (acc, macro F1) and failure counts for one task."""
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64).reshape(len(y_true), n_labels)
    ok = ~np.all(np.isnan(probs), axis=1)
    y_pred = np.full(len(y_true), -1, dtype=np.int64)
    if ok.any():
        y_pred[ok] = np.nanargmax(probs[ok], axis=1)
    metrics = classification_metrics(y_true, y_pred, n_labels)
    # ECE over the scored rows only (a failure has no confidence); failures are reported separately
    metrics["ece"] = expected_calibration_error(y_true[ok], np.nan_to_num(probs[ok])) if ok.any() else None
    metrics["n"] = len(y_true)
    metrics["n_failed"] = int((~ok).sum())
    metrics["failure_rate"] = float((~ok).mean()) if len(y_true) else 0.0
    ci = {}
    if n_boot and len(y_true):
        ci = {name: list(bounds) for name, bounds in
              bootstrap_metric_ci(y_true, y_pred, n_labels, CI_METRICS, n_boot=n_boot, seed=seed).items()}
    metrics["ci95"] = ci
    return metrics


def mean_std(values: list[float]) -> dict[str, float]:
    values = [float(v) for v in values if v is not None]
    if not values:
        return {"mean": float("nan"), "std": float("nan"), "n": 0}
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "n": len(values)}


#: a unit's timing fields: they differ between runs of the same unit; every other field is reproducible
TIMING_FIELDS = ("wall_s", "fit_s", "fit_s_total")


@dataclass
class UnitResult:
    """One finished task x seed unit."""

    task: str
    seed: int
    method: str
    scorer: str
    scorer_fingerprint: str
    data_fingerprint: str
    evaluation_split: str
    metrics: dict[str, Any]
    config: str
    wall_s: float
    fit_s: float = 0.0
    #: seconds of fitting behind the model wherever it ran (``Scorer.fit_seconds``: an ensemble's restored or
    #: prefitted members included); ``fit_s`` is this process's part. None: unknown
    fit_s_total: float | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> UnitResult:
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


@dataclass
class TaskSummary:
    task: str
    title: str
    dimension: str
    evaluation_split: str
    comparable_to_paper: bool
    seeds: list[int]
    per_seed: dict[str, dict[str, Any]]
    summary: dict[str, dict[str, float]]
    #: seed -> the unit's TIMING_FIELDS (``fit_s_total``: the model's full fitting cost); empty in older runs
    timing_per_seed: dict[str, dict[str, float | None]] = field(default_factory=dict)

    def fit_cost(self) -> float | None:
        """Mean full fitting cost per seed in seconds (``fit_s_total``), None when a seed's is unknown."""
        costs = [t.get("fit_s_total") for t in self.timing_per_seed.values()]
        return statistics.fmean(costs) if costs and None not in costs else None


@dataclass
class RunResults:
    """What ``results.json`` of ``bench run`` holds."""

    method: str
    scorer: str
    scorer_params: dict[str, Any]
    scorer_fingerprints: dict[str, str]
    seeds: list[int]
    tasks: list[TaskSummary]
    data_fingerprints: dict[str, str]
    versions: dict[str, str] = field(default_factory=lambda: versions())
    git_revision: str | None = field(default_factory=lambda: git_revision())
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    wall_s: float = 0.0
    schema_version: int = SCHEMA_VERSION
    kind: str = "interlens.bench.run"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunResults:
        raw = dict(raw)
        raw["tasks"] = [TaskSummary(**t) for t in raw.get("tasks", [])]
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})


def summarize(task: Any, units: list[UnitResult]) -> TaskSummary:
    keys = [*MMLA_METRICS, "f1", "ece", "n_failed"]
    summary = {k: mean_std([u.metrics.get(k) for u in units]) for k in keys}
    return TaskSummary(task=task.name, title=task.title, dimension=task.dimension,
                       evaluation_split=task.evaluation_split, comparable_to_paper=task.comparable_to_paper,
                       seeds=[u.seed for u in units], per_seed={str(u.seed): u.metrics for u in units},
                       summary=summary,
                       timing_per_seed={str(u.seed): {k: getattr(u, k) for k in TIMING_FIELDS} for u in units})


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for module in ("interlens", "torch", "transformers", "sklearn", "numpy"):
        try:
            out[module] = str(__import__(module).__version__)
        except Exception:  # noqa: BLE001 - a missing or odd package is reported, not fatal
            out[module] = "unavailable"
    return out


def git_revision() -> str | None:
    try:
        root = Path(__file__).resolve().parents[3]
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if rev.returncode != 0:
        return None
    return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
