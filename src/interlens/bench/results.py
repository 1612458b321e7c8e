"""Task metrics and the typed results schema of a benchmark run (one ``results.json`` per run).

Metrics come from :mod:`interlens.metrics` (MMLA's six metrics via scikit-learn over the gold label
set); this module adds expected calibration error, percentile-bootstrap intervals (vectorised,
:func:`~interlens.metrics.bootstrap_metric_ci`: the same resamples and intervals as resampling
scikit-learn's metrics, in milliseconds) and a separate count of failed predictions (all-NaN
probability rows, e.g. an unparsable generation): a failure is scored as wrong, never as an extra class.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
from dataclasses import MISSING, asdict, dataclass, field
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


#: what to do when a bench unit or samples file fails its hash check (issue 30)
UNIT_RECOVERY = "delete the unit file to recompute that unit (bench run resumes the rest)"


def load_unit(path: str | Path) -> UnitResult:
    """A finished unit file (``<out>/units/*.json``) after its ``.sha256`` check (issue 30: an edited
    accuracy is refused in one line, never reported); its fields checked for type."""
    from ..errors import DataError
    from ..integrity import read_verified

    path = Path(path)
    data = read_verified(path, recovery=UNIT_RECOVERY)
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"malformed unit file ({err}); {UNIT_RECOVERY}", file=str(path)) from None
    if not isinstance(raw, dict):
        raise DataError(f"a unit file holds a JSON object; {UNIT_RECOVERY}", file=str(path))
    missing = [k for k, f in UnitResult.__dataclass_fields__.items()
               if k not in raw and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise DataError(f"unit file lacks {missing}; {UNIT_RECOVERY}", file=str(path), field=missing[0])
    if not isinstance(raw["metrics"], dict):
        raise DataError(f"metrics must be an object; {UNIT_RECOVERY}", file=str(path), field="metrics")
    return UnitResult.from_dict(raw)


def check_samples(path: str | Path, unit: str | Path | None = None) -> Path:
    """A unit's per-sample file (``<out>/samples/*.jsonl``, or its gzip ``.jsonl.gz`` beside the original's
    ``.sha256``) after its hash check; a missing one is an error naming it (issue 30: never silently
    dropped). Returns the file that exists."""
    import gzip

    from ..errors import IntegrityError
    from ..integrity import read_sidecar, read_verified

    path = Path(path)
    recovery = f"delete {unit} to recompute that unit" if unit is not None else UNIT_RECOVERY
    if path.exists():
        read_verified(path, recovery=recovery)
        return path
    packed = path.with_name(path.name + ".gz")
    if packed.exists():
        expected = read_sidecar(path)
        if expected is None:
            raise IntegrityError(f"no .sha256 beside it (for {path.name}); {recovery}", file=str(packed))
        import hashlib

        if hashlib.sha256(gzip.decompress(packed.read_bytes())).hexdigest() != expected:
            raise IntegrityError(f"hash mismatch (changed or corrupted since it was written); {recovery}",
                                 file=str(packed))
        return packed
    raise IntegrityError(f"samples file missing (deleted?); {recovery}", file=str(path))


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


def verify_run_folder(folder: str | Path, raw: dict[str, Any], run: RunResults) -> None:
    """Before ``bench report`` / ``bench compare`` use a run folder (issue 30): every unit file it holds for
    the run's tasks and seeds passes its hash check and agrees with ``results.json``'s per-seed metrics, and
    every per-sample file ``results.json`` lists exists and passes its hash check. A ``results.json`` shared
    without its run folder (no ``units/``, no ``samples/``) is read as it is."""
    from ..data.paths import inside, safe_name
    from ..errors import DataError, IntegrityError
    from ..io import to_jsonable

    folder = Path(folder)
    units = folder / "units"
    if units.is_dir():
        for t in run.tasks:
            for seed in t.seeds:
                name = f"{safe_name(str(run.method), 'method')}__{safe_name(str(t.task), 'task name')}__seed{seed}"
                path = inside(folder, units / f"{name}.json", "unit file")
                if not path.exists():
                    continue
                unit = load_unit(path)
                recorded = json.loads(json.dumps(to_jsonable(t.per_seed.get(str(seed)))))
                if json.loads(json.dumps(to_jsonable(unit.metrics))) != recorded:
                    raise IntegrityError(f"the metrics of task {t.task!r} seed {seed} in results.json differ "
                                         f"from its unit file {path}; rerun `bench run` on this folder",
                                         file=str(folder / "results.json"))
    samples = raw.get("samples") or {}
    if not units.is_dir() and not (folder / "samples").is_dir():
        samples = {}  # results.json shared without its run folder (e.g. committed results): nothing to check
    if not isinstance(samples, dict):
        raise DataError("must map unit names to per-sample files", file=str(folder / "results.json"),
                        field="samples")
    for name, rel in samples.items():
        if not isinstance(rel, str):
            raise DataError(f"unit {name!r}: a path is a string, got {type(rel).__name__}",
                            file=str(folder / "results.json"), field="samples")
        from ..data.readers import confined

        path = inside(folder, confined(folder, rel, file=str(folder / "results.json"), field="samples"),
                      "samples file")
        check_samples(path, folder / "units" / f"{Path(rel).stem}.json")
